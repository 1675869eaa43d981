import Bottleneck from "bottleneck";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { bottleneckRedis7Fix } from "../../../src/shared/limiter/bottleneck-redis7.ts";

/**
 * Bottleneck 2.19.5 recovers from expired Redis state by matching the Lua error text exactly
 * ("SETTINGS_KEY_NOT_FOUND"). Redis 7 prefixes script errors with "ERR ", so without our fix
 * (src/shared/limiter/bottleneck-redis7.ts, applied when the limiter module loads) a limiter whose keys expired fails
 * every job from then on (Bottleneck issues #205, #212, #219).
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Bottleneck on Redis 7 (fixed at load)", () => {
  let redis: Redis;
  const prefix = uniquePrefix("bottleneck-redis7");

  beforeAll(() => {
    redis = createTestRedis();
  });
  afterAll(async () => {
    await deleteKeys(redis, `b_${prefix}`);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("the fix found the Bottleneck internals it wraps", () => {
    expect(bottleneckRedis7Fix.applied).toBe(true);
  });

  it("Redis really prefixes script errors with ERR (the condition the fix handles)", async () => {
    await expect(redis.eval("return redis.error_reply('SETTINGS_KEY_NOT_FOUND')", 0)).rejects.toThrow(
      /^ERR SETTINGS_KEY_NOT_FOUND$/,
    );
  });

  it("a plain clustered Bottleneck limiter keeps working after its Redis keys expired", async () => {
    const connection = new Bottleneck.IORedisConnection({ client: redis.duplicate() });
    const limiter = new Bottleneck({
      datastore: "ioredis",
      connection,
      id: `${prefix}:plain`,
      minTime: 10,
      timeout: 300, // Redis state expires 300 ms after the last use
    });
    try {
      expect(await limiter.schedule(async () => "first")).toBe("first");
      await sleep(700);
      expect(await redis.exists(`b_${prefix}:plain_settings`)).toBe(0);
      // Without the fix, this rejects with "ERR SETTINGS_KEY_NOT_FOUND".
      expect(await limiter.schedule(async () => "after expiry")).toBe("after expiry");
      expect(await redis.exists(`b_${prefix}:plain_settings`)).toBe(1);
    } finally {
      await limiter.disconnect(false);
      await connection.disconnect(false);
    }
  });

  it("our limiter keeps pacing a base after every limiter key in Redis expired", async () => {
    const limiter = BottleneckAirtableLimiter.clustered({
      redis,
      keyPrefix: prefix,
      settings: { idleTimeoutMs: 60_000 },
    });
    const scope = { userId: "usrA", baseId: "appExpiry" };
    try {
      await limiter.schedule(scope, async () => undefined);
      // Expire everything Bottleneck and the gate keep for this base while the process still holds its
      // local limiter objects (as happens when Redis restarts, or the idle timeout elapses).
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `*${prefix}*`, "COUNT", 500);
        cursor = next;
        for (const key of keys) await redis.pexpire(key, 1);
      } while (cursor !== "0");
      await sleep(20);
      const results = await Promise.all(Array.from({ length: 3 }, (_, i) => limiter.schedule(scope, async () => i)));
      expect(results).toEqual([0, 1, 2]);
    } finally {
      await limiter.close();
    }
  });
});
