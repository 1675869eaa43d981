/**
 * Airtable counts requests per rolling second at its edge. Requests leave us evenly spaced, but arrive
 * with network jitter: spacing of exactly 1000/5 ms lets two jittered arrivals put 6 into one second.
 * So the window we enforce is one second plus a jitter margin, and the spacing is that window divided
 * by the rate. A 40 ms margin costs 4 % of the ceiling (4.81 of 5 req/s).
 */
export interface Pacing {
  /** Sliding window we enforce, in ms (1000 + margin). */
  windowMs: number;
  /** Requests allowed in one window. */
  limit: number;
  /** Spacing between consecutive grants, in ms. */
  minTimeMs: number;
}

export function pacingFor(requestsPerSecond: number, jitterMarginMs: number): Pacing {
  if (!(requestsPerSecond > 0)) throw new RangeError(`requestsPerSecond must be > 0, got ${requestsPerSecond}`);
  if (!(jitterMarginMs >= 0)) throw new RangeError(`jitterMarginMs must be >= 0, got ${jitterMarginMs}`);
  const windowMs = 1000 + jitterMarginMs;
  return { windowMs, limit: requestsPerSecond, minTimeMs: Math.ceil(windowMs / requestsPerSecond) };
}
