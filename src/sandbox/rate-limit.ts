/**
 * Airtable's rate limits: 5 requests per second per base and 50 per second per token; the request that goes over
 * gets 429 and the base (or token) then answers 429 to everything for 30 s.
 *
 * Choices, since Airtable does not document the algorithm:
 * - A sliding window, not fixed one-second buckets: a request is over the limit when, counting it, more than
 *   `rps` requests for the key arrived in the last 1,000 ms. This is the strictest reading, so a client that is
 *   fine here is fine against any bucketing Airtable may use.
 * - Every arrival counts, rejected ones included (a 429 still reached Airtable). A client that keeps ≤ rps
 *   requests in every sliding second therefore never sees a 429, and one that keeps sending during a penalty
 *   risks a new penalty as soon as it ends.
 * - The penalty is fixed at `penaltyMs` from the request that went over; requests during it are refused but do
 *   not extend it.
 * - The check happens at arrival, before any injected latency. Requests refused before it (401 without a valid
 *   token, 404 unrouted, 414 URL too long) are not counted: they cannot be attributed to a token, or never reach
 *   the API behind Airtable's edge.
 */
export class SlidingWindowLimiter {
  readonly #rps: number;
  readonly #windowMs: number;
  readonly #arrivals = new Map<string, number[]>();
  readonly #penaltyUntil = new Map<string, number>();

  constructor(rps: number, windowMs = 1000) {
    this.#rps = rps;
    this.#windowMs = windowMs;
  }

  /** Records an arrival at `now` (ms); rejected requests count too. */
  arrive(key: string, now: number): void {
    const list = (this.#arrivals.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    list.push(now);
    this.#arrivals.set(key, list);
  }

  /** Whether the arrivals in the window (this one included) exceed the rate. Call after `arrive`. */
  overRate(key: string): boolean {
    return (this.#arrivals.get(key)?.length ?? 0) > this.#rps;
  }

  penalize(key: string, now: number, ms: number): void {
    this.#penaltyUntil.set(key, Math.max(this.#penaltyUntil.get(key) ?? 0, now + ms));
  }

  inPenalty(key: string, now: number): boolean {
    return (this.#penaltyUntil.get(key) ?? -Infinity) > now;
  }
}

/** Both limits together: a request is refused when its base or its token is over the rate or in a penalty. */
export class RateLimits {
  readonly base: SlidingWindowLimiter;
  readonly token: SlidingWindowLimiter;
  readonly #penaltyMs: number;

  constructor(perBaseRps: number, perTokenRps: number, penaltyMs: number) {
    this.base = new SlidingWindowLimiter(perBaseRps);
    this.token = new SlidingWindowLimiter(perTokenRps);
    this.#penaltyMs = penaltyMs;
  }

  check(now: number, token: string | undefined, baseId: string | undefined): { limited: boolean } {
    let limited = false;
    if (token !== undefined) {
      this.token.arrive(token, now);
      if (this.token.inPenalty(token, now)) limited = true;
      else if (this.token.overRate(token)) {
        this.token.penalize(token, now, this.#penaltyMs);
        limited = true;
      }
    }
    if (baseId !== undefined) {
      this.base.arrive(baseId, now);
      if (this.base.inPenalty(baseId, now)) limited = true;
      else if (this.base.overRate(baseId)) {
        this.base.penalize(baseId, now, this.#penaltyMs);
        limited = true;
      }
    }
    return { limited };
  }

  penalize(target: { baseId?: string; token?: string }, now: number, ms = this.#penaltyMs): void {
    if (target.baseId !== undefined) this.base.penalize(target.baseId, now, ms);
    if (target.token !== undefined) this.token.penalize(target.token, now, ms);
  }
}
