/**
 * The operations' append-only event logs in Redis (docs/architecture.md invariant 2). Any number of server and
 * worker processes append and read; every write is one Lua script, so appends from several processes never
 * interleave badly and `seq` is gap-free.
 *
 * Key layout (all under `${keyPrefix}:operations:`):
 *   op:{operationId}    stream  one entry per event, field `event` = the event's JSON (with its seq); the first
 *                               entry (`accepted`) also has field `owner`, so an append can find the owner index
 *   owner:{userId}      zset    operation ids of the user, score = createdAt (index for listForOwner); pruned
 *                               lazily of operations that expired
 * Both expire `retentionMs` after the operation's latest event (refreshed on every append).
 *
 * Length guard: a stream that reaches `maxEvents` refuses further appends instead of being trimmed (XADD
 * MAXLEN): trimming would drop `accepted`, the head the fold needs. The default leaves room for 5,000 records
 * split to single records (≈ 40 events per batch of 10) and many retries.
 *
 * The append script derives the owner index key from the stream's first entry: fine on one Redis (Memorystore
 * standard, as deployed), not on Redis Cluster.
 */
import type { Redis } from "ioredis";
import { batchCount, operationEventSchema, operationSchema } from "./events.ts";
import type { NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import type { OperationState } from "./fold.ts";
import { isOperationId } from "./operation-id.ts";
import type { ListOptions, OperationListEntry, OperationStore } from "./operation-store.ts";
import { foldStoredLog, parseStoredEvents, summaryOrUnreadable } from "./unreadable-log.ts";

export const DEFAULT_MAX_EVENTS = 50_000;
export const MAX_LIST_LIMIT = 100;

/** KEYS: stream, owner index. ARGV: accepted JSON, owner, createdAt, operationId, retentionMs. 1 = created. */
const CREATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'owner', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
`;

/**
 * KEYS: stream, and for a guarded append (appendIf) a key that must not exist. ARGV: event JSON without seq (an
 * object), retentionMs, maxEvents, owner index key prefix, and for a guarded append the number of entries the
 * stream must still have. Returns the new seq, -1 when the operation does not exist, -2 when its log is full, -3
 * when the stream has another number of entries, -4 when the key exists. seq = entries + 1 (the stream is never
 * trimmed), spliced in as the JSON's first member.
 */
const APPEND_LUA = `
local n = redis.call('XLEN', KEYS[1])
if n == 0 then return -1 end
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then return -4 end
if ARGV[5] and n ~= tonumber(ARGV[5]) then return -3 end
if n >= tonumber(ARGV[3]) then return -2 end
local seq = n + 1
redis.call('XADD', KEYS[1], '*', 'event', '{"seq":' .. seq .. ',' .. string.sub(ARGV[1], 2))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local fields = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'owner' then redis.call('PEXPIRE', ARGV[4] .. fields[i + 1], ARGV[2]) end
end
return seq
`;

export class OperationExistsError extends Error {
  override name = "OperationExistsError";
}

export class OperationNotFoundError extends Error {
  override name = "OperationNotFoundError";
}

export class OperationLogFullError extends Error {
  override name = "OperationLogFullError";
}

/**
 * The condition of a guarded append (OperationLog.appendIf): the log still has exactly `length` events (nobody
 * appended since the caller read it), and `absentKey`, a key of the same Redis, does not exist.
 */
export interface AppendGuard {
  length: number;
  absentKey: string;
}

/** Why appendIf appended nothing: the log has another length now, or the guard's key exists. */
export type AppendRefusal = "changed" | "key_exists";

export interface OperationLogOptions {
  /** Shared connection; the log does not close it. */
  redis: Redis;
  keyPrefix: string;
  /** How long an operation is kept after its latest event (OPERATION_RETENTION_HOURS). */
  retentionMs: number;
  maxEvents?: number;
  now?: () => number;
}

export class OperationLog implements OperationStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #now: () => number;

  constructor(opts: OperationLogOptions) {
    if (!Number.isInteger(opts.retentionMs) || opts.retentionMs <= 0) {
      throw new Error(`OperationLog: retentionMs must be a positive integer (ms), got ${opts.retentionMs}`);
    }
    this.#redis = opts.redis;
    this.#prefix = `${opts.keyPrefix}:operations`;
    this.#retentionMs = opts.retentionMs;
    this.#maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#now = opts.now ?? Date.now;
  }

  /** The Redis key of an operation's stream or an owner's index (for tests and tooling). */
  keyOf(kind: "op" | "owner", id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }

  /** Starts the operation's log with its `accepted` event. Throws OperationExistsError if the id is taken. */
  async create(operation: Operation): Promise<void> {
    const op = operationSchema.parse(operation);
    const accepted: OperationEvent = {
      seq: 1,
      at: this.#now(),
      type: "accepted",
      operation: op,
      batchesTotal: batchCount(op),
    };
    const created = await this.#redis.eval(
      CREATE_LUA,
      2,
      this.keyOf("op", op.operationId),
      this.keyOf("owner", op.ownerUserId),
      JSON.stringify(accepted),
      op.ownerUserId,
      op.createdAt,
      op.operationId,
      this.#retentionMs,
    );
    if (created !== 1) throw new OperationExistsError(`operation ${op.operationId} already exists`);
  }

  /** Appends an event; returns its seq. Throws OperationNotFoundError (no such operation, or expired). */
  async append(operationId: string, event: NewOperationEvent): Promise<number> {
    return (await this.#append(operationId, event)) as number;
  }

  /**
   * Appends an event only if `guard` holds, in one script: nothing else (another process's append, a BullMQ add)
   * can run between the check and the append. Returns the new seq, or why nothing was appended ("key_exists" is
   * checked first). Throws what `append` throws. How QueuedOperationRunner ends an operation that was never queued
   * without racing the job's add (queue/not-queued.ts).
   */
  async appendIf(operationId: string, event: NewOperationEvent, guard: AppendGuard): Promise<number | AppendRefusal> {
    if (!Number.isInteger(guard.length) || guard.length < 1) {
      throw new Error(`OperationLog.appendIf: guard.length must be a positive integer (events), got ${guard.length}`);
    }
    return this.#append(operationId, event, guard);
  }

  async #append(operationId: string, event: NewOperationEvent, guard?: AppendGuard): Promise<number | AppendRefusal> {
    // Validated here so a buggy appender cannot corrupt a log every reader would then choke on. The seq is a
    // placeholder: the script assigns the real one.
    const parsed = operationEventSchema.safeParse({ ...event, seq: 1, at: event.at ?? this.#now() });
    if (!parsed.success) throw new Error(`OperationLog.append(${operationId}): invalid event: ${parsed.error.message}`);
    if (parsed.data.type === "accepted") throw new Error("OperationLog.append: `accepted` is written by create()");
    const { seq: _placeholder, ...withoutSeq } = parsed.data;
    const keys =
      guard === undefined ? [this.keyOf("op", operationId)] : [this.keyOf("op", operationId), guard.absentKey];
    const args = [JSON.stringify(withoutSeq), this.#retentionMs, this.#maxEvents, `${this.#prefix}:owner:`];
    if (guard !== undefined) args.push(guard.length);
    const seq = (await this.#redis.eval(APPEND_LUA, keys.length, ...keys, ...args)) as number;
    if (seq === -1) throw new OperationNotFoundError(`operation ${operationId} does not exist (or expired)`);
    if (seq === -2)
      throw new OperationLogFullError(`operation ${operationId} has ${this.#maxEvents} events, the most a log keeps`);
    if (seq === -3) return "changed";
    if (seq === -4) return "key_exists";
    return seq;
  }

  /** The operation's stream entries ([id, [name, value, …]]), in seq order; [] when it does not exist. */
  #entries(operationId: string): Promise<[string, string[]][]> {
    return this.#redis.xrange(this.keyOf("op", operationId), "-", "+");
  }

  /**
   * Every event of the operation in seq order; [] when it does not exist. Throws UnreadableOperationLogError when
   * this version cannot read one of them (unreadable-log.ts).
   */
  async read(operationId: string): Promise<OperationEvent[]> {
    return parseStoredEvents(operationId, storedEvents(await this.#entries(operationId)));
  }

  /** The folded state; undefined when it does not exist. Throws UnreadableOperationLogError (see `read`). */
  async state(operationId: string): Promise<OperationState | undefined> {
    const entries = await this.#entries(operationId);
    return entries.length === 0 ? undefined : foldStoredLog(operationId, storedEvents(entries));
  }

  /**
   * The operation's state when `ownerUserId` owns it; undefined when it is missing, expired, malformed or
   * someone else's — the same answer, so an id never reveals that another user's operation exists. The owner is
   * the first entry's `owner` field (written with `accepted` by create()), so that an owner is told of a log this
   * version cannot read — UnreadableOperationLogError — and anyone else is not.
   */
  async getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined> {
    if (!isOperationId(operationId)) return undefined;
    const entries = await this.#entries(operationId);
    const first = entries[0];
    if (first === undefined || fieldOf(first[1], "owner") !== ownerUserId) return undefined;
    return foldStoredLog(operationId, storedEvents(entries));
  }

  /**
   * The owner's operations, newest first; one whose log this version cannot read is an UnreadableOperation in its
   * place. Drops index entries of operations that expired.
   */
  async listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationListEntry[]> {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_LIST_LIMIT) {
      throw new Error(`listForOwner: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${opts.limit}`);
    }
    const indexKey = this.keyOf("owner", ownerUserId);
    let start = 0;
    if (opts.before !== undefined) {
      const rank = await this.#redis.zrevrank(indexKey, opts.before);
      if (rank === null) return [];
      start = rank + 1;
    }
    const summaries: OperationListEntry[] = [];
    const seen = new Set<string>(); // an operation created while we page shifts ranks by one
    while (summaries.length < opts.limit) {
      const wanted = opts.limit - summaries.length;
      // [id, score, id, score, …]: the score is the operation's createdAt, for one whose log cannot be read.
      const page = await this.#redis.zrevrange(indexKey, start, start + wanted - 1, "WITHSCORES");
      const ids = page.filter((_, i) => i % 2 === 0);
      if (ids.length === 0) break;
      start += ids.length;
      const pipeline = this.#redis.pipeline();
      for (const id of ids) pipeline.xrange(this.keyOf("op", id), "-", "+");
      const replies = (await pipeline.exec()) ?? [];
      const expired: string[] = [];
      ids.forEach((id, i) => {
        const [error, entries] = replies[i] ?? [new Error("no reply"), undefined];
        if (error) throw error;
        const stored = storedEvents(entries as [string, string[]][]);
        if (stored.length === 0) expired.push(id);
        else if (!seen.has(id)) summaries.push(summaryOrUnreadable(id, stored, Number(page[2 * i + 1])));
        seen.add(id);
      });
      if (expired.length > 0) {
        await this.#redis.zrem(indexKey, ...expired);
        start -= expired.length;
      }
    }
    return summaries;
  }
}

/** Each stream entry's stored event JSON, in seq order (parsed by unreadable-log.ts); undefined for one without. */
function storedEvents(entries: readonly [string, string[]][]): (string | undefined)[] {
  return entries.map(([, fields]) => fieldOf(fields, "event"));
}

/** The value of `name` in a stream entry's flat [name, value, …] fields; undefined when absent. */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
