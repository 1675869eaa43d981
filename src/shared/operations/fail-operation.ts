import { endCancelledIfIdle } from "./cancel.ts";
import { isTerminal } from "./fold.ts";
import { OperationRetryableError } from "./operation-errors.ts";
import type { OperationStore } from "./operation-store.ts";

/**
 * Ends an operation that will not be retried any more (attempts used up, a bug): appends `failed` unless the log
 * already ended. The reason is shown to the agent. An operation whose owner asked to cancel it ends `cancelled`
 * instead (or `completed` when every item already had its outcome; cancel.ts `endCancelledIfIdle`), as the owner
 * asked: its run failing only stopped it sooner. Only a cancelled operation with a request in flight (a create whose
 * answer was lost, which no run will now reconcile) still ends `failed`, since what Airtable wrote is unknown.
 */
export async function failOperation(
  store: OperationStore,
  operationId: string,
  reason: string,
  errorType?: string,
): Promise<void> {
  const state = await store.state(operationId);
  if (state === undefined || isTerminal(state.status)) return;
  if (state.cancellation !== undefined && (await endCancelledIfIdle(store, operationId)).settled) return;
  await store.append(operationId, { type: "failed", reason, ...(errorType === undefined ? {} : { errorType }) });
}

/** The `failed` reason after the last attempt. */
export function finalReason(error: unknown, attempts: number): string {
  const cause = error instanceof Error ? error.message : String(error);
  return error instanceof OperationRetryableError
    ? `Airtable kept failing after ${attempts} attempts (${cause}). Items not listed as written were not written; call again for them later.`
    : `The operation stopped on an internal error (${cause}). Items not listed as written were not written.`;
}
