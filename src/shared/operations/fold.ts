/**
 * An operation's state is a pure fold over its events (docs/architecture.md invariant 2), and what a worker does on
 * (re)start is a pure function of that state (invariant 3). No I/O here: every rule has a unit test.
 *
 * Rules, so that any log a crash or a stalled-but-alive worker can leave behind folds to the truth:
 * - Events are applied in `seq` order whatever the order of the array; `accepted` is found wherever it is
 *   (a log without one is corrupt and throws).
 * - An item (input index) settles as `recordId` (batch.succeeded), `error` (batch.failed, permanent) or
 *   `inDoubt` (batch.in_doubt). Later news refines earlier news and never the reverse: a success is final; an
 *   error is replaced by a success; an in-doubt is replaced by a success or an error (a late answer from a
 *   worker that was thought dead is the truth). Repeating an outcome changes nothing, so duplicate events after a
 *   crash are harmless.
 * - `batch.reconciled` answers the request it settles: `written` items settle as successes (`created`),
 *   `inDoubt` items as in doubt, and `absent` items settle nothing — like a non-permanent failure, they are sent
 *   again.
 * - A permanent `batch.failed` with `refusedAsWhole` settles its culprits as errors and every other index it names
 *   as an error `refusedWith` its request (not written because the request was refused as a whole): counted in
 *   `recordsNotWritten`, not `recordsFailed`; it stops an `onError: "stop"` operation like a failed item.
 * - A non-permanent `batch.failed` settles nothing: it only says the request was answered, so it is no longer
 *   in flight and its items are sent again.
 * - The latest `batch.started` of a batch is its only request that can be in flight (a worker starts a new
 *   attempt only once the previous one's fate is known). Its items with no outcome and no answer after it are the
 *   `unfinishedStartedBatch`: the crash case.
 * - A `batch.started` with `rateLimitPause` is no new request (no attempt, the latest start stays the earlier one,
 *   its `at` included): it says the request in flight waits out Airtable's 429 penalty on a base until a time.
 *   `rateLimitPause` shows the latest such event until any other event comes after it (the request's outcome, a
 *   cancel, the end); whether its time has passed is for the reader to say (the fold has no clock). A
 *   `batch.failed` with `rateLimitPause` (a 429 the client stopped waiting out; the runner runs the operation again
 *   then) is a non-permanent failure as any other, and shows its pause the same way.
 * - The first terminal event (`completed` / `failed` / `cancelled`) fixes the status; later terminal events are
 *   ignored, but later batch outcomes still count (records a late worker wrote do exist).
 * - `cancel_requested` (or `cancelled`) stops new requests: `nextBatch` is undefined from then on, while a request
 *   in flight (`unfinishedStartedBatch`) is still settled (re-sent when safe, reconciled, or marked in doubt) before
 *   the operation ends `cancelled`. Items with no outcome at the end were never sent: the result lists them as not
 *   written. A cancel that arrives when every item has its outcome changes nothing (the operation completes).
 * - Events that cannot belong to the operation (unknown batch, index outside its batch, a second `accepted`)
 *   are ignored and described in `anomalies`.
 */
import { batchCount, batchIndexes } from "./events.ts";
import type { AcceptedEvent, CancelSource, ItemError, Operation, OperationEvent } from "./events.ts";
import { writeKind } from "./kinds/index.ts";

