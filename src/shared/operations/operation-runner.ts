import type { Operation } from "./events.ts";
import type { OperationProgress } from "./fold.ts";

/**
 * Hands operations to whatever executes them: the BullMQ queue and its worker pool (server), or this process
 * (stdio without Redis). Either way the operation's log is the truth; the runner only moves it along.
 */
export interface OperationRunner {
  /** Records the operation (`accepted`) and queues it. When this resolves the operation is durable. */
  submit(operation: Operation): Promise<void>;
  /**
   * Resolves when the operation has ended or after `timeoutMs`, whichever comes first (never hangs), calling
   * `onProgress` after every batch meanwhile. Never rejects for the operation's own failure: read its state.
   */
  waitForEnd(operationId: string, timeoutMs: number, onProgress?: (progress: OperationProgress) => void): Promise<void>;
  close(): Promise<void>;
}
