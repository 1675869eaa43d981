/**
 * RedisClientSideCache against the real Redis: what it serves from memory (counted with MONITOR on our own keys),
 * and that every change made by another connection — a write, a DEL, an expiry, a FLUSHDB — is seen by the next
 * read once Redis has announced it; that a disconnect of either of its connections flushes and re-arms, and so does a
 * silent partition; and that a Redis refusing CLIENT TRACKING (an ACL user without it) still gets correct reads.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisClientSideCache, type RedisClientSideCacheOptions } from "../../../src/shared/kv/client-side-cache.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { failFastRedisOptions } from "../../../src/shared/redis-connection.ts";
import { isRedisUnavailable } from "../../../src/shared/redis-unavailable.ts";
import { RedisCommandCounter } from "../../helpers/redis-monitor.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startRedisProxy } from "../../e2e/helpers/redis-proxy.ts";

const prefix = uniquePrefix("csc");
const tracked = `${prefix}:t:`;
const data = createTestRedis();
const writer = createTestRedis();
const caches: RedisClientSideCache[] = [];
let counter: RedisCommandCounter;

beforeAll(async () => {
  counter = await RedisCommandCounter.start(testRedisUrl(), prefix);
});
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  counter.stop();
  await deleteKeys(writer, prefix);
  data.disconnect();
  writer.disconnect();
});

async function armedCache(opts: Partial<RedisClientSideCacheOptions> = {}): Promise<RedisClientSideCache> {
  const cache = new RedisClientSideCache({ redis: data, prefixes: [tracked], ...opts });
  caches.push(cache);
  expect(await cache.whenArmed(10_000)).toBe(true);
  return cache;
}

let n = 0;
const key = (label: string) => `${tracked}${label}:${++n}`;

/** Polls `read` until it answers `expected` (what a reader observes once Redis's announcement arrived). */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (last !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    last = await read();
  }
  return last;
}

/** The cache reads "old" (now in memory); another connection writes "new"; the cache's next reads see it. */
async function readThenReplaced(cache: RedisClientSideCache, k: string): Promise<void> {
  await writer.set(k, "old");
  expect(await cache.get(k)).toBe("old");
  await writer.set(k, "new");
  expect(await eventually(() => cache.get(k), "new")).toBe("new");
}

/** GETs Redis ran for our keys since the last call (MONITOR). */
async function gets(): Promise<number> {
  return (await counter.take(writer)).byName.GET ?? 0;
}

describe("served from memory while nothing changes", () => {
  it("a value and a missing key read twice: Redis is asked once each", async () => {
    const cache = await armedCache();
    const present = key("present");
    const missing = key("missing");
    await writer.set(present, "v1");
    await gets();
    expect(await cache.get(present)).toBe("v1");
    expect(await cache.get(present)).toBe("v1");
    expect(await cache.get(missing)).toBeUndefined();
    expect(await cache.get(missing)).toBeUndefined();
    expect(await gets()).toBe(2);
    expect(cache.stats()).toMatchObject({ armed: true, hits: 2, misses: 2 });
  });

  it("getParsed parses once per version of the value; a parse error propagates and is not cached", async () => {
    const cache = await armedCache();
    const k = key("parsed");
    await writer.set(k, JSON.stringify({ n: 1 }));
    let parses = 0;
    const parse = (raw: string) => {
      parses++;
      return JSON.parse(raw) as { n: number };
    };
    const first = await cache.getParsed(k, parse);
    expect(first).toEqual({ n: 1 });
    expect(await cache.getParsed(k, parse)).toBe(first);
    expect(parses).toBe(1);

    await writer.set(k, JSON.stringify({ n: 2 }));
    expect((await eventually(async () => (await cache.getParsed(k, parse))?.n, 2)) ?? 0).toBe(2);
    const parsesAfterChange = parses;
    await cache.getParsed(k, parse);
    expect(parses).toBe(parsesAfterChange);

    await writer.set(k, "not json");
    const failing = () => cache.getParsed(k, parse);
    await expect(
      eventually(
        () =>
          failing().then(
            () => "ok",
            () => "threw",
          ),
        "threw",
      ),
    ).resolves.toBe("threw");
    const before = parses;
    await expect(failing()).rejects.toThrow(SyntaxError);
    expect(parses).toBe(before + 1);
  });

  it("entries are bounded: the oldest goes first", async () => {
    const cache = await armedCache({ maxEntries: 3 });
    const keys = Array.from({ length: 5 }, () => key("bounded"));
    for (const k of keys) await cache.get(k);
    expect(cache.stats().entries).toBe(3);
    await gets();
    await cache.get(keys[0]!); // evicted: asks Redis
    await cache.get(keys[4]!); // kept: from memory
    expect(await gets()).toBe(1);
  });

  it("an entry older than maxAgeMs is read again from Redis", async () => {
    const cache = await armedCache({ maxAgeMs: 20 });
    const k = key("aged");
    await writer.set(k, "v");
    await gets();
    await cache.get(k);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await cache.get(k);
    expect(await gets()).toBe(2);
  });

  it("untracked keys are not cached", async () => {
    const cache = await armedCache();
    expect(cache.tracks(`${tracked}x`)).toBe(true);
    expect(cache.tracks(`${prefix}:other:x`)).toBe(false);
  });
});

