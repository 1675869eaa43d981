import { describe, expect, it } from "vitest";
import type { NewOperationEvent, Operation, OperationKind } from "../../../src/shared/operations/events.ts";
import { foldOperation, resumeDecision } from "../../../src/shared/operations/fold.ts";
import { operationResult } from "../../../src/shared/tools/operation-result.ts";
import { cancelledEvent } from "../../../src/shared/operations/cancel.ts";
import type { ResumeDecision } from "../../../src/shared/operations/fold.ts";
import {
  failed,
  inDoubt,
  range,
  started,
  succeeded,
  testLog,
  testOperation,
} from "../../support/operations-test-harness.ts";

const op25 = testOperation({ records: 25 }); // batches 0..9, 10..19, 20..24

function fold(operation: Operation, ...events: NewOperationEvent[]) {
  return foldOperation(testLog(operation, ...events));
}

describe("foldOperation: status and progress", () => {
  const cases: {
    name: string;
    events: NewOperationEvent[];
    status: string;
    progress: { batchesDone: number; recordsSucceeded: number; recordsFailed: number; recordsInDoubt: number };
    next: { batch: number; indexes: number[] } | undefined;
  }[] = [
    {
      name: "only accepted → queued, resume at batch 0",
      events: [],
      status: "queued",
      progress: { batchesDone: 0, recordsSucceeded: 0, recordsFailed: 0, recordsInDoubt: 0 },
      next: { batch: 0, indexes: range(0, 9) },
    },
    {
      name: "first batch started → running",
      events: [started(0)],
      status: "running",
      progress: { batchesDone: 0, recordsSucceeded: 0, recordsFailed: 0, recordsInDoubt: 0 },
      next: { batch: 0, indexes: range(0, 9) },
    },
    {
      name: "two batches done → running, resume at batch 2 (the short last one)",
      events: [started(0), succeeded(0, range(0, 9)), started(1), succeeded(1, range(10, 19))],
      status: "running",
      progress: { batchesDone: 2, recordsSucceeded: 20, recordsFailed: 0, recordsInDoubt: 0 },
      next: { batch: 2, indexes: range(20, 24) },
    },
    {
      name: "every batch succeeded then completed → completed",
      events: [
        started(0),
        succeeded(0, range(0, 9)),
        started(1),
        succeeded(1, range(10, 19)),
        started(2),
        succeeded(2, range(20, 24)),
        { type: "completed", summary: { succeeded: 25, failed: 0, inDoubt: 0 } },
      ],
      status: "completed",
      progress: { batchesDone: 3, recordsSucceeded: 25, recordsFailed: 0, recordsInDoubt: 0 },
      next: undefined,
    },
    {
      name: "every batch settled but no `completed` yet → still running, nothing to send",
      events: [succeeded(0, range(0, 9)), succeeded(1, range(10, 19)), succeeded(2, range(20, 24))],
      status: "running",
      progress: { batchesDone: 3, recordsSucceeded: 25, recordsFailed: 0, recordsInDoubt: 0 },
      next: undefined,
    },
    {
      name: "a failed record and an in-doubt batch → completed_with_errors",
      events: [
        started(0),
        inDoubt(0, range(0, 9)),
        started(1),
        succeeded(1, range(10, 18)),
        failed(1, [19]),
        started(2),
        succeeded(2, range(20, 24)),
        { type: "completed", summary: { succeeded: 14, failed: 1, inDoubt: 10 } },
      ],
      status: "completed_with_errors",
      progress: { batchesDone: 3, recordsSucceeded: 14, recordsFailed: 1, recordsInDoubt: 10 },
      next: undefined,
    },
    {
      name: "operation-level failure → failed, nothing more to send",
      events: [
        started(0),
        succeeded(0, range(0, 9)),
        { type: "failed", reason: "403", errorType: "INVALID_PERMISSIONS" },
      ],
      status: "failed",
      progress: { batchesDone: 1, recordsSucceeded: 10, recordsFailed: 0, recordsInDoubt: 0 },
      next: undefined,
    },
  ];
  it.each(cases)("$name", ({ events, status, progress, next }) => {
    const state = fold(op25, ...events);
    expect(state.status).toBe(status);
    expect(state.progress).toEqual({ ...progress, batchesTotal: 3, recordsTotal: 25 });
    expect(
      state.nextBatch === undefined ? undefined : { batch: state.nextBatch.batch, indexes: state.nextBatch.indexes },
    ).toEqual(next);
  });

  it("lists each settled item by input index, with the record id, the error or the doubt", () => {
    const state = fold(
      testOperation({ records: 4, batchSize: 2 }),
      succeeded(0, [1, 0]),
      failed(1, [3]),
      inDoubt(1, [2]),
    );
    expect(state.outcomes).toEqual([
      { index: 0, recordId: "rec0" },
      { index: 1, recordId: "rec1" },
      { index: 2, inDoubt: true, reason: "worker died after sending" },
      { index: 3, error: { type: "INVALID_VALUE_FOR_COLUMN", message: "bad value at 3" } },
    ]);
  });

  it("marks upserted items created or updated", () => {
    const op = testOperation({
      kind: "upsert_records",
      records: 3,
      options: { typecast: true, onError: "continue", fieldsToMergeOn: ["Name"] },
    });
    const state = fold(op, {
      ...succeeded(0, [0, 1, 2]),
      created: ["rec0", "rec2"],
      updated: ["rec1"],
    } as NewOperationEvent);
    expect(state.outcomes).toEqual([
      { index: 0, recordId: "rec0", action: "created" },
      { index: 1, recordId: "rec1", action: "updated" },
      { index: 2, recordId: "rec2", action: "created" },
    ]);
  });

  it("keeps the failure reason and the timestamps", () => {
    const state = fold(op25, started(0, 1), {
      type: "failed",
      reason: "Airtable refused the token",
      errorType: "AUTH",
      at: op25.createdAt + 500,
    });
    expect(state.failure).toEqual({ reason: "Airtable refused the token", errorType: "AUTH" });
    expect(state.createdAt).toBe(op25.createdAt);
    expect(state.updatedAt).toBe(op25.createdAt + 500);
    expect(state.lastSeq).toBe(3);
  });

  it("throws on a log without `accepted` (corrupt or expired)", () => {
    const [, ...rest] = testLog(op25, started(0));
    expect(() => foldOperation(rest)).toThrow(/no `accepted` event/);
  });
});

