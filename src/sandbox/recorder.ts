/** Every request the sandbox saw, for tests to assert on (rates, retries, what reached "Airtable"). */
export interface RecordedRequest {
  /** Arrival time in ms, sub-ms precision (performance.timeOrigin + performance.now()). */
  time: number;
  endTime?: number;
  baseId?: string;
  token?: string;
  userId?: string;
  method: string;
  path: string;
  /** 0 if the connection was dropped. */
  status: number;
  /** Records in a write request body / delete query. */
  recordCount?: number;
  rateLimited?: boolean;
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Max over all sliding windows of `windowMs` of the requests arriving in it (a window starts at each arrival). */
export function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}
