import type { NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import type { OperationState } from "./fold.ts";
import type { OperationSummary } from "./summary.ts";
import type { UnreadableOperation } from "./unreadable-log.ts";

export interface ListOptions {
  /** 1 to MAX_LIST_LIMIT. */
  limit: number;
  /** An operation id from the previous page: list the ones created before it. A cursor that expired ends the list. */
  before?: string;
}

/** A line of an owner's operation list: its summary, or an operation whose log this version cannot read. */
export type OperationListEntry = OperationSummary | UnreadableOperation;

/**
 * Reading operations as their owner: what tools get (another user's id answers undefined, like a missing one). A
 * log this version cannot read (unreadable-log.ts): `getForOwner` throws UnreadableOperationLogError to its owner,
 * and `listForOwner` lists an UnreadableOperation in its place (isUnreadable tells them apart).
 */
export interface OperationReader {
  getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined>;
  listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationListEntry[]>;
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
  /** Every event in seq order; [] when the operation does not exist. Throws UnreadableOperationLogError. */
  read(operationId: string): Promise<OperationEvent[]>;
  /** The folded state; undefined when the operation does not exist. Throws UnreadableOperationLogError. */
  state(operationId: string): Promise<OperationState | undefined>;
}