describe("foldOperation: crashes, duplicates and order", () => {
  it("a batch started with no outcome is the unfinished started batch (the crash case)", () => {
    const state = fold(op25, started(0), succeeded(0, range(0, 9)), started(1));
    expect(state.unfinishedStartedBatch).toEqual({
      batch: 1,
      indexes: range(10, 19),
      attempt: 1,
      asUpsert: false,
      startedAt: op25.createdAt + 3, // the `at` of that batch.started: a read-back looks at records created since
    });
    expect(state.nextBatch).toEqual({ batch: 1, indexes: range(10, 19), attempts: 1, asUpsert: false });
  });

  it("duplicate outcome events (a crash between append and ack) change nothing", () => {
    const once = fold(op25, started(0), succeeded(0, range(0, 9)));
    const twice = fold(op25, started(0), succeeded(0, range(0, 9)), succeeded(0, range(0, 9)), inDoubt(0, range(0, 9)));
    expect(twice.outcomes).toEqual(once.outcomes);
    expect(twice.progress).toEqual(once.progress);
    expect(twice.unfinishedStartedBatch).toBeUndefined();
  });

  it("a batch started twice (re-sent after a crash): the latest start is the one in flight", () => {
    const op = testOperation({ kind: "update_records" });
    const inFlight = fold(op, started(0, 1), started(0, 2));
    expect(inFlight.unfinishedStartedBatch).toMatchObject({ batch: 0, attempt: 2 });
    expect(inFlight.nextBatch?.attempts).toBe(2);
    const done = fold(op, started(0, 1), started(0, 2), succeeded(0, range(0, 9)));
    expect(done.unfinishedStartedBatch).toBeUndefined();
    expect(done.progress.batchesDone).toBe(1);
  });

  it("folds the same whatever the order of the array: events apply in seq order", () => {
    const log = testLog(
      op25,
      started(0),
      succeeded(0, range(0, 9)),
      started(1),
      inDoubt(1, range(10, 19)),
      succeeded(1, range(10, 19)),
    );
    const inOrder = foldOperation(log);
    const shuffled = foldOperation([log[3], log[5], log[0], log[1], log[4], log[2]].filter((e) => e !== undefined));
    expect(shuffled).toEqual(inOrder);
  });

  it("a late answer refines a doubt; nothing overrides a success", () => {
    const cases: { events: NewOperationEvent[]; outcome: object }[] = [
      { events: [started(0), inDoubt(0, [0]), succeeded(0, [0])], outcome: { recordId: "rec0" } },
      { events: [started(0), inDoubt(0, [0]), failed(0, [0])], outcome: { error: expect.anything() } },
      { events: [started(0), failed(0, [0]), succeeded(0, [0])], outcome: { recordId: "rec0" } },
      { events: [started(0), succeeded(0, [0]), failed(0, [0])], outcome: { recordId: "rec0" } },
      { events: [started(0), succeeded(0, [0]), inDoubt(0, [0])], outcome: { recordId: "rec0" } },
      { events: [started(0), failed(0, [0]), inDoubt(0, [0])], outcome: { error: expect.anything() } },
    ];
    const op = testOperation({ records: 1 });
    for (const { events, outcome } of cases) {
      expect(fold(op, ...events).outcomes).toEqual([{ index: 0, ...outcome }]);
    }
  });

  it("a non-permanent failure settles nothing: the request was answered, its items are sent again", () => {
    const state = fold(op25, started(0), failed(0, range(0, 9), false));
    expect(state.outcomes).toEqual([]);
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(resumeDecision(state)).toEqual({ action: "send", batch: 0, indexes: range(0, 9), attempt: 2 });
  });

  it("outcomes arriving after the operation ended still count; the first terminal event wins", () => {
    const state = fold(op25, started(0), { type: "failed", reason: "stalled too often" }, succeeded(0, range(0, 9)), {
      type: "completed",
      summary: { succeeded: 10, failed: 0, inDoubt: 0 },
    });
    expect(state.status).toBe("failed");
    expect(state.progress.recordsSucceeded).toBe(10);
  });

  it("ignores what cannot belong to the operation and says so in `anomalies`", () => {
    const [accepted] = testLog(op25);
    const state = fold(
      op25,
      succeeded(7, [70]), // no batch 7
      succeeded(0, [0, 15]), // 15 is in batch 1
      started(1, 1, [3]), // 3 is in batch 0
    );
    const withSecondAccepted = foldOperation([...testLog(op25), { ...accepted!, seq: 2 }]);
    expect(state.outcomes).toEqual([{ index: 0, recordId: "rec0" }]);
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(state.anomalies).toHaveLength(3);
    expect(withSecondAccepted.anomalies).toEqual(["seq 2: a second `accepted` event ignored"]);
    expect(fold(op25).anomalies).toEqual([]);
  });
});

