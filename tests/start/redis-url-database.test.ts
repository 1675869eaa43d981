/**
 * REDIS_URL's database number, as `npm start` in the distributed mode shows it (a real process, `node src/main.ts`,
 * ROLE=all, against the tests' real Redis). A newcomer told to "use a Redis database of your own" types `/99` (this
 * Redis has 16) or `/abc`. ioredis sends `SELECT` at connect and, when Redis refuses it, only emits an error and
 * carries on in database 0: the process said it was running, logged stack traces, and wrote its key fingerprint and
 * queue into database 0, where another deployment may live. Now the start ends with one sentence naming REDIS_URL,
 * the databases this Redis has and the fix, and writes nothing anywhere.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
/** Database 0 of the tests' Redis: where ioredis went on after a refused SELECT. */
const database0 = (() => {
  const url = new URL(testRedisUrl());
  url.pathname = "/";
  return new Redis(url.toString(), { maxRetriesPerRequest: 1 });
})();

afterAll(() => {
  database0.disconnect();
});

/** Runs `npm start`'s entry point with `redisUrl` for at most 20 s; its exit code (null: still running) and output. */
async function start(redisUrl: string, prefix: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      ...compileCacheEnv,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      PUBLIC_URL: "http://localhost:1",
      PORT: "0",
      HEALTH_PORT: "0",
      AIRTABLE_CLIENT_ID: "redis-database-test",
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const code = await Promise.race([exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))]);
  if (code === null) {
    child.kill("SIGKILL");
    await exited;
  }
  return { code, output };
}

/** The keys under `prefix` in database 0. */
async function keysInDatabase0(prefix: string): Promise<string[]> {
  const [, keys] = await database0.scan("0", "MATCH", `${prefix}:*`, "COUNT", 10_000);
  return keys;
}

it("a database this Redis does not have (/9999): refuses to start in one sentence, writes nothing to database 0", async () => {
  const url = new URL(testRedisUrl());
  url.pathname = "/9999";
  const prefix = uniquePrefix("redis-db");
  const { code, output } = await start(url.toString(), prefix);

  expect(code, output).toBe(1);
  expect(output).toMatch(
    /airtable-oauth-mcp could not start: REDIS_URL selects Redis database 9999 \(the number after the port, \/9999\), which this Redis does not have: it has \d+ \(0 to \d+; Redis's "databases" setting\)\. Set REDIS_URL's database to one below \d+/,
  );
  expect(output).not.toContain("is running");
  expect(output).not.toContain('"stack"');
  expect(output).not.toMatch(/\n\s+at /);
  expect(await keysInDatabase0(prefix)).toEqual([]);
}, 60_000);

it("a path that is no database number (/abc): a configuration error naming REDIS_URL and the fix", async () => {
  const url = new URL(testRedisUrl());
  url.pathname = "/abc";
  const prefix = uniquePrefix("redis-db");
  const { code, output } = await start(url.toString(), prefix);

  expect(code, output).toBe(1);
  expect(output).toContain(
    'REDIS_URL: its path "/abc" is not a database number: end REDIS_URL with /<number> for a database other than 0',
  );
  expect(output).not.toMatch(/\n\s+at /);
  expect(await keysInDatabase0(prefix)).toEqual([]);
}, 60_000);
