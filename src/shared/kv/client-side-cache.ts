/**
 * Server-assisted client-side caching ("client-side caching" in Redis's own terms, Redis ≥ 6 `CLIENT TRACKING`)
 * for the few keys a read tool call used to fetch from Redis on every call: the bearer check's revocation entry,
 * the signed-in user's sealed Airtable account, and the base schema. Rules from the Redis documentation,
 * https://redis.io/docs/latest/develop/reference/client-side-caching/ (sections "Two connections mode",
 * "Broadcasting mode", "What to cache", "Race conditions" and "What to do when losing connection with the
 * server").
 *
 * Why hand-written: ioredis (the project's fixed Redis client) has no client-side cache; node-redis has one, and
 * the npm package `redis-csc` is not on the registry this project installs from.
 *
 * One instance per process, over the process's existing data connection (reads go through it), plus two
 * dedicated connections made with `redis.duplicate()` (RESP2, so invalidations arrive as Pub/Sub messages):
 * - S subscribes to `__redis__:invalidate`;
 * - T runs `CLIENT TRACKING on REDIRECT <S's id> BCAST PREFIX p1 PREFIX p2 …` and nothing else, so the data
 *   connection is untouched and its reconnects do not matter. In BCAST mode Redis announces every change of a
 *   key under the prefixes (write, delete, expiry, eviction), whoever made it, this process included (no NOLOOP):
 *   a revocation, a refreshed token or a schema invalidation by any instance reaches every instance's S.
 *
 * Freshness rules:
 * - An entry is served from memory only while the cache is *armed*: S and T connected, S subscribed, T's
 *   `CLIENT TRACKING` accepted. Every arming opens a new epoch. Any `close`, `end`, `reconnecting` or `error` of
 *   S or T disarms, drops every entry and ends the epoch; reads then go to Redis until both are back and armed.
 * - A read-through made while armed stores its answer (a value or "no such key") only if no invalidation of
 *   that key, no flush and no disarm arrived since the read was sent (the key is marked pending before sending;
 *   either arrival order is handled), which closes the race the Redis docs describe between a reply and an
 *   invalidation. GET and PTTL go in one round trip: an entry never outlives the key's own expiry.
 * - The null invalidation message (FLUSHALL / FLUSHDB) drops every entry.
 * - Writers in this process call `invalidate(key)` before writing, so this process reads its own writes even
 *   before Redis's invalidation for them arrives on S.
 * - Served only while S has *proved* recent: a PING on S answered, sent at most `proofIntervalMs` (default
 *   DEFAULT_PROOF_INTERVAL_MS) ago. Redis answers a PING on a connection after everything it sent there before, so
 *   its PONG says every invalidation of a change Redis made before that PING has arrived. A Redis that stalls without
 *   closing anything (a stopped process, a network partition that leaves S "connected" while another process's
 *   writes go through) stops the proofs: memory stops serving within that interval, the unanswered PING
 *   (`probeTimeoutMs`) drops S, which disarms and flushes as any disconnect does, and the cache re-arms when S is
 *   back. Without it, an entry written elsewhere during a partition was served for up to its max age. A read that
 *   finds the proof too old waits for the next PING (one at a time, shared by the reads meanwhile) and then serves
 *   from memory: one command per proof interval, not a GET and PTTL for each key, which for a process whose calls
 *   come more than `proofIntervalMs` apart (an agent thinking between tool calls) would be every call. A PING that
 *   times out fails the reads waiting for it (Redis is silent: a GET would wait the command timeout again); any
 *   other failure sends them to Redis. No command while idle.
 * - Each entry also has a max age (default DEFAULT_MAX_AGE_MS): the last bound on staleness if an invalidation were
 *   lost some other way without a disconnect.
 * - Bounded by entries and by characters (key + value); the oldest entry goes first. Idle cost: no Redis
 *   command at all (no polling, no timers; ages and proofs are checked when read).
 *
 * When Redis refuses the arming (`CLIENT TRACKING` unknown before Redis 6, disallowed by a managed Redis, or an
 * ACL without `client` or the `__redis__:invalidate` channel), one warning names the cause, S and T are closed,
 * and the cache keeps working as a plain read-through (correct, without the saving). `getParsed` then still skips
 * the parse when the bytes read equal the ones parsed last time (as the schema cache's text memo did).
 */
import { ReplyError, type Redis } from "ioredis";
import type { Logger } from "../logger.ts";

/** The Pub/Sub channel Redis sends RESP2 invalidation messages to (Redis docs, "Two connections mode"). */
export const INVALIDATION_CHANNEL = "__redis__:invalidate";