describe("foldOperation: split batches (422 isolation)", () => {
  // One bad value fails all 10: the worker re-sends the batch in parts, each with its own started/outcome events.
  const split: NewOperationEvent[] = [
    started(0, 1), // → 422, no event: nothing was applied
    started(0, 2, range(0, 4)),
    succeeded(0, range(0, 4)),
    started(0, 3, range(5, 9)), // → 422
    started(0, 4, [5, 6]),
    succeeded(0, [5, 6]),
    started(0, 5, [7]),
    failed(0, [7]),
    started(0, 6, [8, 9]),
    succeeded(0, [8, 9]),
  ];

  it("settles through partial events: 9 written, 1 reported by index", () => {
    const state = fold(op25, ...split);
    expect(state.progress).toMatchObject({ batchesDone: 1, recordsSucceeded: 9, recordsFailed: 1 });
    expect(state.outcomes.find((o) => o.index === 7)).toEqual({
      index: 7,
      error: { type: "INVALID_VALUE_FOR_COLUMN", message: "bad value at 7" },
    });
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(state.nextBatch).toMatchObject({ batch: 1, indexes: range(10, 19) });
  });

  it("a crash mid-split: only the part in flight is reconciled (or in doubt); the rest of the batch is sent", () => {
    const crashed = fold(op25, started(0, 1), started(0, 2, range(0, 4)));
    const startedAt = op25.createdAt + 2;
    expect(crashed.unfinishedStartedBatch).toEqual({
      batch: 0,
      indexes: range(0, 4),
      attempt: 2,
      asUpsert: false,
      startedAt,
    });
    // create_records reads the table back for it (issue 13) instead of marking it in doubt at once.
    expect(resumeDecision(crashed)).toEqual({ action: "reconcile", batch: 0, indexes: range(0, 4), sentAt: startedAt });

    const resumed = fold(op25, started(0, 1), started(0, 2, range(0, 4)), inDoubt(0, range(0, 4)));
    expect(resumeDecision(resumed)).toEqual({ action: "send", batch: 0, indexes: range(5, 9), attempt: 3 });
  });

  it("a crash after a partial success: the settled part is never re-sent", () => {
    const state = fold(testOperation({ kind: "delete_records" }), ...split.slice(0, 5));
    expect(resumeDecision(state)).toEqual({ action: "send", batch: 0, indexes: [5, 6], attempt: 5 });
  });
});

