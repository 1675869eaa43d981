/**
 * The processor and a cancel, against the Airtable sandbox over real HTTP with the log in real Redis: a
 * `cancel_requested` another process appends is seen at the next append (no extra read per batch) and nothing more
 * is sent; a create whose answer was lost is still reconciled before the operation ends `cancelled`; a batch waiting
 * in the rate limiter is dropped when the run's cancelSignal aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../src/shared/operations/processor.ts";

let f: Fixture;
const redis = createTestRedis();
/** A second connection: the server process that records the cancel. */
const otherProcess = createTestRedis();
const prefix = uniquePrefix("processor-cancel");
const logger = createLogger({ level: "silent" });
const limiters: BottleneckAirtableLimiter[] = [];
let log: OperationLog;
let serverLog: OperationLog;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  f = await fixture({ perBaseRps: 50 });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
  serverLog = new OperationLog({ redis: otherProcess, keyPrefix: prefix, retentionMs: 600_000 });
});

afterAll(async () => {
  await Promise.all(limiters.map((l) => l.close()));
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  otherProcess.disconnect();
});

function client(baseRps: number): AirtableClient {
  const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps } });
  limiters.push(limiter);
  return new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
  });
}

async function start(tag: string, count: number) {
  const op = operationFromPlan(
    {
      kind: "create_records",
      baseId: f.base.id,
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `${tag} ${i}` } })),
      options: { typecast: false, onError: "continue" },
    },
    f.user.id,
  );
  await log.create(op);
  return op;
}

const rowsNamed = (tag: string) =>
  f.sandbox.listRecordsDirect(f.base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith(`${tag} `));
/** Record creates that reached the sandbox since `since` (the tests of this file run one after another). */
const createsSince = (since: number) =>
  f.sandbox.requests.filter((r) => r.method === "POST" && r.recordCount !== undefined && r.time >= since);

describe("processOperation and a cancel", () => {
  it("sees a cancel another process appended at its next append, sends nothing more and ends cancelled", async () => {
    const op = await start("seen", 60);
    let batches = 0;
    const state = await processOperation(op.operationId, {
      store: log,
      airtable: client(50),
      logger,
      onProgress: async () => {
        batches += 1;
        if (batches === 3)
          await serverLog.append(op.operationId, { type: "cancel_requested", source: "cancel_operation" });
      },
    });
    expect(state.status).toBe("cancelled");
    expect(state.progress.recordsSucceeded).toBe(30);
    expect(rowsNamed("seen")).toHaveLength(30);
    const events = await log.read(op.operationId);
    // Batch 3 was started before the cancel was seen, and recorded as never sent.
    expect(
      events.filter((e) => e.type === "batch.failed").map((e) => e.type === "batch.failed" && e.errors[0]?.type),
    ).toEqual(["CANCELLED"]);
    expect(events.at(-1)?.type).toBe("cancelled");
  });

  it("reconciles a create whose answer was lost before it ends cancelled: what Airtable wrote is listed", async () => {
    const op = await start("lost", 20);
    const airtable = client(50);
    // A worker sent batch 0 (Airtable applied it) and died before recording the answer; then a cancel came.
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() - 1_000 });
    const applied = await airtable.createRecords(
      f.base.id,
      "Tasks",
      Array.from({ length: 10 }, (_, i) => ({ fields: { Name: `lost ${i}` } })),
    );
    await serverLog.append(op.operationId, { type: "cancel_requested", source: "tasks/cancel" });
    const since = performance.timeOrigin + performance.now();

    const state = await processOperation(op.operationId, { store: log, airtable, logger, reconcileSettleMs: 50 });
    expect(state.status).toBe("cancelled");
    expect(state.cancellation?.via).toBe("tasks/cancel");
    const written = state.outcomes.flatMap((o): [number, string][] => ("recordId" in o ? [[o.index, o.recordId]] : []));
    expect(new Map(written)).toEqual(new Map(applied.map((r, i) => [i, r.id])));
    expect(state.outcomes).toHaveLength(10);
    // Read back, never re-sent; batch 1 never sent.
    expect(createsSince(since)).toEqual([]);
    expect(rowsNamed("lost")).toHaveLength(10);
  });

  it("drops a batch waiting in the rate limiter when its cancelSignal aborts", async () => {
    const op = await start("waiting", 30);
    const cancel = new AbortController();
    const started = performance.timeOrigin + performance.now();
    // 1 request a second: after batch 0, batch 1 waits about a second in the limiter.
    const run = processOperation(op.operationId, {
      store: log,
      airtable: client(1),
      logger,
      cancelSignal: cancel.signal,
    });
    for (let i = 0; i < 50 && rowsNamed("waiting").length < 10; i++) await sleep(20);
    await sleep(200);
    await serverLog.append(op.operationId, { type: "cancel_requested", source: "cancel_operation" });
    cancel.abort();
    const state = await run;
    expect(state.status).toBe("cancelled");
    expect(state.progress.recordsSucceeded).toBe(10);
    expect(rowsNamed("waiting")).toHaveLength(10);
    expect(createsSince(started)).toHaveLength(1);
  });
});
