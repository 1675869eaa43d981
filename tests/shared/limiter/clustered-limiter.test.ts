/**
 * The clustered limiter against a real Redis: what it costs Redis per request and while idle (counted with MONITOR,
 * commands inside its Lua script included), that nothing of an idle base stays behind (in the process or in Redis),
 * and that two limiter instances — as two processes would — share one window and one penalty. Rate measurements at
 * the sandbox across OS processes are in tests/limiter-cluster.test.ts (timing project).
 */
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { RedisCommandCounter } from "../../helpers/redis-monitor.ts";
import { deleteKeys, testRedisUrl, useTestRedis } from "../../helpers/redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== "0");
  return found;
}

describe("clustered limiter (real Redis)", () => {
  const { redis, prefix } = useTestRedis("limiter-clustered");

  it("costs Redis at most 12 commands (inside its script included) and 2 round trips per request", async () => {
    const keyPrefix = `${prefix}:cost`;
    const counter = await RedisCommandCounter.start(testRedisUrl(), keyPrefix);
    const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix });
    try {
      await counter.take(redis);
      // Bursts on idle bases, a busy base whose window fills (requests wait for their booked moment), base-less calls,
      // and slow requests (a fresh process assumes its first ones arrived late and revises their place: one more call).
      const slow = async () => sleep(30);
      await Promise.all([
        ...Array.from({ length: 10 }, (_, b) =>
          Promise.all(Array.from({ length: 3 }, () => limiter.schedule({ userId: "usrC", baseId: `appC${b}` }, slow))),
        ),
        Promise.all(Array.from({ length: 12 }, () => limiter.schedule({ userId: "usrC", baseId: "appBusy" }, slow))),
        Promise.all(Array.from({ length: 4 }, () => limiter.schedule({ userId: "usrC" }, slow))),
      ]);
      await sleep(200); // the revisions are not awaited by the caller
      const requests = 10 * 3 + 12 + 4;
      const count = await counter.take(redis);
      expect(count.commands).toBeGreaterThan(0);
      expect(count.commands / requests).toBeLessThanOrEqual(12);
      expect(count.roundTrips / requests).toBeLessThanOrEqual(2);
      // Only the book script and the commands inside it.
      expect(Object.keys(count.byName).sort()).toEqual(
        expect.arrayContaining(["EVALSHA", "GET", "SET", "TIME"].filter((n) => n in count.byName)),
      );
      for (const name of Object.keys(count.byName))
        expect(["EVAL", "EVALSHA", "GET", "SET", "TIME", "DEL"]).toContain(name);
    } finally {
      await limiter.close();
      counter.stop();
    }
  });

  it("runs no Redis command while idle, after 200 bases of 20 users were touched", async () => {
    const keyPrefix = `${prefix}:idle`;
    const counter = await RedisCommandCounter.start(testRedisUrl(), keyPrefix);
    const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix });
    try {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          limiter.schedule({ userId: `usrI${i % 20}`, baseId: `appI${i}` }, async () => undefined),
        ),
      );
      expect((await counter.take(redis)).commands).toBeGreaterThanOrEqual(200);
      await sleep(3_000);
      expect(await counter.take(redis)).toEqual({ commands: 0, roundTrips: 0, byName: {}, sentByName: {} });
    } finally {
      await limiter.close();
      counter.stop();
    }
  });

  it("leaves nothing of an idle base behind: no local queue or penalty after the idle timeout, no Redis key", async () => {
    const keyPrefix = `${prefix}:expiry`;
    const limiter = BottleneckAirtableLimiter.clustered({
      redis,
      keyPrefix,
      settings: { idleTimeoutMs: 300, penaltyMs: 200 },
    });
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          limiter.schedule({ userId: `usrE${i % 3}`, ...(i % 10 === 0 ? {} : { baseId: `appE${i}` }) }, async () => 1),
        ),
      );
      await limiter.reportRateLimited({ userId: "usrE0", baseId: "appE1" });
      expect(limiter.localState()).toMatchObject({ bases: 27, users: 3, penalties: 1 });
      const keys = await keysUnder(redis, keyPrefix);
      expect(keys.length).toBe(27 + 3);
      // Each book expires (PXAT) at the end of its last entry's second (1 s + margin ≤ 40 ms) or of its penalty.
      for (const key of keys) expect(await redis.pttl(key)).toBeLessThanOrEqual(1_040);
      await sleep(1_300);
      expect(await keysUnder(redis, keyPrefix)).toEqual([]);
      expect(limiter.localState()).toEqual({ bases: 0, users: 0, penalties: 0, books: 0 });
    } finally {
      await limiter.close();
    }
  });

  it("keeps working and keeps the window after its Redis state is gone (idle expiry, a Redis restart)", async () => {
    // What the Bottleneck-on-Redis-7 fix used to protect (a limiter whose Redis keys expired while idle broke on
    // Redis 7): this limiter keeps no Redis state that must outlive idleness, so it is asserted as the user sees it.
    const keyPrefix = `${prefix}:gone`;
    const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix, settings: { idleTimeoutMs: 300 } });
    const scope = { userId: "usrG", baseId: "appGone" };
    try {
      await limiter.schedule(scope, async () => undefined);
      await sleep(1_200); // past the idle timeout and the book's expiry
      expect(await keysUnder(redis, keyPrefix)).toEqual([]);
      const starts: number[] = [];
      const run = () =>
        limiter.schedule(scope, async () => {
          starts.push(performance.now());
        });
      await Promise.all(Array.from({ length: 6 }, run));
      expect(starts[5]! - starts[0]!).toBeGreaterThanOrEqual(1_000);
      // Every key deleted under a live limiter (Redis restarted without persistence): requests still go out.
      await deleteKeys(redis, keyPrefix);
      expect(await Promise.all(Array.from({ length: 3 }, (_, i) => limiter.schedule(scope, async () => i)))).toEqual([
        0, 1, 2,
      ]);
    } finally {
      await limiter.close();
    }
  });

  it("shares one window and one penalty between two limiter instances (as between two processes)", async () => {
    const keyPrefix = `${prefix}:shared`;
    const make = () => BottleneckAirtableLimiter.clustered({ redis, keyPrefix, settings: { penaltyMs: 600 } });
    const [a, b] = [make(), make()];
    const scope = { userId: "usrS", baseId: "appShared" };
    try {
      const starts: number[] = [];
      const run = (limiter: BottleneckAirtableLimiter) =>
        limiter.schedule(scope, async () => {
          starts.push(performance.now());
        });
      await Promise.all([...Array.from({ length: 4 }, () => run(a)), ...Array.from({ length: 4 }, () => run(b))]);
      starts.sort((x, y) => x - y);
      for (let i = 5; i < starts.length; i++) expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(1_000);

      await sleep(1_100); // the window is empty again
      await a.reportRateLimited(scope);
      expect(await b.penaltyRemaining(scope)).toBeGreaterThan(400);
      const before = performance.now();
      await b.schedule(scope, async () => undefined);
      expect(performance.now() - before).toBeGreaterThanOrEqual(550);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("clustered limiter, Redis away at the process's first request", () => {
  const { prefix } = useTestRedis("limiter-first-fails");

  it("the first request fails, and the next ones are not held back by the first-request rule (no 2 s wait)", async () => {
    // Not connected yet and no offline queue: the first booking fails at once, as with Redis down at start-up.
    const { Redis: RedisClient } = await import("ioredis");
    const redis = new RedisClient(testRedisUrl(), {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix });
    try {
      let sent = 0;
      await expect(
        limiter.schedule({ userId: "usrFirst", baseId: "appFirst" }, async () => (sent += 1)),
      ).rejects.toThrow();
      expect(sent).toBe(0); // never sent unbooked
      // Redis comes back (the failed call may already have started connecting the client).
      await redis.connect().catch(() => undefined);
      if (redis.status !== "ready") await new Promise((resolve) => redis.once("ready", resolve));
      const started = performance.now();
      await Promise.all(
        ["appA", "appB", "appC"].map((baseId) =>
          limiter.schedule({ userId: "usrFirst", baseId }, async () => (sent += 1)),
        ),
      );
      // Before the fix each of these waited for the failed first request's warm-up until its 2 s timeout.
      expect(performance.now() - started).toBeLessThan(1_500);
      expect(sent).toBe(3);
    } finally {
      await limiter.close();
      redis.disconnect();
    }
  });
});
