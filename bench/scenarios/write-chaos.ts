import { startSandbox } from "../../src/sandbox/index.ts";
import type { Scenario, ScenarioResult } from "../scenario.ts";
import {
  checkExactlyOnce,
  createItemsBase,
  createRecordsOperation,
  describeExactlyOnce,
  WritePipeline,
  type ExactlyOnce,
} from "../support/write-pipeline.ts";

/**
 * A 500-record import through the queue and worker processes while the sandbox answers 10 % of API requests with
 * a 5xx without applying them and cuts the connection after applying 3 % of record writes (answers lost): how many
 * records stay in doubt once the worker has reconciled its lost creates by reading the table back (goal 0), how
 * many are duplicated (must be 0), and how long the import takes.
 */
const RECORDS = 500;
const SERVER_ERROR_RATE = 0.1;
const LOST_ANSWER_RATE = 0.03;
const LATENCY_MS = 150;
const PENALTY_MS = 5_000;
const WORKER_COUNTS = [1, 2];

interface ChaosRun {
  workers: number;
  status: string;
  seconds: number;
  serverErrors: number;
  lostAnswers: number;
  reconciliations: number;
  reconciledWritten: number;
  reconciledResent: number;
  inDoubt: number;
  exactlyOnce: ExactlyOnce;
}

export const writeChaos: Scenario = {
  name: "write chaos: 503s and lost answers",
  summary:
    `A ${RECORDS}-record create_records import while the sandbox answers ${SERVER_ERROR_RATE * 100} % of requests ` +
    `5xx (not applied) and drops the answer of ${LOST_ANSWER_RATE * 100} % of record writes after applying them: ` +
    "records left in doubt after reconciliation, duplicates, time to finish.",
  async run(ctx): Promise<ScenarioResult> {
    const sandbox = await startSandbox({
      latencyMs: LATENCY_MS,
      perBaseRps: 5,
      perTokenRps: 50,
      penaltyMs: PENALTY_MS,
    });
    let pipeline: WritePipeline | undefined;
    try {
      pipeline = await WritePipeline.start({
        sandbox,
        redis: ctx.redis,
        redisUrl: ctx.redisUrl,
        keyPrefix: ctx.keyPrefix,
        penaltyMs: PENALTY_MS,
      });
      const userId = sandbox.addUser({ email: "bench-chaos@example.com" }).id;
      await pipeline.seedAirtableToken(userId, sandbox.createPersonalAccessToken(userId));
      const runs: ChaosRun[] = [];
      for (const workers of WORKER_COUNTS) {
        ctx.progress(`${workers} worker process(es): ${RECORDS} records under chaos`);
        await pipeline.scaleWorkersTo(workers);
        const { baseId, tableId } = createItemsBase(sandbox, userId, `Chaos ${workers}w`);
        const names = Array.from({ length: RECORDS }, (_, i) => `chaos-${workers}w-${i}`);
        const op = createRecordsOperation(userId, baseId, tableId, names);
        sandbox.clearRequests();
        sandbox.setFaults({ serverErrorRate: SERVER_ERROR_RATE, dropAfterApplyRate: LOST_ANSWER_RATE });
        const started = performance.now();
        let status: string;
        try {
          status = (await pipeline.run(op, 300_000)).status;
        } finally {
          sandbox.setFaults({ serverErrorRate: 0, dropAfterApplyRate: 0 });
        }
        const seconds = (performance.now() - started) / 1000;
        const state = await pipeline.operations.state(op.operationId);
        const events = await pipeline.operations.read(op.operationId);
        const reconciled = events.flatMap((e) => (e.type === "batch.reconciled" ? [e] : []));
        const onBase = sandbox.requests.filter((r) => r.baseId === baseId);
        runs.push({
          workers,
          status,
          seconds,
          serverErrors: onBase.filter((r) => r.status >= 500).length,
          lostAnswers: onBase.filter((r) => r.status === 0 && r.method === "POST").length,
          reconciliations: reconciled.length,
          reconciledWritten: reconciled.reduce((n, e) => n + e.written.length, 0),
          reconciledResent: reconciled.reduce((n, e) => n + e.absent.length, 0),
          inDoubt: state?.progress.recordsInDoubt ?? -1,
          exactlyOnce: checkExactlyOnce(sandbox, baseId, tableId, names),
        });
      }
      const notes = [
        `Sandbox at Airtable's limits (5 req/s per base, 50 per token) with ${LATENCY_MS} ms latency; ` +
          `serverErrorRate ${SERVER_ERROR_RATE} on every API request (reads included: the client retries those) and ` +
          `dropAfterApplyRate ${LOST_ANSWER_RATE} on record writes. Worker processes with default settings ` +
          "(RECONCILE_SETTLE_MS 3,000: each lost create waits that long before the table is read back).",
        `"5xx" and "lost" count what the sandbox did to requests on the base; "reconciled" counts batch.reconciled ` +
          "events, split into records found (written) and confirmed absent (re-sent once).",
        `"exactly once": every record asked for is in the table once and nothing else is; "in doubt" is what the ` +
          "operation still reports in doubt after reconciliation.",
      ];
      return {
        columns: [
          "workers",
          "status",
          "time to finish",
          "5xx",
          "lost answers",
          "reconciled (found / re-sent)",
          "in doubt",
          "exactly once",
        ],
        rows: runs.map((r) => [
          String(r.workers),
          r.status,
          `${r.seconds.toFixed(1)} s`,
          String(r.serverErrors),
          String(r.lostAnswers),
          `${r.reconciliations} (${r.reconciledWritten} / ${r.reconciledResent})`,
          String(r.inDoubt),
          describeExactlyOnce(r.exactlyOnce),
        ]),
        notes,
        data: runs,
      };
    } finally {
      await pipeline?.close();
      await sandbox.close();
    }
  },
};
