import type { Scenario, ScenarioResult } from "../scenario.ts";
import {
  checkExactlyOnce,
  createItemsBase,
  createRecordsOperation,
  describeExactlyOnce,
  successfulWrites,
  writeRate,
  type ExactlyOnce,
  type WriteRate,
  startStrictWriteBench,
} from "../support/write-pipeline.ts";

/**
 * A bulk create on one base through the whole write pipeline: operations submitted to the BullMQ queue, run
 * by 1, 2 and 4 worker processes (`node src/worker/main.ts`) against the sandbox at Airtable's limits with
 * 150 ms latency. The rate is read from the sandbox's arrival times of the writes it applied.
 */
/** Airtable's ceiling for one base: 5 requests/s × 10 records per request. */
const CEILING_RECORDS_PER_SECOND = 50;
/** Shorter than Airtable's 30 s (sandbox and workers alike), so a 429 shows without blowing the time budget. */
const PENALTY_MS = 5_000;
const LATENCY_MS = 150;
const WORKER_COUNTS = [1, 2, 4];
/**
 * WORKER_MAX_ACTIVE_PER_BASE (default 3): operations on one base beyond it are parked, so three keep the base
 * as busy as any number would.
 */
const OPERATIONS = 3;

interface RunMeasurement {
  workers: number;
  operations: number;
  recordsPerOperation: number;
  rate: WriteRate;
  percentOfCeiling: number;
  /** Every record written, from the first submit to the last operation's end (queue pickup and tail included). */
  endToEndRecordsPerSecond: number;
  maxInAnySecond: number;
  count429: number;
  exactlyOnce: ExactlyOnce;
  statuses: string[];
}

export const writeThroughput: Scenario = {
  name: "write throughput, one base",
  summary:
    "Records per second one base gets from a bulk create through the queue and 1, 2 or 4 worker processes, " +
    "against Airtable's ceiling of 50 records/s (5 requests/s × 10 records; sandbox at 150 ms latency, arrivals " +
    "recorded there).",
  async run(ctx): Promise<ScenarioResult> {
    const bench = await startStrictWriteBench(ctx, {
      latencyMs: LATENCY_MS,
      penaltyMs: PENALTY_MS,
      email: "bench-writes@example.com",
    });
    const { sandbox, pipeline, userId } = bench;
    try {
      // Whole batches, so every request carries 10 records and the rate is not diluted by a short last batch.
      const recordsPerOperation = Math.ceil((ctx.seconds * CEILING_RECORDS_PER_SECOND) / OPERATIONS / 10) * 10;
      const measurements: RunMeasurement[] = [];
      for (const workers of WORKER_COUNTS) {
        ctx.progress(`${workers} worker process(es): starting`);
        // The same processes carry over from run to run; each run writes to a fresh base.
        await pipeline.scaleWorkersTo(workers);
        ctx.progress(`${workers} worker process(es): ${OPERATIONS} × ${recordsPerOperation} records`);
        const { baseId, tableId } = createItemsBase(sandbox, userId, `Import ${workers}w`);
        const names = Array.from({ length: OPERATIONS }, (_, o) =>
          Array.from({ length: recordsPerOperation }, (_, i) => `${workers}w-op${o}-${i}`),
        );
        const operations = names.map((n) => createRecordsOperation(userId, baseId, tableId, n));
        const started = performance.now();
        for (const op of operations) await pipeline.runner.submit(op);
        const expectedMs = ((OPERATIONS * recordsPerOperation) / CEILING_RECORDS_PER_SECOND) * 1000;
        const states = await Promise.all(operations.map((op) => pipeline.waitForState(op, expectedMs * 3 + 30_000)));
        const wallMs = performance.now() - started;
        const rate = writeRate(successfulWrites(sandbox, baseId));
        measurements.push({
          workers,
          operations: OPERATIONS,
          recordsPerOperation,
          rate,
          percentOfCeiling: (rate.recordsPerSecond / CEILING_RECORDS_PER_SECOND) * 100,
          endToEndRecordsPerSecond: (rate.records / wallMs) * 1000,
          maxInAnySecond: sandbox.maxRequestsInWindow({ baseId, windowMs: 1000 }),
          count429: sandbox.count429({ baseId }),
          exactlyOnce: checkExactlyOnce(sandbox, baseId, tableId, names.flat()),
          statuses: states.map((s) => s.status),
        });
      }

      const notes = [
        `Each run: a fresh base, ${OPERATIONS} create_records operations (WORKER_MAX_ACTIVE_PER_BASE, the most ` +
          `that run on one base at once) of ${recordsPerOperation} records each (BENCH_SECONDS × 50 / ${OPERATIONS}, rounded up to whole batches of 10), ` +
          "submitted through QueuedOperationRunner; worker processes with default settings (WORKER_CONCURRENCY 8).",
        "rec/s counts the records of the writes the sandbox applied (200s) by their arrival times, in the steady " +
          "window: the run without its first and last 5 requests (about a second of ramp-up and of tail each); " +
          `"whole run" is the same from the first arrival to the last. % of ceiling is against ` +
          `${CEILING_RECORDS_PER_SECOND} records/s. The limiter lets 5 requests per 1,000 ms + a margin through ` +
          "(measured per worker from its send jitter, 5–40 ms), so its own ceiling is 48.1–49.8 rec/s (96–99.5 %).",
        `"max req in any 1 s" counts every arrival on the base (429s too) in the fullest sliding second; Airtable ` +
          `allows 5. A 429 pauses the base for ${PENALTY_MS / 1000} s here (30 s at Airtable).`,
        `"exactly once": every record asked for is in the table once, and nothing else is. Sandbox at ` +
          `${LATENCY_MS} ms latency, in the bench process; workers are separate OS processes sharing the clustered limiter.`,
      ];
      for (const m of measurements) {
        if (m.rate.maxRecordsPerRequest > 10) {
          notes.push(
            `${m.workers} worker(s): a request carried ${m.rate.maxRecordsPerRequest} records (Airtable takes 10).`,
          );
        }
        if (m.statuses.some((s) => s !== "completed")) {
          notes.push(`${m.workers} worker(s): operations ended ${m.statuses.join(", ")}.`);
        }
      }
      const warnings = pipeline.workerWarnings();
      if (warnings.length > 0) notes.push(`Worker warnings (${warnings.length}), first: ${warnings[0]}`);
      return {
        columns: [
          "workers",
          "records",
          "rec/s",
          "% of ceiling",
          "whole run rec/s",
          "max req in any 1 s",
          "429s",
          "all exactly once",
        ],
        rows: measurements.map((m) => [
          String(m.workers),
          String(m.rate.records),
          m.rate.recordsPerSecond.toFixed(1),
          `${m.percentOfCeiling.toFixed(1)} %`,
          m.rate.wholeRunRecordsPerSecond.toFixed(1),
          String(m.maxInAnySecond),
          String(m.count429),
          describeExactlyOnce(m.exactlyOnce),
        ]),
        notes,
        data: {
          ceilingRecordsPerSecond: CEILING_RECORDS_PER_SECOND,
          latencyMs: LATENCY_MS,
          penaltyMs: PENALTY_MS,
          runs: measurements,
        },
      };
    } finally {
      await bench.close();
    }
  },
};
