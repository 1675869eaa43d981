/**
 * src/main.ts (`npm start`) reads a .env in its working directory, and variables set in the environment win
 * over it. Checked through start-up problems, so nothing needs to start.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const cwd = mkdtempSync(path.join(tmpdir(), "main-env-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main],
      { cwd, env: { PATH: process.env.PATH ?? "", ...env } },
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

  it("a copy of .env.example as it ships starts the zero-configuration embedded demo (README: Run it)", async () => {
    writeFileSync(path.join(cwd, ".env"), readFileSync(new URL("../../.env.example", import.meta.url), "utf8"));
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        PORT: String(port),
        HEALTH_PORT: String(await freePort()),
        PUBLIC_URL: `http://localhost:${port}`,
        DATA_DIR: path.join(cwd, "demo-data"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const started = await Promise.race([
        (async () => {
          while (!output.includes("Add this URL to your MCP client")) await new Promise((r) => setTimeout(r, 50));
          return true;
        })(),
        exited.then(() => false),
      ]);
      expect(started, output).toBe(true);
      expect(output).toContain(`http://localhost:${port}/mcp`);
      expect(output).not.toContain("Invalid configuration");
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, 60_000);
});
