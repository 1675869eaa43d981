import type { Request, RequestHandler, Response } from "express";
import { rateLimit, type IncrementResponse, type Store } from "express-rate-limit";
import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";

/**
 * Per-client-IP request limits for the endpoints strangers can hammer. `req.ip` is the client's address only
 * when the app's `trust proxy` matches the deployment (Cloud Run: 1 hop); the composition root sets it. The
 * counters live in the KeyValueStore (Redis) so a limit holds across instances.
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

/** A fixed-window express-rate-limit Store over the KeyValueStore (Redis, or SQLite in embedded mode). */
export class KeyValueRateLimitStore implements Store {
  readonly #kv: KeyValueStore;
  readonly prefix: string;
  readonly localKeys = false;
  #windowMs = 60_000;

  constructor(kv: KeyValueStore, prefix: string) {
    this.#kv = kv;
    this.prefix = prefix;
  }

  init(options: { windowMs: number }): void {
    this.#windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const { count, resetInMs } = await this.#kv.increment(this.prefix + key, this.#windowMs);
    return { totalHits: count, resetTime: new Date(Date.now() + resetInMs) };
  }

  async decrement(key: string): Promise<void> {
    await this.#kv.decrement(this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await this.#kv.delete(this.prefix + key);
  }
}

export function ipRateLimit(opts: {
  kv: KeyValueStore;
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
    store: new KeyValueRateLimitStore(opts.kv, `${opts.keyPrefix}:oauth:rl:${opts.name}:`),
    // Redis down means sign-in is down anyway; do not also turn every request into a limiter error.
    passOnStoreError: true,
    handler: (req, res) => opts.onLimit(req, res),
  });
}
