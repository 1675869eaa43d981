import Bottleneck from "bottleneck";
import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { AdmissionGate, AdmissionTicket } from "./admission.ts";
// Side effect: makes Bottleneck's clustered limiters recover on Redis 7 (see the module).
import "./bottleneck-redis7.ts";
import { MemoryAdmissionGate } from "./memory-admission.ts";
import { RedisAdmissionGate } from "./redis-admission.ts";
import { pacingFor } from "./spacing.ts";
import type { AirtableLimiter, RateLimitScope } from "./types.ts";

export interface LimiterSettings {
  /** Airtable's per-base ceiling (5). */
  baseRps: number;
  /** Airtable's per-user ceiling across bases (50). */
  userRps: number;
  /** How long a 429 pauses the base for every process (Airtable: 30 s). */
  penaltyMs: number;
  /** Added to the 1 s window so arrival jitter cannot squeeze one request too many into a second. */
  jitterMarginMs: number;
  /** How long a base's or user's pacing state outlives its last request, in Redis and in memory. */
  idleTimeoutMs: number;
}

export const defaultLimiterSettings: LimiterSettings = {
  baseRps: 5,
  userRps: 50,
  penaltyMs: 30_000,
  jitterMarginMs: 40,
  idleTimeoutMs: 5 * 60_000,
};

/** The limiter settings every process (server, worker, stdio) reads from the environment. */
export function limiterSettingsFrom(config: Config): LimiterSettings {
  return {
    ...defaultLimiterSettings,
    baseRps: config.AIRTABLE_BASE_RPS,
    userRps: config.AIRTABLE_USER_RPS,
    penaltyMs: config.AIRTABLE_RATE_LIMIT_PENALTY_MS,
    jitterMarginMs: config.AIRTABLE_LIMITER_JITTER_MARGIN_MS,
  };
}

export interface LimiterHooks {
  /** Called with the time a request spent in the limiter before it was admitted (for metrics). */
  onAdmitted?(scope: RateLimitScope, waitedMs: number): void;
  onPenalty?(scope: RateLimitScope): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Every Airtable request of every process passes here. Two layers:
 *  1. Bottleneck groups (one limiter per base, then one per user) pace requests: in cluster mode their
 *     schedule lives in Redis, so all processes share one queue order and one spacing per base.
 *  2. The admission gate, just before the request leaves: a 429 penalty in force, or a full sliding
 *     window, sends the request back to wait. Penalised requests re-enter Bottleneck afterwards, so they
 *     come out paced instead of as a burst when the penalty ends.
 */
export class BottleneckAirtableLimiter implements AirtableLimiter {
  readonly #bases: Bottleneck.Group;
  readonly #users: Bottleneck.Group;
  readonly #gate: AdmissionGate;
  readonly #settings: LimiterSettings;
  readonly #connection: Bottleneck.IORedisConnection | undefined;
  readonly #hooks: LimiterHooks;
  readonly #logger: Logger | undefined;
  readonly #durations = new RecentDurations(32);

  private constructor(parts: {
    bases: Bottleneck.Group;
    users: Bottleneck.Group;
    gate: AdmissionGate;
    settings: LimiterSettings;
    connection?: Bottleneck.IORedisConnection;
    hooks?: LimiterHooks;
    logger?: Logger;
  }) {
    this.#bases = parts.bases;
    this.#users = parts.users;
    this.#gate = parts.gate;
    this.#settings = parts.settings;
    this.#connection = parts.connection;
    this.#hooks = parts.hooks ?? {};
    this.#logger = parts.logger;
  }

  /** The shared limiter: state in Redis, honoured by every server and worker process. */
  static clustered(options: {
    redis: Redis;
    keyPrefix: string;
    settings?: Partial<LimiterSettings>;
    hooks?: LimiterHooks;
    logger?: Logger;
  }): BottleneckAirtableLimiter {
    const settings = { ...defaultLimiterSettings, ...options.settings };
    // Bottleneck duplicates the client for its pub/sub subscriber; both die with disconnect().
    const connection = new Bottleneck.IORedisConnection({ client: options.redis.duplicate() });
    connection.on("error", (error: unknown) => options.logger?.error({ err: error }, "limiter Redis error"));
    const common = {
      datastore: "ioredis",
      connection,
      clearDatastore: false,
      timeout: settings.idleTimeoutMs,
    } as const;
    const base = pacingFor(settings.baseRps, settings.jitterMarginMs);
    const user = pacingFor(settings.userRps, settings.jitterMarginMs);
    return new BottleneckAirtableLimiter({
      bases: new Bottleneck.Group({ ...common, id: `${options.keyPrefix}:base`, minTime: base.minTimeMs }),
      users: new Bottleneck.Group({ ...common, id: `${options.keyPrefix}:user`, minTime: user.minTimeMs }),
      gate: new RedisAdmissionGate(options.redis, options.keyPrefix, {
        windowMs: base.windowMs,
        baseLimit: settings.baseRps,
        userLimit: settings.userRps,
      }),
      settings,
      connection,
      ...(options.hooks && { hooks: options.hooks }),
      ...(options.logger && { logger: options.logger }),
    });
  }

