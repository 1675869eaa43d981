/**
 * A port another process already holds, as `npm start` reports it (real processes, `node src/main.ts`): the
 * embedded server's PORT and a worker's HEALTH_PORT each end the start with one sentence naming the port, the
 * setting and what to do, not a stack trace.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
/** The worker image's entrypoint (Dockerfile.worker runs its build). */
const workerMain = fileURLToPath(new URL("../../src/worker/main.ts", import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), "port-in-use-"));
const keyPrefix = uniquePrefix("port-in-use");
/** One key for the file's deployment (a second key would be refused before the port is tried). */
const key = randomBytes(32).toString("base64");
const redis = createTestRedis();
let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer().listen(0);
  await once(taken, "listening");
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  taken?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
});

function runMain(env: Record<string, string>, script: string = main): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script],
      { env: { PATH: process.env.PATH ?? "", ...compileCacheEnv, LOG_LEVEL: "warn", ...env }, timeout: 60_000 },
      (error, _stdout, stderr) =>
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? null), stderr }),
    );
  });
}

it("the failure is the last line on a terminal: the log lines before it are written first", async () => {
  // stdout and stderr into one pipe, as a terminal shows them: the buffered log lines must not follow the sentence.
  const output = await new Promise<string>((resolve) => {
    execFile(
      "/bin/sh",
      ["-c", `exec "${process.execPath}" "${main}" 2>&1`],
      {
        env: {
          PATH: process.env.PATH ?? "",
          ...compileCacheEnv,
          LOG_LEVEL: "info",
          PORT: String(port),
          DATA_DIR: dataDir,
        },
        timeout: 60_000,
      },
      (_error, stdout) => resolve(stdout),
    );
  });
  const lines = output.trim().split("\n");
  expect(lines.length).toBeGreaterThan(1);
  expect(lines.at(-1)).toContain(`airtable-oauth-mcp could not start: Cannot listen on port ${port} (PORT)`);
}, 90_000);

it("the embedded server on a taken PORT says so, naming PORT", async () => {
  const { code, stderr } = await runMain({ PORT: String(port), DATA_DIR: dataDir });
  expect(code).toBe(1);
  expect(stderr).toContain(
    `airtable-oauth-mcp could not start: Cannot listen on port ${port} (PORT): address already in use ` +
      "(another process listens there). Stop what uses it, or set PORT to a free port.",
  );
  expect(stderr).not.toMatch(/\n\s+at /);
}, 90_000);

it.each([
  ["npm start with ROLE=worker", main],
  ["the worker image's entrypoint", workerMain],
])(
  "a worker on a taken HEALTH_PORT says so, naming HEALTH_PORT (%s)",
  async (_how, script) => {
    const { code, stderr } = await runMain(
      {
        ROLE: "worker",
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: keyPrefix,
        TOKEN_ENCRYPTION_KEY: key,
        AIRTABLE_CLIENT_ID: "port-in-use-test",
        PUBLIC_URL: "http://localhost:1",
        HEALTH_PORT: String(port),
      },
      script,
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot listen on port ${port} (HEALTH_PORT): address already in use`);
    expect(stderr).toContain("set HEALTH_PORT to a free port");
    expect(stderr).not.toMatch(/\n\s+at /);
  },
  90_000,
);
