import type { Redis } from "ioredis";

/** What the runner hands every scenario. */
export interface BenchContext {
  /** A connected client (Redis was checked to be reachable before any scenario ran). */
  redis: Redis;
  redisUrl: string;
  /**
   * Unique to this run and this scenario. The runner deletes every key under it afterwards, and Bottleneck's
   * copies under `b_<keyPrefix>`, so a scenario may create keys freely under it.
   */
  keyPrefix: string;
  /** Measurement duration in seconds for duration-based scenarios (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Progress for the person watching; goes to stderr so stdout stays pasteable Markdown. */
  progress(message: string): void;
}

/** One Markdown table plus the raw numbers behind it. */
export interface ScenarioResult {
  columns: string[];
  /** Already formatted cells, one array per row, in column order. */
  rows: string[][];
  /** Printed under the table: how it was measured, what limits the numbers. */
  notes: string[];
  /** Unformatted measurements for .bench/results.json. */
  data: unknown;
}

/** One benchmark: a file under bench/scenarios/, registered in bench/scenarios/index.ts. */
export interface Scenario {
  /** Heading in the output; BENCH_ONLY matches a substring of it. */
  name: string;
  /** One sentence under the heading: what is measured. */
  summary: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
