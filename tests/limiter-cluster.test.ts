import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "./helpers/redis.ts";
import { lastJsonLine, runNodeScript } from "./helpers/processes.ts";

/**
 * Invariant 1 across real OS processes: three processes, each with its own limiter objects, share one
 * Redis-backed schedule. The sandbox enforces Airtable's limits strictly and records every arrival.
 */
const hammer = new URL("./fixtures/hammer.ts", import.meta.url).pathname;

interface HammerResult {
  ok: number;
  errorCount: number;
  errors: string[];
}

function ratePerSecond(times: number[]): number {
  if (times.length < 2) return 0;
  return ((times.length - 1) / (times.at(-1)! - times[0]!)) * 1000;
}

describe("cluster-wide limiter (3 OS processes)", () => {
  let sandbox: Sandbox;
  let redis: Redis;
  const prefix = uniquePrefix("limiter-cluster");
  let userId: string;
  let baseA: { id: string; table: string };
  let baseB: { id: string; table: string };

  beforeAll(async () => {
    sandbox = await startSandbox({ penaltyMs: 2_000 });
    redis = createTestRedis();
    userId = sandbox.addUser({ email: "hammer@example.com" }).id;
    const table = { name: "Items", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] };
    const a = sandbox.createBase(userId, { name: "A", tables: [table] });
    const b = sandbox.createBase(userId, { name: "B", tables: [table] });
    baseA = { id: a.id, table: a.tables[0]!.id };
    baseB = { id: b.id, table: b.tables[0]!.id };
  });
  afterAll(async () => {
    await sandbox.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  function spawnHammers(count: number, env: Record<string, string>) {
    return Array.from({ length: count }, () =>
      runNodeScript(hammer, {
        REDIS_URL: testRedisUrl(),
        KEY_PREFIX: prefix,
        AIRTABLE_API_URL: sandbox.url,
        USER_ID: userId,
        // One token per process, so the sandbox's log tells the processes apart.
        TOKEN: sandbox.createPersonalAccessToken(userId),
        PENALTY_MS: "2000",
        ...env,
      }),
    );
  }

  it("keeps every base under 5 req/s in every 1 s window, at ≥ 95 % of the ceiling, for each base", async () => {
    sandbox.clearRequests();
    const results = await Promise.all(
      spawnHammers(3, {
        TARGETS: `${baseA.id}/${baseA.table},${baseB.id}/${baseB.table}`,
        DURATION_MS: "11000",
        CONCURRENCY: "4",
      }),
    );
    for (const result of results) {
      const summary = lastJsonLine<HammerResult>(result);
      expect(summary.errors).toEqual([]);
      expect(summary.ok).toBeGreaterThan(0);
    }
    expect(sandbox.count429()).toBe(0);
    for (const base of [baseA, baseB]) {
      expect(sandbox.maxRequestsInWindow({ baseId: base.id, windowMs: 1000 })).toBeLessThanOrEqual(5);
      const times = sandbox.requests.filter((r) => r.baseId === base.id).map((r) => r.time);
      expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(10_000);
      expect(ratePerSecond(times)).toBeGreaterThanOrEqual(4.75);
    }
  }, 60_000);

  it("pauses every process while a penalty set elsewhere is in force, then resumes all of them", async () => {
    sandbox.clearRequests();
    const running = spawnHammers(3, {
      TARGETS: `${baseA.id}/${baseA.table}`,
      // Long enough to outlast a slow start, the wait for all three, and the penalty.
      DURATION_MS: "9000",
      CONCURRENCY: "2",
    });
    // Once every process is sending (start-up takes a while on a loaded machine), make Airtable (the
    // sandbox) refuse the base.
    const sending = () => new Set(sandbox.requests.filter((r) => r.baseId === baseA.id).map((r) => r.token)).size;
    for (let waited = 0; sending() < 3 && waited < 15_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    sandbox.penalize({ baseId: baseA.id }, 2_000);
    const results = await Promise.all(running);
    for (const result of results) expect(lastJsonLine<HammerResult>(result).errors).toEqual([]);

    const toBase = sandbox.requests.filter((r) => r.baseId === baseA.id);
    const refused = toBase.filter((r) => r.status === 429);
    // One request discovers the penalty; the Redis penalty key then holds back every process. A request
    // already admitted in another process at that instant may still be refused.
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(3);
    const first429 = refused[0]!.time;
    const penaltyEnds = first429 + 2_000;
    const duringPenalty = toBase.filter((r) => r.time > refused.at(-1)!.time && r.time < penaltyEnds - 100);
    expect(duringPenalty).toEqual([]);
    // Each process (token) sent successful requests after the penalty.
    const tokensBefore = new Set(toBase.filter((r) => r.time < first429).map((r) => r.token));
    const tokensAfter = new Set(toBase.filter((r) => r.time >= penaltyEnds && r.status === 200).map((r) => r.token));
    expect(tokensBefore.size).toBe(3);
    expect(tokensAfter).toEqual(tokensBefore);
    expect(sandbox.maxRequestsInWindow({ baseId: baseA.id })).toBeLessThanOrEqual(5);
  }, 60_000);
});
