/**
 * The operations' event logs in the embedded SQLite database (embedded mode, no REDIS_URL): the same semantics
 * as the Redis OperationLog and the MemoryOperationLog (one contract suite tests all three), kept across
 * restarts, so `get_operation` and `list_operations` still answer after one and unfinished operations can be
 * resumed (`unfinished`).
 *
 * Tables (created when missing):
 *   operations        one row per operation: owner, createdAt, expires_at (retentionMs after its latest event),
 *                     event count, whether it has ended (`completed`, `failed` or `cancelled` appended)
 *   operation_events  (operation_id, seq) → the event's JSON
 * An append is one transaction (count, insert, touch), so `seq` is gap-free even with two processes on the
 * file. Expired operations read as missing and are deleted on the next create.
 */
import type { StatementSync } from "node:sqlite";
import { transaction, type SqliteDatabase } from "../sqlite/database.ts";
import { batchCount, operationEventSchema, operationSchema } from "./events.ts";
import type { NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import type { OperationState } from "./fold.ts";
import { isOperationId } from "./operation-id.ts";
import {
  DEFAULT_MAX_EVENTS,
  MAX_LIST_LIMIT,
  OperationExistsError,
  OperationLogFullError,
  OperationNotFoundError,
} from "./operation-log.ts";
import type { ListOptions, OperationListEntry, OperationStore } from "./operation-store.ts";
import { foldStoredLog, parseStoredEvents, summaryOrUnreadable } from "./unreadable-log.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS operations (
  operation_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  events INTEGER NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS operations_by_owner ON operations (owner, created_at DESC, operation_id DESC);
CREATE TABLE IF NOT EXISTS operation_events (
  operation_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (operation_id, seq)
) WITHOUT ROWID;
`;

export interface SqliteOperationLogOptions {
  /** The embedded database (openDatabase); the caller owns and closes it. */
  db: SqliteDatabase;
  /** How long an operation is kept after its latest event (OPERATION_RETENTION_HOURS). */
  retentionMs: number;
  maxEvents?: number;
  now?: () => number;
}

interface OperationRow {
  operation_id: string;
  owner: string;
  created_at: number;
  events: number;
}

export class SqliteOperationLog implements OperationStore {
  readonly #db: SqliteDatabase;
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #now: () => number;
  readonly #sql: Record<
    | "live"
    | "insert"
    | "insertEvent"
    | "touch"
    | "events"
    | "page"
    | "pageBefore"
    | "unfinished"
    | "purgeEvents"
    | "purge",
    StatementSync
  >;

  constructor(opts: SqliteOperationLogOptions) {
    if (!Number.isInteger(opts.retentionMs) || opts.retentionMs <= 0) {
      throw new Error(`SqliteOperationLog: retentionMs must be a positive integer (ms), got ${opts.retentionMs}`);
    }
    const { db } = opts;
    this.#db = db;
    this.#retentionMs = opts.retentionMs;
    this.#maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#now = opts.now ?? Date.now;
    db.exec(SCHEMA);
    const columns = "operation_id, owner, created_at, events";
    this.#sql = {
      live: db.prepare(`SELECT ${columns} FROM operations WHERE operation_id = ? AND expires_at > ?`),
      insert: db.prepare(
        `INSERT INTO operations (operation_id, owner, created_at, expires_at, events) VALUES (?, ?, ?, ?, 1)`,
      ),
      insertEvent: db.prepare(`INSERT INTO operation_events (operation_id, seq, event) VALUES (?, ?, ?)`),
      touch: db.prepare(`UPDATE operations SET events = ?, expires_at = ?, ended = ended OR ? WHERE operation_id = ?`),
      events: db.prepare(`SELECT event FROM operation_events WHERE operation_id = ? ORDER BY seq`),
      page: db.prepare(
        `SELECT operation_id, created_at FROM operations WHERE owner = ? AND expires_at > ?
         ORDER BY created_at DESC, operation_id DESC LIMIT ?`,
      ),
      pageBefore: db.prepare(
        `SELECT operation_id, created_at FROM operations
         WHERE owner = ? AND expires_at > ? AND (created_at, operation_id) < (?, ?)
         ORDER BY created_at DESC, operation_id DESC LIMIT ?`,
      ),
      unfinished: db.prepare(
        `SELECT operation_id FROM operations WHERE ended = 0 AND expires_at > ? ORDER BY created_at, operation_id`,
      ),
      purgeEvents: db.prepare(
        `DELETE FROM operation_events WHERE operation_id IN (SELECT operation_id FROM operations WHERE expires_at <= ?)`,
      ),
      purge: db.prepare(`DELETE FROM operations WHERE expires_at <= ?`),
    };
  }

  /** Starts the operation's log with its `accepted` event. Throws OperationExistsError if the id is taken. */
  async create(operation: Operation): Promise<void> {
    const op = operationSchema.parse(operation);
    const now = this.#now();
    const accepted: OperationEvent = { seq: 1, at: now, type: "accepted", operation: op, batchesTotal: batchCount(op) };
    transaction(this.#db, () => {
      // Expired operations go first: their ids (and rows) must not block or shadow new ones.
      this.#sql.purgeEvents.run(now);
      this.#sql.purge.run(now);
      if (this.#sql.live.get(op.operationId, now) !== undefined) {
        throw new OperationExistsError(`operation ${op.operationId} already exists`);
      }
      this.#sql.insert.run(op.operationId, op.ownerUserId, op.createdAt, now + this.#retentionMs);
      this.#sql.insertEvent.run(op.operationId, 1, JSON.stringify(accepted));
    });
  }

  /** Appends an event; returns its seq. Throws OperationNotFoundError (no such operation, or expired). */
  async append(operationId: string, event: NewOperationEvent): Promise<number> {
    const now = this.#now();
    const parsed = operationEventSchema.safeParse({ ...event, seq: 1, at: event.at ?? now });
    if (!parsed.success) {
      throw new Error(`SqliteOperationLog.append(${operationId}): invalid event: ${parsed.error.message}`);
    }
    if (parsed.data.type === "accepted")
      throw new Error("SqliteOperationLog.append: `accepted` is written by create()");
    const ends = parsed.data.type === "completed" || parsed.data.type === "failed" || parsed.data.type === "cancelled";
    return transaction(this.#db, () => {
      const row = this.#sql.live.get(operationId, now) as OperationRow | undefined;
      if (row === undefined) throw new OperationNotFoundError(`operation ${operationId} does not exist (or expired)`);
      if (row.events >= this.#maxEvents) {
        throw new OperationLogFullError(`operation ${operationId} has ${this.#maxEvents} events, the most a log keeps`);
      }
      const seq = row.events + 1;
      this.#sql.insertEvent.run(operationId, seq, JSON.stringify({ ...parsed.data, seq }));
      this.#sql.touch.run(seq, now + this.#retentionMs, ends ? 1 : 0, operationId);
      return seq;
    });
  }

  /**
   * Every event of the operation in seq order; [] when it does not exist (or expired). Throws
   * UnreadableOperationLogError when this version cannot read one of them (unreadable-log.ts).
   */
  async read(operationId: string): Promise<OperationEvent[]> {
    if (this.#sql.live.get(operationId, this.#now()) === undefined) return [];
    return parseStoredEvents(operationId, this.#stored(operationId));
  }

  /** The folded state; undefined when it does not exist. Throws UnreadableOperationLogError (see `read`). */
  async state(operationId: string): Promise<OperationState | undefined> {
    if (this.#sql.live.get(operationId, this.#now()) === undefined) return undefined;
    return foldStoredLog(operationId, this.#stored(operationId));
  }

  /**
   * The state when `ownerUserId` owns the operation; undefined when missing, expired or someone else's. Throws
   * UnreadableOperationLogError to its owner when this version cannot read its log.
   */
  async getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined> {
    if (!isOperationId(operationId)) return undefined;
    const row = this.#sql.live.get(operationId, this.#now()) as OperationRow | undefined;
    if (row?.owner !== ownerUserId) return undefined;
    return foldStoredLog(operationId, this.#stored(operationId));
  }

  /**
   * The owner's operations, newest first, one whose log this version cannot read as an UnreadableOperation in its
   * place; `before` an id that is gone (expired, someone else's) ends the list.
   */
  async listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationListEntry[]> {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_LIST_LIMIT) {
      throw new Error(`listForOwner: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${opts.limit}`);
    }
    const now = this.#now();
    let rows: { operation_id: string; created_at: number }[];
    if (opts.before === undefined) {
      rows = this.#sql.page.all(ownerUserId, now, opts.limit) as unknown as typeof rows;
    } else {
      const cursor = this.#sql.live.get(opts.before, now) as OperationRow | undefined;
      if (cursor === undefined || cursor.owner !== ownerUserId) return [];
      rows = this.#sql.pageBefore.all(
        ownerUserId,
        now,
        cursor.created_at,
        cursor.operation_id,
        opts.limit,
      ) as unknown as typeof rows;
    }
    return rows.map(({ operation_id, created_at }) =>
      summaryOrUnreadable(operation_id, this.#stored(operation_id), created_at),
    );
  }

  /**
   * Ids of the live operations that have not ended (no `completed`, `failed` or `cancelled` yet), oldest first: what a process
   * that stopped mid-operation resumes when it starts again.
   */
  async unfinished(): Promise<string[]> {
    const rows = this.#sql.unfinished.all(this.#now()) as unknown as { operation_id: string }[];
    return rows.map((row) => row.operation_id);
  }

  /** The operation's stored events' JSON, in seq order (parsed by unreadable-log.ts). */
  #stored(operationId: string): string[] {
    const rows = this.#sql.events.all(operationId) as unknown as { event: string }[];
    return rows.map((row) => row.event);
  }
}
