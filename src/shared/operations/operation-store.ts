import type { NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import type { OperationState } from "./fold.ts";
import type { OperationSummary } from "./summary.ts";

export interface ListOptions {
  /** 1 to MAX_LIST_LIMIT. */
  limit: number;
  /** An operation id from the previous page: list the ones created before it. A cursor that expired ends the list. */
  before?: string;
}

/** Reading operations as their owner: what tools get (another user's id answers undefined, like a missing one). */
export interface OperationReader {
  getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined>;
  listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationSummary[]>;
}

/**
 * Where operations' event logs live: Redis (OperationLog, every process shares it), SQLite (SqliteOperationLog:
 * `npm start`'s embedded mode, stdio without Redis) or memory (MemoryOperationLog, a stdio copy without its state
 * directory). Same semantics; one contract suite tests them.
 */
export interface OperationStore extends OperationReader {
  /** Starts the log with `accepted`. Throws OperationExistsError if the id is taken. */
  create(operation: Operation): Promise<void>;
  /** Appends an event; returns its seq. Throws OperationNotFoundError when the operation does not exist. */
  append(operationId: string, event: NewOperationEvent): Promise<number>;
  /** Every event in seq order; [] when the operation does not exist. */
  read(operationId: string): Promise<OperationEvent[]>;
  state(operationId: string): Promise<OperationState | undefined>;
}