/**
 * Default max age of an entry (ms): 60 s. It bounds staleness only when an invalidation is lost silently (no
 * disconnect noticed; a TCP connection that dies without a reset is noticed by keepalive within minutes), so it
 * need not be short; it matches the schema cache's own TTL and the access-token check's other bound (a revoked
 * grant's access tokens already live at most their TTL). Re-reading each key once a minute per process costs
 * next to nothing.
 */
export const DEFAULT_MAX_AGE_MS = 60_000;
/**
 * Default of how long a PING answered on the invalidation connection vouches for it (ms): 5 s. The bound on how long
 * entries are served after Redis went silent (plus nothing: the first read after it goes to Redis). One PING per
 * 5 s per process while reads come, none while idle.
 */
export const DEFAULT_PROOF_INTERVAL_MS = 5_000;
/** Default wait for that PING's answer when the data connection has no `commandTimeout` of its own (ms). */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
/** Default bound on entries. */
export const DEFAULT_MAX_ENTRIES = 10_000;
/** Default bound on characters held (keys + raw values; ~2 bytes each): the schema memo's former bound. */
export const DEFAULT_MAX_CHARS = 8_000_000;

export interface RedisClientSideCacheOptions {
  /** The process's data connection: reads go through it. The cache duplicates it for S and T, never closes it. */
  redis: Redis;
  /** Key prefixes to track (BCAST `PREFIX`s). They must not overlap one another (Redis refuses it). */
  prefixes: readonly string[];
  logger?: Logger;
  /** Max age of an entry in ms; default DEFAULT_MAX_AGE_MS. */
  maxAgeMs?: number;
  /** How long an answered PING on the invalidation connection lets memory serve, ms; default DEFAULT_PROOF_INTERVAL_MS. */
  proofIntervalMs?: number;
  /**
   * How long that PING may go unanswered before the connection is dropped (and the cache with it), ms; default the
   * data connection's `commandTimeout` (REDIS_COMMAND_TIMEOUT_MS on the server), else DEFAULT_PROBE_TIMEOUT_MS.
   */
  probeTimeoutMs?: number;
  /** Max number of entries; default DEFAULT_MAX_ENTRIES. */
  maxEntries?: number;
  /** Max characters of keys + values held; default DEFAULT_MAX_CHARS. */
  maxChars?: number;
  /** Shown in `CLIENT LIST` as `<name>:invalidations` and `<name>:tracking`; default "atmcp-csc". */
  connectionName?: string;
}

/** What the cache has done so far (for tests and operators). */
export interface ClientSideCacheStats {
  /** Serving from memory right now. */
  armed: boolean;
  /** Tracking was refused: plain read-through for the life of the process. */
  refused: boolean;
  /** Arming epoch (grows on every arming attempt and every disarm). */
  epoch: number;
  /** Reads answered from memory. */
  hits: number;
  /** Reads that went to Redis. */
  misses: number;
  /** Invalidation messages received from Redis (one per message: a list of keys, or a flush). */
  invalidations: number;
  /** PINGs sent on the invalidation connection to prove it (see the class comment). */
  probes: number;
  entries: number;
  chars: number;
}

interface Derived {
  parse: (raw: string) => unknown;
  value: unknown;
}

interface Entry {
  raw: string | undefined;
  chars: number;
  /** performance.now() after which the entry is not served. */
  until: number;
  /** Stored by an armed read-through nothing invalidated: may be served without asking Redis. */
  trusted: boolean;
  derived?: Derived;
}

/** A read-through in flight: set stale when its key is invalidated (or everything flushed) before it lands. */
interface Pending {
  stale: boolean;
}

type Which = "invalidations" | "tracking";

export class RedisClientSideCache {
  readonly #redis: Redis;
  readonly #prefixes: readonly string[];
  readonly #logger: Logger | undefined;
  readonly #maxAgeMs: number;
  readonly #proofIntervalMs: number;
  readonly #maxEntries: number;
  readonly #maxChars: number;
  readonly #sub: Redis;
  readonly #track: Redis;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Map<string, Set<Pending>>();
  #chars = 0;
  #epoch = 0;
  #armed = false;
  #arming = false;
  #rearm = false;
  #refused = false;
  #closed = false;
  /** CLIENT ID of S while its current connection is subscribed; undefined after it is lost. */
  #subId: number | undefined;
  #hits = 0;
  #misses = 0;
  #invalidations = 0;
  #probes = 0;
  /** performance.now() when the latest PING on S that was answered (or the arming) was sent. */
  #provenAt = Number.NEGATIVE_INFINITY;
  /** The PING on S in flight, awaited by every read that found the proof too old (#probe). */
  #probing: Promise<void> | undefined;