export const OPERATION_STATUSES = [
  "queued",
  "running",
  "completed",
  "completed_with_errors",
  "failed",
  "cancelled",
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

/**
 * A request of several records Airtable refused as a whole and that was not split (a `batch.failed` with
 * `refusedAsWhole`): which input indexes it carried, which of them the refusal was traced to (`culprits`, possibly
 * none: Airtable did not say), and its error (Airtable's type, and the message the processor gave the request).
 */
export interface RefusedRequest {
  batch: number;
  /** Ascending. */
  indexes: number[];
  /** Ascending; a subset of `indexes`. */
  culprits: number[];
  error: Omit<ItemError, "index">;
}

/**
 * What became of one input item. An error with `refusedWith` is an item that was not written because the request
 * carrying it was refused as a whole, not for a fault of its own: it is settled (never sent again by this
 * operation), counted in `recordsNotWritten` rather than `recordsFailed`, and shown as not written.
 */
export type ItemOutcome =
  | { index: number; recordId: string; action?: "created" | "updated" }
  | { index: number; error: Omit<ItemError, "index">; refusedWith?: RefusedRequest }
  | { index: number; inDoubt: true; reason: string };

export interface OperationProgress {
  batchesDone: number;
  batchesTotal: number;
  recordsTotal: number;
  recordsSucceeded: number;
  recordsFailed: number;
  recordsInDoubt: number;
  /**
   * Records not written because the request carrying them was refused as a whole (RefusedRequest), not for a fault
   * of their own; present only when there are any. Settled like failed ones (never sent again by this operation).
   */
  recordsNotWritten?: number;
  /**
   * Only in progress updates the runners relay (progress-listeners.ts `progressUpdateOf`), never in the fold's own
   * progress: this update is the last one, because the operation was cancelled.
   */
  cancelled?: true;
  /**
   * Only in progress updates the runners relay (progressUpdateOf), like `cancelled`: the operation's request waits
   * out Airtable's 429 penalty on `baseId` until `until` (epoch ms), then resumes by itself (OperationState's
   * `rateLimitPause`). A reader that predates it ignores it.
   */
  rateLimitPause?: { baseId: string; until: number };
}

/**
 * `progress.recordsNotWritten` as a count: 0 when absent (the fold leaves it out when there are none, and progress
 * from an earlier version never has it). Every reader of the count goes through this, so that none tests the
 * optional field its own way.
 */
export function notWrittenOf(p: Pick<OperationProgress, "recordsNotWritten">): number {
  return p.recordsNotWritten ?? 0;
}

/** A batch with items still to send. */
export interface PendingBatch {
  batch: number;
  /** Its input indexes with no outcome yet (all of them unless part of it settled, e.g. after a split). */
  indexes: number[];
  /** Requests sent for this batch so far. */
  attempts: number;
  /**
   * An earlier request of this batch was an upsert re-sent after a crash: the fate of the request before it is
   * unknown, so every later request of the batch must be an upsert too.
   */
  asUpsert: boolean;
}

/** A batch whose latest request was started and never answered: the worker died (or stalled) mid-request. */
export interface UnfinishedBatch {
  batch: number;
  /** The input indexes that request carried and that still have no outcome. */
  indexes: number[];
  attempt: number;
  asUpsert: boolean;
  /** `at` of that `batch.started` (epoch ms): reconciliation reads back records created since then. */
  startedAt: number;
}

export interface OperationState {
  operation: Operation;
  status: OperationStatus;
  progress: OperationProgress;
  /** Settled items only, by input index ascending. */
  outcomes: ItemOutcome[];
  /**
   * For each settled item (by input index), the seq of the event that gave it its current outcome: what changed
   * after a given point of the log (get_operation's `since`, operation-result.ts).
   */
  settledSeq: ReadonlyMap<number, number>;
  /** Where a worker resumes: the first batch with unsettled items; undefined when terminal or stopped. */
  nextBatch: PendingBatch | undefined;
  /** The first batch with a request in flight (see the rules above); reported even when terminal. */
  unfinishedStartedBatch: UnfinishedBatch | undefined;
  /** `onError: "stop"` and an item failed (or was refused with its request): nothing more may be sent. */
  stopped: boolean;
  /** The requests refused as a whole whose records are settled as not written (RefusedRequest), in log order. */
  refusedRequests: RefusedRequest[];
  /**
   * The request in flight waits out Airtable's 429 penalty on `baseId` until `until` (epoch ms, the worker's clock),
   * recorded at `since` by the worker that waits (a `batch.started` with `rateLimitPause`), then goes by itself with
   * nothing lost. Undefined once any other event followed it, and on logs without one. A reader compares `until` with
   * its clock: a time that has passed means the request was sent again (or its worker stopped and another resumes).
   */
  rateLimitPause: { baseId: string; until: number; since: number } | undefined;
  /** The operation-level failure, when status is `failed`. */
  failure: { reason: string; errorType?: string } | undefined;
  /**
   * Someone asked to stop it (`cancel_requested`): nothing new is sent; when it is still `running`, the batch in
   * flight is finishing. `via` says who asked first. Undefined when no cancel was asked for.
   */
  cancellation: { requestedAt: number; via: CancelSource; reason?: string } | undefined;
  createdAt: number;
  /** `at` of the latest event. */
  updatedAt: number;
  lastSeq: number;
  /** Events the fold ignored, one sentence each (a sign of a bug in an appender, never expected). */
  anomalies: string[];
}

interface LatestStart {
  seq: number;
  at: number;
  indexes: number[];
  attempt: number;
  asUpsert: boolean;
}

export function foldOperation(events: readonly OperationEvent[]): OperationState {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  const accepted = ordered.find((e): e is AcceptedEvent => e.type === "accepted");
  if (accepted === undefined) throw new Error("operation log has no `accepted` event: it is corrupt or expired");
  const op = accepted.operation;
  const batchesTotal = batchCount(op);
  const anomalies: string[] = [];
  if (accepted.batchesTotal !== batchesTotal) {
    anomalies.push(`accepted says ${accepted.batchesTotal} batches; the input makes ${batchesTotal}`);
  }

  const outcomes = new Map<number, ItemOutcome>();
  const settledSeq = new Map<number, number>();
  const answeredSeq = new Map<number, number>();
  const latestStart = new Map<number, LatestStart>();
  const attempts = new Map<number, number>();
  const upsertedBatches = new Set<number>();
  let terminal: "completed" | "failed" | "cancelled" | undefined;
  let failure: OperationState["failure"];
  let cancellation: OperationState["cancellation"];
  const refusedRequests: RefusedRequest[] = [];
  let sawBatchEvent = false;
  let rateLimitPause: OperationState["rateLimitPause"];
  let updatedAt = accepted.at;
  let lastSeq = accepted.seq;

  /** The indexes of `wanted` inside batch `batch`, reporting the rest as anomalies. */
  const inBatch = (event: OperationEvent & { batch: number }, wanted: number[]): number[] => {
    const range = batchIndexes(op, event.batch);
    if (range.length === 0) {
      anomalies.push(`seq ${event.seq} ${event.type}: batch ${event.batch} does not exist (${batchesTotal} batches)`);
      return [];
    }
    const first = range[0] ?? 0;
    const last = range[range.length - 1] ?? 0;
    const inside = wanted.filter((i) => i >= first && i <= last);
    if (inside.length !== wanted.length) {
      anomalies.push(`seq ${event.seq} ${event.type}: indexes outside batch ${event.batch} ignored`);
    }
    return inside;
  };

  const settle = (next: ItemOutcome, seq: number): void => {
    answeredSeq.set(next.index, seq);
    const current = outcomes.get(next.index);
    if (current === undefined || rank(next) > rank(current)) {
      outcomes.set(next.index, next);
      settledSeq.set(next.index, seq);
    }
  };

  for (const event of ordered) {
    updatedAt = Math.max(updatedAt, event.at);
    lastSeq = Math.max(lastSeq, event.seq);
    if (event.type === "batch.started" && event.rateLimitPause !== undefined) {
      // The request in flight waits out a 429 penalty: no new attempt (see the rules above).
      sawBatchEvent = true;
      rateLimitPause = pauseOf(event.rateLimitPause, event.at);
      continue;
    }
    rateLimitPause = undefined;
    switch (event.type) {
      case "accepted":
        if (event !== accepted) anomalies.push(`seq ${event.seq}: a second \`accepted\` event ignored`);
        break;
      case "batch.started": {
        sawBatchEvent = true;
        const indexes = inBatch(event, event.indexes ?? batchIndexes(op, event.batch));
        if (indexes.length === 0) break;
        attempts.set(event.batch, (attempts.get(event.batch) ?? 0) + 1);
        if (event.asUpsert) upsertedBatches.add(event.batch);
        const previous = latestStart.get(event.batch);
        if (previous === undefined || previous.seq < event.seq) {
          latestStart.set(event.batch, {
            seq: event.seq,
            at: event.at,
            indexes,
            attempt: event.attempt,
            asUpsert: !!event.asUpsert,
          });
        }
        break;
      }
      case "batch.succeeded": {
        sawBatchEvent = true;
        const allowed = new Set(
          inBatch(
            event,
            event.results.map((r) => r.index),
          ),
        );
        const created = new Set(event.created ?? []);
        const updated = new Set(event.updated ?? []);
        for (const { index, recordId } of event.results) {
          if (!allowed.has(index)) continue;
          const action = created.has(recordId) ? "created" : updated.has(recordId) ? "updated" : undefined;
          settle(action === undefined ? { index, recordId } : { index, recordId, action }, event.seq);
        }
        break;
      }
      case "batch.failed": {
        sawBatchEvent = true;
        const allowed = new Set(
          inBatch(
            event,
            event.errors.map((e) => e.index),
          ),
        );
        const whole = event.permanent ? refusedRequestOf(event, allowed) : undefined;
        if (whole !== undefined && whole.indexes.length > whole.culprits.length) refusedRequests.push(whole);
        for (const { index, type, message } of event.errors) {
          if (!allowed.has(index)) continue;
          if (!event.permanent) answeredSeq.set(index, event.seq);
          else if (whole === undefined || whole.culprits.includes(index))
            settle({ index, error: { type, message } }, event.seq);
          else settle({ index, error: { type, message }, refusedWith: whole }, event.seq);
        }
        // A 429 the client stopped waiting out: the runner runs the operation again at `until`.
        if (event.rateLimitPause !== undefined) {
          rateLimitPause = pauseOf(event.rateLimitPause, event.at);
        }
        break;
      }
      case "batch.in_doubt": {
        sawBatchEvent = true;
        for (const index of inBatch(event, event.indexes))
          settle({ index, inDoubt: true, reason: event.reason }, event.seq);
        break;
      }
      case "batch.reconciled": {
        sawBatchEvent = true;
        const mentioned = [...event.written.map((w) => w.index), ...event.absent, ...event.inDoubt.map((d) => d.index)];
        const allowed = new Set(inBatch(event, mentioned));
        for (const { index, recordId } of event.written) {
          if (allowed.has(index)) settle({ index, recordId, action: "created" }, event.seq);
        }
        for (const index of event.absent) if (allowed.has(index)) answeredSeq.set(index, event.seq);
        for (const { index, reason } of event.inDoubt) {
          if (allowed.has(index)) settle({ index, inDoubt: true, reason }, event.seq);
        }
        break;
      }
      case "cancel_requested":
        cancellation ??= { requestedAt: event.at, via: event.source };
        break;
      case "cancelled":
        // A cancel recorded without its request (never written so) still means one was asked for.
        cancellation ??= { requestedAt: event.at, via: "cancel_operation" };
        if (terminal === undefined) {
          terminal = "cancelled";
          cancellation = { ...cancellation, reason: event.reason };
        }
        break;
      case "completed":
      case "failed":
        if (terminal !== undefined) break;
        terminal = event.type;
        if (event.type === "failed") {
          failure =
            event.errorType === undefined
              ? { reason: event.reason }
              : { reason: event.reason, errorType: event.errorType };
        }
        break;
    }
  }

  const settled = [...outcomes.values()].sort((a, b) => a.index - b.index);
  const recordsSucceeded = settled.filter((o) => "recordId" in o).length;
  const recordsNotWritten = settled.filter((o) => "refusedWith" in o).length;
  const recordsFailed = settled.filter((o) => "error" in o).length - recordsNotWritten;
  const recordsInDoubt = settled.filter((o) => "inDoubt" in o).length;
  const stopped = op.options.onError === "stop" && recordsFailed + recordsNotWritten > 0;

  let batchesDone = 0;
  let firstPending: PendingBatch | undefined;
  let unfinishedStartedBatch: UnfinishedBatch | undefined;
  for (let b = 0; b < batchesTotal; b++) {
    const pending = batchIndexes(op, b).filter((i) => !outcomes.has(i));
    if (pending.length === 0) batchesDone++;
    else
      firstPending ??= { batch: b, indexes: pending, attempts: attempts.get(b) ?? 0, asUpsert: upsertedBatches.has(b) };
    const start = latestStart.get(b);
    if (start !== undefined && unfinishedStartedBatch === undefined) {
      const inFlight = start.indexes.filter((i) => !outcomes.has(i) && (answeredSeq.get(i) ?? 0) < start.seq);
      if (inFlight.length > 0) {
        unfinishedStartedBatch = {
          batch: b,
          indexes: inFlight,
          attempt: start.attempt,
          asUpsert: start.asUpsert,
          startedAt: start.at,
        };
      }
    }
  }

  let status: OperationStatus;
  if (terminal === "failed") status = "failed";
  else if (terminal === "cancelled") status = "cancelled";
  else if (terminal === "completed")
    status = recordsFailed + recordsInDoubt + recordsNotWritten > 0 ? "completed_with_errors" : "completed";
  else status = sawBatchEvent ? "running" : "queued";

  return {
    operation: op,
    status,
    progress: {
      batchesDone,
      batchesTotal,
      recordsTotal: op.input.length,
      recordsSucceeded,
      recordsFailed,
      recordsInDoubt,
      ...(recordsNotWritten > 0 ? { recordsNotWritten } : {}),
    },
    outcomes: settled,
    settledSeq,
    nextBatch: terminal === undefined && !stopped && cancellation === undefined ? firstPending : undefined,
    unfinishedStartedBatch,
    stopped,
    // Only those whose records still read as refused with them (a later success replaces an outcome).
    refusedRequests: refusedRequests.filter((r) =>
      r.indexes.some((i) => {
        const outcome = outcomes.get(i);
        return outcome !== undefined && "refusedWith" in outcome && outcome.refusedWith === r;
      }),
    ),
    failure,
    rateLimitPause: terminal === undefined ? rateLimitPause : undefined,
    cancellation,
    createdAt: op.createdAt,
    updatedAt,
    lastSeq,
    anomalies,
  };
}

/**
 * The RefusedRequest a permanent `batch.failed` describes (its `refusedAsWhole`), over the indexes the fold allowed;
 * undefined for a refusal settled record by record. The request's error is that of its first index that is not a
 * culprit (the processor gives them all the request's message); culprits outside the request are ignored.
 */
function refusedRequestOf(
  event: Extract<OperationEvent, { type: "batch.failed" }>,
  allowed: ReadonlySet<number>,
): RefusedRequest | undefined {
  if (event.refusedAsWhole === undefined) return undefined;
  const indexes = event.errors.map((e) => e.index).filter((i) => allowed.has(i));
  const culprits = event.refusedAsWhole.culprits.filter((i) => indexes.includes(i));
  const first = event.errors.find((e) => allowed.has(e.index) && !culprits.includes(e.index)) ?? event.errors[0]!;
  return {
    batch: event.batch,
    indexes: [...new Set(indexes)].sort((a, b) => a - b),
    culprits: [...new Set(culprits)].sort((a, b) => a - b),
    error: { type: first.type, message: first.message },
  };
}

/** How sure an outcome is: news of a higher rank replaces news of a lower one. */
function rank(outcome: ItemOutcome): number {
  if ("recordId" in outcome) return 3;
  if ("error" in outcome) return 2;
  return 1;
}

/** OperationState.rateLimitPause from an event's `rateLimitPause` recorded at `at` (epoch ms). */
function pauseOf(pause: { baseId: string; until: number }, at: number): NonNullable<OperationState["rateLimitPause"]> {
  return { baseId: pause.baseId, until: pause.until, since: at };
}

export function isTerminal(status: OperationStatus): boolean {
  return status === "completed" || status === "completed_with_errors" || status === "failed" || status === "cancelled";
}

export type ResumeDecision =
  | { action: "done" }
  /** A cancel was asked for and nothing is in flight: append `cancelled` (the items left were never sent). */
  | { action: "cancel" }
  | { action: "mark_in_doubt"; batch: number; indexes: number[] }
  /** Read the table back for these items of a create sent at `sentAt` (epoch ms) whose answer was lost. */
  | { action: "reconcile"; batch: number; indexes: number[]; sentAt: number }
  | { action: "send" | "send_as_upsert"; batch: number; indexes: number[]; attempt: number };

/**
 * What a worker does next with this operation (invariant 3), called on every (re)start and after every batch:
 * 1. terminal → done;
 * 2. a request in flight (`unfinishedStartedBatch`): re-send it when that is safe — a kind that is
 *    `safeToResend` (update, upsert, delete), or one that may `resendAsUpsert` (create_records) and has
 *    `fieldsToMergeOn`, re-sent as an upsert — else, for a kind that can `reconcileByReadBack`
 *    (create_records), reconcile: read the table back (reconcile.ts) — otherwise (a create whose outcome is
 *    unknown) mark its items in doubt, never re-send;
 * 3. a cancel was asked for and items are left unsent → cancel: the worker appends `cancelled`;
 * 4. the next batch with unsettled items → send (as an upsert once the batch has been re-sent as one: the
 *    request before that upsert may have been applied, so a plain create could duplicate it);
 * 5. nothing left (or `onError: "stop"` tripped) → done: the worker appends `completed`.
 */
export function resumeDecision(state: OperationState): ResumeDecision {
  if (isTerminal(state.status)) return { action: "done" };
  const { options } = state.operation;
  const unfinished = state.unfinishedStartedBatch;
  if (unfinished !== undefined) {
    const { batch, indexes } = unfinished;
    const attempt = unfinished.attempt + 1;
    const kind = writeKind(state.operation.kind);
    if (kind.safeToResend) return { action: "send", batch, indexes, attempt };
    if (kind.resendAsUpsert === true && options.fieldsToMergeOn !== undefined) {
      return { action: "send_as_upsert", batch, indexes, attempt };
    }
    if (kind.reconcileByReadBack === true) return { action: "reconcile", batch, indexes, sentAt: unfinished.startedAt };
    return { action: "mark_in_doubt", batch, indexes };
  }
  if (state.cancellation !== undefined && !state.stopped && state.outcomes.length < state.operation.input.length) {
    return { action: "cancel" };
  }
  const next = state.nextBatch;
  if (next === undefined) return { action: "done" };
  const action = next.asUpsert ? "send_as_upsert" : "send";
  return { action, batch: next.batch, indexes: next.indexes, attempt: next.attempts + 1 };
}
