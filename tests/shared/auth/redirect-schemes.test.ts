import { describe, expect, it } from "vitest";
import { privateUseSchemeProblem } from "../../../src/shared/auth/redirect-schemes.ts";
import { ConfigError, loadConfig } from "../../../src/shared/config.ts";

const key = Buffer.alloc(32, 7).toString("base64");
const serverEnv = {
  PUBLIC_URL: "https://mcp.example.com",
  REDIS_URL: "redis://127.0.0.1:6379",
  AIRTABLE_CLIENT_ID: "client-123",
  TOKEN_ENCRYPTION_KEY: key,
};

describe("REDIRECT_URI_SCHEMES", () => {
  it("defaults to Cursor's, Warp's and the VS Code family's schemes; an empty value is strict MCP mode, not 'unset'", () => {
    expect(loadConfig(serverEnv, "server").REDIRECT_URI_SCHEMES).toEqual([
      "cursor",
      "warp",
      "vscode",
      "vscode-insiders",
      "windsurf",
    ]);
    expect(loadConfig({ ...serverEnv, REDIRECT_URI_SCHEMES: "" }, "server").REDIRECT_URI_SCHEMES).toEqual([]);
    // Other variables keep the .env rule: empty means unset.
    expect(loadConfig({ ...serverEnv, REDIRECT_URI_SCHEMES: "", LOG_LEVEL: "" }, "server").LOG_LEVEL).toBe("info");
  });

  it("takes a comma list, lowercased, trailing colons and duplicates removed", () => {
    const config = loadConfig({ ...serverEnv, REDIRECT_URI_SCHEMES: " Cursor, com.example.app: ,cursor" }, "server");
    expect(config.REDIRECT_URI_SCHEMES).toEqual(["cursor", "com.example.app"]);
  });

  it("refuses at start, naming the variable, schemes that can never be redirect targets", () => {
    for (const bad of ["javascript", "data", "file", "vbscript", "https-evil", "HTTP", "https", "not a scheme"]) {
      let error: unknown;
      try {
        loadConfig({ ...serverEnv, REDIRECT_URI_SCHEMES: `cursor,${bad}` }, "server");
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain("REDIRECT_URI_SCHEMES:");
    }
  });
});

describe("privateUseSchemeProblem", () => {
  it("accepts plain and reverse-DNS schemes, refuses http(s), look-alikes and script or local-data schemes", () => {
    for (const ok of ["cursor", "com.example.app", "vscode", "x-app+v1"])
      expect(privateUseSchemeProblem(ok), ok).toBeUndefined();
    const refused: [string, RegExp][] = [
      ["http", /always allowed/],
      ["https", /always allowed/],
      ["https-evil", /looks like http/],
      ["httpx", /looks like http/],
      ["javascript", /never allowed/],
      ["vbscript", /never allowed/],
      ["data", /never allowed/],
      ["file", /never allowed/],
      ["blob", /never allowed/],
      ["Cursor", /lowercase/],
      ["1app", /lowercase URI scheme/],
    ];
    for (const [scheme, message] of refused) expect(privateUseSchemeProblem(scheme), scheme).toMatch(message);
  });
});