describe("changes by another connection are seen by the next read", () => {
  it("a write, then a DEL", async () => {
    const cache = await armedCache();
    const k = key("changed");
    await readThenReplaced(cache, k);
    await writer.del(k);
    expect(await eventually(() => cache.get(k), undefined)).toBeUndefined();
  });

  it("a write to a key whose absence was cached", async () => {
    const cache = await armedCache();
    const k = key("appears");
    expect(await cache.get(k)).toBeUndefined();
    await writer.set(k, "now");
    expect(await eventually(() => cache.get(k), "now")).toBe("now");
  });

  it("an expiry (PX)", async () => {
    const cache = await armedCache();
    const k = key("expiring");
    await writer.set(k, "short", "PX", 150);
    expect(await cache.get(k)).toBe("short");
    expect(await eventually(() => cache.get(k), undefined)).toBeUndefined();
  });

  it("this process's own writes are seen at once after invalidate(key)", async () => {
    const cache = await armedCache();
    const k = key("own");
    await data.set(k, "a");
    expect(await cache.get(k)).toBe("a");
    cache.invalidate(k);
    await data.set(k, "b");
    expect(await cache.get(k)).toBe("b");
  });

  it("FLUSHDB (Redis's null invalidation message) drops every entry", async () => {
    // A database of our own: FLUSHDB must not touch anyone else's keys.
    let db = -1;
    for (let candidate = 15; candidate >= 9 && db < 0; candidate--) {
      const probe = createTestRedis({ db: candidate });
      if ((await probe.dbsize()) === 0) db = candidate;
      probe.disconnect();
    }
    expect(db, "no empty Redis database among 9..15 for the FLUSHDB test").toBeGreaterThanOrEqual(0);
    const own = createTestRedis({ db });
    const ownWriter = createTestRedis({ db });
    try {
      const cache = new RedisClientSideCache({ redis: own, prefixes: [tracked] });
      caches.push(cache);
      expect(await cache.whenArmed(10_000)).toBe(true);
      const k = key("flushed");
      const absent = key("absent");
      await ownWriter.set(k, "v");
      expect(await cache.get(k)).toBe("v");
      expect(await cache.get(absent)).toBeUndefined();
      expect(cache.stats().entries).toBe(2);
      await ownWriter.flushdb();
      // Only the null message drops the cached absence of `absent` (no key of it changed).
      expect(await eventually(async () => cache.stats().entries, 0)).toBe(0);
      expect(await cache.get(k)).toBeUndefined();
    } finally {
      await ownWriter.flushdb();
      own.disconnect();
      ownWriter.disconnect();
    }
  });
});

