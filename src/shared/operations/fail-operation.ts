import { endCancelledIfIdle } from "./cancel.ts";
import { isTerminal, type OperationStatus } from "./fold.ts";
import { OperationRetryableError } from "./operation-errors.ts";
import type { OperationStore } from "./operation-store.ts";

/**
 * Ends an operation that will not be retried any more (attempts used up, a bug): appends `failed` unless the log
 * already ended. The reason is shown to the agent. An operation whose owner asked to cancel it ends `cancelled`
 * instead (or `completed` when every item already had its outcome; cancel.ts `endCancelledIfIdle`), as the owner
 * asked: its run failing only stopped it sooner. It still ends `failed` while any batch's request went unanswered
 * (a 5xx or a timeout that may have been applied, a create whose answer was lost): what Airtable did with it is
 * unknown, and no run will settle it now. Answers the status the log has after (undefined for an unknown id), for
 * the caller's metrics. Throws what the store throws (Redis unreachable).
 */
export async function failOperation(
  store: OperationStore,
  operationId: string,
  reason: string,
  errorType?: string,
): Promise<OperationStatus | undefined> {
  const state = await store.state(operationId);
  if (state === undefined || isTerminal(state.status)) return state?.status;
  if (state.cancellation !== undefined) {
    const cancelled = await endCancelledIfIdle(store, operationId);
    if (cancelled.settled) return cancelled.state?.status;
  }
  // A request still in flight (sent, its answer lost: a 5xx, a timeout, a dropped connection) may have been applied;
  // no run will settle it now, so its items are reported in doubt, never "not written" (which invites the agent to
  // send them again: a create would then be written twice).
  const inFlight = state.unfinishedStartedBatch;
  if (inFlight !== undefined) {
    await store.append(operationId, {
      type: "batch.in_doubt",
      batch: inFlight.batch,
      indexes: inFlight.indexes,
      reason:
        "Airtable's answer to this request was lost and the operation stopped before it could be settled; " +
        "it may or may not have been applied: look these records up before writing them again",
    });
  }
  await store.append(operationId, { type: "failed", reason, ...(errorType === undefined ? {} : { errorType }) });
  return "failed";
}

/** The `failed` reason after the last attempt. */
export function finalReason(error: unknown, attempts: number): string {
  const cause = error instanceof Error ? error.message : String(error);
  return error instanceof OperationRetryableError
    ? `Airtable kept failing after ${attempts} attempts (${cause}). Items listed as neither written nor in doubt were not written; call again for them later.`
    : `The operation stopped on an internal error (${cause}). Items not listed as written were not written.`;
}
