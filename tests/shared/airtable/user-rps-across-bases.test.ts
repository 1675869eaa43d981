/**
 * Airtable's per-user ceiling across bases (50 requests per second per user/token, on top of 5 per base:
 * https://airtable.com/developers/web/api/rate-limits) honoured with many bases in flight: 12 bases could take
 * 60 req/s by their own limits, so only the user limit holds the pace. Two clients of one user (as two processes
 * would be) share the clustered limiter in real Redis and read all 12 bases at once from the sandbox, which counts
 * every request per user and answers 429 over either limit. Timing group: it measures rates.
 *
 * The sandbox runs in a process of its own (tests/support/sandbox-process.ts), as Airtable does: in this process,
 * its arrival stamps waited for this test's event loop, busy with the 107 requests that leave together once the
 * process's first request is answered, and came up to 125 ms after the requests' socket writes (traced in
 * session 9) — a delay Airtable's clock does not have, which put a 51st arrival into a sliding second about 1 run
 * in 10 on a slow machine.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startSandboxProcess, type SandboxProcess, type SeededBase } from "../../support/sandbox-process.ts";

const BASES = 12;
const REQUESTS_PER_BASE = 9; // 108 requests: ≥ 2 s at 50 req/s, ~1.8 s at the bases' 60 req/s

let sandbox: SandboxProcess;
let redis: Redis;
let limiter: BottleneckAirtableLimiter;
let userId: string;
let token: string;
let bases: SeededBase[];
const prefix = uniquePrefix("user-rps");

beforeAll(async () => {
  // Airtable's limits (5 per base, 50 per token); a short penalty so a failure does not stall the suite.
  sandbox = await startSandboxProcess({ penaltyMs: 1_000 });
  const seeded = await sandbox.call("seed", { users: 1, bases: BASES, records: 1 });
  bases = seeded.bases;
  userId = seeded.userIds[0]!;
  token = (await sandbox.call("personalAccessTokens", { userIds: [userId] }))[0]!;
  redis = createTestRedis();
  limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix }); // Airtable's 5 / 50 defaults
});

afterAll(async () => {
  await limiter?.close();
  await sandbox?.close();
  await deleteKeys(redis, prefix);
  redis?.disconnect();
});

describe("the limiter with 12 bases in flight for one user", () => {
  it("keeps the user at ≤ 50 requests in every sliding second, with no 429", async () => {
    const logger = createLogger({ level: "silent" });
    const clients = [0, 1].map(
      () =>
        new AirtableClient({
          apiUrl: sandbox.url,
          contentUrl: sandbox.url,
          userId,
          getAccessToken: async () => token,
          limiter,
          logger,
        }),
    );
    await sandbox.call("clearRequests", {});
    const reads = bases.flatMap((base, b) =>
      Array.from({ length: REQUESTS_PER_BASE }, (_, i) =>
        clients[(b + i) % 2]!.listRecords(base.baseId, base.tableId).then((page) => page.records.length),
      ),
    );
    const counts = await Promise.all(reads);
    expect(counts).toEqual(Array.from({ length: BASES * REQUESTS_PER_BASE }, () => 1));

    const user = await sandbox.call("tokenStats", { token });
    expect(user.requests).toBe(BASES * REQUESTS_PER_BASE);
    const stats = await sandbox.call("stats", { baseIds: bases.map((b) => b.baseId) });
    expect(stats.count429).toBe(0);
    expect(user.maxInSecond).toBeLessThanOrEqual(50);
    // Every base stayed within its own 5 per second too.
    expect(stats.worstBase).toBeLessThanOrEqual(5);
  });
});
