/**
 * How an operation run ends other than by finishing: the errors the processor throws and its runners (the BullMQ
 * worker, the embedded runner) act on. Kept apart from the processor so a producer can name them without
 * importing the executor.
 */

/** The operation stopped between batches because the process is shutting down; its log says where to resume. */
export class OperationReleasedError extends Error {
  override name = "OperationReleasedError";
}

/** Try again later (backoff): Airtable or the network failed in a way that may pass. */
export class OperationRetryableError extends Error {
  override name = "OperationRetryableError";
}

/** Airtable kept answering 429: wait for the penalty to pass, then resume. Not a failed attempt. */
export class OperationRateLimitedError extends Error {
  override name = "OperationRateLimitedError";
}

/** The operation failed for good; its `failed` event is in the log. Never retry. */
export class OperationFailedError extends Error {
  override name = "OperationFailedError";
}
