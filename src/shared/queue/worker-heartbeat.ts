/**
 * Worker liveness, so that "no worker is running" is said instead of writes silently waiting: every worker
 * publishes a heartbeat, and the server reads whether any worker has been alive lately (its /readyz reports
 * "degraded" when writes wait and none has; a write call that cannot start says so).
 *
 * One sorted set per deployment, `${REDIS_KEY_PREFIX}:workers:heartbeats`: member = a worker's id, score = the
 * time of its last beat in ms, taken from the Redis server's clock (TIME), so clock skew between machines cannot
 * make a live worker look dead or a dead one alive. A beat is one script (ZADD, trim of members older than twice
 * the window, PEXPIRE) every HEARTBEAT_INTERVAL_MS per worker; a worker that closes removes itself at once, one
 * that crashes ages out after WORKER_ALIVE_WINDOW_MS. A worker that closes also stamps
 * `${REDIS_KEY_PREFIX}:workers:last-stop` (Redis time, kept twice the window), so that a restart — one worker
 * stopping, its successor starting seconds later — is told apart from a deployment with no worker at all
 * (`WorkerLiveness.absentForWindow`).
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
const lastStopKey = (keyPrefix: string): string => `${keyPrefix}:workers:last-stop`;

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] = set; ARGV[1] = worker id, ARGV[2] = how long a beat is kept (ms). Returns the beat's time. */
const BEAT_LUA = `${NOW_MS}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return now`;

/** KEYS[1] = set, KEYS[2] = last-stop stamp; ARGV[1] = worker id, ARGV[2] = how long the stamp is kept (ms). */
const STOP_LUA = `${NOW_MS}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], now, 'PX', ARGV[2])
return now`;

/**
 * KEYS[1] = set, KEYS[2] = last-stop stamp; ARGV[1] = window (ms). Returns {workers beating within the window,
 * ms since the latest beat or -1, ms since a worker last stopped or -1}.
 */
const STATUS_LUA = `${NOW_MS}
local alive = redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')
local latest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local ago = -1
if latest[2] then ago = now - tonumber(latest[2]) end
local stopped = redis.call('GET', KEYS[2])
local stopAgo = -1
if stopped then stopAgo = now - tonumber(stopped) end
return {alive, ago, stopAgo}`;

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
  readonly #lastStopKey: string;
  #timer: NodeJS.Timeout | undefined;
  /** A beat still waiting for Redis (a worker's connection waits through outages): the next one is skipped. */
  #pending: Promise<void> | undefined;

  constructor(opts: WorkerHeartbeatOptions) {
    this.#opts = opts;
    this.#key = heartbeatKey(opts.keyPrefix);
    this.#lastStopKey = lastStopKey(opts.keyPrefix);
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#beat();
    this.#timer = setInterval(() => this.#beat(), this.#opts.intervalMs ?? HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /**
   * Stops beating and removes this worker from the set, so the server knows at once that it is gone, and stamps
   * the time of the stop (a successor may be starting: see WorkerLiveness.absentForWindow).
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pending;
    await this.#opts.redis
      .eval(STOP_LUA, 2, this.#key, this.#lastStopKey, this.workerId, this.#keepMs())
      .catch(() => undefined);
  }

  /** How long beats and the last-stop stamp are kept: twice the window, for "last seen". */
  #keepMs(): number {
    return 2 * (this.#opts.windowMs ?? WORKER_ALIVE_WINDOW_MS);
  }

  #beat(): void {
    if (this.#pending !== undefined) return;
    const keepMs = this.#keepMs();
    this.#pending = this.#opts.redis
      .eval(BEAT_LUA, 1, this.#key, this.workerId, keepMs)
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
  /** Ms since a worker last stopped cleanly (within twice the window), or undefined when none is known. */
  lastStopAgoMs?: number;
}

/** The server's reading of the heartbeats. */
export class WorkerLiveness {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #lastStopKey: string;
  readonly #windowMs: number;
  /** When this reader started watching (performance.now() ms): before a whole window, absence proves nothing. */
  readonly #since = performance.now();

  constructor(opts: { redis: Redis; keyPrefix: string; windowMs?: number }) {
    this.#redis = opts.redis;
    this.#key = heartbeatKey(opts.keyPrefix);
    this.#lastStopKey = lastStopKey(opts.keyPrefix);
    this.#windowMs = opts.windowMs ?? WORKER_ALIVE_WINDOW_MS;
  }

  /** The window in ms: a worker counts as alive when it beat within it. */
  get windowMs(): number {
    return this.#windowMs;
  }

  async status(): Promise<WorkerStatus> {
    const [alive, ago, stopAgo] = (await this.#redis.eval(
      STATUS_LUA,
      2,
      this.#key,
      this.#lastStopKey,
      this.#windowMs,
    )) as [number, number, number];
    return {
      alive,
      ...(ago >= 0 && { lastBeatAgoMs: ago }),
      ...(stopAgo >= 0 && { lastStopAgoMs: stopAgo }),
    };
  }

  /** Whether any worker has beaten within the window. */
  async anyAlive(): Promise<boolean> {
    return (await this.status()).alive > 0;
  }

  /**
   * Whether the deployment has had no worker for a whole window (default 30 s, /readyz's rule): none beat within
   * it, none stopped within it (a worker restarting — stop, then its successor's first beat seconds later — is not
   * an absence), and this reader has been watching for at least that long (a server starting beside its workers
   * has not seen them yet). A write call then answers at once that no worker is running, instead of waiting.
   */
  async absentForWindow(): Promise<boolean> {
    if (performance.now() - this.#since < this.#windowMs) return false;
    const status = await this.status();
    return status.alive === 0 && (status.lastStopAgoMs === undefined || status.lastStopAgoMs >= this.#windowMs);
  }
}
