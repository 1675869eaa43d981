/** Small statistics for noisy measurements: medians and percentiles rather than means. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least p % of the samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export const median = (values: number[]): number => percentile(values, 50);

/** Requests per second of a series of arrival times (ms): intervals between the first and last arrival. */
export function ratePerSecond(times: number[]): number {
  if (times.length < 2) return 0;
  const sorted = [...times].sort((a, b) => a - b);
  return ((sorted.length - 1) / (sorted.at(-1)! - sorted[0]!)) * 1000;
}

/** Milliseconds for a table cell: sub-0.1 ms values keep three decimals so they do not all read "0.00". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  return Math.abs(ms) < 0.1 ? ms.toFixed(3) : ms.toFixed(2);
}

/** A difference in ms with its sign, e.g. "+1.25" or "-0.004". */
export function formatSignedMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  return ms < 0 ? formatMs(ms) : `+${formatMs(ms)}`;
}
