import type { Redis } from "ioredis";
import { z } from "zod";
import type { AirtableClient } from "./airtable/client.ts";
import { accessIn, type BaseAccess } from "./base-permissions.ts";
import {
  baseSchemaResponseSchema,
  type AirtableBase,
  type AirtableField,
  type AirtableTable,
  type AirtableView,
  type BaseSchema,
} from "./airtable/schemas.ts";
import type { RedisClientSideCache } from "./kv/client-side-cache.ts";
import type { Logger } from "./logger.ts";
import { redisDoesNotAnswer } from "./redis-unavailable.ts";
import { closestNames } from "./closest-name.ts";

export interface SchemaCacheOptions {
  /** Shared cache for every process; without it each process keeps its own in memory. */
  redis?: Redis;
  keyPrefix: string;
  /** How long a schema is trusted; default 60 s. Tools refetch once before reporting an unknown name. */
  ttlMs?: number;
  /** How long a user's list of bases (and their permission levels) is trusted; default BASE_LIST_TTL_MS. */
  baseListTtlMs?: number;
  logger?: Logger;
  /** For tests. */
  now?: () => number;
  /** Bound of the parsed-schema memo in characters of JSON; default PARSED_SCHEMA_MEMO_CHARS. */
  memoChars?: number;
  /**
   * The process's client-side cache over `redis`, tracking `schemaKeyPrefix(keyPrefix)`: a schema is then read
   * from Redis once per version (and per the cache's max age), and parsed once with it; without it, every get
   * reads Redis and the parsed-schema memo below skips the parse when the bytes are unchanged.
   */
  cache?: RedisClientSideCache;
}

/** The key prefix of every cached schema in Redis (what a client-side cache tracks). */
export function schemaKeyPrefix(keyPrefix: string): string {
  return `${keyPrefix}:schema:`;
}

/**
 * A table, field or view name that does not exist; the message lists the real ones so the agent can fix its call,
 * and first names the one or few it most likely meant ("Nmae" → "Name", "due_date" → "Due date", a table id one
 * character off → that table, "Grid" → "Grid view"; closest-name.ts with `words`, the rule .env typos are told with
 * plus whole-word matches), since a table of 80 fields is a long list to find "Name" in.
 * @param kind what was looked up
 * @param wanted the id or name the call gave
 * @param where where it was looked up, e.g. `in table "Tasks" (tbl…)`
 * @param items the tables, fields or views there are, in the order Airtable lists them
 */
export class SchemaLookupError extends Error {
  override name = "SchemaLookupError";
  readonly kind: "table" | "field" | "view";
  readonly wanted: string;
  /** Each item as the message names it: `"Name" (fld…)`. */
  readonly known: string[];
  /** The items it most likely meant, as the message names them (its "Did you mean"); empty when none is close. */
  readonly meant: string[];
  readonly items: readonly { id: string; name: string }[];
  constructor(
    kind: "table" | "field" | "view",
    wanted: string,
    where: string,
    items: readonly { id: string; name: string }[],
  ) {
    const known = items.map(label);
    const shown = known.slice(0, 200).join(", ");
    const more = known.length > 200 ? ` (and ${known.length - 200} more)` : "";
    // Names and ids alike: a table id one character off, or typed in lowercase, is told the real one.
    const meant = [
      ...new Set(
        closestNames(
          wanted,
          items.flatMap((i) => [i.name, i.id]),
          3,
          { words: true },
        ).map((key) => items.find((i) => i.name === key) ?? items.find((i) => i.id === key)!),
      ),
    ].map(label);
    super(
      `Unknown ${kind} ${JSON.stringify(wanted)} ${where}. ` +
        (meant.length === 0 ? "" : `Did you mean ${meant.join(" or ")}? `) +
        (known.length === 0 ? `There are no ${kind}s.` : `The ${kind}s are: ${shown}${more}.`) +
        ` Use the id or the exact name.`,
    );
    this.kind = kind;
    this.wanted = wanted;
    this.known = known;
    this.meant = meant;
    this.items = items;
  }
}

const label = (item: { id: string; name: string }) => `${JSON.stringify(item.name)} (${item.id})`;

/** By id, then by exact name, then by a case-insensitive name when only one matches (undefined: none). */
export function findByIdOrName<T extends { id: string; name: string }>(
  items: readonly T[],
  key: string,
): T | undefined {
  const exact = items.find((i) => i.id === key) ?? items.find((i) => i.name === key);
  if (exact !== undefined) return exact;
  const folded = key.trim().toLowerCase();
  const loose = items.filter((i) => i.name.trim().toLowerCase() === folded);
  return loose.length === 1 ? loose[0] : undefined;
}

