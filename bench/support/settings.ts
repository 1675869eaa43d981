import { BenchSetupError } from "./redis.ts";

/** The knobs of a run, from the environment. */
export interface BenchSettings {
  redisUrl: string;
  /** Measurement duration per duration-based scenario, in seconds. */
  seconds: number;
  /** Run only the scenarios whose name contains this (case-insensitive). */
  only: string | undefined;
}

export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const rawSeconds = env.BENCH_SECONDS?.trim() || "10";
  const seconds = Number(rawSeconds);
  if (!Number.isFinite(seconds) || seconds < 2 || seconds > 600) {
    throw new BenchSetupError(
      `BENCH_SECONDS must be a number of seconds between 2 and 600, got "${rawSeconds}". Example: BENCH_SECONDS=5 npm run bench`,
    );
  }
  return {
    redisUrl: env.REDIS_URL?.trim() || "redis://127.0.0.1:6379",
    seconds,
    only: env.BENCH_ONLY?.trim() || undefined,
  };
}
