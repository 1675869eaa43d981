/**
 * A create request refused as a whole for one record (onError "continue"): the others are sent again without it
 * (processor.ts #resendWithoutCulprits), which appends twice before the re-send — `batch.failed` not permanent (the
 * request was answered), then the culprit's permanent `batch.failed`. A worker that dies between or after those
 * appends leaves a log another run resumes: each record is written exactly once, the culprit never. Real Redis log,
 * the sandbox over HTTP; the logs are the ones a crash at each point leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../src/shared/operations/processor.ts";

let f: Fixture;
let log: OperationLog;
let airtable: AirtableClient;
const redis = createTestRedis();
const prefix = uniquePrefix("resend-crash");
const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
const logger = createLogger({ level: "silent" });

beforeAll(async () => {
  f = await fixture({ perBaseRps: 50 });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
  airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
});

afterAll(async () => {
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const tasks = () => f.base.tables.find((t) => t.name === "Tasks")!.id;
/** Ten records; record 3 alone writes a field the table does not have (Airtable refuses the request as a whole). */
const input = (tag: string) =>
  Array.from({ length: 10 }, (_, i) => ({ fields: { Name: `${tag} ${i}`, ...(i === 3 ? { Nope: "x" } : {}) } }));
const rowsNamed = (tag: string) =>
  f.sandbox.listRecordsDirect(f.base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith(`${tag} `));
const creates = () =>
  f.sandbox.requests.filter((r) => r.method === "POST" && r.path === `/v0/${f.base.id}/${tasks()}`).length;

async function start(tag: string): Promise<Operation> {
  const op = operationFromPlan(
    {
      baseId: f.base.id,
      kind: "create_records",
      tableId: tasks(),
      input: input(tag),
      options: { typecast: false, onError: "continue" },
    },
    f.user.id,
  );
  await log.create(op);
  return op;
}
const run = (op: Operation) =>
  processOperation(op.operationId, { store: log, airtable, logger, reconcileSettleMs: 50 });
const refusal = (i: number) => ({ index: i, type: "UNKNOWN_FIELD_NAME", message: 'Unknown field name: "Nope"' });

describe("a create refused as a whole for one record, re-sent without it", () => {
  it("uninterrupted: nine written once, the culprit failed", async () => {
    f.sandbox.clearRequests();
    const op = await start("whole");
    const state = await run(op);
    expect(state.progress).toMatchObject({ recordsSucceeded: 9, recordsFailed: 1 });
    expect(rowsNamed("whole")).toHaveLength(9);
    expect(creates()).toBe(2);
  });

  it("a crash after the answered refusal was recorded: the next run sends the request again, nine written once", async () => {
    const op = await start("crash1");
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    const all = Array.from({ length: 10 }, (_, i) => refusal(i));
    await log.append(op.operationId, { type: "batch.failed", batch: 0, errors: all, permanent: false });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.progress).toMatchObject({ recordsSucceeded: 9, recordsFailed: 1, recordsInDoubt: 0 });
    expect(rowsNamed("crash1")).toHaveLength(9);
    expect(creates()).toBe(2);
  });

  it("a crash after the culprit's failure was recorded: the next run sends the nine once, no read-back", async () => {
    const op = await start("crash2");
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    const all = Array.from({ length: 10 }, (_, i) => refusal(i));
    await log.append(op.operationId, { type: "batch.failed", batch: 0, errors: all, permanent: false });
    await log.append(op.operationId, { type: "batch.failed", batch: 0, errors: [refusal(3)], permanent: true });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.progress).toMatchObject({ recordsSucceeded: 9, recordsFailed: 1, recordsInDoubt: 0 });
    expect(rowsNamed("crash2")).toHaveLength(9);
    expect(creates()).toBe(1);
    expect(f.sandbox.requests.filter((r) => r.path.endsWith("/listRecords"))).toHaveLength(0);
  });

  it("a crash after the re-send went out, before its answer was recorded: read back, not sent twice", async () => {
    const op = await start("crash3");
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    const all = Array.from({ length: 10 }, (_, i) => refusal(i));
    await log.append(op.operationId, { type: "batch.failed", batch: 0, errors: all, permanent: false });
    await log.append(op.operationId, { type: "batch.failed", batch: 0, errors: [refusal(3)], permanent: true });
    const rest = [0, 1, 2, 4, 5, 6, 7, 8, 9];
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 2, indexes: rest });
    // Airtable applied the re-send; its answer was lost with the worker.
    await airtable.createRecords(f.base.id, tasks(), rest.map((i) => op.input[i]) as never);
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.progress).toMatchObject({ recordsSucceeded: 9, recordsFailed: 1, recordsInDoubt: 0 });
    expect(rowsNamed("crash3")).toHaveLength(9);
    expect(creates()).toBe(0);
  });
});