describe("the race between a read reply and an invalidation", () => {
  it("an invalidation processed while a read-through is in flight: its (older) answer is not kept", async () => {
    const cache = await armedCache();
    const k = key("race");
    await writer.set(k, "old");
    const dataId = (await data.client("ID")) as number;
    await data.ping(); // the connection's last command is now PING, until the read below runs
    const pending = cache.get(k);
    // Hold the data connection's replies in its socket: Redis runs the GET, its answer "old" waits unread.
    data.stream.pause();
    try {
      const ran = async () =>
        /cmd=pttl/.test((await writer.call("CLIENT", "LIST", "ID", String(dataId))) as string) ? "ran" : "waiting";
      expect(await eventually(ran, "ran")).toBe("ran");
      const seen = cache.stats().invalidations;
      await writer.set(k, "new");
      // Redis's invalidation reaches the cache (on its own connection) before the read's reply.
      expect(await eventually(async () => cache.stats().invalidations > seen, true)).toBe(true);
    } finally {
      data.stream.resume();
    }
    expect(await pending).toBe("old"); // the read began before the write: "old" is a right answer for it
    await gets();
    expect(await cache.get(k)).toBe("new"); // but it was not kept
    expect(await cache.get(k)).toBe("new");
    expect(await gets()).toBe(1);
  });

  it("the reply first, the invalidation after: the entry is dropped when the invalidation lands", async () => {
    const cache = await armedCache();
    await readThenReplaced(cache, key("race-2"));
  });
});

describe("losing a connection", () => {
  for (const which of ["invalidations", "tracking"] as const) {
    it(`CLIENT KILL of the ${which} connection: flushed, reads go to Redis, then re-armed`, async () => {
      const cache = await armedCache();
      const k = key(`kill-${which}`);
      await writer.set(k, "v1");
      expect(await cache.get(k)).toBe("v1");
      const epoch = cache.stats().epoch;
      const id = (await cache.connectionIds())[which];
      expect(id).toBeTypeOf("number");
      await writer.call("CLIENT", "KILL", "ID", String(id));
      // Written while the cache may be disarmed (its invalidation may be lost with the killed connection).
      await writer.set(k, "v2");
      expect(await eventually(() => cache.get(k), "v2")).toBe("v2");
      expect(await cache.whenArmed(10_000)).toBe(true);
      expect(cache.stats().epoch).toBeGreaterThan(epoch);
      // A new connection (a new CLIENT ID) replaced the killed one.
      expect((await cache.connectionIds())[which]).not.toBe(id);
      // Armed again: served from memory, and changes still arrive.
      await cache.get(k);
      await gets();
      expect(await cache.get(k)).toBe("v2");
      expect(await gets()).toBe(0);
      await writer.set(k, "v3");
      expect(await eventually(() => cache.get(k), "v3")).toBe("v3");
    });
  }
});

describe("proof of the invalidation connection after an idle spell", () => {
  it("a read that comes after the proof interval is served from memory once one PING answered: no GET", async () => {
    // An agent's tool calls come seconds apart (its model thinks in between): longer than the proof interval.
    const cache = await armedCache({ proofIntervalMs: 100 });
    const k = key("idle");
    const other = key("idle-other");
    await writer.set(k, "v1");
    await writer.set(other, "w1");
    expect(await cache.get(k)).toBe("v1");
    expect(await cache.get(other)).toBe("w1");
    await gets();
    const probesBefore = cache.stats().probes;

    await new Promise((resolve) => setTimeout(resolve, 250)); // idle past the proof interval
    // Two keys read at once (as a call reads its revocation entry, account and schema): one PING for both.
    expect(await Promise.all([cache.get(k), cache.get(other)])).toEqual(["v1", "w1"]);
    expect(await gets()).toBe(0);
    expect(cache.stats()).toMatchObject({ armed: true, hits: 2, misses: 2 });
    expect(cache.stats().probes - probesBefore).toBe(1);

    // A change made during an idle spell is still what the next read sees.
    await writer.set(k, "v2");
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await cache.get(k)).toBe("v2");
  });
});

