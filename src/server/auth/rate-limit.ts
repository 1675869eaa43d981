import type { Request, RequestHandler, Response } from "express";
import { rateLimit, type ClientRateLimitInfo, type IncrementResponse, type Store } from "express-rate-limit";
import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";
import type { Logger } from "../../shared/logger.ts";
import { redisDoesNotAnswer } from "../../shared/redis-unavailable.ts";
import { OAuthError } from "./oauth-error.ts";
import { sha256Hex } from "./pkce.ts";

/**
 * Request limits of the authorization server, counted in the KeyValueStore (Redis, shared by every instance;
 * SQLite in embedded mode) so they hold across instances.
 *
 * Hosted platforms (Claude.ai, ChatGPT) send many users' registrations and refreshes from a few egress IPs, so
 * the per-IP limits are only a high ceiling against one runaway source — 1,000 registrations an hour and 5,000
 * refreshes of distinct grants a minute from one address pass with room to spare. Abuse is bounded by other
 * means: a registration that completes no sign-in expires (PENDING_REGISTRATION_TTL_HOURS), identical public
 * registrations share one record (register.ts), and guessing at one client's secret or one grant's refresh
 * token is limited per client_id and per grant id, wherever the guesses come from (FailureLimit).
 *
 * `req.ip` is the client's address only when the app's `trust proxy` matches the deployment (Cloud Run: 1
 * hop); the composition root sets it. Every 429 carries Retry-After (seconds).
 */
export interface RateLimitSettings {
  /** Registrations per IP per hour (a ceiling: see above). */
  registerPerHour: number;
  /** Token and revocation requests per IP per minute (a ceiling: see above). */
  tokenPerMinute: number;
  /** /authorize, consent decisions and callbacks per IP per minute (people's browsers, not platforms). */
  authorizePerMinute: number;
  /** Failed client authentications (a wrong client_secret) per client_id per 10 minutes. */
  clientAuthFailuresPer10Min: number;
  /** Refused refresh_token requests (invalid_grant) per live grant per 10 minutes. */
  refreshFailuresPer10Min: number;
}

export const defaultRateLimits: RateLimitSettings = {
  registerPerHour: 3_000,
  tokenPerMinute: 20_000,
  authorizePerMinute: 60,
  clientAuthFailuresPer10Min: 20,
  refreshFailuresPer10Min: 10,
};

/** The window of the per-client and per-grant failure limits. */
export const FAILURE_WINDOW_MS = 10 * 60_000;

/** A fixed-window express-rate-limit Store over the KeyValueStore (Redis, or SQLite in embedded mode). */
export class KeyValueRateLimitStore implements Store {
  readonly #kv: KeyValueStore;
  readonly prefix: string;
  readonly localKeys = false;
  #windowMs = 60_000;

  constructor(kv: KeyValueStore, prefix: string, windowMs?: number) {
    this.#kv = kv;
    this.prefix = prefix;
    if (windowMs !== undefined) this.#windowMs = windowMs;
  }

  init(options: { windowMs: number }): void {
    this.#windowMs = options.windowMs;
  }

  /** The window's count and end, without counting; undefined when no window is open. */
  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const counter = await this.#kv.counter(this.prefix + key);
    if (counter === undefined || counter.count === 0) return undefined;
    return { totalHits: counter.count, resetTime: new Date(Date.now() + Math.max(counter.resetInMs, 0)) };
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
  logger: Logger;
}): RequestHandler {
  const limiter = rateLimit({
    windowMs: opts.windowMs,
    limit: opts.limit,
    // draft-8 RateLimit headers on every answer; express-rate-limit adds Retry-After to each 429.
    standardHeaders: "draft-8",
    legacyHeaders: false,
    store: new KeyValueRateLimitStore(opts.kv, `${opts.keyPrefix}:oauth:rl:${opts.name}:`),
    // Store errors come to the wrapper below, which decides.
    passOnStoreError: false,
    handler: (req, res) => opts.onLimit(req, res),
  });
  // A Redis that does not answer goes to the router's error handler (503 temporarily_unavailable, or the 503 page):
  // every one of these endpoints needs Redis next and would wait REDIS_COMMAND_TIMEOUT_MS a second time. Any other
  // store failure lets the request through unlimited, logged, rather than turn it into a limiter error.
  return (req, res, next) => {
    void limiter(req, res, (error?: unknown) => {
      if (error === undefined || redisDoesNotAnswer(error)) return next(error);
      opts.logger.error({ err: error, limit: opts.name }, "rate limit store failed: request let through");
      next();
    });
  };
}

/** A 429 in the token endpoints' JSON error shape, with Retry-After. */
export function tooManyRequests(description: string, retryAfterSec: number): OAuthError {
  const error = new OAuthError("too_many_requests", description, 429);
  error.retryAfterSec = Math.max(1, Math.ceil(retryAfterSec));
  return error;
}

/**
 * Failures counted per key (a client_id, a grant id) in a fixed window that opens with the first failure.
 * Once `limit` failures are counted, `check` refuses every attempt on that key — right or wrong — until the
 * window closes: only then does it limit guessing, from any number of addresses. Successes are never counted,
 * so a platform refreshing thousands of grants through one client_id is never slowed by it.
 *
 * The price: whoever knows a key can hold it shut by failing on purpose (20 wrong secrets per 10 minutes for a
 * confidential client). Public clients have no secret to fail on, and a grant id is only known to holders of
 * the grant's tokens. Store errors are logged and let the request through, like the per-IP limits; a Redis that does
 * not answer fails the request instead (503 temporarily_unavailable), as it would one step later.
 */
export class FailureLimit {
  readonly #store: KeyValueRateLimitStore;
  readonly #limit: number;
  readonly #what: string;
  readonly #logger: Logger;

  constructor(opts: {
    kv: KeyValueStore;
    keyPrefix: string;
    /** Names the counter in the store (`${keyPrefix}:oauth:fail:${name}:…`). */
    name: string;
    windowMs: number;
    limit: number;
    /** What failed, for the 429's description, e.g. "failed client authentications for this client_id". */
    what: string;
    logger: Logger;
  }) {
    this.#store = new KeyValueRateLimitStore(opts.kv, `${opts.keyPrefix}:oauth:fail:${opts.name}:`, opts.windowMs);
    this.#limit = opts.limit;
    this.#what = opts.what;
    this.#logger = opts.logger;
  }

  /** Throws a 429 OAuthError (with retryAfterSec) while `key` has used up its failures. */
  async check(key: string): Promise<void> {
    let info: ClientRateLimitInfo | undefined;
    try {
      info = await this.#store.get(counterKey(key));
    } catch (error) {
      // As ipRateLimit: the request needs Redis next, so a Redis that does not answer fails it now.
      if (redisDoesNotAnswer(error)) throw error;
      this.#logger.error({ err: error }, "failure limit unavailable: request let through");
      return;
    }
    if (info === undefined || info.totalHits < this.#limit) return;
    const waitSec = ((info.resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000;
    throw tooManyRequests(`Too many ${this.#what}; retry after ${Math.max(1, Math.ceil(waitSec))} seconds`, waitSec);
  }

  /** Counts one failure of `key`. */
  async fail(key: string): Promise<void> {
    try {
      await this.#store.increment(counterKey(key));
    } catch (error) {
      this.#logger.error({ err: error }, "failure limit unavailable: failure not counted");
    }
  }
}

/** Ids are short; a long one (a metadata document URL) is hashed so a key stays small. */
function counterKey(key: string): string {
  return key.length <= 200 ? key : `sha256:${sha256Hex(key)}`;
}
