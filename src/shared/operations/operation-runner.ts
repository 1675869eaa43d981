import type { CancelSource, Operation } from "./events.ts";
import type { OperationProgress, OperationState, OperationStatus } from "./fold.ts";

/** What a read knows of an operation (its state, or a list_operations summary), enough to ask `settleQueued`. */
export interface QueuedOperationRef {
  operationId: string;
  status: OperationStatus;
  /** Epoch ms, the clock of the process that created it. */
  createdAt: number;
}

/** Who asks for a cancel, recorded in the log's `cancel_requested` (default "cancel_operation"). */
export interface CancelOptions {
  source?: CancelSource;
}

/**
 * Hands operations to whatever executes them: the BullMQ queue and its worker pool (server), or this process
 * (stdio without Redis). Either way the operation's log is the truth; the runner only moves it along.
 */
export interface OperationRunner {
  /**
   * Records the operation (`accepted`) and queues it. When this resolves the operation is durable and will run.
   * Rejects with the store's or the queue's error when it was not queued (nothing will be written; calling again is
   * safe), or with `SubmitOutcomeUnknownError` when that cannot be known yet (the caller must not say "nothing was
   * changed").
   */
  submit(operation: Operation): Promise<void>;
  /**
   * Resolves when the operation has ended or after `timeoutMs`, whichever comes first (never hangs), calling
   * `onProgress` after every batch meanwhile. Never rejects for the operation's own failure: read its state.
   * A cancelled operation has ended too (status `cancelled`).
   */
  waitForEnd(operationId: string, timeoutMs: number, onProgress?: (progress: OperationProgress) => void): Promise<void>;
  /**
   * Asks to stop the operation on behalf of `ownerUserId` (cancel_operation, `tasks/cancel`, Bull Board's remove
   * with the job's owner) and resolves with its state right after the request is recorded in its log
   * (`cancel_requested`, docs/architecture.md "Cancelling a write"):
   * - it was queued (no worker holds it): it never starts and never sends a request — status `cancelled`, every
   *   item `notWritten`;
   * - a worker runs it: still `running`, with `cancellation` set; the batch in flight finishes (its outcome is
   *   recorded; a create whose answer was lost is still reconciled), nothing after it is sent, a batch waiting in
   *   the rate limiter is dropped, and the worker then appends `cancelled` (poll, or `waitForEnd`);
   * - it had already ended: its final state, unchanged (completed, failed or cancelled);
   * - `undefined`: no such operation for this user (unknown, expired, malformed, or another user's — the same
   *   answer, like get_operation).
   * Idempotent: asking again appends nothing and answers the current state. Rejects only when the store cannot be
   * reached (Redis down): then nothing was recorded, and asking again is safe.
   */
  cancel(operationId: string, ownerUserId: string, options?: CancelOptions): Promise<OperationState | undefined>;
  /**
   * Optional, for runners that hand operations to someone else (the BullMQ queue): called by reads
   * (settling-reader.ts: get_operation, list_operations, tasks) for an operation they found `queued`. Ends it when
   * it will never run — its queueing never finished, and the process that began it is gone (QueuedOperationRunner
   * says when and how) — and answers its new state; undefined when it was left as it is. Rejects only when the store
   * or the queue cannot be reached (the read then answers what it read).
   */
  settleQueued?(operation: QueuedOperationRef): Promise<OperationState | undefined>;
  close(): Promise<void>;
}

/**
 * The operation's job may or may not have been queued: Redis's connection broke while the add was on its way, and
 * Redis could not be asked afterwards whether it ran. Its log exists (`operationId`); the runner settles it once
 * Redis answers again (it runs exactly once if the job is there, else it ends `failed` with nothing written), so
 * get_operation tells the agent which. `cause`: the Redis error.
 */
export class SubmitOutcomeUnknownError extends Error {
  override name = "SubmitOutcomeUnknownError";
  readonly operationId: string;

  constructor(operationId: string, cause: unknown) {
    super(`operation ${operationId}: whether its job was queued is not known (Redis's connection broke)`, { cause });
    this.operationId = operationId;
  }
}
