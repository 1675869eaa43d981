/**
 * How late this process's requests reach Airtable compared with the time the book admitted them, measured, so the
 * jitter margin each booking carries (book.ts) is what this process needs rather than a fixed guess.
 *
 * A request's lateness is observed in two parts: the write delay (the booked moment → its bytes handed to the socket,
 * as the request reports it: timer lateness, a busy event loop, the HTTP client's queue, a new connection) and the
 * extra duration (its round trip from that write minus the fastest of this process's recent round trips: a slow
 * way to Airtable, a stall on it). The arrival at Airtable is somewhere within that total, so the total bounds it
 * from above (the way out that every request shares cancels between two requests; the headroom below covers the
 * book's whole-millisecond clock and the spread of the fastest round trip). The margin is the 90th percentile of
 * recent latenesses plus 5 ms of headroom, never below `minimumMs` and never above `capMs`
 * (AIRTABLE_LIMITER_JITTER_MARGIN_MS, default 40); until `warmupSamples` requests were measured it is the cap.
 * Requests later than their margin (the other 10 %) have their place in the window moved (`AirtableLimiter` →
 * `reviseArrival`): at the write when the write delay alone exceeds it, after the answer for the rest.
 *
 * Measured on the development machine (2 busy cores, hammer processes against the sandbox at 150 ms): margins of
 * 8–22 ms once 5 requests were measured, instead of a fixed 40 ms; the write bench went from 94–96 % to ~99 % of
 * Airtable's ceiling (README, Benchmarks).
 */
export class SendJitter {
  /** Samples kept: about 20 s of a busy base at 5 req/s. */
  static readonly size = 100;
  static readonly warmupSamples = 5;
  static readonly headroomMs = 5;
  /** Below 3 round trips there is no trustworthy baseline: a cold start's are all slow, so all of it counts as late. */
  static readonly minimumDurations = 1;

  readonly #capMs: number;
  readonly #minimumMs: number;
  readonly #lateness: number[] = [];
  /** The same samples as #lateness, kept sorted (one insert and one removal per request instead of a sort). */
  readonly #latenessSorted: number[] = [];
  readonly #durations: number[] = [];
  #margin: number;

  constructor(options: { capMs: number; minimumMs?: number }) {
    this.#capMs = options.capMs;
    this.#minimumMs = Math.min(options.minimumMs ?? SendJitter.headroomMs, options.capMs);
    this.#margin = options.capMs;
  }

  /** The margin (ms) a booking made now should carry. */
  marginMs(): number {
    return this.#margin;
  }

  /**
   * Records one request: `writeDelayMs` from its booked moment to its socket write, `durationMs` of its round trip
   * from that write. Returns its estimated lateness (ms).
   */
  observe(writeDelayMs: number, durationMs: number): number {
    const cold = this.#durations.length < SendJitter.minimumDurations;
    const typical = cold ? 0 : Math.min(...this.#durations);
    push(this.#durations, durationMs, SendJitter.size);
    const lateness = Math.max(0, writeDelayMs) + Math.max(0, durationMs - typical);
    // A cold request's lateness is its whole round trip: right for revising its own place (conservative), wrong as
    // a sample of this process's jitter (it would hold the margin at the cap for the next 100 requests).
    if (cold) return lateness;
    const dropped = push(this.#lateness, lateness, SendJitter.size);
    insertSorted(this.#latenessSorted, lateness);
    if (dropped !== undefined) removeSorted(this.#latenessSorted, dropped);
    if (this.#lateness.length >= SendJitter.warmupSamples) {
      const sorted = this.#latenessSorted;
      const p90 = sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]!;
      this.#margin = Math.min(this.#capMs, Math.max(this.#minimumMs, Math.ceil(p90 + SendJitter.headroomMs)));
    }
    return lateness;
  }
}

/** Appends `value`; answers the oldest value when that pushed it out of the last `size`. */
function push(values: number[], value: number, size: number): number | undefined {
  values.push(value);
  return values.length > size ? values.shift() : undefined;
}

/** The index of the first element of ascending `sorted` that is ≥ `value`. */
function lowerBound(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function insertSorted(sorted: number[], value: number): void {
  sorted.splice(lowerBound(sorted, value), 0, value);
}

function removeSorted(sorted: number[], value: number): void {
  const at = lowerBound(sorted, value);
  if (sorted[at] === value) sorted.splice(at, 1);
}
