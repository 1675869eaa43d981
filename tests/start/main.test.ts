/**
 * src/main.ts (`npm start`) reads a .env in its working directory, and variables set in the environment win
 * over it: checked through start-up problems (nothing starts) and by starting the embedded demo from a copy of
 * .env.example as it ships. A problem caused by the file names the file; a PUBLIC_URL on this machine that names
 * another port than the one listened on gets a note, which names the file too when one of them came from it; a
 * name in the file that misspells a setting gets one too (or a line after the start-up error).
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const cwd = mkdtempSync(path.join(tmpdir(), "main-env-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main],
      { cwd, env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stdout, stderr }),
    );
  });
}

describe("npm start's .env", () => {
  it("is read from the working directory, and the environment wins over it", async () => {
    writeFileSync(path.join(cwd, ".env"), "ROLE=server\nLOG_LEVEL=warn\n");
    const fromFile = await runMain({});
    expect(fromFile.code).toBe(1);
    expect(fromFile.stderr).toContain("ROLE: server needs REDIS_URL");

    const overridden = await runMain({ ROLE: "worker" });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain("ROLE: worker needs REDIS_URL");
    expect(overridden.stderr).not.toContain("ROLE: server");
  }, 60_000);

  it("names the variables of a problem that came from the file, so a person knows where to change them", async () => {
    writeFileSync(path.join(cwd, ".env"), "REDIS_URL=redis://127.0.0.1:6379\nLOG_LEVEL=warn\n");
    const result = await runMain({ DATA_DIR: path.join(cwd, "data") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("AIRTABLE_CLIENT_ID: required with REDIS_URL");
    expect(result.stderr).toContain(
      "REDIS_URL was read from .env (variables set in the environment win over it): change or remove it there.",
    );
    // Set in the environment, it is not the file's.
    const fromEnvironment = await runMain({ REDIS_URL: "redis://127.0.0.1:6379", DATA_DIR: path.join(cwd, "data") });
    expect(fromEnvironment.stderr).toContain("AIRTABLE_CLIENT_ID: required with REDIS_URL");
    expect(fromEnvironment.stderr).not.toContain("read from .env");
  }, 60_000);

  it("a misspelt setting in .env: the start-up error, or the banner and the log, name the setting it meant", async () => {
    writeFileSync(path.join(cwd, ".env"), "REDIS_URL=redis://127.0.0.1:6379\nAIRTABLE_CLIENTID=abc\nLOG_LEVEL=warn\n");
    const refused = await runMain({ DATA_DIR: path.join(cwd, "data") });
    expect(refused.code).toBe(1);
    const typo =
      ".env sets AIRTABLE_CLIENTID, which is not a setting of airtable-oauth-mcp (ignored): did you mean " +
      "AIRTABLE_CLIENT_ID?";
    expect(refused.stderr).toContain("AIRTABLE_CLIENT_ID: required with REDIS_URL");
    expect(refused.stderr).toContain(typo);

    // Without REDIS_URL the misspelt client id starts the fake Airtable instead of the real one: said twice.
    writeFileSync(path.join(cwd, ".env"), "AIRTABLE_CLIENTID=abc\nLOG_LEVEL=warn\n");
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port) });
    expect(output).toContain(`NOTE: ${typo}`);
    expect(output).toContain(`"message":${JSON.stringify(typo)}`);
    expect(output).toContain("This is a FAKE Airtable");
  }, 60_000);

  it("a misspelt setting in the environment (AIRTABLE_CLIENTID=… npm start): named like one in .env", async () => {
    writeFileSync(path.join(cwd, ".env"), "LOG_LEVEL=warn\n");
    const typo =
      "The environment sets AIRTABLE_CLIENTID, which is not a setting of airtable-oauth-mcp (ignored): did you " +
      "mean AIRTABLE_CLIENT_ID?";
    const refused = await runMain({
      AIRTABLE_CLIENTID: "abc",
      REDIS_URL: "redis://127.0.0.1:6379",
      DATA_DIR: path.join(cwd, "data"),
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("AIRTABLE_CLIENT_ID: required with REDIS_URL");
    expect(refused.stderr).toContain(typo);

    // Without REDIS_URL it starts the fake Airtable instead of the real one: the banner and the log say why.
    // Another program's variable that merely shares a word (AIRTABLE_API_KEY) is left alone.
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port), AIRTABLE_CLIENTID: "abc", AIRTABLE_API_KEY: "x" });
    expect(output).toContain(`NOTE: ${typo}`);
    expect(output).toContain(`"message":${JSON.stringify(typo)}`);
    expect(output).toContain("This is a FAKE Airtable");
    expect(output).not.toContain("AIRTABLE_API_KEY");
  }, 60_000);

  it("a copy of .env.example as it ships starts the zero-configuration embedded demo (README: Run it)", async () => {
    writeFileSync(path.join(cwd, ".env"), readFileSync(new URL("../../.env.example", import.meta.url), "utf8"));
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port), PUBLIC_URL: `http://localhost:${port}` });
    expect(output).toContain(`Add this URL to your MCP client: http://localhost:${port}/mcp`);
    expect(output).not.toContain("Invalid configuration");
    expect(output).not.toContain("NOTE:");
  }, 60_000);

  it("a PUBLIC_URL on this machine with another port than PORT: the banner and the log say so, and what to set", async () => {
    writeFileSync(path.join(cwd, ".env"), "LOG_LEVEL=warn\n");
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port), PUBLIC_URL: "http://localhost:47999" });
    const note =
      `PUBLIC_URL (http://localhost:47999) names port 47999, but this server listens on port ${port} (PORT). ` +
      `Unless something forwards 47999 to ${port}, clients find nothing there: set PUBLIC_URL to ` +
      `http://localhost:${port}, or PORT to 47999.`;
    expect(output).toContain(`NOTE: ${note}`);
    expect(output).toContain(`"message":${JSON.stringify(note)}`);
    expect(output).not.toContain("read from .env");
  }, 60_000);

  it("that PUBLIC_URL from .env beside PORT from the shell (a copy of .env.example): the note says to change it in .env", async () => {
    writeFileSync(path.join(cwd, ".env"), "LOG_LEVEL=warn\nPORT=47999\nPUBLIC_URL=http://localhost:47999\n");
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port) });
    const note =
      `PUBLIC_URL (http://localhost:47999) names port 47999, but this server listens on port ${port} (PORT). ` +
      `Unless something forwards 47999 to ${port}, clients find nothing there: set PUBLIC_URL to ` +
      `http://localhost:${port}, or PORT to 47999. PUBLIC_URL was read from .env (variables set in the ` +
      "environment win over it): change or remove it there.";
    expect(output).toContain(`NOTE: ${note}`);
    expect(output).toContain(`"message":${JSON.stringify(note)}`);
  }, 60_000);

  it("the banner comes after the log lines of the start, so it is the last thing on screen", async () => {
    writeFileSync(path.join(cwd, ".env"), "LOG_LEVEL=info\n");
    const port = await freePort();
    const output = await startUntilBanner({ PORT: String(port) });
    const listening = output.indexOf('"message":"server listening"');
    expect(listening, output).toBeGreaterThan(-1);
    expect(listening, output).toBeLessThan(output.indexOf("Add this URL to your MCP client"));
  }, 60_000);
});

/**
 * Runs `npm start` (src/main.ts) in the .env's directory with its own DATA_DIR and HEALTH_PORT until it prints its
 * banner; returns everything it wrote (stdout and stderr) by then, and stops it. Fails with that output if it
 * exits first.
 */
async function startUntilBanner(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [main], {
    cwd,
    env: {
      PATH: process.env.PATH ?? "",
      ...compileCacheEnv,
      HEALTH_PORT: String(await freePort()),
      DATA_DIR: path.join(cwd, `data-${env.PORT}`),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      gone = true;
      resolve(code);
    }),
  );
  try {
    const started = await Promise.race([
      (async () => {
        while (!gone && !output.includes("Add this URL to your MCP client")) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return !gone;
      })(),
      exited.then(() => false),
    ]);
    expect(started, output).toBe(true);
    // The banner is written after the log line that precedes it; give a warning logged just before it a moment.
    await new Promise((r) => setTimeout(r, 100));
    return output;
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}
