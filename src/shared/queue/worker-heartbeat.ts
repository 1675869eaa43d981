/**
 * Worker liveness, so that "no worker is running" is said instead of writes silently waiting: every worker
 * publishes a heartbeat, and the server reads whether any worker has been alive lately (its /readyz reports
 * "degraded" when writes wait and none has; a write call that cannot start says so).
 *
 * One sorted set per deployment, `${REDIS_KEY_PREFIX}:workers:heartbeats`: member = a worker's id, score = the
 * time of its last beat in ms, taken from the Redis server's clock (TIME), so clock skew between machines cannot
 * make a live worker look dead or a dead one alive. A beat is one script (ZADD, trim of members older than twice
 * the window, PEXPIRE) every HEARTBEAT_INTERVAL_MS per worker; a worker that closes removes itself at once, one
 * that crashes ages out after WORKER_ALIVE_WINDOW_MS.
 *
 * Absence is measured as it is seen, not inferred from an empty set: a reading that finds no worker alive stamps
 * `${REDIS_KEY_PREFIX}:workers:absent-since` (Redis time, only if unset) and keeps it for two windows from that
 * reading; every beat and every clean stop deletes it. So "no worker for 30 s" (`WorkerLiveness.absentForWindow`)
 * means readings have seen none for 30 s on end, none more than two windows apart — not a restart (a stop, then the
 * successor's first beat seconds later), not a server that has just started, not a Redis that lost its keys (a
 * restart without persistence, a flush, a failover) or came back from a snapshot older than two windows (the stamp
 * has expired by then), each of which only starts the count again. A quiet deployment's first write after two
 * windows without readings therefore waits as usual.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";

/** How often a worker beats. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** A worker whose last beat is older than this counts as gone (three beats missed). */
export const WORKER_ALIVE_WINDOW_MS = 30_000;

const heartbeatKey = (keyPrefix: string): string => `${keyPrefix}:workers:heartbeats`;
const absentSinceKey = (keyPrefix: string): string => `${keyPrefix}:workers:absent-since`;

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS[1] = set, KEYS[2] = absent-since stamp; ARGV[1] = worker id, ARGV[2] = how long a beat is kept (ms).
 * Returns the beat's time.
 */
const BEAT_LUA = `${NOW_MS}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
return now`;

/** KEYS[1] = set, KEYS[2] = absent-since stamp; ARGV[1] = worker id. A stop starts the count of absence again. */
const STOP_LUA = `redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`;

/**
 * KEYS[1] = set, KEYS[2] = absent-since stamp; ARGV[1] = window (ms). When none is alive, stamps the start of an
 * absence (if unstamped) and keeps the stamp two windows from now; a write Redis refuses (out of memory) only
 * leaves the absence uncounted (pcall). Returns {workers beating within the window, ms since the latest beat or
 * -1, ms for which readings have seen no worker or -1 (a clock that went back counts as 0)}.
 */
const STATUS_LUA = `${NOW_MS}
local window = tonumber(ARGV[1])
local alive = redis.call('ZCOUNT', KEYS[1], now - window, '+inf')
local latest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local ago = -1
if latest[2] then ago = now - tonumber(latest[2]) end
local absent = -1
if alive == 0 then
  redis.pcall('SET', KEYS[2], now, 'NX')
  redis.pcall('PEXPIRE', KEYS[2], 2 * window)
  local since = tonumber(redis.call('GET', KEYS[2]) or now)
  absent = math.max(0, now - since)
end
return {alive, ago, absent}`;

export interface WorkerHeartbeatOptions {
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  /** Default HEARTBEAT_INTERVAL_MS. */
  intervalMs?: number;
  /** Default WORKER_ALIVE_WINDOW_MS (beats are kept twice as long, for "last seen"). */
  windowMs?: number;
}