describe("resumeDecision (invariant 3)", () => {
  const merge = { typecast: true, onError: "continue" as const, fieldsToMergeOn: ["Name"] };
  const crashCases: { kind: OperationKind; fieldsToMergeOn?: boolean; action: ResumeDecision["action"] }[] = [
    { kind: "create_records", action: "reconcile" },
    { kind: "create_records", fieldsToMergeOn: true, action: "send_as_upsert" },
    { kind: "update_records", action: "send" },
    { kind: "upsert_records", fieldsToMergeOn: true, action: "send" },
    { kind: "delete_records", action: "send" },
    { kind: "update_table", action: "send" },
    { kind: "update_field", action: "send" },
    { kind: "create_table", action: "mark_in_doubt" },
    { kind: "create_field", action: "mark_in_doubt" },
    { kind: "create_comment", action: "mark_in_doubt" },
    { kind: "upload_attachment", action: "mark_in_doubt" },
  ];
  it.each(crashCases)("a $kind request in flight at the crash (merge: $fieldsToMergeOn) → $action", (c) => {
    const records = c.kind.endsWith("_records") ? 25 : 1;
    const op = testOperation({ kind: c.kind, records, ...(c.fieldsToMergeOn ? { options: merge } : {}) });
    const events = records === 1 ? [started(0)] : [started(0), succeeded(0, range(0, 9)), started(1)];
    const decision = resumeDecision(fold(op, ...events));
    expect(decision.action).toBe(c.action);
    expect(decision).toMatchObject({ batch: records === 1 ? 0 : 1, indexes: records === 1 ? [0] : range(10, 19) });
    if (c.action !== "mark_in_doubt" && c.action !== "reconcile") expect(decision).toMatchObject({ attempt: 2 });
    if (c.action === "reconcile") expect(decision).toMatchObject({ sentAt: op.createdAt + events.length });
  });

  it("once a create batch was re-sent as an upsert, it stays an upsert (the first request's fate is unknown)", () => {
    const op = testOperation({ options: merge });
    const state = fold(op, started(0, 1), started(0, 2, undefined, true), failed(0, range(0, 9), false));
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(resumeDecision(state)).toEqual({ action: "send_as_upsert", batch: 0, indexes: range(0, 9), attempt: 3 });
  });

  it("resolves the request in flight before sending anything new, then sends the next batch, then is done", () => {
    const steps: [NewOperationEvent[], ResumeDecision][] = [
      [[], { action: "send", batch: 0, indexes: range(0, 9), attempt: 1 }],
      [[started(0)], { action: "reconcile", batch: 0, indexes: range(0, 9), sentAt: op25.createdAt + 1 }],
      [[started(0), inDoubt(0, range(0, 9))], { action: "send", batch: 1, indexes: range(10, 19), attempt: 1 }],
      [
        [
          started(0),
          inDoubt(0, range(0, 9)),
          started(1),
          succeeded(1, range(10, 19)),
          started(2),
          succeeded(2, range(20, 24)),
        ],
        { action: "done" },
      ],
    ];
    for (const [events, decision] of steps) expect(resumeDecision(fold(op25, ...events))).toEqual(decision);
  });

  it("is done once terminal, even with a request in flight", () => {
    const state = fold(op25, started(0), { type: "failed", reason: "403" });
    expect(state.unfinishedStartedBatch).toBeDefined();
    expect(resumeDecision(state)).toEqual({ action: "done" });
  });

  it('onError "stop": nothing after the batch with a failed record; "continue" goes on', () => {
    const events = [started(0), failed(0, range(0, 9))];
    const stop = fold(testOperation({ options: { typecast: true, onError: "stop" } }), ...events);
    expect(stop.stopped).toBe(true);
    expect(stop.nextBatch).toBeUndefined();
    expect(resumeDecision(stop)).toEqual({ action: "done" });
    const goOn = fold(testOperation(), ...events);
    expect(goOn.stopped).toBe(false);
    expect(resumeDecision(goOn)).toMatchObject({ action: "send", batch: 1 });
  });
});

