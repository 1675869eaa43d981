/**
 * Cancelling a write, end to end (issue 14's done-when): two server processes behind one URL, worker processes
 * started when the test says, real Redis and BullMQ, the Airtable sandbox (strict: 10 records a request, 5 requests
 * a second per base) and the MCP SDK's client calling cancel_operation over HTTP.
 * - a queued operation cancelled never sends a request, not even once a worker starts;
 * - a 2,000-record import cancelled mid-way stops within one batch, its result lists exactly what the sandbox holds,
 *   and nothing is written after the cancel;
 * - only the owner may cancel; cancelling a finished operation leaves it unchanged and says nothing was cancelled;
 * - a write tool call that is waiting for its operation answers as soon as the operation is cancelled.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { nowMs } from "../../src/sandbox/recorder.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { WorkerHeartbeat } from "../../src/shared/queue/worker-heartbeat.ts";
import { createTestRedis } from "../helpers/redis.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import {
  allResults,
  answerOf,
  callWriteTool,
  listOperations,
  pollOperation,
  recordName,
  type OperationAnswer,
} from "./helpers/write-operations.ts";

/** Long, so a write call is still waiting when the test cancels its operation. */
const WRITE_WAIT_MS = 20_000;
const TABLE = "People";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sandbox: Sandbox;
let plan: Awaited<ReturnType<typeof planDeployment>>;
let deployment: Deployment;
let alice: SeededAccount;
let aliceOnA: Client;
let aliceOnB: Client;
let bobOnA: Client;
const clients: Client[] = [];

