/**
 * Start-up checks against Redis servers configured as operators get them wrong: the maxmemory-policy check
 * (src/shared/redis-eviction-policy.ts) and the key check on a Redis that refuses writes (key-fingerprint.ts).
 * Real servers: the shared test Redis (noeviction, as every deployment must run) and a redis-server of this test's
 * own, reconfigured test by test (the binary is on every machine of this project's kind: Debian's redis-server).
 */
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KeyValueFingerprintStore, redisKeyName, requireKeyAgreement } from "../../src/shared/key-fingerprint.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { checkEvictionPolicy } from "../../src/shared/redis-eviction-policy.ts";
import { startPrivateRedis, type PrivateRedis } from "../helpers/private-redis.ts";
import { createTestRedis } from "../helpers/redis.ts";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: "debug" }, sink), lines };
}

let evicting: PrivateRedis;
let evictingRedis: Redis;
const shared = createTestRedis();

beforeAll(async () => {
  evicting = await startPrivateRedis(["--maxmemory-policy", "allkeys-lru", "--maxmemory", "64mb"]);
  evictingRedis = new Redis(evicting.url, { maxRetriesPerRequest: 20, retryStrategy: () => 100 });
  evictingRedis.on("error", () => undefined);
});
afterAll(async () => {
  evictingRedis?.disconnect();
  await evicting?.stop();
  shared.disconnect();
});

describe("checkEvictionPolicy", () => {
  it("says nothing for noeviction", async () => {
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(shared, logger)).toBe("noeviction");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("logs one ERROR line naming the policy and the fix for a Redis that may evict keys", async () => {
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(evictingRedis, logger)).toBe("allkeys-lru");
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: "ERROR", maxmemoryPolicy: "allkeys-lru" });
    expect(String(errors[0]!.message)).toContain("Set maxmemory-policy to noeviction");
  });

  it("only warns while that Redis has no memory limit (maxmemory 0: nothing is evicted yet)", async () => {
    await evictingRedis.config("SET", "maxmemory", "0"); // this test's own redis-server, nobody else's
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(evictingRedis, logger)).toBe("allkeys-lru");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });
});

describe("the start-up key check on a Redis that refuses writes", () => {
  it("says Redis refuses the write (full), not 'is it running', and completes once Redis accepts writes", async () => {
    await evictingRedis.config("SET", "maxmemory-policy", "noeviction");
    await evictingRedis.config("SET", "maxmemory", "1"); // full: every write is refused with OOM
    const { logger, lines } = capturingLogger();
    const store = new KeyValueFingerprintStore(new RedisKeyValueStore(evictingRedis), "full-test", redisKeyName);
    const checked = requireKeyAgreement(store, { TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 3) }, logger, 50);
    await expect.poll(() => lines.filter((l) => l.level === "warn").length, { timeout: 10_000 }).toBeGreaterThan(0);
    const warning = String(lines.find((l) => l.level === "warn")!.message);
    expect(warning).toContain(
      "Redis refuses the write that checks TOKEN_ENCRYPTION_KEY: it is full: maxmemory reached",
    );
    expect(warning).not.toContain("that Redis is running");
    await evictingRedis.config("SET", "maxmemory", "0");
    expect((await checked).outcome).toBe("recorded");
  });
});
