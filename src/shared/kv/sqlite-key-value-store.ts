/**
 * KeyValueStore in the embedded SQLite database: for state the embedded mode must keep across a restart (OAuth
 * sign-ins in progress, the access-token revocation list, rate-limit windows, the CIMD cache). Table `kv`, one
 * row per key; expired rows read as missing and are deleted every 1,000 writes.
 */
import type { StatementSync } from "node:sqlite";
import { transaction, type SqliteDatabase } from "../sqlite/database.ts";
import type { KeyValueStore } from "./key-value-store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;
`;

/** A row is live when it has no expiry or its expiry is still ahead of `now`. */
const LIVE = "(expires_at IS NULL OR expires_at > :now)";
const SWEEP_EVERY_WRITES = 1_000;

export class SqliteKeyValueStore implements KeyValueStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  readonly #get: StatementSync;
  readonly #set: StatementSync;
  readonly #insertIfAbsent: StatementSync;
  readonly #take: StatementSync;
  readonly #delete: StatementSync;
  readonly #deleteIfEquals: StatementSync;
  readonly #increment: StatementSync;
  readonly #decrement: StatementSync;
  readonly #counter: StatementSync;
  readonly #sweep: StatementSync;
  #writes = 0;

  /** `db`: the embedded database (openDatabase); the caller owns and closes it. Creates the table when missing. */
  constructor(db: SqliteDatabase, opts: { now?: () => number } = {}) {
    this.#db = db;
    this.#now = opts.now ?? Date.now;
    db.exec(SCHEMA);
    this.#get = db.prepare(`SELECT value FROM kv WHERE key = :key AND ${LIVE}`);
    this.#set = db.prepare(
      `INSERT INTO kv (key, value, expires_at) VALUES (:key, :value, :expiresAt)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    );
    // Replaces an expired row; a live one is left alone (and then read back).
    this.#insertIfAbsent = db.prepare(
      `INSERT INTO kv (key, value, expires_at) VALUES (:key, :value, :expiresAt)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
       WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= :now`,
    );
    this.#take = db.prepare(`DELETE FROM kv WHERE key = :key RETURNING value, expires_at AS expiresAt`);
    this.#delete = db.prepare(`DELETE FROM kv WHERE key = :key`);
    this.#deleteIfEquals = db.prepare(`DELETE FROM kv WHERE key = :key AND value = :value AND ${LIVE}`);
    // A new window when the key is missing or its window has ended; a counter without expiry gets one.
    this.#increment = db.prepare(
      `INSERT INTO kv (key, value, expires_at) VALUES (:key, '1', :expiresAt)
       ON CONFLICT (key) DO UPDATE SET
         value = CASE WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= :now THEN '1'
                      ELSE CAST(CAST(kv.value AS INTEGER) + 1 AS TEXT) END,
         expires_at = CASE WHEN kv.expires_at IS NULL OR kv.expires_at <= :now THEN :expiresAt
                           ELSE kv.expires_at END
       RETURNING value, expires_at AS expiresAt`,
    );
    this.#decrement = db.prepare(
      `UPDATE kv SET value = CAST(CAST(value AS INTEGER) - 1 AS TEXT) WHERE key = :key AND ${LIVE}`,
    );
    this.#counter = db.prepare(`SELECT value, expires_at AS expiresAt FROM kv WHERE key = :key AND ${LIVE}`);
    this.#sweep = db.prepare(`DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= :now`);
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.#get.get({ key, now: this.#now() }) as { value: string } | undefined;
    return row?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#set.run({ key, value, expiresAt: this.#expiry(ttlMs) });
    this.#wrote();
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string> {
    const now = this.#now();
    const stored = transaction(this.#db, () => {
      this.#insertIfAbsent.run({ key, value, expiresAt: this.#expiry(ttlMs), now });
      return (this.#get.get({ key, now }) as { value: string }).value;
    });
    this.#wrote();
    return stored;
  }

  async take(key: string): Promise<string | undefined> {
    const row = this.#take.get({ key }) as { value: string; expiresAt: number | null } | undefined;
    if (row === undefined || (row.expiresAt !== null && row.expiresAt <= this.#now())) return undefined;
    return row.value;
  }

  async delete(key: string): Promise<void> {
    this.#delete.run({ key });
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return Number(this.#deleteIfEquals.run({ key, value, now: this.#now() }).changes) > 0;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const now = this.#now();
    const row = this.#increment.get({ key, now, expiresAt: now + windowMs }) as { value: string; expiresAt: number };
    this.#wrote();
    return { count: Number(row.value), resetInMs: row.expiresAt - now };
  }

  async counter(key: string): Promise<{ count: number; resetInMs: number } | undefined> {
    const now = this.#now();
    const row = this.#counter.get({ key, now }) as { value: string; expiresAt: number | null } | undefined;
    if (row === undefined || Number(row.value) === 0) return undefined;
    return { count: Number(row.value), resetInMs: row.expiresAt === null ? 0 : Math.max(row.expiresAt - now, 0) };
  }

  async decrement(key: string): Promise<void> {
    this.#decrement.run({ key, now: this.#now() });
  }

  #expiry(ttlMs: number | undefined): number | null {
    return ttlMs === undefined ? null : this.#now() + ttlMs;
  }

  #wrote(): void {
    if (++this.#writes % SWEEP_EVERY_WRITES === 0) this.#sweep.run({ now: this.#now() });
  }
}
