import { formatMs, formatSignedMs, median, percentile } from "./stats.ts";

/** Wall-clock time of one awaited call, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/**
 * Runs every sampler once per round, rotating which goes first so no variant always runs right after another
 * (the machine is noisy; interleaving spreads that noise over every row). The first `warmupRounds` rounds are
 * discarded. Returns the samples in the samplers' order.
 */
export async function sampleInterleaved(
  samplers: readonly (() => Promise<number>)[],
  options: { warmupRounds: number; samples: number; progress(message: string): void },
): Promise<number[][]> {
  const samples = samplers.map((): number[] => []);
  for (let round = 0; round < options.warmupRounds + options.samples; round++) {
    if (round === options.warmupRounds) {
      options.progress(`warmed up; ${options.samples} rounds of ${samplers.length} calls`);
    }
    for (let k = 0; k < samplers.length; k++) {
      const index = (round + k) % samplers.length;
      const ms = await samplers[index]!();
      if (round >= options.warmupRounds) samples[index]!.push(ms);
    }
  }
  return samples;
}

/** One row of a "this call vs the first one" latency table. */
export interface VersusFirstRow {
  call: string;
  samples: number;
  medianMs: number;
  p95Ms: number;
  /** Median minus the first row's median (0 for the first row itself). */
  addedMedianMs: number;
}

/**
 * Median, p95 and added median of each call's samples against the first call (the baseline), with the table
 * columns and cells every overhead scenario prints.
 */
export function versusFirst(
  calls: readonly string[],
  samples: readonly number[][],
): { stats: VersusFirstRow[]; columns: string[]; rows: string[][] } {
  const baseline = median(samples[0]!);
  const stats = calls.map((call, i) => ({
    call,
    samples: samples[i]!.length,
    medianMs: median(samples[i]!),
    p95Ms: percentile(samples[i]!, 95),
    addedMedianMs: median(samples[i]!) - baseline,
  }));
  return {
    stats,
    columns: ["call", "median ms", "p95 ms", "added (median) ms"],
    rows: stats.map((s, i) => [
      s.call,
      formatMs(s.medianMs),
      formatMs(s.p95Ms),
      i === 0 ? "—" : formatSignedMs(s.addedMedianMs),
    ]),
  };
}
