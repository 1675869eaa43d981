import type { OperationProgress, OperationState } from "./fold.ts";

/**
 * What a runner relays after a batch: the progress, marked `cancelled` once the operation was cancelled, and with
 * `rateLimitPause` while it runs and its request waits out Airtable's 429 penalty (OperationState.rateLimitPause; the
 * processor relays its state right after recording the pause).
 */
export function progressUpdateOf(state: OperationState): OperationProgress {
  if (state.status === "cancelled") return { ...state.progress, cancelled: true };
  const pause = state.rateLimitPause;
  return pause === undefined || state.status !== "running"
    ? state.progress
    : { ...state.progress, rateLimitPause: { baseId: pause.baseId, until: pause.until } };
}

export type ProgressListener = (progress: OperationProgress) => void;

/**
 * The calls waiting on each operation and wanting its progress (both runners relay progress this way). An
 * operation's entry goes when its last listener does, so finished operations leave nothing behind.
 */
export class ProgressListeners {
  readonly #byOperation = new Map<string, Set<ProgressListener>>();

  /** Registers `listener` for the operation; returns the function that removes it. */
  add(operationId: string, listener: ProgressListener): () => void {
    let listeners = this.#byOperation.get(operationId);
    if (listeners === undefined) this.#byOperation.set(operationId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#byOperation.get(operationId) === listeners)
        this.#byOperation.delete(operationId);
    };
  }

  emit(operationId: string, progress: OperationProgress): void {
    for (const listener of this.#byOperation.get(operationId) ?? []) listener(progress);
  }
}
