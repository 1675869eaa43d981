/**
 * Cancelling an operation, the part every runner shares (the BullMQ runner and the embedded one, and through them
 * cancel_operation, `tasks/cancel` and Bull Board's remove): the request is recorded in the operation's own log
 * (`cancel_requested`, docs/architecture.md "Cancelling"), so whichever process runs the operation sees it; the
 * operation ends with `cancelled` once no request of it is in flight — at once when nobody runs it (queued, or
 * between runs), else at the running worker's next batch boundary.
 */
import type { CancelSource, NewOperationEvent } from "./events.ts";
import { isTerminal, notWrittenOf, resumeDecision, type OperationState } from "./fold.ts";
import type { OperationStore } from "./operation-store.ts";
import { formatCount } from "../format-count.ts";

/**
 * Records that the owner (or an operator, `source: "bull_board"`) asked to stop the operation, and answers its
 * state right after: `undefined` when the id is unknown, malformed or another user's (like get_operation); the
 * state unchanged when it had already ended; else the state with `cancellation` set. Idempotent: a second request
 * appends nothing. Throws what the store throws (Redis unreachable).
 */
export async function recordCancelRequest(
  store: OperationStore,
  operationId: string,
  ownerUserId: string,
  source: CancelSource,
): Promise<OperationState | undefined> {
  const state = await store.getForOwner(operationId, ownerUserId);
  if (state === undefined || isTerminal(state.status) || state.cancellation !== undefined) return state;
  await store.append(operationId, { type: "cancel_requested", source });
  return (await store.state(operationId)) ?? state;
}

/**
 * Ends a cancel-requested operation that no process is running (its job was removed, or it is queued in this
 * process and not started): appends `cancelled` when nothing is in flight, `completed` when every item already
 * had its outcome. Answers the state after, and `settled: false` when a request of it was in flight (a create
 * whose answer was lost, left by a crashed run): a processor must settle that first (reconcile), so the caller
 * hands the operation to one instead of ending it here.
 */
export async function endCancelledIfIdle(
  store: OperationStore,
  operationId: string,
): Promise<{ state: OperationState | undefined; settled: boolean }> {
  const state = await store.state(operationId);
  if (state === undefined || isTerminal(state.status)) return { state, settled: true };
  const decision = resumeDecision(state);
  if (decision.action === "cancel") await store.append(operationId, cancelledEvent(state));
  else if (decision.action === "done") await store.append(operationId, completedEvent(state));
  else return { state, settled: false };
  return { state: (await store.state(operationId)) ?? state, settled: true };
}

/** The `cancelled` event for `state`: how far it got, for the agent. */
export function cancelledEvent(state: OperationState): NewOperationEvent {
  const p = state.progress;
  const by = state.cancellation?.via === "bull_board" ? "by an operator" : "by its owner";
  const settled = p.recordsSucceeded + p.recordsFailed + p.recordsInDoubt + notWrittenOf(p);
  // Counts as every other message of an operation writes them (1,200, not 1200).
  const n = formatCount;
  // A delete's items were deleted, as its progress and get_operation's message say ("150 records deleted of 500").
  const done = state.operation.kind === "delete_records" ? "deleted" : "written";
  const reason =
    settled === 0
      ? `Cancelled ${by} before anything was sent: nothing was ${done}.`
      : `Cancelled ${by} after ${n(p.recordsSucceeded)} of ${n(p.recordsTotal)} items were ${done}; ` +
        `the ${n(p.recordsTotal - settled)} items listed as not written were never sent.`;
  return { type: "cancelled", reason };
}

/**
 * The `completed` event for `state` (every item has its outcome): its counts, the records not written because their
 * request was refused as a whole among them, so that the log's summary adds up to the operation's records.
 */
export function completedEvent(state: OperationState): NewOperationEvent {
  const p = state.progress;
  const notWritten = notWrittenOf(p);
  return {
    type: "completed",
    summary: {
      succeeded: p.recordsSucceeded,
      failed: p.recordsFailed,
      inDoubt: p.recordsInDoubt,
      ...(notWritten > 0 ? { notWritten } : {}),
    },
  };
}
