/** Who a request to Airtable is charged to: Airtable counts 5 req/s per base and 50 req/s per user token. */
export interface RateLimitScope {
  /** Our stable id for the Airtable user (their `usr…` id). */
  userId: string;
  /** The base the request touches; absent for base-less calls (whoami, list bases). */
  baseId?: string;
}

/**
 * The one gate every Airtable request passes, in every process. Implementations: the Redis-backed
 * cluster limiter (production) and an in-process one (stdio mode without Redis).
 */
export interface AirtableLimiter {
  /**
   * Runs `fn` once the base's and the user's budgets allow it and no penalty is in force for them. With
   * `options.signal`, an abort before `fn` started rejects with `signal.reason` and `fn` never runs (nor holds a
   * place in the shared window); after `fn` started, the signal changes nothing.
   */
  schedule<T>(scope: RateLimitScope, fn: (send: SendTiming) => Promise<T>, options?: ScheduleOptions): Promise<T>;
  /**
   * Airtable answered 429: pause the scope's base (or the user, for base-less calls) for every process for
   * the penalty period. Later `schedule` calls wait it out before they run.
   */
  reportRateLimited(scope: RateLimitScope): Promise<void>;
  close(): Promise<void>;
}

/**
 * Handed to a scheduled request (`fn`) so it can tell the limiter when its bytes actually leave for Airtable. The
 * limiter admits a request at a moment in the shared window; what Airtable counts is the arrival. Between the two
 * lie the process's own delays (the HTTP client's queue, a new connection, a busy event loop) and the network.
 * Marking the socket write splits them: the first part is then measured exactly instead of estimated from the round
 * trip, and a write already later than the booking's margin moves the booking's place in the window at once rather
 * than after the answer.
 */
export interface SendTiming {
  /**
   * Call synchronously when the request is handed to its socket (undici: the handler's `onRequestStart`), and not
   * for a request that is never written. Called more than once, the last call counts. A request that never calls
   * it is taken to have been written when `fn` was called.
   */
  written(): void;
}

export interface ScheduleOptions {
  /** Aborted: the request is not to be sent any more (its operation was cancelled) unless it has started. */
  signal?: AbortSignal;
  /**
   * Called each time the request, not yet sent, is sent back to wait out a 429 penalty in force for its base (or its
   * user, for base-less calls) — whichever request or process met the 429, since the penalty is shared — with the
   * penalty left, in ms. The request then waits that long and books again, by itself. For the operation processor,
   * which records the wait in the operation's log (docs: README "How writes work"). Must not throw.
   */
  onPenaltyWait?(waitMs: number): void;
}