  constructor(opts: RedisClientSideCacheOptions) {
    if (opts.prefixes.length === 0) throw new Error("RedisClientSideCache: give at least one key prefix to track");
    this.#redis = opts.redis;
    this.#prefixes = [...opts.prefixes];
    this.#logger = opts.logger;
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#proofIntervalMs = opts.proofIntervalMs ?? DEFAULT_PROOF_INTERVAL_MS;
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
    const name = opts.connectionName ?? "atmcp-csc";
    // RESP2: a RESP3 redirect target would get `invalidate` push frames, which ioredis drops. No automatic
    // resubscribe or resend: every (re)connection is armed from scratch by #arm, with the new S's id. No offline
    // queue and no retries: a command of a lost connection fails at once, so an arming never hangs; and a command
    // timeout, so that a silent Redis is noticed (the proof PING, and an arming that gets no answer).
    const common = {
      protocol: 2 as const,
      autoResubscribe: false,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.probeTimeoutMs ?? opts.redis.options.commandTimeout ?? DEFAULT_PROBE_TIMEOUT_MS,
    };
    this.#sub = this.#redis.duplicate({ ...common, connectionName: `${name}:invalidations` });
    this.#track = this.#redis.duplicate({ ...common, connectionName: `${name}:tracking` });
    this.#sub.on("messageBuffer", (channel: Buffer, message: unknown) => this.#onInvalidation(channel, message));
    this.#watch(this.#sub, "invalidations");
    this.#watch(this.#track, "tracking");
  }

