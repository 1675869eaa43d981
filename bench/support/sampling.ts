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
