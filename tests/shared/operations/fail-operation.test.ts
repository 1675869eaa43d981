/**
 * failOperation, what a worker (or the embedded runner) calls when an operation's run failed for the last time,
 * on the real Redis operation log, with the events the processor writes: an operation its owner asked to cancel
 * ends `cancelled` (issue 14's gap: it used to end `failed` when its retries ran out after the cancel), unless a
 * request of it went unanswered, whose outcome only a run could settle.
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

const recordId = (i: number) => `rec${String(i).padStart(14, "0")}`;

async function created(count: number, kind: "create_records" | "update_records" = "create_records") {
  const op = operationFromPlan(
    {
      kind,
      baseId: "appFailBase000001",
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({
        ...(kind === "update_records" && { id: recordId(i) }),
        fields: { Name: `row ${i}` },
      })),
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
    expect(state?.failure?.reason).toBe(REASON);
  });

  it("ends a cancel-requested operation `cancelled` when its last run fails with nothing in flight", async () => {
    const id = await created(20);
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    await log.append(id, {
      type: "batch.succeeded",
      batch: 0,
      results: Array.from({ length: 10 }, (_, index) => ({ index, recordId: recordId(index) })),
    });
    await log.append(id, { type: "batch.started", batch: 1, attempt: 1, at: Date.now() });
    // The limiter (or Redis) failed before batch 1 was sent: the processor records it NOT_SENT (retryable, the
    // items stay pending); the owner cancels while the job waits for its retry; the retry fails the same way and
    // the job's attempts are used up.
    await log.append(id, {
      type: "batch.failed",
      batch: 1,
      errors: Array.from({ length: 10 }, (_, i) => ({ index: 10 + i, type: "NOT_SENT", message: "Redis timed out" })),
      permanent: false,
    });
    await recordCancelRequest(log, id, owner, "cancel_operation");
    expect(await failOperation(log, id, REASON)).toBe("cancelled");
    const state = await log.state(id);
    expect(state?.status).toBe("cancelled");
    expect(state?.progress.recordsSucceeded).toBe(10);
    expect(state?.failure).toBeUndefined();
  });

  it("still ends a cancel-requested operation `failed` when a create of it is in flight (its outcome unknown)", async () => {
    const id = await created(20);
    await recordCancelRequest(log, id, owner, "cancel_operation");
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    expect(await failOperation(log, id, REASON)).toBe("failed");
    expect((await log.state(id))?.status).toBe("failed");
  });

  it("still ends a cancel-requested update `failed` when its last request went unanswered (a 5xx or a timeout)", async () => {
    const id = await created(10, "update_records");
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    await recordCancelRequest(log, id, owner, "tasks/cancel");
    // The processor writes nothing for an update whose answer was a 5xx or never came: it may have been applied.
    expect(await failOperation(log, id, REASON)).toBe("failed");
    expect((await log.state(id))?.failure?.reason).toBe(REASON);
  });

  it("reports the items of a request still in flight in doubt, not as never written (a create applied, its answer lost)", async () => {
    const id = await created(20);
    await log.append(id, { type: "batch.started", batch: 0, attempt: 1, at: Date.now() });
    await log.append(id, {
      type: "batch.succeeded",
      batch: 0,
      results: Array.from({ length: 10 }, (_, index) => ({ index, recordId: recordId(index) })),
    });
    // Batch 1 was sent; its answer was lost and every read-back failed until the attempts ran out.
    await log.append(id, { type: "batch.started", batch: 1, attempt: 1, at: Date.now() });
    expect(await failOperation(log, id, REASON)).toBe("failed");
    const state = await log.state(id);
    expect(state?.status).toBe("failed");
    expect(state?.progress.recordsInDoubt).toBe(10);
    expect(state?.outcomes.filter((o) => "inDoubt" in o).map((o) => o.index)).toEqual(
      Array.from({ length: 10 }, (_, i) => 10 + i),
    );
  });
});
