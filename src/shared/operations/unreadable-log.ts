/**
 * The one reader of an operation's stored events (both stores: Redis OperationLog, SqliteOperationLog), and what
 * it says about a log it cannot read. A log is unreadable when one of its stored events does not parse as JSON or
 * against `operationEventSchema` (an event of a newer version, read by an older one after a downgrade, or in a
 * rolling deploy; a damaged row or stream entry), or when the events do not fold (fold.ts: no `accepted` first).
 *
 * Such a log used to make every read of it throw a bare parse error: `get_operation` on it, and `list_operations`
 * for all of its owner's operations (the page that held it), answered "Internal error", and a stdio process died
 * at start (h-review28 made it skip the log there). The stores now throw UnreadableOperationLogError for it (its
 * message is the sentence for the agent: which operation, why it cannot be shown, what to do), and
 * `listForOwner` lists an UnreadableOperation in its place, so the owner's other operations are still listed.
 * The log itself is left as it is: a newer version reads it again, and it expires with the retention.
 */
import { z } from "zod";
import { operationEventSchema, type OperationEvent, type OperationKind } from "./events.ts";
import { foldOperation, type OperationState } from "./fold.ts";
import { summarizeOperation, type OperationSummary } from "./summary.ts";

/** An operation of the owner's list whose log this version cannot read, in the place its summary would have. */
export interface UnreadableOperation {
  operationId: string;
  /** Tells this entry from an OperationSummary (summary.ts). */
  unreadable: true;
  /** What the log's `accepted` event says when that one event parses (the write, its base and table). */
  kind?: OperationKind;
  baseId?: string;
  tableId?: string;
  /** When it was queued (epoch ms): its `accepted` event's, else the store's index's. */
  createdAt?: number;
  /** What failed, for the operator's log (not the agent's answer): the first parse problem, or the fold's error. */
  reason: string;
}

/** An entry of OperationReader.listForOwner: a summary, or an operation whose log cannot be read. */
export function isUnreadable<T extends { operationId: string }>(
  entry: T | UnreadableOperation,
): entry is UnreadableOperation {
  return (entry as { unreadable?: unknown }).unreadable === true;
}

/**
 * Thrown by the stores' `read`, `state` and `getForOwner` for a log this version cannot read (module comment). Its
 * message is for the agent (unreadableOperationSentence); `operation` carries what is known and the `reason`.
 */
export class UnreadableOperationLogError extends Error {
  override name = "UnreadableOperationLogError";
  readonly operation: UnreadableOperation;

  constructor(operation: UnreadableOperation, options?: { cause?: unknown }) {
    super(unreadableOperationSentence(operation), options);
    this.operation = operation;
  }
}

/**
 * What an agent is told about an operation whose log this version cannot read: the operation (its write, base and
 * table when known), that its status and results cannot be shown by this version, and what to do — look its records
 * up before writing them again (what it wrote is unknown here; it may have run, partly or in full), or use the
 * newer version that wrote it.
 */
export function unreadableOperationSentence(operation: UnreadableOperation): string {
  const what = [
    operation.kind,
    operation.baseId === undefined ? undefined : `on base ${operation.baseId}`,
    operation.tableId === undefined ? undefined : `table ${operation.tableId}`,
    operation.createdAt === undefined ? undefined : `queued ${new Date(operation.createdAt).toISOString()}`,
  ].filter((part) => part !== undefined);
  return (
    `Operation ${operation.operationId}${what.length === 0 ? "" : ` (${what.join(", ")})`} has a log this version ` +
    "of the server cannot read (an event written by a newer version of it, or a damaged entry): its status and " +
    "results cannot be shown, and this version does not go on with it if it was unfinished. It may have written " +
    "some or all of its records: look them up in the table (search_records or list_records) before writing them " +
    "again, or have the server upgraded to the newer version that wrote it, which reads it. The server's log has " +
    "the details."
  );
}

/**
 * Parses an operation's stored events (`stored[i]`: the JSON of event i, in seq order; undefined for an entry with
 * no event). Throws UnreadableOperationLogError when one does not parse; [] for [].
 */
export function parseStoredEvents(operationId: string, stored: readonly (string | undefined)[]): OperationEvent[] {
  const events: OperationEvent[] = [];
  for (const [i, json] of stored.entries()) {
    const parsed = parseOne(json);
    if (!parsed.ok) {
      throw new UnreadableOperationLogError(
        { ...knownOf(operationId, stored[0]), reason: `event ${i + 1}: ${parsed.reason}` },
        { cause: parsed.cause },
      );
    }
    events.push(parsed.event);
  }
  return events;
}

/**
 * The operation's state from its stored events (parseStoredEvents, then foldOperation). Throws
 * UnreadableOperationLogError when an event does not parse or the events do not fold; `stored` must not be empty
 * (an operation that does not exist is the caller's to answer).
 */
export function foldStoredLog(operationId: string, stored: readonly (string | undefined)[]): OperationState {
  const events = parseStoredEvents(operationId, stored);
  try {
    return foldOperation(events);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UnreadableOperationLogError({ ...knownOf(operationId, stored[0]), reason }, { cause: error });
  }
}

/**
 * The list entry of an operation whose log this version cannot read: the error's operation, with `createdAt` from
 * the store's index (`indexedAt`, epoch ms) when its `accepted` event did not say it.
 */
function unreadableEntry(error: UnreadableOperationLogError, indexedAt?: number): UnreadableOperation {
  const { operation } = error;
  return operation.createdAt === undefined && indexedAt !== undefined
    ? { ...operation, createdAt: indexedAt }
    : operation;
}

/**
 * An operation's list entry from its stored events: its summary, or an UnreadableOperation when this version
 * cannot read its log (`indexedAt`: its createdAt from the store's index, epoch ms). For both stores' listForOwner.
 */
export function summaryOrUnreadable(
  operationId: string,
  stored: readonly (string | undefined)[],
  indexedAt?: number,
): OperationSummary | UnreadableOperation {
  try {
    return summarizeOperation(foldStoredLog(operationId, stored));
  } catch (error) {
    if (error instanceof UnreadableOperationLogError) return unreadableEntry(error, indexedAt);
    throw error;
  }
}

type ParsedEvent = { ok: true; event: OperationEvent } | { ok: false; reason: string; cause: unknown };

function parseOne(json: string | undefined): ParsedEvent {
  if (json === undefined) return { ok: false, reason: "the entry has no event", cause: undefined };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, reason: `not JSON (${(error as Error).message})`, cause: error };
  }
  const parsed = operationEventSchema.safeParse(value);
  if (parsed.success) return { ok: true, event: parsed.data };
  const type = (value as { type?: unknown } | null)?.type;
  return {
    ok: false,
    reason: `${typeof type === "string" ? `type ${JSON.stringify(type)}: ` : ""}${z.prettifyError(parsed.error)}`,
    cause: parsed.error,
  };
}

/** What the log's first stored event says of the operation when it parses as its `accepted` event. */
function knownOf(operationId: string, first: string | undefined): Omit<UnreadableOperation, "reason"> {
  const parsed = parseOne(first);
  if (!parsed.ok || parsed.event.type !== "accepted") return { operationId, unreadable: true };
  const { kind, baseId, tableId, createdAt } = parsed.event.operation;
  return { operationId, unreadable: true, kind, baseId, ...(tableId === undefined ? {} : { tableId }), createdAt };
}
