/**
 * /metrics after a real operation: an MCP client signs in through the real OAuth flow and calls create_records on
 * the real server app; the operation goes through the BullMQ queue to a worker (in this process, wired as
 * src/worker/main.ts wires it) that writes to the sandbox. Then Prometheus scrapes the server's /metrics and the
 * worker's health port /metrics, as an operator's scraper would.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { callTool, postMcp2025, resultText, signInAndConnect, toolsCall } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import {
  TEST_ADMIN_TOKEN,
  bearer,
  sampleValue,
  startServerHarness,
  type ServerHarness,
  type TestWorker,
} from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("metrics");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let worker: TestWorker;
let client: Client;
let provider: TestOAuthProvider;
let base: BaseInfo;
let userId: string;
let serverScrape: string;
let workerScrape: string;

const RECORDS = 25;

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: bearer(TEST_ADMIN_TOKEN) } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "metrics@example.com", name: "Metrics User" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Metrics base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  server = await startServerHarness({ sandbox, keyPrefix, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
  worker = await server.startWorker();
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${server.url}/mcp`, provider));

  const created = await callTool(client, "create_records", {
    baseId: base.id,
    tableId: "Tasks",
    records: Array.from({ length: RECORDS }, (_, i) => ({ fields: { Name: `metric ${i}` } })),
  });
  expect(created.isError, resultText(created)).toBeFalsy();
  expect(created.structuredContent).toMatchObject({ status: "completed", done: true });
  // A refused call: the plan finds no such field, so the tool answers an error without queuing anything.
  const refused = await callTool(client, "create_records", {
    baseId: base.id,
    tableId: "Tasks",
    records: [{ fields: { NoSuchField: "x" } }],
  });
  expect(refused.isError).toBe(true);
  // A read whose client leaves (its connection closes) while Airtable is slow: the server stops it, and it is the
  // client's choice, not an error.
  sandbox.setFaults({ latencyMs: 5_000 });
  const leave = new AbortController();
  // Its records request, not the schema read the refused call above made just before.
  const sentAt = performance.timeOrigin + performance.now();
  const abandoned = postMcp2025(
    `${server.url}/mcp`,
    provider.tokens()!.access_token,
    toolsCall("list_records", { baseId: base.id, tableId: "Tasks" }),
    leave.signal,
  ).then(
    (res) => res.text(),
    () => undefined,
  );
  while (!sandbox.requests.some((r) => r.time >= sentAt && r.baseId === base.id && !r.path.includes("/meta/"))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  leave.abort();
  await abandoned;
  sandbox.setFaults({ latencyMs: 0 });

  // The server records the cancelled call when it has noticed the request's end: scrape until it shows up (or 5 s).
  const cancelled = { tool: "list_records", outcome: "cancelled" };
  for (let i = 0; i < 100; i++) {
    serverScrape = await scrape(server.url);
    if (sampleValue(serverScrape, "tool_call_duration_seconds_count", cancelled) !== undefined) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  workerScrape = await scrape(worker.healthUrl);
}, 30_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("/metrics after a real operation", () => {
  it("worker: Airtable requests by status, records written, operation duration, limiter wait", () => {
    const batches = Math.ceil(RECORDS / 10);
    expect(sampleValue(workerScrape, "airtable_requests_total", { operation: "createRecords", status: "200" })).toBe(
      batches,
    );
    expect(sampleValue(workerScrape, "records_written_total", { kind: "create_records" })).toBe(RECORDS);
    const durations = { kind: "create_records", status: "completed" };
    expect(sampleValue(workerScrape, "operation_duration_seconds_count", durations)).toBe(1);
    expect(sampleValue(workerScrape, "operation_duration_seconds_sum", durations)).toBeGreaterThan(0);
    expect(sampleValue(workerScrape, "airtable_limiter_wait_seconds_count")).toBe(batches);
    expect(sampleValue(workerScrape, "airtable_rate_limited_total")).toBe(0);
  });

  it("server: tool latency by tool and outcome, its own Airtable requests, limiter wait", () => {
    const ok = { tool: "create_records", outcome: "ok" };
    expect(sampleValue(serverScrape, "tool_call_duration_seconds_count", ok)).toBe(1);
    expect(sampleValue(serverScrape, "tool_call_duration_seconds_sum", ok)).toBeGreaterThan(0);
    expect(sampleValue(serverScrape, "tool_call_duration_seconds_bucket", { ...ok, le: "+Inf" })).toBe(1);
    expect(
      sampleValue(serverScrape, "tool_call_duration_seconds_count", { tool: "create_records", outcome: "error" }),
    ).toBe(1);
    // The read whose client left counts as cancelled, not as an error.
    expect(
      sampleValue(serverScrape, "tool_call_duration_seconds_count", { tool: "list_records", outcome: "cancelled" }),
    ).toBe(1);
    expect(
      sampleValue(serverScrape, "tool_call_duration_seconds_count", { tool: "list_records", outcome: "error" }),
    ).toBeUndefined();
    // The sign-in's whoami and the plans' schema reads went through the server, each one through the limiter…
    const whoami = sampleValue(serverScrape, "airtable_requests_total", { operation: "whoami", status: "200" });
    const schema = sampleValue(serverScrape, "airtable_requests_total", { operation: "getBaseSchema", status: "200" });
    expect(whoami).toBe(1);
    expect(schema).toBeGreaterThanOrEqual(1);
    // And the abandoned read's one request, cut off in flight when its client left.
    const abandoned = sampleValue(serverScrape, "airtable_requests_total", {
      operation: "listRecords",
      status: "cancelled",
    });
    expect(abandoned).toBe(1);
    expect(sampleValue(serverScrape, "airtable_limiter_wait_seconds_count")).toBe(whoami! + schema! + abandoned!);
    // Written by the worker, not here: the series exists with nothing in it.
    expect(serverScrape).toContain("# TYPE records_written_total counter");
    expect(sampleValue(serverScrape, "records_written_total", { kind: "create_records" })).toBeUndefined();
  });

  it("both: queue_jobs by state from the shared queue, and the process metrics", () => {
    for (const text of [serverScrape, workerScrape]) {
      expect(sampleValue(text, "queue_jobs", { state: "completed" })).toBe(1);
      for (const state of ["waiting", "active", "delayed", "failed"]) {
        expect(sampleValue(text, "queue_jobs", { state }), state).toBe(0);
      }
      expect(sampleValue(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
      expect(sampleValue(text, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    }
  });

  it("queue_jobs follows the queue between scrapes", async () => {
    await server.runner.queue.pause();
    try {
      const op = operationFromPlan(
        {
          kind: "create_records",
          baseId: base.id,
          tableId: "Tasks",
          input: [{ fields: { Name: "while paused" } }],
          options: { typecast: true, onError: "continue" },
        },
        userId,
      );
      await server.runner.submit(op);
      const [fromServer, fromWorker] = await Promise.all([scrape(server.url), scrape(worker.healthUrl)]);
      for (const text of [fromServer, fromWorker]) {
        expect(sampleValue(text, "queue_jobs", { state: "waiting" })).toBe(1);
        expect(sampleValue(text, "queue_jobs", { state: "completed" })).toBe(1);
      }
    } finally {
      await server.runner.queue.resume();
    }
  });
});