  /** True when `key` is under a tracked prefix (only those are cached). */
  tracks(key: string): boolean {
    for (const prefix of this.#prefixes) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The value of `key`, or undefined when it does not exist: from memory while armed, else from Redis. */
  async get(key: string): Promise<string | undefined> {
    return (await this.#lookup(key)).raw;
  }

  /**
   * `parse(raw)` of the key's value, memoised with the entry: it runs once per version of the value (and again
   * after a flush or the entry's max age), not once per call. Undefined when the key does not exist (parse is not
   * called). `parse` must be one stable function per kind of value (its identity keys the memo); what it returns
   * is shared by every caller, who must not change it. Errors of `parse` propagate and nothing is cached.
   */
  async getParsed<T>(key: string, parse: (raw: string) => T): Promise<T | undefined> {
    const entry = await this.#lookup(key);
    if (entry.raw === undefined) return undefined;
    if (entry.derived?.parse === parse) return entry.derived.value as T;
    let value: T;
    try {
      value = parse(entry.raw);
    } catch (error) {
      if (this.#entries.get(key) === entry) this.#drop(key, entry);
      throw error;
    }
    if (this.#entries.get(key) === entry) entry.derived = { parse, value };
    else if (!entry.trusted) this.#store(key, { ...entry, derived: { parse, value } });
    return value;
  }

  /**
   * Forgets `key` now (and makes any read of it in flight not be stored). Writers in this process call it before
   * writing a tracked key, so their next read goes to Redis even if Redis's invalidation is still on its way.
   */
  invalidate(key: string): void {
    const pending = this.#pending.get(key);
    if (pending !== undefined) {
      for (const read of pending) read.stale = true;
      this.#pending.delete(key);
    }
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#drop(key, entry);
  }

  stats(): ClientSideCacheStats {
    return {
      armed: this.#armed,
      refused: this.#refused,
      epoch: this.#epoch,
      hits: this.#hits,
      misses: this.#misses,
      invalidations: this.#invalidations,
      probes: this.#probes,
      entries: this.#entries.size,
      chars: this.#chars,
    };
  }

  /** CLIENT IDs of S and T (tests kill them to check the disarm; operators may look them up in CLIENT LIST). */
  async connectionIds(): Promise<{ invalidations: number | undefined; tracking: number | undefined }> {
    const tracking =
      this.#track.status === "ready" ? ((await this.#track.client("ID").catch(() => undefined)) as number) : undefined;
    return { invalidations: this.#subId, tracking };
  }

  /** Resolves once armed (for tests and start-up checks); false after `timeoutMs` or when tracking is refused. */
  async whenArmed(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.#armed && !this.#refused && !this.#closed && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.#armed;
  }

  /** Disarms and quits S and T (not the data connection, which the caller owns). Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#disarm();
    await Promise.all([quit(this.#sub), quit(this.#track)]);
  }

  async #lookup(key: string): Promise<Entry> {
    // Not proved lately: a PING on S tells whether invalidations still arrive before memory serves (one command
    // instead of a read of every key; see the class comment). Rejects when Redis is silent.
    if (this.#armed && performance.now() - this.#provenAt > this.#proofIntervalMs) await this.#probe();
    if (this.#armed) {
      const now = performance.now();
      // Still unproved (the PING failed, or memory was flushed and re-armed meanwhile): this read goes to Redis.
      if (now - this.#provenAt <= this.#proofIntervalMs) {
        const entry = this.#entries.get(key);
        if (entry?.trusted === true) {
          if (entry.until > now) {
            this.#hits++;
            return entry;
          }
          this.#drop(key, entry);
        }
      }
    }
    this.#misses++;
    if (!this.#armed) return this.#readUntrusted(key);
    const epoch = this.#epoch;
    const read: Pending = { stale: false };
    let pending = this.#pending.get(key);
    if (pending === undefined) this.#pending.set(key, (pending = new Set()));
    pending.add(read);
    const sentAt = performance.now();
    try {
      const replies = await this.#redis.pipeline().get(key).pttl(key).exec();
      const [[getError, value], [ttlError, pttl]] = replies as [[Error | null, unknown], [Error | null, unknown]];
      if (getError !== null) throw getError;
      if (ttlError !== null) throw ttlError;
      const raw = typeof value === "string" ? value : undefined;
      const ttl = typeof pttl === "number" && pttl >= 0 ? pttl : Number.POSITIVE_INFINITY;
      const entry: Entry = {
        raw,
        chars: key.length + (raw?.length ?? 0),
        until: sentAt + Math.min(this.#maxAgeMs, ttl),
        trusted: true,
      };
      if (!read.stale && this.#armed && epoch === this.#epoch) this.#store(key, entry);
      else entry.trusted = false;
      return entry;
    } finally {
      pending.delete(read);
      if (pending.size === 0 && this.#pending.get(key) === pending) this.#pending.delete(key);
    }
  }

  /**
   * PINGs S (one at a time: a read that comes while one is in flight waits for that one). Answered: memory may serve
   * for another proof interval from when it was sent. Not answered within S's command timeout (or failed): S is
   * dropped and reconnects, which disarms and flushes (#watch) and re-arms once Redis answers again. Rejects with
   * the timeout when the PING got no answer, so that a read fails after one command timeout, not two; resolves
   * otherwise (after any other failure the cache is disarmed and the read goes to Redis).
   */
  #probe(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#probing !== undefined) return this.#probing;
    this.#probes++;
    const epoch = this.#epoch;
    const sentAt = performance.now();
    const probing = this.#sub.ping().then(
      () => {
        if (epoch === this.#epoch) this.#provenAt = Math.max(this.#provenAt, sentAt);
      },
      (error: unknown) => {
        if (epoch === this.#epoch && !this.#closed) {
          this.#logger?.warn(
            { err: error },
            "Redis client-side cache: its invalidation connection did not answer a PING; reconnecting it, reads go " +
              "to Redis meanwhile",
          );
          this.#disarm();
          this.#subId = undefined;
          this.#sub.disconnect(true);
        }
        if (error instanceof Error && error.message === "Command timed out") throw error;
      },
    );
    // Cleared once settled (before the reads waiting for it resume), so the next stale read sends the next PING.
    const shared = probing.finally(() => {
      this.#probing = undefined;
    });
    // A timeout is handled above: not an unhandled rejection when no read is left waiting.
    shared.catch(() => undefined);
    this.#probing = shared;
    return shared;
  }

  /** Disarmed: a plain GET. Keeps an untrusted entry's derived value when the bytes are the same as last time. */
  async #readUntrusted(key: string): Promise<Entry> {
    const raw = (await this.#redis.get(key)) ?? undefined;
    const known = this.#entries.get(key);
    if (known !== undefined && !known.trusted && known.raw === raw && known.until > performance.now()) return known;
    return { raw, chars: key.length + (raw?.length ?? 0), until: performance.now() + this.#maxAgeMs, trusted: false };
  }

  #store(key: string, entry: Entry): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined) this.#drop(key, previous);
    if (entry.chars > this.#maxChars) return;
    for (const [oldest, old] of this.#entries) {
      if (this.#entries.size < this.#maxEntries && this.#chars + entry.chars <= this.#maxChars) break;
      this.#drop(oldest, old);
    }
    this.#entries.set(key, entry);
    this.#chars += entry.chars;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#chars -= entry.chars;
  }

  /** Drops every entry and makes every read in flight not be stored. */
  #flush(): void {
    for (const reads of this.#pending.values()) for (const read of reads) read.stale = true;
    this.#pending.clear();
    this.#entries.clear();
    this.#chars = 0;
  }

  #onInvalidation(channel: Buffer, message: unknown): void {
    if (channel.toString() !== INVALIDATION_CHANNEL) return;
    this.#invalidations++;
    // RESP2: an array of keys, or a null array when the whole database was flushed (FLUSHALL / FLUSHDB).
    if (Array.isArray(message)) {
      for (const key of message) this.invalidate(String(key));
    } else if (Buffer.isBuffer(message) || typeof message === "string") {
      this.invalidate(String(message));
    } else {
      this.#flush();
    }
  }

  #watch(connection: Redis, which: Which): void {
    for (const event of ["close", "end", "reconnecting", "error"] as const) {
      connection.on(event, (error?: unknown) => {
        // `error` alone may leave the connection up (no `ready` follows): re-arm then, over a new epoch.
        const lost = event !== "error";
        if (lost && which === "invalidations") this.#subId = undefined;
        if (this.#armed && !this.#closed) {
          this.#logger?.warn(
            { connection: which, event, ...(error instanceof Error && { err: error }) },
            "Redis client-side cache disarmed: reads go to Redis until its connections are back",
          );
        }
        this.#disarm();
        if (!lost) queueMicrotask(() => void this.#arm());
      });
    }
    connection.on("ready", () => void this.#arm());
  }

  #disarm(): void {
    this.#armed = false;
    this.#epoch++;
    this.#flush();
  }

  async #arm(): Promise<void> {
    if (this.#closed || this.#refused || this.#armed) return;
    if (this.#arming) {
      this.#rearm = true;
      return;
    }
    if (this.#sub.status !== "ready" || this.#track.status !== "ready") return;
    this.#arming = true;
    const epoch = ++this.#epoch;
    const armingStarted = performance.now();
    try {
      let subId = this.#subId;
      const subAnswers = subId === undefined;
      if (subId === undefined) {
        // CLIENT ID first: a RESP2 connection in subscriber mode runs nothing but (un)subscribe and ping.
        subId = (await this.#sub.client("ID")) as number;
        await this.#sub.subscribe(INVALIDATION_CHANNEL);
        if (epoch !== this.#epoch) return;
        this.#subId = subId;
      }
      const prefixes = this.#prefixes.flatMap((prefix) => ["PREFIX", prefix]);
      // Off first: T may still track with the previous S's id (tracking cannot be switched on twice in BCAST).
      await this.#track.call("CLIENT", "TRACKING", "off");
      await this.#track.call("CLIENT", "TRACKING", "on", "REDIRECT", String(subId), "BCAST", ...prefixes);
      if (epoch !== this.#epoch || this.#closed) return;
      this.#flush();
      // S answered CLIENT ID and SUBSCRIBE, sent after armingStarted: a proof as good as a PING's. (An arming that
      // only redid T keeps S's last proof.)
      if (subAnswers) this.#provenAt = armingStarted;
      this.#armed = true;
      this.#logger?.debug({ prefixes: this.#prefixes, epoch }, "Redis client-side cache armed");
    } catch (error) {
      if (error instanceof ReplyError && !this.#closed) this.#refuse(error as Error);
      else if (error instanceof Error && error.message === "Command timed out" && !this.#closed) {
        // Redis went silent mid-way: the connections stay "ready" and no event would ever re-arm. Dropped, they
        // reconnect, and their next `ready` arms again.
        this.#subId = undefined;
        this.#sub.disconnect(true);
        this.#track.disconnect(true);
      }
      // Otherwise a connection dropped mid-way: its events disarmed, and its next `ready` arms again.
    } finally {
      this.#arming = false;
      if (this.#rearm) {
        this.#rearm = false;
        void this.#arm();
      }
    }
  }

  #refuse(error: Error): void {
    this.#refused = true;
    this.#disarm();
    this.#logger?.warn(
      { err: error },
      `Redis refused client-side caching (${error.message}); reads go to Redis every time. It needs Redis >= 6 ` +
        "with CLIENT TRACKING allowed (a Redis ACL user needs +client|id, +client|tracking and the " +
        `${INVALIDATION_CHANNEL} channel); set REDIS_CLIENT_CACHE=off to silence this`,
    );
    void Promise.all([quit(this.#sub), quit(this.#track)]);
  }
}

/** QUIT when connected (a polite goodbye), else stop reconnecting. Never rejects. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === "ready") {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
}
