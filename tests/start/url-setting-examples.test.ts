/**
 * A URL setting written the way a newcomer writes it, as `npm start` answers (a real process, `node src/main.ts`):
 * without its scheme (`REDIS_URL=127.0.0.1:6379`, `PUBLIC_URL=localhost:8080`) or with a port out of range. The
 * message shows the setting written out, so the fix can be copied, not only the rule it broke.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main],
      { env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, LOG_LEVEL: "warn", ...env }, timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
    );
  });
}

it.each(["127.0.0.1:6379", "redis://127.0.0.1:99999", "http://127.0.0.1:6379"])(
  "REDIS_URL=%s: the message gives a REDIS_URL to copy",
  async (value) => {
    const { code, stderr } = await runMain({ REDIS_URL: value });
    expect(code).toBe(1);
    expect(stderr).toContain(
      "REDIS_URL: must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (Redis on this machine, its " +
        `default port) (got "${value}")`,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  },
  60_000,
);

it("PUBLIC_URL=localhost:8080: the message says the scheme is missing", async () => {
  const { code, stderr } = await runMain({ PUBLIC_URL: "localhost:8080" });
  expect(code).toBe(1);
  expect(stderr).toContain(
    'PUBLIC_URL: must be an http(s) URL, scheme included (http://… or https://…) (got "localhost:8080")',
  );
}, 60_000);
