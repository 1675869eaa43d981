/**
 * The worker's BullMQ side in one process: real Redis, real BullMQ Queue/QueueEvents/Worker, the sandbox over
 * HTTP at Airtable's own 5 req/s. Fairness (parking and promotion), progress relay, release on shutdown and
 * resume by another worker. The multi-process behaviour (SIGKILL, several workers) is in tests/e2e.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { airtableClientFactory } from "../../src/shared/airtable/client-factory.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import type { OperationProgress } from "../../src/shared/operations/fold.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../src/shared/operations/plan.ts";
import { QueuedOperationRunner } from "../../src/shared/queue/queued-runner.ts";
import { SchemaCache } from "../../src/shared/schema-cache.ts";
import { TokenDecryptError } from "../../src/shared/tokens/cipher.ts";
import { BaseFairness } from "../../src/worker/base-fairness.ts";
import { createOperationWorker, type OperationWorker } from "../../src/worker/operation-worker.ts";

const prefix = uniquePrefix("worker");
const redis = createTestRedis();
const workerRedis = createTestRedis({ maxRetriesPerRequest: null });
const logger = createLogger({ level: "silent" });
let f: Fixture;
let baseB: string;
let log: OperationLog;
let runner: QueuedOperationRunner;
const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix, logger });
const workers: OperationWorker[] = [];

function startWorker(
  concurrency = 4,
  maxActivePerBase = 1,
  accessToken: (userId: string) => Promise<string> = async () => f.token,
): OperationWorker {
  const worker = createOperationWorker({
    redis: workerRedis,
    keyPrefix: prefix,
    concurrency,
    lockMs: 5_000,
    store: log,
    fairness: new BaseFairness({ redis, keyPrefix: prefix, maxActivePerBase, leaseMs: 10_000 }),
    airtableClients: airtableClientFactory(
      { AIRTABLE_API_URL: f.sandbox.url, AIRTABLE_CONTENT_URL: f.sandbox.url },
      { limiter, logger },
    ),
    schemas: new SchemaCache({ keyPrefix: prefix }),
    accessToken,
    rateLimitPenaltyMs: 1_000,
    logger,
  });
  workers.push(worker);
  return worker;
}

beforeAll(async () => {
  f = await fixture({ penaltyMs: 30_000 });
  baseB = f.sandbox.createBase(f.user.id, {
    name: "Other base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
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
});

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.close()));
  await runner?.close();
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  workerRedis.disconnect();
});

function createOp(baseId: string, count: number, tag: string) {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `${tag} ${i}` } })),
      options: { typecast: true, onError: "continue" },
    },
    f.user.id,
  );
}

const rows = (baseId: string, tag: string) =>
  f.sandbox.listRecordsDirect(baseId, "Tasks").filter((r) => String(r.fields.Name).startsWith(`${tag} `));

describe("operation worker", () => {
  it("runs a queued operation and relays progress after every batch", async () => {
    startWorker();
    const op = createOp(f.base.id, 30, "progress");
    const seen: OperationProgress[] = [];
    await runner.submit(op);
    await runner.waitForEnd(op.operationId, 20_000, (p) => seen.push(p));
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("completed");
    expect(rows(f.base.id, "progress")).toHaveLength(30);
    expect(seen.map((p) => p.batchesDone)).toEqual([1, 2, 3]);
  });

  it("parks imports over the per-base cap without holding back another base, and runs them all", async () => {
    // cap 1 per base: A's second and third imports wait; B's one record must not wait behind them.
    const a = [createOp(f.base.id, 60, "a1"), createOp(f.base.id, 20, "a2"), createOp(f.base.id, 20, "a3")];
    for (const op of a) await runner.submit(op);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const b = createOp(baseB, 1, "b");
    const started = performance.now();
    await runner.submit(b);
    await runner.waitForEnd(b.operationId, 20_000);
    const bMs = performance.now() - started;
    expect((await log.state(b.operationId))?.status).toBe("completed");
    // A's first import needs 6 requests at 5/s; B finished well before it.
    const a1 = await log.state(a[0]!.operationId);
    expect(a1?.status).toBe("running");
    expect(bMs).toBeLessThan(1_000);
    for (const op of a) await runner.waitForEnd(op.operationId, 30_000);
    for (const [i, op] of a.entries()) {
      expect((await log.state(op.operationId))?.status).toBe("completed");
      expect(rows(f.base.id, `a${i + 1}`)).toHaveLength(op.input.length);
    }
    // The cap held: A's imports never ran at the same time (which parked one goes first is best-effort FIFO).
    const span = async (id: string) => {
      const events = await log.read(id);
      const starts = events.filter((e) => e.type === "batch.started").map((e) => e.at);
      return { first: Math.min(...starts), end: events.find((e) => e.type === "completed")!.at };
    };
    const spans = (await Promise.all(a.map((op) => span(op.operationId)))).sort((x, y) => x.first - y.first);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.first).toBeGreaterThanOrEqual(spans[i - 1]!.end);
  });

  it("runs a single-batch write on a base whose bulk lane is full, without waiting for the imports", async () => {
    const imports = [createOp(f.base.id, 80, "bulk1"), createOp(f.base.id, 40, "bulk2")];
    for (const op of imports) await runner.submit(op);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const quick = createOp(f.base.id, 3, "quick");
    await runner.submit(quick);
    await runner.waitForEnd(quick.operationId, 20_000);
    expect((await log.state(quick.operationId))?.status).toBe("completed");
    // The first import (8 requests at 5/s) is still running; the second is still parked behind it.
    expect((await log.state(imports[0]!.operationId))?.status).toBe("running");
    expect((await log.state(imports[1]!.operationId))?.status).toBe("queued");
    for (const op of imports) await runner.waitForEnd(op.operationId, 30_000);
  });

  it("releases a running operation at a batch boundary on close, and another worker finishes it exactly once", async () => {
    const first = workers[0]!;
    const op = createOp(f.base.id, 100, "handover");
    await runner.submit(op);
    // Let a few batches run, then shut the worker down as SIGTERM would.
    for (let i = 0; i < 100; i++) {
      const s = await log.state(op.operationId);
      if ((s?.progress.batchesDone ?? 0) >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await first.close();
    const mid = await log.state(op.operationId);
    expect(mid?.status).toBe("running");
    expect(mid?.unfinishedStartedBatch).toBeUndefined(); // stopped between batches, nothing in flight
    startWorker();
    await runner.waitForEnd(op.operationId, 30_000);
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("completed");
    expect(state?.progress.recordsSucceeded).toBe(100);
    const written = rows(f.base.id, "handover");
    expect(written).toHaveLength(100);
    expect(new Set(written.map((r) => r.fields.Name)).size).toBe(100);
  });

  it("fails an operation whose owner's token cannot be decrypted after one attempt, not after every retry", async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    startWorker(4, 1, async () => {
      // What RedisTokenStore throws for a sign-in stored under another TOKEN_ENCRYPTION_KEY.
      throw new TokenDecryptError("Cannot decrypt: the value was encrypted with key 0123456789abcdef");
    });
    const op = createOp(f.base.id, 5, "wrong-key");
    await runner.submit(op);
    const started = performance.now();
    await runner.waitForEnd(op.operationId, 20_000);
    // BullMQ's backoff between attempts would take seconds; a configuration error is not retried at all.
    expect(performance.now() - started).toBeLessThan(3_000);
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("failed");
    expect(state?.failure?.errorType).toBe("SERVER_MISCONFIGURED");
    expect(state?.failure?.reason).toContain("TOKEN_ENCRYPTION_KEY");
    const job = await runner.queue.getJob(op.operationId);
    expect(job?.attemptsMade).toBe(1);
    expect(await job?.isFailed()).toBe(true);
    expect(rows(f.base.id, "wrong-key")).toHaveLength(0);
  });

  it("keeps BullMQ's scripts off the shared connections, whose pipelines then stay cheap", async () => {
    const worker = startWorker();
    await worker.worker.waitUntilReady();
    await runner.queue.getJobCounts();
    // BullMQ defines its Lua scripts as commands on the connection it is given; ioredis then copies each one onto
    // every pipeline made on that connection (bullmqConnection in operation-queue.ts).
    expect(Object.keys(redis.scriptsSet)).toEqual([]);
    expect(Object.keys(workerRedis.scriptsSet)).toEqual([]);
    // They are on BullMQ's own connections (which is what makes the assertions above mean something).
    const queueClient = runner.queue.opts.connection as Redis;
    const workerClient = worker.worker.opts.connection as Redis;
    expect(queueClient).not.toBe(redis);
    expect(workerClient).not.toBe(workerRedis);
    expect(Object.keys(queueClient.scriptsSet).length).toBeGreaterThan(10);
    expect(Object.keys(workerClient.scriptsSet).length).toBeGreaterThan(10);
    await worker.close();
    workers.splice(workers.indexOf(worker), 1);
  });
});