describe("a request refused as a whole (batch.failed with refusedAsWhole)", () => {
  const stopOp = testOperation({ records: 25, options: { typecast: true, onError: "stop" } });
  const refused = (culprits: number[]): NewOperationEvent => ({
    ...(failed(0, range(0, 9)) as Extract<NewOperationEvent, { type: "batch.failed" }>),
    refusedAsWhole: { culprits },
  });

  it("settles its culprit as failed and the others as not written with it; stops an onError stop operation", () => {
    const state = fold(stopOp, started(0), refused([3]));
    expect(state.progress).toMatchObject({ recordsFailed: 1, recordsNotWritten: 9, recordsSucceeded: 0 });
    expect(state.stopped).toBe(true);
    expect(resumeDecision(state)).toEqual({ action: "done" });
    const request = {
      batch: 0,
      indexes: range(0, 9),
      culprits: [3],
      error: { type: "INVALID_VALUE_FOR_COLUMN", message: "bad value at 0" },
    };
    expect(state.refusedRequests).toEqual([request]);
    expect(state.outcomes.find((o) => o.index === 3)).toEqual({
      index: 3,
      error: { type: "INVALID_VALUE_FOR_COLUMN", message: "bad value at 3" },
    });
    expect(state.outcomes.find((o) => o.index === 5)).toMatchObject({ index: 5, refusedWith: request });
    const done = fold(stopOp, started(0), refused([3]), {
      type: "completed",
      summary: { succeeded: 0, failed: 1, inDoubt: 0 },
    });
    expect(done.status).toBe("completed_with_errors");
    const answer = operationResult(done);
    expect(answer.results?.[5]).toMatchObject({ index: 5, notWritten: true });
    expect(answer.results?.[5]?.error).toBeUndefined();
    expect(answer.results?.[3]).toMatchObject({ index: 3, error: { message: "bad value at 3" } });
    // Never sent (onError stop): not written, without a reason.
    expect(answer.results?.[12]).toEqual({ index: 12, notWritten: true });
  });

  it("with no culprit, every record of it is not written; under onError continue the next batch is sent", () => {
    const state = fold(testOperation({ records: 25 }), started(0), refused([]));
    expect(state.progress).toMatchObject({ recordsFailed: 0, recordsNotWritten: 10 });
    expect(state.stopped).toBe(false);
    expect(resumeDecision(state)).toMatchObject({ action: "send", batch: 1 });
    const stopped = fold(stopOp, started(0), refused([]));
    expect(stopped.stopped).toBe(true);
  });

  it("a later success replaces a not-written outcome, and the request is no longer listed once none reads as refused", () => {
    const state = fold(stopOp, started(0), refused([]), succeeded(0, range(0, 9)));
    expect(state.progress).toMatchObject({ recordsSucceeded: 10, recordsFailed: 0 });
    expect(state.progress.recordsNotWritten).toBeUndefined();
    expect(state.refusedRequests).toEqual([]);
  });

  it("without refusedAsWhole (logs of earlier versions), every record of the request failed", () => {
    const state = fold(stopOp, started(0), failed(0, range(0, 9)));
    expect(state.progress).toMatchObject({ recordsFailed: 10 });
    expect(state.progress.recordsNotWritten).toBeUndefined();
    expect(state.refusedRequests).toEqual([]);
  });

  // Refused with no culprit: each record's reason points to the operation's message for Airtable's error, so every
  // answer whose results carry such a reason states it (or the reason carries it itself).
  const noCulprit = (batch: number, message: string): NewOperationEvent => ({
    type: "batch.failed",
    batch,
    errors: range(batch * 10, batch * 10 + 9).map((index) => ({ index, type: "INVALID_REQUEST_UNKNOWN", message })),
    permanent: true,
    refusedAsWhole: { culprits: [] },
  });

  it("Airtable's error is in the answer while running, once cancelled and once failed, not only once done", () => {
    const op = testOperation({ records: 30 });
    const error = "Its error: INVALID_REQUEST_UNKNOWN: the request is invalid.";
    const running = operationResult(fold(op, started(0), noCulprit(0, "the request is invalid")));
    expect(running.status).toBe("running");
    expect(running.message).toContain(error);
    expect(running.results?.[0]?.reason).toContain("(its message is in this answer's message)");

    const asked: NewOperationEvent[] = [
      started(0),
      noCulprit(0, "the request is invalid"),
      { type: "cancel_requested", source: "cancel_operation" },
    ];
    const cancelled = operationResult(fold(op, ...asked, cancelledEvent(fold(op, ...asked))));
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.message).toContain(error);
    // The 20 never sent, and the 10 refused: both are listed as notWritten, and the message tells them apart.
    expect(cancelled.message).toContain("the 20 items listed as not written were never sent.");
    expect(cancelled.message).toContain("Also 10 not written because their request was refused as a whole.");
    expect(cancelled.message).toContain("notWritten if it was never sent or its request was refused");

    const failedOp = operationResult(
      fold(op, started(0), noCulprit(0, "the request is invalid"), { type: "failed", reason: "Access was lost." }),
    );
    expect(failedOp.status).toBe("failed");
    expect(failedOp.message).toContain(error);
  });

  it("past the requests described in the message, a record's reason carries an error the message does not say", () => {
    const op = testOperation({ records: 50 });
    const events = [0, 1, 2, 3, 4].flatMap((b) => [started(b), noCulprit(b, b === 3 ? "error 0" : `error ${b}`)]);
    const answer = operationResult(
      fold(op, ...events, { type: "completed", summary: { succeeded: 0, failed: 0, inDoubt: 0 } }),
    );
    expect(answer.message).toContain("2 more requests were refused as a whole");
    expect(answer.message).not.toContain("error 4");
    // Batch 3's error is batch 0's, said in the message; batch 4's is said nowhere else.
    expect(answer.results?.[35]?.reason).toContain(
      "with INVALID_REQUEST_UNKNOWN (its message is in this answer's message)",
    );
    expect(answer.results?.[45]?.reason).toContain("with INVALID_REQUEST_UNKNOWN (error 4) and did not say");
  });
});

