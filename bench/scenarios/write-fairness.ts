import type { Operation } from "../../src/shared/operations/events.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import type { BenchContext, Scenario, ScenarioResult } from "../scenario.ts";
import { formatMs, median, percentile } from "../support/stats.ts";
import {
  checkExactlyOnce,
  createItemsBase,
  createRecordsOperation,
  successfulWrites,
  startStrictWriteBench,
  type ExactlyOnce,
  type WritePipeline,
} from "../support/write-pipeline.ts";

/**
 * Fairness between bases, as a user feels it: while base A imports, a 1-record create on base B is timed from
 * submit to the end of its operation (QueuedOperationRunner.submit → waitForEnd → the operation's state), every
 * ~400 ms. Rows: A idle, one import on A, and more imports on A than the worker processes have slots.
 */
const WORKERS = 2;
/** WORKER_CONCURRENCY's default: 2 processes have 16 slots. */
const SLOTS_PER_WORKER = 8;
/** More operations on A than every worker slot together: without a per-base cap they would take them all. */
const MANY_IMPORTS = 20;
const INTERVAL_MS = 400;
const PENALTY_MS = 5_000;
const LATENCY_MS = 150;
/** What one base absorbs (the limiter's 48.1 records/s), used to size A's imports. */
const BASE_RECORDS_PER_SECOND = 48;
/** Airtable's write of one record answers in LATENCY_MS; the target is what a person waiting would accept. */
const TARGET_P95_MS = 1_000;

