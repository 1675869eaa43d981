/**
 * failOperation, what a worker (or the embedded runner) calls when an operation's run failed for the last time,
 * on the real Redis operation log: an operation its owner asked to cancel ends `cancelled` (issue 14's gap: it used
 * to end `failed` when its retries ran out after the cancel), unless a create of it is in flight, whose outcome
 * only a run could settle.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { recordCancelRequest } from "../../../src/shared/operations/cancel.ts";
import { failOperation } from "../../../src/shared/operations/fail-operation.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";

const redis = createTestRedis();
const prefix = uniquePrefix("fail-operation");
const log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
const owner = "usrFailOwner00001";

afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

async function created(count: number) {
  const op = operationFromPlan(
    {
      kind: "create_records",
      baseId: "appFailBase000001",
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `row ${i}` } })),
      options: { typecast: false, onError: "continue" },
    },
    owner,
  );
  await log.create(op);
  return op.operationId;
}

const REASON = "Airtable kept failing after 3 attempts (503). Items not listed as written were not written.";

describe("failOperation", () => {
  it("ends an operation nobody asked to cancel `failed`, with the reason", async () => {
    const id = await created(20);
    await failOperation(log, id, REASON);
    const state = await log.state(id);
    expect(state?.status).toBe("failed");
    expect(JSON.stringify(state)).toContain("kept failing");
  });

  it("ends a cancel-requested operation `cancelled` when its last run fails with nothing in flight", async () => {
    const id = await created(20);
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    await log.append(id, {
      type: "batch.succeeded",
      batch: 0,
      results: Array.from({ length: 10 }, (_, index) => ({ index, recordId: `rec${String(index).padStart(14, "0")}` })),
    });
    await recordCancelRequest(log, id, owner, "cancel_operation");
    await log.append(id, { type: "batch.started", batch: 1, attempt: 1, at: Date.now() });
    // Airtable answered 503 (retryable, so the items stay pending); the run then gave up.
    await log.append(id, {
      type: "batch.failed",
      batch: 1,
      errors: Array.from({ length: 10 }, (_, i) => ({ index: 10 + i, type: "SERVER_ERROR", message: "503" })),
      permanent: false,
    });
    await failOperation(log, id, REASON);
    const state = await log.state(id);
    expect(state?.status).toBe("cancelled");
    expect(state?.progress.recordsSucceeded).toBe(10);
  });

  it("still ends a cancel-requested operation `failed` when a create of it is in flight (its outcome unknown)", async () => {
    const id = await created(20);
    await recordCancelRequest(log, id, owner, "cancel_operation");
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    await failOperation(log, id, REASON);
    expect((await log.state(id))?.status).toBe("failed");
  });
});
