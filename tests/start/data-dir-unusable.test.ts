/**
 * `DATA_DIR=/proc/nope npm start` used to hang with no output: Node's recursive mkdirSync loops for ever when a
 * parent exists but the child cannot be made with ENOENT, as under /proc (src/shared/make-directory.ts). It fails at
 * once with one sentence naming DATA_DIR and the fix. A real process (`node src/main.ts`, nothing configured but
 * PORT and DATA_DIR); Linux only (it needs /proc).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

it.skipIf(!existsSync("/proc/self"))(
  "a DATA_DIR under /proc ends the start at once, naming DATA_DIR and what to set",
  async () => {
    const port = await freePort();
    const started = Date.now();
    const result = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [main],
        {
          env: { PATH: process.env.PATH ?? "", PORT: String(port), DATA_DIR: "/proc/nope" },
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