interface RowMeasurement {
  baseA: string;
  importsOnA: number;
  recordsOnA: number;
  samples: number[];
  failedSamples: string[];
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** A's applied records per second while B was sampled; 0 when A was idle. */
  aRecordsPerSecondMeanwhile: number;
  /** A's imports still running when the last B sample ended (they must be, for the row to mean anything). */
  aRunningAtEnd: number;
  count429: number;
  aExactlyOnce: ExactlyOnce | undefined;
  bExactlyOnce: ExactlyOnce;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The sandbox's clock (epoch ms, sub-ms), for comparing with its arrival times. */
const sandboxNow = () => performance.timeOrigin + performance.now();

async function waitForFirstWrite(sandbox: Sandbox, baseId: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (successfulWrites(sandbox, baseId).length === 0) {
    if (performance.now() > deadline) throw new Error(`base A's import wrote nothing in ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function measureRow(
  ctx: BenchContext,
  sandbox: Sandbox,
  pipeline: WritePipeline,
  userId: string,
  row: { label: string; imports: number; records: number; samples: number },
): Promise<RowMeasurement> {
  const a = createItemsBase(sandbox, userId, `A (${row.label})`);
  const b = createItemsBase(sandbox, userId, `B (${row.label})`);
  const perImport = row.imports === 0 ? 0 : Math.ceil(row.records / row.imports);
  const aNames: string[][] = Array.from({ length: row.imports }, (_, o) =>
    Array.from({ length: perImport }, (_, i) => `a-op${o}-${i}`),
  );
  const aOps: Operation[] = aNames.map((names) => createRecordsOperation(userId, a.baseId, a.tableId, names));
  for (const op of aOps) await pipeline.runner.submit(op);
  if (aOps.length > 0) await waitForFirstWrite(sandbox, a.baseId, 15_000);

  ctx.progress(`${row.label}: ${row.samples} writes on B, one every ${INTERVAL_MS} ms`);
  const bNames: string[] = [];
  const samples: number[] = [];
  const failedSamples: string[] = [];
  const windowStart = sandboxNow();
  const started = performance.now();
  for (let i = 0; i < row.samples; i++) {
    const wait = started + i * INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
    const name = `b-${i}`;
    bNames.push(name);
    const op = createRecordsOperation(userId, b.baseId, b.tableId, [name]);
    const t0 = performance.now();
    const state = await pipeline.run(op, 30_000);
    const ms = performance.now() - t0;
    if (state.status === "completed") samples.push(ms);
    else failedSamples.push(`${state.status}: ${JSON.stringify(state.outcomes[0] ?? state.failure ?? {})}`);
  }
  const windowEnd = sandboxNow();

  const states = await Promise.all(aOps.map((op) => pipeline.operations.state(op.operationId)));
  const aRunningAtEnd = states.filter((s) => s?.status === "queued" || s?.status === "running").length;
  const aMeanwhile = successfulWrites(sandbox, a.baseId)
    .filter((r) => r.time >= windowStart && r.time <= windowEnd)
    .reduce((sum, r) => sum + (r.recordCount ?? 0), 0);
  if (aOps.length > 0) ctx.progress(`${row.label}: letting A's imports finish`);
  const timeoutMs = (row.records / BASE_RECORDS_PER_SECOND) * 3_000 + 30_000;
  for (const op of aOps) await pipeline.waitForState(op, timeoutMs);

  return {
    baseA: row.label,
    importsOnA: row.imports,
    recordsOnA: perImport * row.imports,
    samples,
    failedSamples,
    medianMs: median(samples),
    p95Ms: percentile(samples, 95),
    maxMs: Math.max(...samples),
    aRecordsPerSecondMeanwhile: (aMeanwhile / (windowEnd - windowStart)) * 1000,
    aRunningAtEnd,
    count429: sandbox.count429({ baseId: a.baseId }) + sandbox.count429({ baseId: b.baseId }),
    aExactlyOnce: aOps.length === 0 ? undefined : checkExactlyOnce(sandbox, a.baseId, a.tableId, aNames.flat()),
    bExactlyOnce: checkExactlyOnce(sandbox, b.baseId, b.tableId, bNames),
  };
}

export const writeFairness: Scenario = {
  name: "write latency beside an import",
  summary:
    "Time from submit to the end of a 1-record create on base B while base A is idle, imports once, or has more " +
    "imports queued than all worker slots (2 worker processes; sandbox at 150 ms latency and Airtable's limits).",
  async run(ctx): Promise<ScenarioResult> {
    const bench = await startStrictWriteBench(ctx, {
      latencyMs: LATENCY_MS,
      penaltyMs: PENALTY_MS,
      email: "bench-fairness@example.com",
    });
    const { sandbox, pipeline, userId } = bench;
    try {
      ctx.progress(`starting ${WORKERS} worker processes`);
      await pipeline.scaleWorkersTo(WORKERS);
      const samples = Math.max(20, Math.round(ctx.seconds * 2.5));
      // Enough for A to stay busy through every sample and a little after.
      const records = Math.ceil(((samples * INTERVAL_MS) / 1000 + 3) * BASE_RECORDS_PER_SECOND);
      const rows = [
        { label: "idle", imports: 0, records: 0, samples },
        { label: "1 import running", imports: 1, records, samples },
        {
          label: `${MANY_IMPORTS} imports queued (> ${WORKERS * SLOTS_PER_WORKER} worker slots)`,
          imports: MANY_IMPORTS,
          records,
          samples,
        },
      ];
      const measurements: RowMeasurement[] = [];
      for (const row of rows) measurements.push(await measureRow(ctx, sandbox, pipeline, userId, row));

      const notes = [
        `Each row: fresh bases A and B of one user; ${samples} sequential 1-record create_records operations on B ` +
          `(BENCH_SECONDS × 2.5, at least 20), one started every ${INTERVAL_MS} ms (or as soon as the previous one ` +
          "ended), each timed from QueuedOperationRunner.submit to waitForEnd resolving and the operation's state read " +
          "back as completed: the path a write tool call waits on, minus MCP.",
        `A's imports: ${records} records in all (one operation, or ${MANY_IMPORTS} of ${Math.ceil(records / MANY_IMPORTS)}), ` +
          "submitted before the first B write; sampling starts once A's first batch has been applied. " +
          `"A rec/s meanwhile" is what A got while B was sampled (the base's ceiling is 50; the limiter's 48.1; ` +
          "small imports lose some to their short last batch).",
        `${WORKERS} worker processes with default settings: WORKER_CONCURRENCY ${SLOTS_PER_WORKER}, ` +
          "WORKER_MAX_ACTIVE_PER_BASE 3 (more operations on one base are parked outside the worker slots).",
        `Sandbox at ${LATENCY_MS} ms latency: a write can not end sooner. Target: p95 ≤ ${TARGET_P95_MS / 1000} s.`,
      ];
      for (const m of measurements) {
        if (m.importsOnA > 0 && m.aRunningAtEnd === 0) {
          notes.push(`${m.baseA}: A's imports had all ended before the last B sample; the row undersells the load.`);
        }
        if (m.failedSamples.length > 0) {
          notes.push(`${m.baseA}: ${m.failedSamples.length} B writes did not complete, e.g. ${m.failedSamples[0]}`);
        }
        if (!m.bExactlyOnce.ok || (m.aExactlyOnce !== undefined && !m.aExactlyOnce.ok)) {
          notes.push(
            `${m.baseA}: records missing or duplicated (A ${JSON.stringify(m.aExactlyOnce)}, B ${JSON.stringify(m.bExactlyOnce)})`,
          );
        }
      }
      const warnings = pipeline.workerWarnings();
      if (warnings.length > 0) notes.push(`Worker warnings (${warnings.length}), first: ${warnings[0]}`);
      return {
        columns: ["base A meanwhile", "B writes", "median ms", "p95 ms", "max ms", "A rec/s meanwhile", "429s"],
        rows: measurements.map((m) => [
          m.baseA,
          String(m.samples.length),
          formatMs(m.medianMs),
          formatMs(m.p95Ms),
          formatMs(m.maxMs),
          m.aRecordsPerSecondMeanwhile.toFixed(1),
          String(m.count429),
        ]),
        notes,
        data: {
          latencyMs: LATENCY_MS,
          intervalMs: INTERVAL_MS,
          workers: WORKERS,
          targetP95Ms: TARGET_P95_MS,
          rows: measurements,
        },
      };
    } finally {
      await bench.close();
    }
  },
};
