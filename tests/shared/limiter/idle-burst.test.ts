/**
 * Bursts on an idle base (issue 15): Airtable allows 5 requests per base in any rolling second, so a base that sent
 * nothing owes no wait to its first five. A tool call that needs two requests (a schema-cache miss, then the records)
 * used to wait ~208 ms between them (even spacing); now both go out back to back, and pacing starts only once the
 * window is full. Measured where Airtable would see it: the sandbox's arrival times, through the real client and the
 * clustered limiter in real Redis. Timing project: it asserts upper bounds on time.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";

let sandbox: Sandbox;
let redis: Redis;
let limiter: BottleneckAirtableLimiter;
let client: AirtableClient;
let bases: BaseInfo[];
const prefix = uniquePrefix("idle-burst");

beforeAll(async () => {
  sandbox = await startSandbox({ perBaseRps: 5, perTokenRps: 50, penaltyMs: 2_000 });
  const user = sandbox.addUser({ email: "burst@example.com" });
  const token = sandbox.createPersonalAccessToken(user.id);
  bases = Array.from({ length: 3 }, (_, i) =>
    sandbox.createBase(user.id, {
      name: `Base ${i}`,
      tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: `r${i}` }] }],
    }),
  );
  redis = createTestRedis();
  limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix });
  client = new AirtableClient({
    apiUrl: sandbox.url,
    contentUrl: sandbox.url,
    userId: user.id,
    getAccessToken: async () => token,
    limiter,
  });
  // The process's first request goes alone (cold start); warm up on a base the tests do not measure.
  await client.listRecords(bases[2]!.id, bases[2]!.tables[0]!.id);
});

afterAll(async () => {
  await limiter?.close();
  await sandbox?.close();
  await deleteKeys(redis, prefix);
  redis?.disconnect();
});

const arrivals = (base: BaseInfo) => sandbox.requests.filter((r) => r.baseId === base.id).map((r) => r.time);

describe("an idle base", () => {
  it("gets a tool call's two requests back to back (no ~200 ms spacing)", async () => {
    const base = bases[0]!;
    await client.getBaseSchema(base.id);
    await client.listRecords(base.id, base.tables[0]!.id);
    const [first, second] = arrivals(base);
    expect(second! - first!).toBeLessThan(100);
  });

  it("takes 5 requests at once, and the 6th only a second after the 1st, with no 429", async () => {
    const base = bases[1]!;
    const read = () => client.listRecords(base.id, base.tables[0]!.id);
    await Promise.all(Array.from({ length: 6 }, read));
    const times = arrivals(base).sort((a, b) => a - b);
    expect(times).toHaveLength(6);
    // Even spacing put the 5th ≥ 832 ms after the 1st.
    expect(times[4]! - times[0]!).toBeLessThan(300);
    expect(times[5]! - times[0]!).toBeGreaterThanOrEqual(1_000);
    expect(sandbox.count429()).toBe(0);
  });
});
