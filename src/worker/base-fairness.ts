/**
 * Fairness between bases (docs/architecture.md invariant 6), built by hand because BullMQ's per-group limits are a
 * paid feature. Chosen mechanism: a cluster-wide cap on operations running at once per base, with parking.
 *
 * Why this one: a base takes 5 requests/s whatever we do, so an operation on a base that already has
 * `maxActivePerBase` running cannot go faster by running too — it would only hold a worker slot while it
 * waits for the base's limiter. Capping per base keeps every other slot free for other bases, so a write on
 * base B starts as soon as a worker sees it, however many imports base A has queued. Per-base queues would do
 * the same but need workers to discover queues dynamically; the cap keeps one queue and one Worker.
 *
 * Per base there are two lanes with the same cap (see fairnessLane in operation-worker.ts): single-batch writes
 * and bulk imports, so a quick write never waits behind imports on its own base either.
 *
 * How: `active:{base}` is a sorted set of job ids scored by lease expiry (Redis time), renewed while the job
 * runs, so a crashed worker's slot frees itself; the same job coming back after a stall keeps its slot. A job
 * over the cap is recorded in `parked:{base}` (FIFO) and moved to BullMQ's delayed set; whoever releases a slot
 * promotes the oldest parked job at once. The delay is only a safety net for a promotion that was missed.
 */
import type { Redis } from "ioredis";

/** KEYS: active, parked. ARGV: jobId, cap, leaseMs. 1 = run, 0 = parked. */
const ACQUIRE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], lease * 2)
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 1
end
redis.call('ZADD', KEYS[2], 'NX', now, ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
return 0
`;

/** KEYS: active. ARGV: jobId, leaseMs. */
const RENEW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 1
`;

/** KEYS: active, parked. ARGV: jobId. Returns the oldest parked job id to promote, or false. */
const RELEASE_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
local next = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if next then redis.call('ZREM', KEYS[2], next) end
return next
`;

export interface BaseFairnessOptions {
  redis: Redis;
  keyPrefix: string;
  maxActivePerBase: number;
  /** How long a slot is held without renewal (a crashed worker's slot frees itself after this). */
  leaseMs: number;
}

export class BaseFairness {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #cap: number;
  readonly leaseMs: number;

  constructor(opts: BaseFairnessOptions) {
    this.#redis = opts.redis;
    this.#prefix = `${opts.keyPrefix}:fair`;
    this.#cap = opts.maxActivePerBase;
    this.leaseMs = opts.leaseMs;
  }

  /** true: run the job now (slot taken or kept). false: the base is at its cap; the job is parked. */
  async acquire(baseId: string, jobId: string): Promise<boolean> {
    const ran = await this.#redis.eval(
      ACQUIRE_LUA,
      2,
      this.#key("active", baseId),
      this.#key("parked", baseId),
      jobId,
      this.#cap,
      this.leaseMs,
    );
    return ran === 1;
  }

  async renew(baseId: string, jobId: string): Promise<void> {
    await this.#redis.eval(RENEW_LUA, 1, this.#key("active", baseId), jobId, this.leaseMs);
  }

  /** Frees the job's slot; returns the parked job that should run next on this base, if any. */
  async release(baseId: string, jobId: string): Promise<string | undefined> {
    const next = await this.#redis.eval(
      RELEASE_LUA,
      2,
      this.#key("active", baseId),
      this.#key("parked", baseId),
      jobId,
    );
    return typeof next === "string" ? next : undefined;
  }

  /** Operations running on the base now (for tests and metrics). */
  async active(baseId: string): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#key("active", baseId), Date.now(), "+inf");
  }

  #key(kind: "active" | "parked", baseId: string): string {
    return `${this.#prefix}:${kind}:${baseId}`;
  }
}