export function resolveTable(schema: BaseSchema, tableIdOrName: string, baseId = "this base"): AirtableTable {
  const table = findByIdOrName(schema.tables, tableIdOrName);
  if (table === undefined) throw new SchemaLookupError("table", tableIdOrName, `in ${baseId}`, schema.tables);
  return table;
}

export function resolveField(table: AirtableTable, fieldIdOrName: string): AirtableField {
  const field = findByIdOrName(table.fields, fieldIdOrName);
  if (field === undefined) {
    throw new SchemaLookupError("field", fieldIdOrName, `in table ${label(table)}`, table.fields);
  }
  return field;
}

export function resolveView(table: AirtableTable, viewIdOrName: string): AirtableView {
  const view = findByIdOrName(table.views, viewIdOrName);
  if (view === undefined) {
    throw new SchemaLookupError("view", viewIdOrName, `in table ${label(table)}`, table.views);
  }
  return view;
}

interface Entry {
  schema: BaseSchema;
  expiresAt: number;
}

/**
 * How long a user's list of bases, with their permission levels, is trusted for refusing a write before it is
 * queued: 10 minutes. A level raised by the base's owner within it is seen at the user's next list_bases (which
 * replaces the list, and the refusal says to call it); a level lowered within it costs one refused request (the
 * worker then asks list_bases itself). Never used to let a write through that Airtable would refuse.
 */
export const BASE_LIST_TTL_MS = 10 * 60_000;

/** A user's bases as list bases answered them, and when (the in-memory form, without Redis). */
interface BaseList {
  seenAt: number;
  bases: { id: string; name: string; permissionLevel: string }[];
}
/** One base of a remembered list in Redis: [name, permissionLevel]. */
const baseEntrySchema = z.tuple([z.string(), z.string()]);

/** The parsed-schema memo keeps at most this many characters of schema JSON (~2 bytes each: ≤ ~16 MB). */
export const PARSED_SCHEMA_MEMO_CHARS = 8_000_000;

/**
 * Base schemas (tables, fields, views), cached so that describe/list/resolve calls do not spend the base's
 * 5 requests per second. Cached per user AND base: what a user sees depends on their permissions. In Redis when
 * given (shared by every instance), else in this process's memory. Concurrent misses for one key share one
 * Airtable request (single flight, per process).
 */
