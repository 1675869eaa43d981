/**
 * One embedded `npm start` per DATA_DIR (src/shared/sqlite/database.ts lockDataDir), with real processes
 * (`node src/main.ts`, the fake Airtable, nothing configured but PORT and DATA_DIR): a second start on the same
 * directory refuses at once, naming DATA_DIR and what to do, and the first keeps serving; a process killed with
 * SIGKILL leaves no stale claim, so the next start works.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { useDemo } from "./support/demo.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const demo = useDemo({ dataDirPrefix: "data-dir-lock-" });
const { dataDir } = demo;

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main],
      { env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, ...env } },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
    );
  });
}

it("a second start on the same DATA_DIR refuses, naming it; the first keeps serving; SIGKILL leaves no stale claim", async () => {
  const first = await demo.start(await freePort());
  const second = await runMain({ PORT: String(await freePort()), DATA_DIR: dataDir });
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`Another airtable-oauth-mcp is already running with DATA_DIR ${dataDir}`);
  expect(second.stderr).toContain("give this one a DATA_DIR (and PORT) of its own");
  expect(second.stderr).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
  // SQLite's "database is locked" appended as the cause read as a broken database file, not the other process.
  expect(second.stderr).not.toContain("database is locked");
  expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

  first.kill("SIGKILL");
  await first.exited;
  const third = await demo.start(await freePort());
  expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
}, 120_000);