/** A worker's heartbeat: beats at once and then every interval, until `stop`. */
export class WorkerHeartbeat {
  /** `host:pid:random`: one per worker (several workers in one process each have their own). */
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  readonly #opts: WorkerHeartbeatOptions;
  readonly #key: string;
  readonly #absentSinceKey: string;
  #timer: NodeJS.Timeout | undefined;
  /** A beat still waiting for Redis (a worker's connection waits through outages): the next one is skipped. */
  #pending: Promise<void> | undefined;

  constructor(opts: WorkerHeartbeatOptions) {
    this.#opts = opts;
    this.#key = heartbeatKey(opts.keyPrefix);
    this.#absentSinceKey = absentSinceKey(opts.keyPrefix);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#opts.intervalMs ?? HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /**
   * Stops beating and removes this worker from the set, so the server knows at once that it is gone; the count
   * of absence starts again from here (a successor may be starting: see WorkerLiveness.absentForWindow).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
    await this.#opts.redis.eval(STOP_LUA, 2, this.#key, this.#absentSinceKey, this.workerId).catch(() => undefined);
  }

  /** How long beats are kept: twice the window, for "last seen". */
  #keepMs(): number {
    return 2 * (this.#opts.windowMs ?? WORKER_ALIVE_WINDOW_MS);
  }

  #beat(): void {
    if (this.#pending !== undefined) return;
    const keepMs = this.#keepMs();
    this.#pending = this.#opts.redis
      .eval(BEAT_LUA, 2, this.#key, this.#absentSinceKey, this.workerId, keepMs)
      .then(
        () => undefined,
        (error: unknown) => this.#opts.logger.warn({ err: error }, "worker heartbeat not published"),
      )
      .finally(() => (this.#pending = undefined));
  }
}

export interface WorkerStatus {
  /** Workers whose last beat is within the window. */
  alive: number;
  /** Ms since the latest beat of any worker (within twice the window), or undefined when none is known. */
  lastBeatAgoMs?: number;
  /**
   * With none alive: ms since the first reading that found none alive (after the last beat or clean stop, and with
   * no gap of two windows between readings); 0 for that first reading. Undefined while a worker is alive.
   */
  absentForMs?: number;
}

/** The server's reading of the heartbeats. Each reading may stamp the start of an absence (see above). */
export class WorkerLiveness {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #absentSinceKey: string;
  readonly #windowMs: number;

  constructor(opts: { redis: Redis; keyPrefix: string; windowMs?: number }) {
    this.#redis = opts.redis;
    this.#key = heartbeatKey(opts.keyPrefix);
    this.#absentSinceKey = absentSinceKey(opts.keyPrefix);
    this.#windowMs = opts.windowMs ?? WORKER_ALIVE_WINDOW_MS;
  }

  /** The window in ms: a worker counts as alive when it beat within it. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** One script (one round trip); rejects with ioredis's error when Redis does not answer. */
  async status(): Promise<WorkerStatus> {
    const [alive, ago, absent] = (await this.#redis.eval(
      STATUS_LUA,
      2,
      this.#key,
      this.#absentSinceKey,
      this.#windowMs,
    )) as [number, number, number];
    return {
      alive,
      ...(ago >= 0 && { lastBeatAgoMs: ago }),
      ...(absent >= 0 && { absentForMs: absent }),
    };
  }

  /** Whether any worker has beaten within the window. Rejects when Redis does not answer. */
  async anyAlive(): Promise<boolean> {
    return (await this.status()).alive > 0;
  }

  /**
   * Whether readings have seen no worker for a whole window (default 30 s) on end: not during a restart (a clean
   * stop, then the successor's first beat seconds later), not in a deployment's first window, not right after
   * Redis lost its keys. A write call then answers at once that no worker is running, instead of waiting first.
   * (/readyz is stricter in the other direction: it reports "degraded" as soon as writes wait and none is alive.)
   * Rejects when Redis does not answer.
   */
  async absentForWindow(): Promise<boolean> {
    const status = await this.status();
    return status.alive === 0 && (status.absentForMs ?? 0) >= this.#windowMs;
  }
}