export class SchemaCache {
  readonly #redis: Redis | undefined;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #memory = new Map<string, Entry>();
  /** When each schema object was read from Airtable by this process (a cached copy is another object, or older). */
  readonly #readAt = new WeakMap<BaseSchema, number>();
  readonly #baseListTtlMs: number;
  readonly #baseLists = new Map<string, BaseList>();
  /** Loads under way, with the signal that may stop the call making each (its client's cancelSignal). */
  readonly #inFlight = new Map<
    string,
    { promise: Promise<BaseSchema>; signal: AbortSignal | undefined; fresh: boolean }
  >();
  /**
   * Without a client-side cache (`cache` option): the last schema JSON read from Redis per key, with its parsed and validated value: the Redis read still
   * happens on every get (so TTL, invalidation by any instance and a newer schema are seen at once); only when
   * the bytes are the same as last time are JSON.parse and the zod check skipped (identical bytes, identical
   * schema). Bounded by total characters (PARSED_SCHEMA_MEMO_CHARS): the oldest entries go first.
   */
  readonly #parsed = new Map<string, { text: string; schema: BaseSchema }>();
  #parsedChars = 0;
  readonly #memoLimit: number;
  readonly #cache: RedisClientSideCache | undefined;
  /** One stable function: the client-side cache memoises its result per stored schema. Invalid JSON → null. */
  readonly #parse = (text: string): BaseSchema | null => {
    const parsed = baseSchemaResponseSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  };

  constructor(opts: SchemaCacheOptions) {
    this.#redis = opts.redis;
    this.#prefix = `${opts.keyPrefix}:schema`;
    this.#ttlMs = opts.ttlMs ?? 60_000;
    this.#baseListTtlMs = opts.baseListTtlMs ?? BASE_LIST_TTL_MS;
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#memoLimit = opts.memoChars ?? PARSED_SCHEMA_MEMO_CHARS;
    this.#cache = opts.cache;
  }

  /** The base's schema as `userId` (the user behind `airtable`) sees it. `fresh` skips the cache. */
  async get(
    airtable: AirtableClient,
    baseId: string,
    userId: string,
    opts: { fresh?: boolean } = {},
  ): Promise<BaseSchema> {
    const key = this.#key(baseId, userId);
    const fresh = opts.fresh === true;
    const running = this.#inFlight.get(key);
    // A `fresh` get (a name the cached schema lacks, a write re-checking its names) joins only a load that skips the
    // cache too: one that reads the cache would answer it the very copy it must not trust.
    if (running !== undefined && (running.fresh || !fresh)) {
      return running.promise.catch((error: unknown) => {
        // The call that loads it was stopped (its read deadline passed, its client left, its operation was
        // cancelled): that is no answer for this call, which loads it for itself unless it was stopped too.
        if (running.signal?.aborted === true && airtable.cancelSignal?.aborted !== true) {
          return this.get(airtable, baseId, userId, opts);
        }
        throw error;
      });
    }
    const promise: Promise<BaseSchema> = this.#load(airtable, baseId, userId, key, fresh).finally(() => {
      // Only its own entry: a fresh load started meanwhile took the key and may still be running.
      if (this.#inFlight.get(key)?.promise === promise) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, { promise, signal: airtable.cancelSignal, fresh });
    return promise;
  }

  /** This cache's clock (ms), the one readAt answers by. */
  now(): number {
    return this.#now();
  }

  /**
   * When `schema`, an answer of get for `baseId` and `userId`, was read from Airtable (this cache's clock, ms):
   * known at once for one this process read; for a copy from Redis, worked out from the key's remaining time to live
   * (one PTTL). Undefined when it cannot be told (the entry is gone, Redis did not answer): treat it as old.
   */
  async readAt(baseId: string, userId: string, schema: BaseSchema): Promise<number | undefined> {
    const known = this.#readAt.get(schema);
    if (known !== undefined) return known;
    const key = this.#key(baseId, userId);
    if (this.#redis === undefined) {
      const entry = this.#memory.get(key);
      return entry?.schema === schema ? entry.expiresAt - this.#ttlMs : undefined;
    }
    try {
      const left = await this.#redis.pttl(key);
      return left > 0 ? this.#now() - (this.#ttlMs - left) : undefined;
    } catch (error) {
      if (redisDoesNotAnswer(error)) throw error;
      return undefined;
    }
  }

  /** Forgets the base's schema for every user (after a schema change), or for one user. */
  async invalidate(baseId: string, userId?: string): Promise<void> {
    const memoryPrefix = `${this.#prefix}:${baseId}:u:`;
    for (const key of this.#memory.keys()) {
      if (userId === undefined ? key.startsWith(memoryPrefix) : key === this.#key(baseId, userId)) {
        this.#memory.delete(key);
      }
    }
    if (this.#redis === undefined) return;
    const usersKey = this.#usersKey(baseId);
    const users = userId === undefined ? await this.#redis.smembers(usersKey) : [userId];
    const keys = users.map((u) => this.#key(baseId, u));
    if (userId === undefined) keys.push(usersKey);
    for (const key of keys) this.#cache?.invalidate(key);
    if (keys.length > 0) await this.#redis.unlink(...keys);
  }

  /**
   * Remembers the bases list bases answered for `userId` (every page of it) at `seenAt`, for BASE_LIST_TTL_MS:
   * baseAccess answers from it without an Airtable request. A failure to store is logged, never thrown.
   */
  async rememberBases(userId: string, bases: readonly AirtableBase[], seenAt = this.#now()): Promise<void> {
    const list: BaseList = {
      seenAt,
      bases: bases.map((b) => ({ id: b.id, name: b.name, permissionLevel: b.permissionLevel })),
    };
    const key = this.#baseListKey(userId);
    if (this.#redis === undefined) {
      // Without Redis (one process): lists past their time are dropped here, so the map holds live ones only.
      const now = this.#now();
      for (const [k, v] of this.#baseLists) if (v.seenAt + this.#baseListTtlMs <= now) this.#baseLists.delete(k);
      this.#baseLists.set(key, list);
      return;
    }
    // One hash per user: `seenAt`, and each base id → its [name, level]. A write call reads two fields of it
    // (baseAccess), not the whole list, which for a user with thousands of bases is hundreds of kB of JSON.
    const fields: Record<string, string> = { seenAt: String(seenAt) };
    for (const b of list.bases) fields[b.id] = JSON.stringify([b.name, b.permissionLevel]);
    try {
      await this.#redis.multi().unlink(key).hset(key, fields).pexpire(key, this.#baseListTtlMs).exec();
    } catch (error) {
      this.#logger?.warn({ err: error }, "base list cache write failed");
    }
  }

  /**
   * The user's access to `baseId` as the last remembered list bases answer showed it (not listed: no `level`), or
   * undefined when none is remembered within BASE_LIST_TTL_MS. Never asks Airtable; a cache that cannot answer is
   * undefined. One HMGET of two fields in Redis.
   */
  async baseAccess(userId: string, baseId: string): Promise<BaseAccess | undefined> {
    const key = this.#baseListKey(userId);
    if (this.#redis === undefined) {
      const list = this.#baseLists.get(key);
      if (list === undefined || list.seenAt + this.#baseListTtlMs <= this.#now()) return undefined;
      return accessIn(list.bases, baseId, list.seenAt);
    }
    try {
      const [seenAtText, entry] = await this.#redis.hmget(key, "seenAt", baseId);
      const seenAt = Number(seenAtText ?? Number.NaN);
      if (!Number.isFinite(seenAt) || seenAt + this.#baseListTtlMs <= this.#now()) return undefined;
      if (entry === null || entry === undefined) return { baseId, seenAt };
      const parsed = baseEntrySchema.safeParse(JSON.parse(entry));
      if (!parsed.success) return undefined;
      const [name, level] = parsed.data;
      return { baseId, seenAt, name, level };
    } catch (error) {
      this.#logger?.warn({ err: error }, "base list cache read failed");
      return undefined;
    }
  }

  resolveTable(schema: BaseSchema, tableIdOrName: string, baseId?: string): AirtableTable {
    return resolveTable(schema, tableIdOrName, baseId);
  }

  resolveField(table: AirtableTable, fieldIdOrName: string): AirtableField {
    return resolveField(table, fieldIdOrName);
  }

  async #load(airtable: AirtableClient, baseId: string, userId: string, key: string, fresh: boolean) {
    if (!fresh) {
      const cached = await this.#read(key);
      if (cached !== undefined) return cached;
    }
    const schema = await airtable.getBaseSchema(baseId);
    this.#readAt.set(schema, this.#now());
    await this.#write(baseId, userId, key, schema);
    return schema;
  }

  async #read(key: string): Promise<BaseSchema | undefined> {
    if (this.#redis === undefined) {
      const entry = this.#memory.get(key);
      if (entry === undefined || entry.expiresAt <= this.#now()) return undefined;
      return entry.schema;
    }
    try {
      if (this.#cache !== undefined) return (await this.#cache.getParsed(key, this.#parse)) ?? undefined;
      const text = await this.#redis.get(key);
      if (text === null) return undefined;
      const memo = this.#parsed.get(key);
      if (memo !== undefined && memo.text === text) return memo.schema;
      const schema = this.#parse(text);
      if (schema === null) return undefined;
      this.#remember(key, text, schema);
      return schema;
    } catch (error) {
      // A Redis that does not answer at all fails the call now: the limiter in front of the Airtable request needs
      // the same Redis and would only wait as long again.
      if (redisDoesNotAnswer(error)) throw error;
      // Any other failure is a miss: the read still works, it only costs an Airtable request.
      this.#logger?.warn({ err: error }, "schema cache read failed");
      return undefined;
    }
  }

  async #write(baseId: string, userId: string, key: string, schema: BaseSchema): Promise<void> {
    if (this.#redis === undefined) {
      this.#memory.set(key, { schema, expiresAt: this.#now() + this.#ttlMs });
      return;
    }
    try {
      this.#cache?.invalidate(key);
      const usersKey = this.#usersKey(baseId);
      await this.#redis
        .multi()
        .set(key, JSON.stringify(schema), "PX", this.#ttlMs)
        .sadd(usersKey, userId)
        .pexpire(usersKey, this.#ttlMs * 2)
        .exec();
    } catch (error) {
      this.#logger?.warn({ err: error }, "schema cache write failed");
    }
  }

  #remember(key: string, text: string, schema: BaseSchema): void {
    const previous = this.#parsed.get(key);
    if (previous !== undefined) {
      this.#parsedChars -= previous.text.length;
      this.#parsed.delete(key);
    }
    if (text.length > this.#memoLimit) return;
    for (const [oldest, entry] of this.#parsed) {
      if (this.#parsedChars + text.length <= this.#memoLimit) break;
      this.#parsed.delete(oldest);
      this.#parsedChars -= entry.text.length;
    }
    this.#parsed.set(key, { text, schema });
    this.#parsedChars += text.length;
  }

  /** Characters of schema JSON held by the parsed-schema memo (≤ its bound). */
  get memoChars(): number {
    return this.#parsedChars;
  }

  #key(baseId: string, userId: string): string {
    return `${this.#prefix}:${baseId}:u:${userId}`;
  }

  #baseListKey(userId: string): string {
    return `${this.#prefix}-bases:u:${userId}`;
  }

  #usersKey(baseId: string): string {
    return `${this.#prefix}:${baseId}:users`;
  }
}