beforeAll(async () => {
  plan = await planDeployment("cancel", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  const bob = seedAccount(sandbox, "bob");
  // No worker yet: the first test needs operations that stay queued.
  deployment = await startDeployment(plan, sandbox.url, {
    WRITE_WAIT_MS: String(WRITE_WAIT_MS),
    WORKER_LOCK_MS: "3000",
  });
  const a = `${deployment.instances[0]?.url}/mcp`;
  const b = `${deployment.instances[1]?.url}/mcp`;
  const aliceAuth = new TestOAuthProvider({ sandboxUser: alice.user.id });
  aliceOnA = (await signInAndConnect(a, aliceAuth)).client;
  aliceOnB = await connectClient(b, aliceAuth);
  bobOnA = (await signInAndConnect(a, new TestOAuthProvider({ sandboxUser: bob.user.id }))).client;
  clients.push(aliceOnA, aliceOnB, bobOnA);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

function aliceBase(name: string): string {
  return sandbox.createBase(alice.user.id, {
    name,
    tables: [{ name: TABLE, fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
}

function records(label: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ fields: { Name: recordName(label, i) } }));
}

/** Requests for the base that reached the sandbox (since `since`, epoch ms with sub-ms precision). */
function requestsTo(baseId: string, since = 0) {
  return sandbox.requests.filter((r) => r.baseId === baseId && r.time >= since);
}

async function cancel(client: Client, operationId: string): Promise<OperationAnswer> {
  return callWriteTool(client, "cancel_operation", { operationId });
}

/** The id of the operation a write call still waiting has queued: the newest of the caller's operations. */
async function newestOperation(client: Client, baseId: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const found = (await listOperations(client, 5)).find((o) => o.baseId === baseId);
    if (found !== undefined) return found.operationId;
    await sleep(100);
  }
  throw new Error(`no operation on ${baseId} was listed`);
}

describe("cancel_operation", () => {
  it("a queued operation cancelled never starts: no request reaches Airtable, even once a worker runs", async () => {
    const baseId = aliceBase("Queued cancel");
    // The call waits for its operation, which stays queued: no worker takes jobs, but one beats (as a busy or a
    // restarting worker does), so the call waits rather than answering at once that none runs (run-write.ts,
    // after 30 s without any worker). The test cancels the operation from server B meanwhile.
    const redis = createTestRedis();
    const beating = new WorkerHeartbeat({
      redis,
      keyPrefix: plan.keyPrefix,
      logger: createLogger({ level: "silent" }),
    });
    beating.start();
    let operationId: string;
    let cancelledAt: number;
    try {
      const calledAt = Date.now();
      const call = callWriteTool(aliceOnA, "create_records", { baseId, tableId: TABLE, records: records("q", 25) });
      operationId = await newestOperation(aliceOnA, baseId);

      const answer = await cancel(aliceOnB, operationId);
      cancelledAt = nowMs();
      expect(answer.status).toBe("cancelled");
      expect(answer.done).toBe(true);
      expect(answer.results).toHaveLength(25);
      expect(answer.results?.every((r) => r.notWritten === true && r.reason === "cancelled before it was sent")).toBe(
        true,
      );
      // The waiting write call ends with the cancel, long before WRITE_WAIT_MS.
      const waited = await call;
      expect(waited.status).toBe("cancelled");
      expect(Date.now() - calledAt).toBeLessThan(WRITE_WAIT_MS / 2);
    } finally {
      // Gone before the real worker starts, also when an assertion failed: later tests need real workers only.
      await beating.stop();
      redis.disconnect();
    }

    await deployment.addWorker();
    await sleep(2_000);
    // The only request the base ever saw is the tool's schema read while planning the call: no record write, and
    // nothing at all since the cancel.
    expect(requestsTo(baseId).map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v0/meta/bases/${baseId}/tables`]);
    expect(requestsTo(baseId, cancelledAt)).toEqual([]);
    expect(sandbox.listRecordsDirect(baseId, TABLE)).toEqual([]);
    const after = await callWriteTool(aliceOnA, "get_operation", { operationId });
    expect(after.status).toBe("cancelled");
    expect(after.progress.recordsSucceeded).toBe(0);
  }, 60_000);

  it("only the owner can cancel; cancelling a finished operation (twice) leaves it unchanged and says so", async () => {
    if (deployment.workers.length === 0) await deployment.addWorker();
    const baseId = aliceBase("Owner only");
    const done = await callWriteTool(aliceOnA, "create_records", { baseId, tableId: TABLE, records: records("o", 5) });
    expect(done.status).toBe("completed");

    const refused = await callTool(bobOnA, "cancel_operation", { operationId: done.operationId });
    expect(refused.isError).toBe(true);
    expect(resultText(refused)).toMatch(/There is no operation .* for you/);

    // Left as it was; the answer says it had ended before the cancel, so nothing was cancelled, then what it did.
    const ended = {
      ...done,
      message:
        "This operation had already ended (status completed) before this cancel, so nothing was cancelled. " +
        `What it did: ${done.message}`,
    };
    const finished = await cancel(aliceOnB, done.operationId);
    expect(finished).toEqual(ended);
    expect(await cancel(aliceOnA, done.operationId)).toEqual(ended);
    expect(sandbox.listRecordsDirect(baseId, TABLE)).toHaveLength(5);

    const unknown = await callTool(aliceOnA, "cancel_operation", { operationId: "op_AAAAAAAAAAAAAAAAAAAAAA" });
    expect(unknown.isError).toBe(true);
  }, 60_000);

  it("a 2,000-record import cancelled mid-way stops within one batch; its result is exactly what Airtable holds", async () => {
    if (deployment.workers.length === 0) await deployment.addWorker();
    const baseId = aliceBase("Big import");
    const input = records("big", 2000);
    const call = callWriteTool(aliceOnA, "create_records", { baseId, tableId: TABLE, records: input });
    const operationId = await newestOperation(aliceOnA, baseId);
    // Let it write a few seconds' worth (5 requests/s: ~50 records a second).
    for (let i = 0; i < 100 && sandbox.listRecordsDirect(baseId, TABLE).length < 100; i++) await sleep(100);

    const answer = await cancel(aliceOnB, operationId);
    const answeredAt = nowMs();
    expect(["running", "cancelled"]).toContain(answer.status);
    expect(answer.status === "cancelled" || answer.cancelRequested === true).toBe(true);
    const atCancel = answer.progress.recordsSucceeded;
    // The sandbox held ≥ 100; the log may not have recorded the latest batch yet.
    expect(atCancel).toBeGreaterThanOrEqual(90);

    const final = await pollOperation([aliceOnA, aliceOnB], operationId, { timeoutMs: 20_000 });
    expect(final.status).toBe("cancelled");
    expect(final.message).toMatch(/Cancelled by its owner/);
    // Within one batch: at most the 10 records of the request in flight when the cancel was recorded.
    expect(final.progress.recordsSucceeded - atCancel).toBeGreaterThanOrEqual(0);
    expect(final.progress.recordsSucceeded - atCancel).toBeLessThanOrEqual(10);
    expect(requestsTo(baseId, answeredAt).filter((r) => r.recordCount !== undefined).length).toBeLessThanOrEqual(1);
    // The write call that was waiting ends with the operation.
    expect((await call).status).toBe("cancelled");

    // The result lists exactly what exists: every written index with its record, the rest not written.
    const results = await allResults(aliceOnA, operationId);
    expect(results.map((r) => r.index)).toEqual(input.map((_, i) => i));
    const stored = sandbox.listRecordsDirect(baseId, TABLE);
    const written = results.filter((r) => r.id !== undefined);
    expect(written).toHaveLength(final.progress.recordsSucceeded);
    expect(new Set(written.map((r) => r.id))).toEqual(new Set(stored.map((r) => r.id)));
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const r of written) expect(byId.get(r.id!)?.fields.Name).toBe(recordName("big", r.index));
    expect(results.filter((r) => r.notWritten === true)).toHaveLength(2000 - written.length);
    expect(written.length).toBeLessThan(2000);

    // Nothing is written after the cancel, seconds later either.
    await sleep(3_000);
    expect(sandbox.listRecordsDirect(baseId, TABLE)).toHaveLength(stored.length);
    expect(
      answerOf<OperationAnswer>("get_operation", await callTool(aliceOnA, "get_operation", { operationId })).status,
    ).toBe("cancelled");
  }, 90_000);
});
