import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runNodeScript } from "../helpers/processes.ts";
import { ConfigError, loadConfig } from "../../src/shared/config.ts";

const key = Buffer.alloc(32, 7).toString("base64");
const serverEnv = {
  PUBLIC_URL: "https://mcp.example.com/",
  REDIS_URL: "redis://127.0.0.1:6379",
  AIRTABLE_CLIENT_ID: "client-123",
  TOKEN_ENCRYPTION_KEY: key,
};

describe("loadConfig", () => {
  it("applies defaults and trims trailing slashes from URLs", () => {
    const config = loadConfig(serverEnv, "server");
    expect(config.PUBLIC_URL).toBe("https://mcp.example.com");
    expect(config.PORT).toBe(8080);
    expect(config.AIRTABLE_API_URL).toBe("https://api.airtable.com");
    expect(config.AIRTABLE_AUTH_URL).toBe("https://airtable.com");
    expect(config.AIRTABLE_CONTENT_URL).toBe("https://content.airtable.com");
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.TOKEN_ENCRYPTION_KEY).toEqual(Buffer.alloc(32, 7));
  });

  it("lists every problem at once, naming each variable and the fix", () => {
    let error: unknown;
    try {
      loadConfig(
        {
          PORT: "eighty",
          PUBLIC_URL: "not a url",
          LOG_LEVEL: "loud",
          TOKEN_ENCRYPTION_KEY: "short",
          AIRTABLE_CLIENT_SECRET: "s3cret",
        },
        "server",
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    for (const name of ["PORT", "PUBLIC_URL", "LOG_LEVEL", "TOKEN_ENCRYPTION_KEY", "REDIS_URL", "AIRTABLE_CLIENT_ID"]) {
      expect(message).toContain(`${name}:`);
    }
    expect(problems.length).toBe(6);
    expect(message).toContain("openssl rand -base64 32");
    expect(message).not.toContain("short"); // secrets are never echoed
    expect(message).toContain(".env.example");
  });

  it("treats empty strings as unset and requires only what the process needs", () => {
    expect(() => loadConfig({ AIRTABLE_TOKEN: "pat123", REDIS_URL: "" }, "stdio")).not.toThrow();
    expect(() => loadConfig({}, "stdio")).toThrow(/AIRTABLE_TOKEN: required for the stdio process/);
  });

  it("refuses limits above Airtable's and a Firestore store without a project", () => {
    expect(() => loadConfig({ ...serverEnv, AIRTABLE_BASE_RPS: "6" }, "server")).toThrow(/AIRTABLE_BASE_RPS/);
    expect(() => loadConfig({ ...serverEnv, TOKEN_STORE: "firestore" }, "server")).toThrow(/FIRESTORE_PROJECT_ID/);
  });
});

describe("loadConfigOrExit in the processes' entrypoints", () => {
  it.each(["server", "worker"])("%s: a bad environment prints every problem, no stack, and exits 1", async (role) => {
    const main = fileURLToPath(new URL(`../../src/${role}/main.ts`, import.meta.url));
    const result = await runNodeScript(main, {
      REDIS_URL: "",
      PUBLIC_URL: "",
      AIRTABLE_CLIENT_ID: "",
      TOKEN_ENCRYPTION_KEY: "too-short",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Invalid configuration \(\d+ problems\):/);
    expect(result.stderr).toMatch(/REDIS_URL: required for the \w+ process but not set/);
    expect(result.stderr).toMatch(/TOKEN_ENCRYPTION_KEY/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe("");
  });
});