describe("batch.reconciled (a create whose answer was lost, settled by reading the table back)", () => {
  const reconciled = (batch: number, written: number[], absent: number[], doubted: number[]): NewOperationEvent => ({
    type: "batch.reconciled",
    batch,
    written: written.map((index) => ({ index, recordId: `found${index}` })),
    absent,
    inDoubt: doubted.map((index) => ({ index, reason: "2 records match for 1 sent" })),
  });

  it("settles found items as created, doubtful ones in doubt, and sends the confirmed-absent ones again", () => {
    const state = fold(op25, started(0), reconciled(0, range(0, 5), [8, 9], [6, 7]));
    expect(state.unfinishedStartedBatch).toBeUndefined();
    expect(state.outcomes.filter((o) => "recordId" in o)).toHaveLength(6);
    expect(state.outcomes[0]).toEqual({ index: 0, recordId: "found0", action: "created" });
    expect(state.outcomes.find((o) => o.index === 6)).toEqual({
      index: 6,
      inDoubt: true,
      reason: "2 records match for 1 sent",
    });
    expect(state.progress).toMatchObject({ recordsSucceeded: 6, recordsInDoubt: 2 });
    expect(resumeDecision(state)).toEqual({ action: "send", batch: 0, indexes: [8, 9], attempt: 2 });
  });

  it("the answer lists read-back records of a plain create like the others (no action), an upsert's as created", () => {
    const state = fold(op25, succeeded(0, range(0, 10)), started(1), reconciled(1, range(10, 20), [], []));
    const results = operationResult(state, { withResults: true }).results ?? [];
    expect(results[0]).toEqual({ index: 0, id: expect.any(String) });
    expect(results[10]).toEqual({ index: 10, id: "found10" });
    const upsert = testOperation({
      kind: "upsert_records",
      records: 10,
      options: { typecast: true, onError: "continue", fieldsToMergeOn: ["Name"] },
    });
    const upserted = operationResult(fold(upsert, started(0), reconciled(0, range(0, 10), [], [])), {
      withResults: true,
    });
    expect(upserted.results?.[0]).toEqual({ index: 0, id: "found0", action: "created" });
  });

  it("a crash during the read-back (no batch.reconciled yet) reconciles again; after it, nothing is read twice", () => {
    expect(resumeDecision(fold(op25, started(0)))).toMatchObject({ action: "reconcile", batch: 0 });
    const after = fold(op25, started(0), reconciled(0, [], range(0, 9), []));
    expect(resumeDecision(after)).toEqual({ action: "send", batch: 0, indexes: range(0, 9), attempt: 2 });
    // The re-send's answer lost too: reconciled again, from the re-send's time.
    const again = fold(op25, started(0), reconciled(0, [], range(0, 9), []), started(0, 2));
    expect(resumeDecision(again)).toEqual({
      action: "reconcile",
      batch: 0,
      indexes: range(0, 9),
      sentAt: op25.createdAt + 3,
    });
  });

  it("a late success from a worker thought dead outranks an in-doubt verdict of the read-back", () => {
    const state = fold(op25, started(0), reconciled(0, [], [], range(0, 9)), succeeded(0, range(0, 9)));
    expect(state.progress).toMatchObject({ recordsSucceeded: 10, recordsInDoubt: 0 });
  });

  it("ignores indexes outside the batch, as an anomaly", () => {
    const state = fold(op25, started(0), reconciled(0, [12], [], []));
    expect(state.outcomes).toEqual([]);
    expect(state.anomalies.join(" ")).toMatch(/outside batch 0/);
  });
});

