import { AsyncLocalStorage } from "node:async_hooks";
import { setTimeout as wait } from "node:timers/promises";
import Bottleneck from "bottleneck";
import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { AdmissionBook, AdmissionTicket } from "./book.ts";
import { MemoryAdmissionBook } from "./memory-book.ts";
import { RedisAdmissionBook } from "./redis-book.ts";
import { SendJitter } from "./send-jitter.ts";
import { untilAborted } from "../until-aborted.ts";
import type { AirtableLimiter, RateLimitScope, ScheduleOptions, SendTiming } from "./types.ts";

export interface LimiterSettings {
  /** Airtable's per-base ceiling (5 requests in any rolling second). */
  baseRps: number;
  /** Airtable's per-user ceiling across bases (50). */
  userRps: number;
  /** How long a 429 pauses the base for every process (Airtable: 30 s). */
  penaltyMs: number;
  /**
   * The most a request's arrival at Airtable may lag its admission before the next sixth-in-a-second request may
   * go (ms). The margin actually used is measured per process (send-jitter.ts) and capped by this.
   */
  jitterMarginMs: number;
  /** How long a base's or user's local queue (a Bottleneck limiter) outlives its last request, in ms. */
  idleTimeoutMs: number;
}

export const defaultLimiterSettings: LimiterSettings = {
  baseRps: 5,
  userRps: 50,
  penaltyMs: 30_000,
  jitterMarginMs: 40,
  idleTimeoutMs: 60_000,
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

/** What this process holds for the limiter: local queues and penalties (tests and health pages). */
export interface LimiterLocalState {
  /** Bases with a local Bottleneck queue. */
  bases: number;
  /** Users with a local Bottleneck queue (base-less calls). */
  users: number;
  /** 429 penalties this process remembers. */
  penalties: number;
  /** Admission books held in memory (local limiter only; Redis books expire in Redis). */
  books: number;
}

/**
 * Every Airtable request of every process passes here. Two layers:
 *  1. Bottleneck, local to this process: a queue per base (and per user, for base-less calls) with
 *     `maxConcurrent: 1`, so this process's requests to a base are booked one at a time in FIFO order and at most one
 *     of them is booked ahead and waiting (an empty queue is skipped: `#through`). Idle queues are dropped after
 *     `idleTimeoutMs` (Bottleneck.Group's timeout); nothing of them runs while idle.
 *  2. The admission book (book.ts), shared by every process through one Redis script per request (or in memory
 *     without Redis): the request is entered at the earliest moment its base and its user have room in Airtable's
 *     rolling second, plus this process's measured jitter margin, and waits until then — 0 ms on an idle base, so
 *     up to 5 requests go out at once, and pacing starts only when the window is full. A 429 penalty in force for
 *     the base or the user sends the request back to wait it out; it then queues again, so requests resume paced.
 *
 * A request's lateness is its write delay (booked moment → its bytes handed to the socket, which the request reports
 * through `SendTiming.written`) plus its extra round-trip time (write → answer, minus this process's fastest). A
 * write already later than the booking's margin moves the request's place in the window at once; after the answer,
 * the whole lateness feeds the margin estimate, and whatever of it the entry does not cover yet moves the place
 * again (`reviseArrival`, never awaited by the caller). Each correction adds the margin's 5 ms headroom, for the same
 * reasons the margin has it: the book's clock counts whole milliseconds, and the fastest round trip the extra time
 * is measured against varies from request to request.
 */
export class BottleneckAirtableLimiter implements AirtableLimiter {
  readonly #bases: Bottleneck.Group;
  readonly #users: Bottleneck.Group;
  readonly #book: AdmissionBook;
  readonly #settings: LimiterSettings;
  readonly #hooks: LimiterHooks;
  readonly #logger: Logger | undefined;
  readonly #jitter: SendJitter;
  /**
   * What the 429 warning says of the pause: undefined for the shared limiter (every process honours it); for a local
   * one, that only this process pauses, plus the caller's `rateLimitedHint` (who else may be spending the budget).
   */
  readonly #localPause: { hint: string | undefined } | undefined;
  /** Penalties this process learnt itself (`reportRateLimited`): its booked requests check them before leaving. */
  readonly #penalties = new Map<string, number>();
  /** Jobs running outside the base's queue (it was empty): the queue's next job waits for them. */
  readonly #direct = new Map<string, Promise<void>>();
  /**
   * "cold" until a first request is on its way; then that request (`fn`) and the promise the others wait on until it
   * has its answer (`answered`, settled by `release`); "warm" from then on.
   */
  #first: "cold" | "warm" | { fn: unknown; answered: Promise<void>; release(): void } = "cold";

  private constructor(parts: {
    book: AdmissionBook;
    settings: LimiterSettings;
    hooks?: LimiterHooks;
    logger?: Logger;
    localPause?: { hint: string | undefined };
  }) {
    this.#localPause = parts.localPause;
    this.#book = parts.book;
    this.#settings = parts.settings;
    this.#hooks = parts.hooks ?? {};
    this.#logger = parts.logger;
    this.#jitter = new SendJitter({ capMs: parts.settings.jitterMarginMs });
    const local = { maxConcurrent: 1, timeout: parts.settings.idleTimeoutMs };
    this.#bases = new Bottleneck.Group(local);
    this.#users = new Bottleneck.Group(local);
  }

  /**
   * The shared limiter: the books live in Redis (keys `<keyPrefix>:limiter:book:…`, gone a second after their
   * last request), honoured by every server and worker process. `redis` is the caller's (not closed here).
   */
  static clustered(options: {
    redis: Redis;
    keyPrefix: string;
    settings?: Partial<LimiterSettings>;
    hooks?: LimiterHooks;
    logger?: Logger;
  }): BottleneckAirtableLimiter {
    const settings = { ...defaultLimiterSettings, ...options.settings };
    return new BottleneckAirtableLimiter({
      book: new RedisAdmissionBook(options.redis, options.keyPrefix, limitsOf(settings)),
      settings,
      ...(options.hooks && { hooks: options.hooks }),
      ...(options.logger && { logger: options.logger }),
    });
  }

  /**
   * One process, no Redis (stdio and embedded mode for local users). Same rules, kept in memory. `rateLimitedHint`
   * ends the warning logged when Airtable answers 429: who else may share the base's budget and what to do.
   */
  static local(
    options: {
      settings?: Partial<LimiterSettings>;
      hooks?: LimiterHooks;
      logger?: Logger;
      rateLimitedHint?: string;
    } = {},
  ): BottleneckAirtableLimiter {
    const settings = { ...defaultLimiterSettings, ...options.settings };
    return new BottleneckAirtableLimiter({
      book: new MemoryAdmissionBook(limitsOf(settings)),
      settings,
      localPause: { hint: options.rateLimitedHint },
      ...(options.hooks && { hooks: options.hooks }),
      ...(options.logger && { logger: options.logger }),
    });
  }

  /**
   * Runs `fn` (one Airtable request) once the scope's base book (5 per rolling second + margin) and user book (50)
   * both have room, cluster-wide, and no 429 pause is in force for them; resolves or rejects with `fn`'s outcome.
   * While a pause is in force the call waits it out (ms, Airtable: 30 s) and books again, however long that takes.
   * Rejects with the book's error when Redis cannot be reached (the caller's retry rules decide), never sending
   * `fn` unbooked. Source of the limits: Airtable Web API "Rate limits".
   *
   * `options.signal` (an operation being cancelled): while `fn` has not been started, an abort makes the call reject
   * at once with `signal.reason` and `fn` is never called — a wait in the local queue leaves it (the job is skipped,
   * nothing booked), a booked wait takes its entry out of the books (`AdmissionBook.withdraw`: the slot in the shared
   * window is free for the next request), a penalty wait ends. Once `fn` has started, the signal is ignored: a sent
   * request is never cut off. `options.onPenaltyWait` hears of each penalty wait before it starts (ms left).
   */
  async schedule<T>(
    scope: RateLimitScope,
    fn: (send: SendTiming) => Promise<T>,
    options: ScheduleOptions = {},
  ): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const started = performance.now();
    for (;;) {
      const outcome = await this.#through(scope, () => this.#bookAndStart(scope, fn, signal), signal);
      if (outcome.kind === "aborted") throw signal?.reason ?? new Error("aborted");
      if (outcome.kind === "started") {
        this.#hooks.onAdmitted?.(scope, outcome.sent.sentAt - started);
        try {
          return await outcome.result;
        } finally {
          this.#afterSend(scope, outcome.sent);
        }
      }
      // Wait out the penalty outside the queue, then queue again: spread a little so that every process's waiting
      // requests do not all book in the same millisecond.
      options.onPenaltyWait?.(outcome.waitMs);
      if (!(await waitUnlessAborted(outcome.waitMs + Math.random() * 50, signal))) throw signal?.reason;
    }
  }

  /**
   * Runs `job` (book, wait, start) in the base's local queue — or, when that queue is empty and no other job of the
   * base is running, at once: Bottleneck's in-memory queue yields to the event loop with `setTimeout(0)` several
   * times per job (≈ 4 ms per request measured), which an idle base need not pay. A job that arrives meanwhile
   * goes through the queue and waits for the direct one to finish first, so one job per base at a time holds.
   * The job books, waits for its moment and starts `fn`, but does not wait for its answer: the next request of
   * the base is booked while this one is in flight (the promise travels in an object so Bottleneck does not await
   * it).
   */
  async #through<R>(scope: RateLimitScope, job: () => Promise<R>, signal?: AbortSignal): Promise<R | Aborted> {
    const key = penaltyKey(scope);
    // Looked up on every call: after a long penalty wait the idle sweep may have dropped the base's queue.
    const queue = scope.baseId ? this.#bases.key(scope.baseId) : this.#users.key(scope.userId);
    const counts = queue.counts();
    if (!this.#direct.has(key) && counts.RECEIVED + counts.QUEUED + counts.RUNNING + counts.EXECUTING === 0) {
      const running = job();
      const settled = running.then(
        () => undefined,
        () => undefined,
      );
      this.#direct.set(key, settled);
      try {
        return await running;
      } finally {
        this.#direct.delete(key);
      }
    }
    // Bound to the caller's async context: Bottleneck starts a queued job from the chain of the job before it, so
    // without it the request would be booked and sent in that other request's context (its request id and user on
    // the log lines written meanwhile: log-context.ts).
    const queued = queue.schedule(
      AsyncLocalStorage.bind(async () => {
        await this.#direct.get(key);
        return job();
      }),
    );
    if (signal === undefined) return queued;
    // An abort lets the caller go at once; the job still takes its turn in the queue, sees the signal and returns
    // without booking (#bookAndStart), so the queue's order and its one-at-a-time rule stay Bottleneck's.
    return raceAbort(queued, signal);
  }

  async #bookAndStart<T>(
    scope: RateLimitScope,
    fn: (send: SendTiming) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<Started<T> | { kind: "penalty"; waitMs: number } | Aborted> {
    if (signal?.aborted) return ABORTED;
    const known = this.#localPenalty(scope);
    if (known > 0) return { kind: "penalty", waitMs: known };
    await this.#firstRequest(fn);
    let started = false;
    try {
      if (signal?.aborted) return ABORTED;
      const outcome = await this.#bookThenStart(scope, fn, signal);
      started = outcome.kind === "started";
      return outcome;
    } finally {
      // The first request failed to book (Redis away) or met a pause before it was sent: the next request becomes
      // the process's first, instead of every request waiting 2 s for a warm-up that never comes.
      if (!started) this.#abandonFirst(fn);
    }
  }

  async #bookThenStart<T>(
    scope: RateLimitScope,
    fn: (send: SendTiming) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<Started<T> | { kind: "penalty"; waitMs: number } | Aborted> {
    /** Aborted while booked: the entry leaves the books so the slot goes to the next request. */
    const withdraw = async (ticket: AdmissionTicket): Promise<Aborted> => {
      await this.#book.withdraw(scope, ticket).catch((error: unknown) => {
        this.#logger?.warn({ err: error }, "could not withdraw a cancelled request's booking");
      });
      return ABORTED;
    };
    const marginMs = this.#jitter.marginMs();
    // The moment the request was due, on this process's clock, is taken from when the booking call was made (Redis
    // answers with the wait from its own "now"): a stall between Redis admitting the request and this process
    // resuming (a busy event loop) delays the send just as much as a slow network does, and counts as lateness.
    let askedAt = performance.now();
    let booking = await this.#book.book(scope, marginMs);
    let dueAt = askedAt;
    // A booking ahead of time is confirmed when its moment comes: late arrivals revised meanwhile (a burst of cold
    // requests, a stalled process) may have pushed it later. An idle base's requests go at once, one round trip.
    while (booking.kind === "booked" && booking.waitMs > 0) {
      dueAt = askedAt + booking.waitMs;
      if (!(await waitUnlessAborted(booking.waitMs, signal))) return withdraw(booking.ticket);
      // A 429 this process saw while the request waited: its slot is wasted, not sent into Airtable's pause.
      const learnt = this.#localPenalty(scope);
      if (learnt > 0) return { kind: "penalty", waitMs: learnt };
      const earlier = booking.ticket;
      askedAt = performance.now();
      booking = await this.#book.book(scope, marginMs, earlier);
      if (booking.kind === "booked" && booking.ticket.at === earlier.at && booking.ticket.end === earlier.end) {
        // Kept (still due at `dueAt`). Redis's clock may still be a millisecond short of the moment: never send
        // before it.
        if (booking.waitMs > 0 && !(await waitUnlessAborted(booking.waitMs, signal))) return withdraw(booking.ticket);
        break;
      }
    }
    if (booking.kind === "penalty") return booking;
    // A stall between the booking's answer and this line longer than any margin (a long GC pause, a starved event
    // loop) would send the request later than its entry in the window covers, into a second that may already hold
    // 5. Such a request books a fresh entry at the present moment instead (the stale entry stays, a wasted slot:
    // conservative). Bounded, so a process that stalls every time still sends (and revises its place afterwards).
    for (let rebooked = 0; booking.kind === "booked" && rebooked < 3; rebooked += 1) {
      if (performance.now() - dueAt <= this.#settings.jitterMarginMs) break;
      askedAt = performance.now();
      dueAt = askedAt;
      booking = await this.#book.book(scope, marginMs);
      if (booking.kind === "booked" && booking.waitMs > 0) {
        dueAt = askedAt + booking.waitMs;
        if (!(await waitUnlessAborted(booking.waitMs, signal))) return withdraw(booking.ticket);
      }
    }
    if (booking.kind === "penalty") return booking;
    if (signal?.aborted) return withdraw(booking.ticket);
    const sent: Sent = {
      ticket: booking.ticket,
      marginMs,
      dueAt,
      sentAt: performance.now(),
      writtenAt: undefined,
      revisedMs: 0,
    };
    let result: Promise<T>;
    try {
      result = fn({ written: () => this.#written(scope, sent) });
    } catch (error) {
      // A synchronous throw is the request's outcome like any other (and must not skip the warm-up release).
      result = Promise.reject(error as Error);
    }
    // The caller awaits it; until then a rejection must not count as unhandled.
    result.catch(() => undefined);
    return { kind: "started", result, sent };
  }

  /**
   * The request's bytes are going to the socket now. Later than its booking's margin (less the headroom): its entry
   * is moved by the excess at once, so the requests booked after it see the real end of its second before they
   * leave, however long its answer takes.
   */
  #written(scope: RateLimitScope, sent: Sent): void {
    sent.writtenAt = performance.now();
    this.#revise(scope, sent, sent.writtenAt - sent.dueAt);
  }

  /**
   * Extends the request's entry so that it covers an arrival `latenessMs` after its booked moment, plus the
   * headroom, when it does not yet. Not awaited: Redis applies it in order on this process's connection, before
   * any later booking this process sends.
   */
  #revise(scope: RateLimitScope, sent: Sent, latenessMs: number): void {
    const excess = Math.ceil(latenessMs + SendJitter.headroomMs - sent.marginMs - sent.revisedMs);
    if (excess <= 0) return;
    const ticket = sent.ticket;
    sent.ticket = { at: ticket.at, end: ticket.end + excess };
    sent.revisedMs += excess;
    this.#book.reviseArrival(scope, ticket, excess).catch((error: unknown) => {
      this.#logger?.warn({ err: error }, "could not revise a late request's arrival time");
    });
  }

  /**
   * Feeds the request's lateness (write delay + extra round trip) to the margin estimate; a request later than its
   * entry covers (a cold connection, the first request of a process, a slow way to Airtable, an event-loop stall)
   * probably reached Airtable late, so its place in the window is moved by the rest (`#revise`).
   */
  #afterSend(scope: RateLimitScope, sent: Sent): void {
    if (typeof this.#first === "object") {
      this.#first.release();
      this.#first = "warm";
    }
    const writtenAt = sent.writtenAt ?? sent.sentAt;
    this.#revise(scope, sent, this.#jitter.observe(writtenAt - sent.dueAt, performance.now() - writtenAt));
  }

  async reportRateLimited(scope: RateLimitScope): Promise<void> {
    this.#logger?.warn(
      { baseId: scope.baseId, userId: scope.userId },
      this.#localPause === undefined
        ? "Airtable answered 429: pausing for every process"
        : `Airtable answered 429: this process pauses its requests for ${this.#settings.penaltyMs / 1000} s, as ` +
            `Airtable asks (its limiter is its own, in memory).${this.#localPause.hint ? ` ${this.#localPause.hint}` : ""}`,
    );
    this.#hooks.onPenalty?.(scope);
    const key = penaltyKey(scope);
    this.#penalties.set(key, Math.max(this.#penalties.get(key) ?? 0, performance.now() + this.#settings.penaltyMs));
    await this.#book.penalize(scope, this.#settings.penaltyMs);
  }

  /** Penalty left for the scope in ms; 0 when none (for health pages and tests). */
  penaltyRemaining(scope: RateLimitScope): Promise<number> {
    return this.#book.penaltyRemaining(scope);
  }

  /** What this process still holds; after `idleTimeoutMs` (+ half of it, Bottleneck's sweep) without traffic, zeros. */
  localState(): LimiterLocalState {
    const now = performance.now();
    for (const [key, until] of this.#penalties) if (until <= now) this.#penalties.delete(key);
    return {
      bases: this.#bases.keys().length,
      users: this.#users.keys().length,
      penalties: this.#penalties.size,
      books: this.#book.localBookCount(),
    };
  }

  async close(): Promise<void> {
    // Local queued jobs are dropped; the books in Redis stay for the other processes (and expire by themselves).
    await Promise.allSettled([this.#bases.disconnect(false), this.#users.disconnect(false)]);
  }

  /**
   * A process's very first Airtable request goes alone: it pays the cold start (Node loads its HTTP client on the
   * first `fetch`, then TCP/TLS set-up), and requests started beside it were measured reaching the sandbox up to
   * 100 ms after their admission — more than any margin — while the lateness estimate has no baseline yet. The
   * others wait until it has an answer (at most 2 s), then go as booked.
   */
  async #firstRequest(fn: unknown): Promise<void> {
    if (this.#first === "warm") return;
    if (this.#first === "cold") {
      let release = () => {};
      const answered = new Promise<void>((resolve) => (release = resolve));
      this.#first = { fn, answered, release };
      return;
    }
    if (this.#first.fn === fn) return;
    await Promise.race([this.#first.answered, wait(2_000)]);
  }

  /** `fn` was the process's first request but never went: let the next one be the first (see #firstRequest). */
  #abandonFirst(fn: unknown): void {
    if (typeof this.#first !== "object" || this.#first.fn !== fn) return;
    this.#first.release();
    this.#first = "cold";
  }

  #localPenalty(scope: RateLimitScope): number {
    const keys = [`user:${scope.userId}`, ...(scope.baseId ? [`base:${scope.baseId}`] : [])];
    const now = performance.now();
    let left = 0;
    for (const key of keys) {
      const until = this.#penalties.get(key);
      if (until === undefined) continue;
      if (until <= now) this.#penalties.delete(key);
      else left = Math.max(left, until - now);
    }
    return Math.ceil(left);
  }
}

/** A request that left: its answer, and what the limiter keeps of it until then (`Sent`). */
interface Started<T> {
  kind: "started";
  result: Promise<T>;
  sent: Sent;
}

/**
 * A request that left: its place in the books (as revised so far), and when (this process's clock, ms) it was due,
 * started (`fn` called) and written to its socket.
 */
interface Sent {
  ticket: AdmissionTicket;
  marginMs: number;
  dueAt: number;
  sentAt: number;
  /** When the request reported its socket write (`SendTiming.written`); undefined when it did not. */
  writtenAt: number | undefined;
  /** How much its entry's end has been moved already (ms). */
  revisedMs: number;
}

/** The request was not sent: its signal aborted before `fn` started. */
interface Aborted {
  kind: "aborted";
}
const ABORTED: Aborted = { kind: "aborted" };

/** Resolves true after `ms`, or false as soon as `signal` aborts (at once if it already has). */
function waitUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return wait(ms, undefined, signal === undefined ? {} : { signal }).then(
    () => true,
    () => false,
  );
}

/** `promise`, or ABORTED as soon as `signal` aborts (untilAborted; the promise's own outcome is then dropped). */
function raceAbort<R>(promise: Promise<R>, signal: AbortSignal): Promise<R | Aborted> {
  return untilAborted(promise, signal).catch((error: unknown) => {
    if (signal.aborted && error === signal.reason) return ABORTED;
    throw error;
  });
}

function penaltyKey(scope: RateLimitScope): string {
  return scope.baseId ? `base:${scope.baseId}` : `user:${scope.userId}`;
}

function limitsOf(settings: LimiterSettings) {
  return { baseLimit: settings.baseRps, userLimit: settings.userRps, windowMs: 1000 };
}
