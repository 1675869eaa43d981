/**
 * `DATA_DIR=/proc/nope npm start` used to hang with no output: Node's recursive mkdirSync loops for ever when a
 * parent exists but the child cannot be made with ENOENT, as under /proc (src/shared/make-directory.ts). It fails at
 * once with one sentence naming DATA_DIR and the fix. A DATA_DIR that is, or lies under, a symbolic link to nothing
 * (`ln -s /nonexistent /tmp/x`, then DATA_DIR=/tmp/x or /tmp/x/data) used to say only mkdir's "EEXIST: file already
 * exists, mkdir '/tmp/x'": it says the link points at nothing and how to mend it. A real process (`node
 * src/main.ts`, nothing configured but PORT and DATA_DIR), as `npm start` runs it.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

/** Starts `node src/main.ts` with only PATH, PORT and DATA_DIR set; resolves when it ends (or is killed at 30 s). */
async function startWith(dataDir: string): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const port = await freePort();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main],
      {
        env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, PORT: String(port), DATA_DIR: dataDir },
        // The old code never ends: killed after this, it fails the expectations below rather than the timeout.
        timeout: 30_000,
        killSignal: "SIGKILL",
      },
      (error, _stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : null,
          signal: error?.signal ?? null,
          stderr,
        }),
    );
  });
}

it.skipIf(!existsSync("/proc/self"))(
  "a DATA_DIR under /proc ends the start at once, naming DATA_DIR and what to set",
  async () => {
    const started = Date.now();
    const result = await startWith("/proc/nope");
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "airtable-oauth-mcp could not start: Cannot create DATA_DIR /proc/nope: ENOENT: no such file or directory, " +
        "mkdir '/proc/nope'. Set DATA_DIR to a directory this process can create and write (the default is ./data, " +
        "under the directory the server is started in).\n",
    );
    expect(Date.now() - started).toBeLessThan(30_000);
  },
  60_000,
);

const root = mkdtempSync(path.join(tmpdir(), "data-dir-unusable-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it.each([
  ["is", ""],
  ["lies under", "data"],
])(
  "a DATA_DIR that %s a symbolic link to nothing says so, naming the link, its target and the fixes",
  async (_how, below) => {
    const missing = path.join(root, `missing-${below || "self"}`);
    const link = path.join(root, `link-${below || "self"}`);
    symlinkSync(missing, link);
    const dataDir = below === "" ? link : path.join(link, below);
    const result = await startWith(dataDir);
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    // One sentence, no stack trace, and nothing created at the link's target.
    expect(result.stderr).toBe(
      `airtable-oauth-mcp could not start: Cannot create DATA_DIR ${dataDir}: ${link} is a symbolic link to ` +
        `${missing}, which does not exist. Create the directory it points to (mkdir -p ${missing}), point the link ` +
        `at an existing directory (ln -sfn <directory> ${link}), or set DATA_DIR to another directory (the ` +
        "default is ./data, under the directory the server is started in).\n",
    );
    expect(existsSync(missing)).toBe(false);
  },
  60_000,
);