describe("a silent partition (connections stay open, nothing passes)", () => {
  it("memory stops serving within the proof interval, a change made meanwhile is never served stale, and it re-arms", async () => {
    // This process reaches Redis through a proxy the test freezes; `writer` (another process) still reaches it.
    const proxy = await startRedisProxy(testRedisUrl());
    const through = new Redis(proxy.url, failFastRedisOptions(300));
    through.on("error", () => undefined);
    // Written before the cache exists: no invalidation of it can arrive late and drop the entry on its own.
    const k = key("partition");
    await writer.set(k, "v1");
    const cache = new RedisClientSideCache({ redis: through, prefixes: [tracked], proofIntervalMs: 200 });
    try {
      expect(await cache.whenArmed(10_000)).toBe(true);
      expect(await cache.get(k)).toBe("v1");
      expect(await cache.get(k)).toBe("v1");
      expect(cache.stats().hits).toBe(1);

      proxy.freeze();
      try {
        // Written by another process: Redis's invalidation for it waits in the frozen proxy.
        await writer.set(k, "v2");
        await new Promise((resolve) => setTimeout(resolve, 400)); // past the proof interval
        // The stale "v1" is in memory; what is served is Redis's answer, here none.
        const during = await cache.get(k).catch((error: unknown) => error);
        expect(during).not.toBe("v1");
        expect(isRedisUnavailable(during), String(during)).toBe(true);
        // The unanswered PING (300 ms) dropped the invalidation connection: flushed and disarmed.
        await eventually(async () => cache.stats().armed, false);
        expect(cache.stats()).toMatchObject({ armed: false, entries: 0 });
      } finally {
        proxy.thaw();
      }
      expect(await eventually(() => cache.get(k).catch(() => "no answer"), "v2")).toBe("v2");
      expect(await cache.whenArmed(10_000)).toBe(true);
      await writer.set(k, "v3");
      expect(await eventually(() => cache.get(k), "v3")).toBe("v3");
    } finally {
      await cache.close();
      through.disconnect();
      await proxy.close();
    }
  });
});

describe("CLIENT TRACKING refused", () => {
  it("an ACL user without client|tracking: one warning naming the cause, and correct reads", async () => {
    const user = `csc-test-${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    await writer.call("ACL", "SETUSER", user, "on", `>${password}`, "~*", "&*", "+@all", "-client|tracking");
    const limited = createTestRedis({ username: user, password });
    const lines: string[] = [];
    const logger = createLogger(
      { level: "warn", pretty: false, name: "test" },
      { write: (l: string) => lines.push(l) },
    );
    try {
      const cache = new RedisClientSideCache({ redis: limited, prefixes: [tracked], logger });
      caches.push(cache);
      expect(await cache.whenArmed(10_000)).toBe(false);
      expect(cache.stats()).toMatchObject({ armed: false, refused: true });
      const warnings = lines.map((l) => JSON.parse(l) as { message: string; level: string });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toMatch(/Redis refused client-side caching \(NOPERM.*client\|tracking/);

      const k = key("refused");
      await writer.set(k, "a");
      await gets();
      expect(await cache.get(k)).toBe("a");
      await writer.set(k, "b");
      expect(await cache.get(k)).toBe("b");
      expect(await gets()).toBe(2);
      let parses = 0;
      const parse = (raw: string) => `${raw}!${++parses}`;
      expect(await cache.getParsed(k, parse)).toBe("b!1");
      expect(await cache.getParsed(k, parse)).toBe("b!1"); // same bytes: not parsed again
      await writer.set(k, "c");
      expect(await cache.getParsed(k, parse)).toBe("c!2");
    } finally {
      limited.disconnect();
      await writer.call("ACL", "DELUSER", user);
    }
  });
});
