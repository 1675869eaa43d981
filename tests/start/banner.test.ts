/**
 * The banner's note on a PUBLIC_URL that leads nowhere (src/start/banner.ts, publicUrlPortMismatch): only for this
 * machine's own names, only when the ports differ, with the default ports of http and https, and with nothing to
 * suggest for PORT when the OS chose the port (PORT=0). The configuration as it ships agrees with itself.
 */
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { settingsFileOf } from "../../src/shared/config.ts";
import { publicUrlPortMismatch } from "../../src/start/banner.ts";
import { readRepoFile } from "../deploy/deploy-files.ts";

describe("publicUrlPortMismatch", () => {
  it("names both ports and both fixes for this machine's names, IPv6 included", () => {
    for (const host of ["localhost", "127.0.0.1", "[::1]"]) {
      expect(publicUrlPortMismatch(`http://${host}:9000`, 8080)).toBe(
        `PUBLIC_URL (http://${host}:9000) names port 9000, but this server listens on port 8080 (PORT). Unless ` +
          `something forwards 9000 to 8080, clients find nothing there: set PUBLIC_URL to http://${host}:8080, or ` +
          "PORT to 9000.",
      );
      expect(publicUrlPortMismatch(`http://${host}:8080`, 8080)).toBeUndefined();
    }
  });

  it("reads a URL without a port as 80 (http) or 443 (https)", () => {
    expect(publicUrlPortMismatch("http://localhost", 80)).toBeUndefined();
    expect(publicUrlPortMismatch("https://localhost", 443)).toBeUndefined();
    expect(publicUrlPortMismatch("https://localhost", 8080)).toContain("names port 443");
  });

  it("says nothing of another host (a proxy or load balancer in front is normal)", () => {
    expect(publicUrlPortMismatch("https://mcp.example.com", 8080)).toBeUndefined();
    expect(publicUrlPortMismatch("http://192.168.1.5:9000", 8080)).toBeUndefined();
  });

  it("with PORT=0 (the default PUBLIC_URL then names port 0) suggests only PUBLIC_URL", () => {
    const note = publicUrlPortMismatch("http://localhost:0", 54321);
    expect(note).toContain("set PUBLIC_URL to http://localhost:54321.");
    expect(note).not.toContain("PORT to 0");
  });

  it("says which of PUBLIC_URL and PORT came from .env, where changing them works and unsetting them in the shell does not", () => {
    const both = settingsFileOf(".env", { PUBLIC_URL: "http://localhost:9000", PORT: "8080" }, {});
    expect(publicUrlPortMismatch("http://localhost:9000", 8080, both)).toBe(
      "PUBLIC_URL (http://localhost:9000) names port 9000, but this server listens on port 8080 (PORT). Unless " +
        "something forwards 9000 to 8080, clients find nothing there: set PUBLIC_URL to http://localhost:8080, or " +
        "PORT to 9000. PUBLIC_URL, PORT were read from .env (variables set in the environment win over it): change " +
        "or remove them there.",
    );
    // PORT set in the shell (`PORT=… npm start` beside a copy of .env.example): only PUBLIC_URL is the file's.
    const urlOnly = settingsFileOf(".env", { PUBLIC_URL: "http://localhost:9000", PORT: "9000" }, { PORT: "8080" });
    expect(publicUrlPortMismatch("http://localhost:9000", 8080, urlOnly)).toMatch(
      / PORT to 9000\. PUBLIC_URL was read from \.env \(variables set in the environment win over it\): change or remove it there\.$/,
    );
    // Nothing the note names came from the file: no such sentence.
    const other = settingsFileOf(".env", { LOG_LEVEL: "warn" }, {});
    expect(publicUrlPortMismatch("http://localhost:9000", 8080, other)).not.toContain(".env");
    // PORT=0 from the file: the note suggests only PUBLIC_URL, so it names only PUBLIC_URL's origin.
    const zero = settingsFileOf(".env", { PORT: "0" }, {});
    expect(publicUrlPortMismatch("http://localhost:0", 54321, zero)).not.toContain(".env");
  });

  it(".env.example as it ships: its PUBLIC_URL names its PORT", () => {
    const example = parseEnv(readRepoFile(".env.example"));
    expect(publicUrlPortMismatch(example.PUBLIC_URL!, Number(example.PORT))).toBeUndefined();
  });
});
