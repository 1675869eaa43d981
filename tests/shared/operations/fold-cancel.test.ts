/** The fold and resumeDecision with `cancel_requested` / `cancelled` (fold.ts, "Cancelling"). */
import { describe, expect, it } from "vitest";
import type { NewOperationEvent, Operation } from "../../../src/shared/operations/events.ts";
import { foldOperation, isTerminal, resumeDecision } from "../../../src/shared/operations/fold.ts";
import { cancelledEvent } from "../../../src/shared/operations/cancel.ts";
import { operationResult } from "../../../src/shared/tools/operation-result.ts";
import {
  failed,
  inDoubt,
  range,
  started,
  succeeded,
  testLog,
  testOperation,
} from "../../support/operations-test-harness.ts";

const op25 = testOperation({ records: 25 });
const fold = (operation: Operation, ...events: NewOperationEvent[]) => foldOperation(testLog(operation, ...events));
const requested: NewOperationEvent = { type: "cancel_requested", source: "cancel_operation" };
const completed: NewOperationEvent = { type: "completed", summary: { succeeded: 25, failed: 0, inDoubt: 0 } };

describe("fold: cancel", () => {
  it("queued → cancel requested → cancelled: nothing to send, every item not written", () => {
    const asked = fold(op25, requested);
    expect(asked.status).toBe("queued");
    expect(asked.cancellation).toMatchObject({ via: "cancel_operation" });
    expect(asked.nextBatch).toBeUndefined();
    expect(resumeDecision(asked)).toEqual({ action: "cancel" });

    const ended = fold(op25, requested, cancelledEvent(asked));
    expect(ended.status).toBe("cancelled");
    expect(isTerminal(ended.status)).toBe(true);
    expect(ended.cancellation?.reason).toMatch(/before anything was sent/);
    expect(resumeDecision(ended)).toEqual({ action: "done" });
    const answer = operationResult(ended);
    expect(answer.done).toBe(true);
    expect(answer.results).toHaveLength(25);
    expect(answer.results?.every((r) => r.notWritten === true && r.reason === "cancelled before it was sent")).toBe(
      true,
    );
  });

  it("mid-way: written items keep their record ids, the rest are not written", () => {
    const events = [started(0), succeeded(0, range(0, 9)), requested];
    const asked = fold(op25, ...events);
    expect(asked.status).toBe("running");
    expect(resumeDecision(asked)).toEqual({ action: "cancel" });
    const answer = operationResult(fold(op25, ...events, cancelledEvent(asked)));
    expect(answer.status).toBe("cancelled");
    expect(answer.message).toMatch(/after 10 of 25 items were written/);
    expect(answer.results?.slice(0, 10).map((r) => r.id)).toEqual(range(0, 9).map((i) => `rec${i}`));
    expect(answer.results?.slice(10).every((r) => r.notWritten === true)).toBe(true);
    expect(answer.progress.recordsSucceeded).toBe(10);
  });

  it("counts are written as everywhere else in an operation's messages (3,000, not 3000)", () => {
    const op = testOperation({ records: 3000 });
    const events = [started(0), succeeded(0, range(0, 9)), requested];
    const reason = (cancelledEvent(fold(op, ...events)) as { reason: string }).reason;
    expect(reason).toBe(
      "Cancelled by its owner after 10 of 3,000 items were written; the 2,990 items listed as not written were never sent.",
    );
  });

  it("a cancelled delete says how many items were deleted, as its progress does", () => {
    const op = testOperation({
      records: 500,
      kind: "delete_records",
      input: range(0, 499).map((i) => ({ id: `rec${String(i).padStart(14, "0")}` })),
    });
    const events = [...range(0, 14).flatMap((b) => [started(b), succeeded(b, range(b * 10, b * 10 + 9))]), requested];
    const answer = operationResult(fold(op, ...events, cancelledEvent(fold(op, ...events))));
    expect(answer.status).toBe("cancelled");
    expect(answer.message).toMatch(
      /^Cancelled by its owner after 150 of 500 items were deleted; the 350 items listed as not written were never sent\./,
    );
    const before = testOperation({
      records: 3,
      kind: "delete_records",
      input: [{ id: "rec1" }, { id: "rec2" }, { id: "rec3" }],
    });
    expect((cancelledEvent(fold(before, requested)) as { reason: string }).reason).toBe(
      "Cancelled by its owner before anything was sent: nothing was deleted.",
    );
  });

  it("a request in flight is settled before the cancel: update re-sent, create reconciled, others in doubt", () => {
    const inFlight = [started(0), succeeded(0, range(0, 9)), started(1), requested];
    expect(resumeDecision(fold(op25, ...inFlight))).toEqual({
      action: "reconcile",
      batch: 1,
      indexes: range(10, 19),
      sentAt: op25.createdAt + 3,
    });
    const update = testOperation({ records: 25, kind: "update_records" });
    expect(resumeDecision(fold(update, ...inFlight))).toMatchObject({ action: "send", batch: 1 });
    const table = testOperation({
      records: 1,
      kind: "create_table",
      tableId: undefined,
      input: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    expect(resumeDecision(fold(table, started(0), requested))).toMatchObject({ action: "mark_in_doubt" });
    // Once settled (here: in doubt), the cancel ends it; the in-doubt items stay in doubt, never "not written".
    const settled = fold(op25, ...inFlight, inDoubt(1, range(10, 19)));
    expect(resumeDecision(settled)).toEqual({ action: "cancel" });
    const answer = operationResult(fold(op25, ...inFlight, inDoubt(1, range(10, 19)), cancelledEvent(settled)));
    expect(answer.results?.[12]).toMatchObject({ inDoubt: true });
    expect(answer.results?.[22]).toMatchObject({ notWritten: true });
    // The message counts the written items once, and names the ones in doubt (they must be looked up).
    expect(answer.message).toMatch(
      /^Cancelled by its owner after 10 of 25 items were written; .* Also 10 in doubt \(sent, answer lost/,
    );
    expect(answer.message.match(/10 of 25/g)).toHaveLength(1);
  });

  it("a batch dropped in the limiter (CANCELLED, not permanent) is not in flight and not written", () => {
    const dropped: NewOperationEvent = {
      type: "batch.failed",
      batch: 1,
      errors: range(10, 19).map((index) => ({ index, type: "CANCELLED", message: "cancelled before it was sent" })),
      permanent: false,
    };
    const state = fold(op25, started(0), succeeded(0, range(0, 9)), started(1), requested, dropped);
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(resumeDecision(state)).toEqual({ action: "cancel" });
  });

  it("after completion a cancel changes nothing; a late cancel with every item settled completes", () => {
    const done = fold(
      op25,
      started(0),
      succeeded(0, range(0, 9)),
      succeeded(1, range(10, 19)),
      succeeded(2, range(20, 24)),
      completed,
      requested,
      {
        type: "cancelled",
        reason: "x",
      },
    );
    expect(done.status).toBe("completed");
    expect(done.anomalies).toEqual([]);
    const allSettled = fold(
      op25,
      started(0),
      succeeded(0, range(0, 9)),
      failed(1, range(10, 19)),
      failed(2, range(20, 24)),
      requested,
    );
    expect(resumeDecision(allSettled)).toEqual({ action: "done" });
  });

  it("outcomes a late worker records after `cancelled` still count (the records exist)", () => {
    const state = fold(
      op25,
      requested,
      { type: "cancelled", reason: "Cancelled." },
      started(0),
      succeeded(0, range(0, 9)),
    );
    expect(state.status).toBe("cancelled");
    expect(state.progress.recordsSucceeded).toBe(10);
  });
});
