/**
 * A healthy worker never loses its BullMQ lock while a batch takes longer than the whole lock period (issue 13 §2:
 * the lock is short so a killed worker's job moves on fast; renewal must keep a live one). Real Redis, real
 * BullMQ, the sandbox over HTTP answering every request 1.5 s late, under the shared limiter, with a 1 s lock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { airtableClientFactory } from "../../src/shared/airtable/client-factory.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../src/shared/operations/plan.ts";
import { QueuedOperationRunner } from "../../src/shared/queue/queued-runner.ts";
import { SchemaCache } from "../../src/shared/schema-cache.ts";
import { BaseFairness } from "../../src/worker/base-fairness.ts";
import { createOperationWorker, type OperationWorker } from "../../src/worker/operation-worker.ts";

const LOCK_MS = 1_000;
const LATENCY_MS = 1_500;
const prefix = uniquePrefix("worker-lock");
const redis = createTestRedis();
const workerRedis = createTestRedis({ maxRetriesPerRequest: null });
const logger = createLogger({ level: "silent" });
const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix, logger });
let f: Fixture;
let log: OperationLog;
let runner: QueuedOperationRunner;
let worker: OperationWorker;

beforeAll(async () => {
  f = await fixture({ penaltyMs: 30_000 });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
  runner = new QueuedOperationRunner({
    redis,
    keyPrefix: prefix,
    store: log,
    attempts: 3,
    retentionMs: 600_000,
    logger,
  });
  await runner.ready();
  worker = createOperationWorker({
    redis: workerRedis,
    keyPrefix: prefix,
    concurrency: 2,
    lockMs: LOCK_MS,
    store: log,
    fairness: new BaseFairness({ redis, keyPrefix: prefix, maxActivePerBase: 3, leaseMs: LOCK_MS * 2 }),
    airtableClients: airtableClientFactory(
      { AIRTABLE_API_URL: f.sandbox.url, AIRTABLE_CONTENT_URL: f.sandbox.url },
      { limiter, logger },
    ),
    schemas: new SchemaCache({ keyPrefix: prefix }),
    accessToken: async () => f.token,
    rateLimitPenaltyMs: 1_000,
    logger,
  });
});

afterAll(async () => {
  await worker?.close();
  await runner?.close();
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  workerRedis.disconnect();
});

describe("lock renewal", () => {
  it("keeps the lock through batches longer than the lock period: no stall, each batch sent once", async () => {
    const stalled: string[] = [];
    const failed: string[] = [];
    worker.worker.on("stalled", (jobId) => stalled.push(jobId));
    worker.worker.on("failed", (job, error) => failed.push(`${job?.id}: ${error.message}`));
    f.sandbox.setFaults({ latencyMs: LATENCY_MS });
    f.sandbox.clearRequests();
    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId: f.base.id,
        tableId: "Tasks",
        input: Array.from({ length: 40 }, (_, i) => ({ fields: { Name: `slow ${i}` } })),
        options: { typecast: false, onError: "continue" },
      },
      f.user.id,
    );
    try {
      await runner.submit(op);
      await runner.waitForEnd(op.operationId, 60_000);
    } finally {
      f.sandbox.setFaults({ latencyMs: 0 });
    }
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("completed");
    expect(stalled).toEqual([]);
    expect(failed).toEqual([]);
    const posts = f.sandbox.requests.filter((r) => r.method === "POST" && r.path === `/v0/${f.base.id}/Tasks`);
    expect(posts).toHaveLength(4);
    expect(
      f.sandbox.listRecordsDirect(f.base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith("slow ")),
    ).toHaveLength(40);
    // Every batch outlasted the lock: the renewals, not luck, kept it.
    expect(posts.every((r) => (r.endTime ?? r.time) - r.time >= LOCK_MS)).toBe(true);
  }, 90_000);
});