describe("foldOperation: a request waiting out Airtable's 429 penalty (batch.started with rateLimitPause)", () => {
  const until = op25.createdAt + 60_000;
  const pause: NewOperationEvent = {
    type: "batch.started",
    batch: 1,
    attempt: 1,
    rateLimitPause: { baseId: op25.baseId, until },
  };

  it("is shown until the next event, and is no new request: same attempt, same request in flight", () => {
    const waiting = fold(op25, started(0), succeeded(0, range(0, 9)), started(1), pause);
    expect(waiting.rateLimitPause).toMatchObject({ baseId: op25.baseId, until });
    expect(waiting.status).toBe("running");
    expect(waiting.anomalies).toEqual([]);
    const plain = fold(op25, started(0), succeeded(0, range(0, 9)), started(1));
    expect(waiting.unfinishedStartedBatch).toEqual(plain.unfinishedStartedBatch);
    expect(waiting.nextBatch).toEqual(plain.nextBatch);
    expect(resumeDecision(waiting)).toEqual(resumeDecision(plain));
    const resumed = fold(op25, started(0), succeeded(0, range(0, 9)), started(1), pause, succeeded(1, range(10, 19)));
    expect(resumed.rateLimitPause).toBeUndefined();
    expect(resumed.progress.recordsSucceeded).toBe(20);
  });

  it("reads, for a reader that predates the field (zod strips it), as the same request announced again", async () => {
    const { operationEventSchema } = await import("../../../src/shared/operations/events.ts");
    const log = testLog(op25, started(0), succeeded(0, range(0, 9)), started(1), pause);
    // The event parses (no new event type), and without the field it is a plain batch.started of the same request.
    const stripped = log.map((e) => {
      const { rateLimitPause: _dropped, ...rest } = operationEventSchema.parse(e) as OperationEventWithPause;
      return rest as typeof e;
    });
    const old = foldOperation(stripped);
    expect(old.unfinishedStartedBatch?.indexes).toEqual(range(10, 19));
    expect(old.progress).toEqual(foldOperation(log).progress);
    expect(resumeDecision(old)).toMatchObject({ action: "reconcile", batch: 1, indexes: range(10, 19) });
  });

  it("is not shown by get_operation once its time has passed, nor after the operation ended", () => {
    const waiting = fold(op25, started(0), pause);
    expect(operationResult(waiting, { now: until - 5_500 }).rateLimitPause).toEqual({
      baseId: op25.baseId,
      until: new Date(until).toISOString(),
      secondsLeft: 6,
    });
    expect(operationResult(waiting, { now: until - 5_500 }).message).toMatch(/Paused by Airtable's rate limit/);
    expect(operationResult(waiting, { now: until }).rateLimitPause).toBeUndefined();
    expect(operationResult(waiting, { now: until }).message).not.toMatch(/Paused/);
  });
});

type OperationEventWithPause = Record<string, unknown> & { rateLimitPause?: unknown };
