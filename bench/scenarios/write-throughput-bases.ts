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
 * One user imports into four bases at once: one create_records operation per base, two worker processes. Each
 * base has its own 5 requests/s, so the four should add up (the user's 50 requests/s is not reached).
 */
const BASES = 4;
const WORKERS = 2;
/** One base's ceiling: 5 requests/s × 10 records. */
const CEILING_PER_BASE = 50;
const PENALTY_MS = 5_000;
const LATENCY_MS = 150;

interface BaseMeasurement {
  base: string;
  rate: WriteRate;
  maxInAnySecond: number;
  count429: number;
  exactlyOnce: ExactlyOnce;
  status: string;
}

export const writeThroughputBases: Scenario = {
  name: "write throughput, four bases",
  summary:
    "Records per second when one user imports into 4 bases at once (one create_records operation per base, 2 " +
    "worker processes), against 4 × 50 = 200 records/s (sandbox at 150 ms latency, arrivals recorded there).",
  async run(ctx): Promise<ScenarioResult> {
    const bench = await startStrictWriteBench(ctx, {
      latencyMs: LATENCY_MS,
      penaltyMs: PENALTY_MS,
      email: "bench-bases@example.com",
    });
    const { sandbox, pipeline, userId } = bench;
    try {
      ctx.progress(`starting ${WORKERS} worker processes`);
      await pipeline.scaleWorkersTo(WORKERS);
      const recordsPerBase = Math.ceil((ctx.seconds * CEILING_PER_BASE) / 10) * 10;
      const imports = Array.from({ length: BASES }, (_, b) => {
        const { baseId, tableId } = createItemsBase(sandbox, userId, `Import ${b}`);
        const names = Array.from({ length: recordsPerBase }, (_, i) => `base${b}-${i}`);
        return {
          label: `base ${b + 1}`,
          baseId,
          tableId,
          names,
          op: createRecordsOperation(userId, baseId, tableId, names),
        };
      });
      ctx.progress(`${BASES} bases × ${recordsPerBase} records`);
      for (const i of imports) await pipeline.runner.submit(i.op);
      const timeoutMs = (recordsPerBase / CEILING_PER_BASE) * 3_000 + 30_000;
      const states = await Promise.all(imports.map((i) => pipeline.waitForState(i.op, timeoutMs)));

      const perBase: BaseMeasurement[] = imports.map((i, b) => ({
        base: i.label,
        rate: writeRate(successfulWrites(sandbox, i.baseId)),
        maxInAnySecond: sandbox.maxRequestsInWindow({ baseId: i.baseId, windowMs: 1000 }),
        count429: sandbox.count429({ baseId: i.baseId }),
        exactlyOnce: checkExactlyOnce(sandbox, i.baseId, i.tableId, i.names),
        status: states[b]!.status,
      }));
      // The bases' own rates added up: merging the four arrival series into one would count intervals between
      // bases' writes and flatter the total by the edges of each series.
      const total = {
        records: perBase.reduce((sum, m) => sum + m.rate.records, 0),
        recordsPerSecond: perBase.reduce((sum, m) => sum + m.rate.recordsPerSecond, 0),
        wholeRunRecordsPerSecond: perBase.reduce((sum, m) => sum + m.rate.wholeRunRecordsPerSecond, 0),
      };
      const ceiling = BASES * CEILING_PER_BASE;
      const allOnce = perBase.every((m) => m.exactlyOnce.ok);

      const notes = [
        `${BASES} fresh bases, one create_records operation of ${recordsPerBase} records each (BENCH_SECONDS × 50), ` +
          `submitted at once through QueuedOperationRunner; ${WORKERS} worker processes with default settings.`,
        "A base's rec/s counts the records of the writes the sandbox applied, by their arrival times, in its steady " +
          'window (without its first and last 5 requests); "whole run" from its first arrival to its last. The total ' +
          "row adds the four bases up. The limiter's own ceiling is 48.1–49.8 rec/s per base (5 requests per 1,000 ms + a measured 5–40 ms margin), " +
          "192–199 for four.",
        `One operation per base: its batches go one after another (each waits for the previous answer, ${LATENCY_MS} ms ` +
          "here), so a single import must keep up with the base's pacing on its own.",
        `"max req in any 1 s" counts every arrival on that base (429s too; the total row shows the fullest base); ` +
          "Airtable allows 5 per base.",
      ];
      for (const m of perBase) {
        if (m.status !== "completed") notes.push(`${m.base}: the operation ended ${m.status}.`);
        if (m.rate.maxRecordsPerRequest > 10)
          notes.push(`${m.base}: a request carried ${m.rate.maxRecordsPerRequest} records.`);
      }
      const warnings = pipeline.workerWarnings();
      if (warnings.length > 0) notes.push(`Worker warnings (${warnings.length}), first: ${warnings[0]}`);
      const row = (
        label: string,
        rate: Pick<WriteRate, "records" | "recordsPerSecond" | "wholeRunRecordsPerSecond">,
        ceilingOf: number,
        max: string,
        c429: number,
        once: string,
      ) => [
        label,
        String(rate.records),
        rate.recordsPerSecond.toFixed(1),
        `${((rate.recordsPerSecond / ceilingOf) * 100).toFixed(1)} %`,
        rate.wholeRunRecordsPerSecond.toFixed(1),
        max,
        String(c429),
        once,
      ];
      return {
        columns: [
          "base",
          "records",
          "rec/s",
          "% of ceiling",
          "whole run rec/s",
          "max req in any 1 s",
          "429s",
          "all exactly once",
        ],
        rows: [
          ...perBase.map((m) =>
            row(
              m.base,
              m.rate,
              CEILING_PER_BASE,
              String(m.maxInAnySecond),
              m.count429,
              describeExactlyOnce(m.exactlyOnce),
            ),
          ),
          row(
            `all ${BASES}`,
            total,
            ceiling,
            String(Math.max(...perBase.map((m) => m.maxInAnySecond))),
            perBase.reduce((sum, m) => sum + m.count429, 0),
            allOnce ? `yes (${total.records})` : "NO (see rows)",
          ),
        ],
        notes,
        data: { ceilingPerBase: CEILING_PER_BASE, latencyMs: LATENCY_MS, workers: WORKERS, perBase, total },
      };
    } finally {
      await bench.close();
    }
  },
};
