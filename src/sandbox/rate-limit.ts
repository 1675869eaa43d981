/**
 * Airtable's rate limits (https://airtable.com/developers/web/api/rate-limits): "The API is limited to 5 requests per
 * second per base. Additionally, there is a limit of 50 requests per second for all traffic using personal access
 * tokens from a given user or service account. If you exceed these rates, you will receive a 429 status code and will
 * need to wait 30 seconds before subsequent requests will succeed." The request that goes over gets 429 and the base
 * (or the token's key, below) then answers 429 to everything for 30 s.
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
 * - The 50 per second is counted per user for personal access tokens (all of a user's PATs together, as the page
 *   says: `tokenRateKey`) and per token for OAuth access tokens, which the page does not name. Counting OAuth tokens
 *   per user too would charge a user for the one request our server cannot book to them, a fresh sign-in's
 *   `whoami` (docs/notes.md, session 11); Airtable's rule for them is not documented.
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

/**
 * The key the 50-per-second limit counts a token's requests under: its user's for a personal access token ("all
 * traffic using personal access tokens from a given user"), the token's own for an OAuth access token.
 */
export function tokenRateKey(token: { kind: "pat" | "oauth"; userId: string; value: string }): string {
  return token.kind === "pat" ? `user:${token.userId}` : `token:${token.value}`;
}

/** Both limits together: a request is refused when its base or its token's key is over the rate or in a penalty. */
export class RateLimits {
  readonly base: SlidingWindowLimiter;
  readonly token: SlidingWindowLimiter;
  readonly #penaltyMs: number;

  constructor(perBaseRps: number, perTokenRps: number, penaltyMs: number) {
    this.base = new SlidingWindowLimiter(perBaseRps);
    this.token = new SlidingWindowLimiter(perTokenRps);
    this.#penaltyMs = penaltyMs;
  }

  /** `token`: the token's `tokenRateKey`. */
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
