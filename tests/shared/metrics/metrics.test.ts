/**
 * The Airtable series as the real AirtableClient and limiter feed them, against the sandbox over HTTP: a 429 is
 * counted as a request and as rate-limited, the wait through the penalty shows in the limiter histogram, and a
 * request that got no answer is counted with status "network".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { AirtableNetworkError } from "../../../src/shared/airtable/errors.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { Metrics } from "../../../src/shared/metrics/metrics.ts";

const PENALTY_MS = 300;
let sandbox: Sandbox;
let user: { id: string };
let token: string;
let base: BaseInfo;

beforeAll(async () => {
  sandbox = await startSandbox({ penaltyMs: PENALTY_MS });
  user = sandbox.addUser({ email: "metrics-unit@example.com" });
  token = sandbox.createPersonalAccessToken(user.id);
  base = sandbox.createBase(user.id, {
    name: "Metrics",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "a" }] }],
  });
});

afterAll(async () => {
  await sandbox?.close();
});

/** The value of an unlabelled or labelled series, read through prom-client's own API. */
async function value(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const match = values.find(
    (v) =>
      (v as { metricName?: string }).metricName === undefined &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want) &&
      Object.keys(v.labels).length === Object.keys(labels).length,
  );
  return match?.value ?? 0;
}

describe("Airtable series", () => {
  it("counts a 429 as a request and as rate-limited, and the limiter wait through the penalty", async () => {
    const metrics = new Metrics({ processMetrics: false });
    const limiter = BottleneckAirtableLimiter.local({
      settings: { penaltyMs: PENALTY_MS },
      hooks: metrics.limiterHooks,
    });
    const client = new AirtableClient({
      apiUrl: sandbox.url,
      contentUrl: sandbox.url,
      userId: user.id,
      getAccessToken: async () => token,
      limiter,
      onAttempt: metrics.onAirtableAttempt,
    });
    try {
      // Someone else (another deployment sharing the token) already got the base penalised.
      sandbox.penalize({ baseId: base.id });
      const page = await client.listRecords(base.id, "Tasks");
      expect(page.records).toHaveLength(1);
    } finally {
      await limiter.close();
    }
    expect(sandbox.count429({ baseId: base.id })).toBe(1);
    expect(await value(metrics, "airtable_requests_total", { operation: "listRecords", status: "429" })).toBe(1);
    expect(await value(metrics, "airtable_requests_total", { operation: "listRecords", status: "200" })).toBe(1);
    expect(await value(metrics, "airtable_rate_limited_total")).toBe(1);

    const wait = (await metrics.limiterWait.get()).values;
    const count = wait.find((v) => v.metricName === "airtable_limiter_wait_seconds_count")?.value;
    const sum = wait.find((v) => v.metricName === "airtable_limiter_wait_seconds_sum")?.value;
    expect(count).toBe(2);
    // The retry waited out the shared penalty the 429 started.
    expect(sum).toBeGreaterThanOrEqual((PENALTY_MS - 20) / 1000);
  });

  it('counts attempts that got no answer with status "network"', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const limiter = BottleneckAirtableLimiter.local();
    const client = new AirtableClient({
      // Nothing listens on port 1: connection refused, every attempt.
      apiUrl: "http://127.0.0.1:1",
      contentUrl: "http://127.0.0.1:1",
      userId: user.id,
      getAccessToken: async () => token,
      limiter,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      onAttempt: metrics.onAirtableAttempt,
    });
    try {
      await expect(client.getBaseSchema(base.id)).rejects.toBeInstanceOf(AirtableNetworkError);
    } finally {
      await limiter.close();
    }
    expect(await value(metrics, "airtable_requests_total", { operation: "getBaseSchema", status: "network" })).toBe(2);
    expect(await value(metrics, "airtable_rate_limited_total")).toBe(0);
  });

  it("keeps each Metrics in its own registry (several apps in one process)", async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.onToolCall("list_records", 120, "ok");
    a.recordsWrittenBy("create_records", 10);
    expect(await a.registry.metrics()).toMatch(
      /^tool_call_duration_seconds_count\{tool="list_records",outcome="ok"\} 1$/m,
    );
    expect(await b.registry.metrics()).not.toMatch(/^tool_call_duration_seconds_count\{/m);
    expect(await value(a, "records_written_total", { kind: "create_records" })).toBe(10);
    expect(await value(b, "records_written_total", { kind: "create_records" })).toBe(0);
    // Both carry the process metrics (each registry collects its own).
    expect(await b.registry.metrics()).toMatch(/^process_cpu_seconds_total /m);
  });
});
