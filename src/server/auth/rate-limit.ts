import type { Request, RequestHandler, Response } from "express";
import { rateLimit, type IncrementResponse, type Store } from "express-rate-limit";
import type { Redis } from "ioredis";

/**
 * Per-client-IP request limits for the endpoints strangers can hammer. `req.ip` is the client's address only
 * when the app's `trust proxy` matches the deployment (Cloud Run: 1 hop); the composition root sets it. The
 * counters live in Redis so a limit holds across instances.
 */
export interface RateLimitSettings {
  /** Registrations per IP per hour. */
  registerPerHour: number;
  /** Token and revocation requests per IP per minute. */
  tokenPerMinute: number;
  /** /authorize and consent decisions per IP per minute. */
  authorizePerMinute: number;
}

export const defaultRateLimits: RateLimitSettings = {
  registerPerHour: 60,
  tokenPerMinute: 120,
  authorizePerMinute: 60,
};

/** INCR, and start the window on the first hit; returns [count, ms left]. */
const INCREMENT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

/** A fixed-window express-rate-limit Store over one Redis connection. */
export class RedisRateLimitStore implements Store {
  readonly #redis: Redis;
  readonly prefix: string;
  readonly localKeys = false;
  #windowMs = 60_000;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.prefix = prefix;
  }

  init(options: { windowMs: number }): void {
    this.#windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const [count, ttl] = (await this.#redis.eval(INCREMENT_LUA, 1, this.prefix + key, String(this.#windowMs))) as [
      number,
      number,
    ];
    return { totalHits: count, resetTime: new Date(Date.now() + ttl) };
  }

  async decrement(key: string): Promise<void> {
    await this.#redis.decr(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await this.#redis.del(this.prefix + key);
  }
}

export function ipRateLimit(opts: {
  redis: Redis;
  keyPrefix: string;
  name: string;
  windowMs: number;
  limit: number;
  /** Answers the request that went over the limit (JSON for API endpoints, a page for browsers). */
  onLimit: (req: Request, res: Response) => void;
}): RequestHandler {
  return rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    store: new RedisRateLimitStore(opts.redis, `${opts.keyPrefix}:oauth:rl:${opts.name}:`),
    // Redis down means sign-in is down anyway; do not also turn every request into a limiter error.
    passOnStoreError: true,
    handler: (req, res) => opts.onLimit(req, res),
  });
}
