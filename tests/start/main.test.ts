/**
 * src/main.ts (`npm start`) reads a .env in its working directory, and variables set in the environment win
 * over it. Checked through start-up problems, so nothing needs to start.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

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
});
