import { isTerminal } from "./fold.ts";
import { OperationRetryableError } from "./operation-errors.ts";
import type { OperationStore } from "./operation-store.ts";

/**
 * Ends an operation that will not be retried any more (attempts used up, a bug): appends `failed` unless the log
 * already ended. The reason is shown to the agent.
 */
export async function failOperation(
  store: OperationStore,
  operationId: string,
  reason: string,
  errorType?: string,
): Promise<void> {
  const state = await store.state(operationId);
  if (state === undefined || isTerminal(state.status)) return;
  await store.append(operationId, { type: "failed", reason, ...(errorType === undefined ? {} : { errorType }) });
}

/** The `failed` reason after the last attempt. */
export function finalReason(error: unknown, attempts: number): string {
  const cause = error instanceof Error ? error.message : String(error);
  return error instanceof OperationRetryableError
    ? `Airtable kept failing after ${attempts} attempts (${cause}). Items not listed as written were not written; call again for them later.`
    : `The operation stopped on an internal error (${cause}). Items not listed as written were not written.`;
}
