import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, inject } from "vitest";

/** The Redis every test uses (see global-setup.ts). */
export function testRedisUrl(): string {
  return inject("redisUrl");
}

/**
 * A key prefix of this test file's own, so test files can run in parallel against one Redis and a
 * re-run never sees an earlier run's keys.
 */
export function uniquePrefix(label: string): string {
  return `test:${label}:${randomBytes(4).toString("hex")}`;
}

export function createTestRedis(opts: RedisOptions = {}): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 1, lazyConnect: false, ...opts });
}

/** Deletes every key under `prefix` (tests clean up after themselves; keys also carry TTLs). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== "0");
}

/**
 * A Redis client and a key prefix of the calling test file's own (`label`, see uniquePrefix), for tests that write
 * under the prefix: after the file's (or the enclosing describe's) tests, the keys under the prefix are deleted and
 * the client disconnects. Call it at the top level of the file or of a describe, where vitest collects hooks.
 */
export function useTestRedis(label: string): { redis: Redis; prefix: string } {
  const redis = createTestRedis();
  const prefix = uniquePrefix(label);
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  return { redis, prefix };
}
