/**
 * Airtable's per-user ceiling across bases (50 requests per second per user/token, on top of 5 per base:
 * https://airtable.com/developers/web/api/rate-limits) honoured with many bases in flight: 12 bases could take
 * 60 req/s by their own limits, so only the user limit holds the pace. Two clients of one user (as two processes
 * would be) share the clustered limiter in real Redis and read all 12 bases at once from the sandbox, which counts
 * every request per user and answers 429 over either limit. Timing group: it measures rates.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { maxInWindow } from "../../../src/sandbox/recorder.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";

const BASES = 12;
const REQUESTS_PER_BASE = 9; // 108 requests: ≥ 2 s at 50 req/s, ~1.8 s at the bases' 60 req/s

let sandbox: Sandbox;
let redis: Redis;
let limiter: BottleneckAirtableLimiter;
let user: { id: string };
let token: string;
let bases: BaseInfo[];
const prefix = uniquePrefix("user-rps");

beforeAll(async () => {
  // Airtable's limits (5 per base, 50 per token); a short penalty so a failure does not stall the suite.
  sandbox = await startSandbox({ perBaseRps: 5, perTokenRps: 50, penaltyMs: 1_000 });
  user = sandbox.addUser({ email: "busy@example.com" });
  token = sandbox.createPersonalAccessToken(user.id);
  bases = Array.from({ length: BASES }, (_, i) =>
    sandbox.createBase(user.id, {
      name: `Base ${i}`,
      tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: `r${i}` }] }],
    }),
  );
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
          userId: user.id,
          getAccessToken: async () => token,
          limiter,
          logger,
        }),
    );
    sandbox.clearRequests();
    const reads = bases.flatMap((base, b) =>
      Array.from({ length: REQUESTS_PER_BASE }, (_, i) =>
        clients[(b + i) % 2]!.listRecords(base.id, base.tables[0]!.id).then((page) => page.records.length),
      ),
    );
    const counts = await Promise.all(reads);
    expect(counts).toEqual(Array.from({ length: BASES * REQUESTS_PER_BASE }, () => 1));

    const mine = sandbox.requests.filter((r) => r.userId === user.id || r.token === token);
    expect(mine).toHaveLength(BASES * REQUESTS_PER_BASE);
    expect(sandbox.count429()).toBe(0);
    expect(
      maxInWindow(
        mine.map((r) => r.time),
        1_000,
      ),
    ).toBeLessThanOrEqual(50);
    // Every base stayed within its own 5 per second too.
    for (const base of bases) expect(sandbox.maxRequestsInWindow({ baseId: base.id })).toBeLessThanOrEqual(5);
  });
});