  /** One process, no Redis (stdio mode for a single local user). Same rules, kept in memory. */
  static local(options: { settings?: Partial<LimiterSettings>; hooks?: LimiterHooks; logger?: Logger } = {}) {
    const settings = { ...defaultLimiterSettings, ...options.settings };
    const base = pacingFor(settings.baseRps, settings.jitterMarginMs);
    const user = pacingFor(settings.userRps, settings.jitterMarginMs);
    return new BottleneckAirtableLimiter({
      bases: new Bottleneck.Group({ minTime: base.minTimeMs, timeout: settings.idleTimeoutMs }),
      users: new Bottleneck.Group({ minTime: user.minTimeMs, timeout: settings.idleTimeoutMs }),
      gate: new MemoryAdmissionGate({
        windowMs: base.windowMs,
        baseLimit: settings.baseRps,
        userLimit: settings.userRps,
      }),
      settings,
      ...(options.hooks && { hooks: options.hooks }),
      ...(options.logger && { logger: options.logger }),
    });
  }

  async schedule<T>(scope: RateLimitScope, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let admission: Admitted;
    for (;;) {
      const paced = await this.#pace(scope);
      if ("ticket" in paced) {
        admission = paced;
        break;
      }
      // Wait out the penalty outside the pacer, then queue again: spread a little so that every
      // process's waiting requests do not all hit Bottleneck in the same millisecond.
      await sleep(paced.penaltyMs + Math.random() * 50);
    }
    this.#hooks.onAdmitted?.(scope, performance.now() - started);
    try {
      return await fn();
    } finally {
      // Timed from the admission call itself: a stall between Redis admitting the request and this process
      // resuming (a starved event loop) delays the send just as much as a slow network does.
      await this.#reviseIfLate(scope, admission.ticket, performance.now() - admission.requestedAt);
    }
  }

  /**
   * A request that took much longer than usual may have reached Airtable late: a cold connection (TCP/TLS
   * set-up), the first fetch of a process, an event-loop stall. Counted at its admission time it would
   * let the next requests bunch up behind it inside one second at Airtable, so its place in the window is
   * moved by the extra time. The typical duration is the median of this process's recent requests (the
   * minimum would be safer still but costs ~4 % of throughput at 150 ms latency, as measured); a process with
   * too little history assumes the whole duration was delay (conservative, for its first few requests, which
   * are the ones a cold start slows down).
   */
  async #reviseIfLate(scope: RateLimitScope, ticket: AdmissionTicket, durationMs: number): Promise<void> {
    const typical = this.#durations.typical();
    this.#durations.add(durationMs);
    const delay = durationMs - typical;
    if (delay <= this.#settings.jitterMarginMs / 2) return;
    try {
      await this.#gate.reviseArrival(scope, ticket, delay);
    } catch (error) {
      this.#logger?.warn({ err: error }, "could not revise a late request's arrival time");
    }
  }

  async reportRateLimited(scope: RateLimitScope): Promise<void> {
    this.#logger?.warn(
      { baseId: scope.baseId, userId: scope.userId },
      "Airtable answered 429: pausing for every process",
    );
    this.#hooks.onPenalty?.(scope);
    await this.#gate.penalize(scope, this.#settings.penaltyMs);
  }

  /** Penalty left for the scope in ms; 0 when none (for health pages and tests). */
  penaltyRemaining(scope: RateLimitScope): Promise<number> {
    return this.#gate.penaltyRemaining(scope);
  }

  async close(): Promise<void> {
    // Local queued jobs are dropped; Redis state stays for the other processes.
    await Promise.allSettled([this.#bases.disconnect?.(false), this.#users.disconnect?.(false)]);
    await this.#connection?.disconnect(false);
  }

  /** Resolves with the admission once admitted, or the penalty (ms) to wait before trying again. */
  async #pace(scope: RateLimitScope): Promise<Admitted | { penaltyMs: number }> {
    const admitThroughUser = () => this.#users.key(scope.userId).schedule(() => this.#admit(scope));
    return scope.baseId ? this.#bases.key(scope.baseId).schedule(admitThroughUser) : admitThroughUser();
  }

  async #admit(scope: RateLimitScope): Promise<Admitted | { penaltyMs: number }> {
    for (;;) {
      const requestedAt = performance.now();
      const admission = await this.#gate.admit(scope);
      if (admission.admitted) return { ticket: admission.ticket, requestedAt };
      if (admission.reason === "penalty") return { penaltyMs: admission.waitMs };
      // The window is full although pacing should have prevented it (a late timer, another deployment
      // sharing the token): wait for the oldest request to leave the window.
      await sleep(admission.waitMs);
    }
  }
}

/** An admitted request: its place in the windows, and when (this process's clock) admission was asked for. */
interface Admitted {
  ticket: AdmissionTicket;
  requestedAt: number;
}

/** The median of the last few request durations of this process: its estimate of a request without delay. */
class RecentDurations {
  /** Below this many samples there is no trustworthy baseline: cold-start samples are all slow. */
  static readonly minimumSamples = 3;
  readonly #size: number;
  readonly #values: number[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  add(ms: number): void {
    this.#values.push(ms);
    if (this.#values.length > this.#size) this.#values.shift();
  }

  typical(): number {
    if (this.#values.length < RecentDurations.minimumSamples) return 0;
    const sorted = [...this.#values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }
}
