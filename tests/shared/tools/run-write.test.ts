/**
 * The write runtime around a real plan, the embedded runner and the sandbox: the answer in time, the answer
 * when the operation outlasts the wait, and — once an operation is queued — never an error that would make an
 * agent write it again.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { QueuedOperationRunner } from "../../../src/shared/queue/queued-runner.ts";
import { WorkerHeartbeat, WorkerLiveness } from "../../../src/shared/queue/worker-heartbeat.ts";
import { EmbeddedOperationRunner } from "../../../src/shared/operations/embedded-runner.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { createWriteRunner, noWorkerMessage } from "../../../src/shared/tools/run-write.ts";
import { startToolContextHarness, type ToolContextHarness } from "../../support/tool-context-test-harness.ts";
import { createRecords } from "../../../src/shared/tools/write/create-records.ts";

let h: ToolContextHarness;
let runner: EmbeddedOperationRunner;

beforeAll(async () => {
  h = await startToolContextHarness("run-write");
  runner = new EmbeddedOperationRunner({
    store: h.operations,
    logger: h.ctx.logger,
    processorDeps: () => ({ airtable: h.ctx.airtable, schemas: h.ctx.schemas }),
  });
});

afterAll(async () => {
  await runner?.close();
  await h?.close();
});

const records = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ fields: { Name: `${tag} ${i}` } }));
const args = (n: number, tag: string) => ({ baseId: h.demo.base.id, tableId: "Contacts", records: records(n, tag) });
const output = (result: { structuredContent?: unknown }) => result.structuredContent as OperationResultOutput;

describe("createWriteRunner", () => {
  it("answers with every result by index when the operation ends within the wait", async () => {
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(12, "in time")), h.ctx));
    expect(result).toMatchObject({ status: "completed", done: true, progress: { recordsSucceeded: 12 } });
    expect(result.results?.map((r) => r.index)).toEqual([...Array(12).keys()]);
  });

  it("sends a progress notification after every batch when the client asked for progress", async () => {
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 10_000 });
    const sent: [number, number | undefined][] = [];
    const ctx = {
      ...h.ctx,
      sendProgress: async (progress: number, total?: number) => void sent.push([progress, total]),
    };
    await runWrite(createRecords, await h.plan(createRecords, args(25, "progress")), ctx);
    expect(sent).toEqual([
      [10, 25],
      [20, 25],
      [25, 25],
    ]);
  });

  it("answers with the operation id and progress, no results, when the wait runs out first", async () => {
    const runWrite = createWriteRunner({ runner, operations: h.operations, waitMs: 0 });
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(30, "later")), h.ctx));
    expect(result.done).toBe(false);
    expect(result.results).toBeUndefined();
    expect(result.message).toMatch(/get_operation/);
    await runner.waitForEnd(result.operationId, 10_000);
    expect((await h.operations.state(result.operationId))?.status).toBe("completed");
  });

  it("once queued, answers with the operation id even when its state cannot be read, and the write still happens", async () => {
    // The reader's Redis connection is gone (as in an outage right after queueing).
    const broken = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    broken.on("error", () => undefined);
    const reader = new OperationLog({ redis: broken, keyPrefix: "unreachable", retentionMs: 60_000 });
    const runWrite = createWriteRunner({ runner, operations: reader, waitMs: 5_000 });
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(3, "unread")), h.ctx));
    expect(result).toMatchObject({ status: "queued", done: false });
    expect(result.message).toMatch(/Do not call again: poll get_operation/);
    expect((await h.operations.state(result.operationId))?.status).toBe("completed");
    const names = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").map((r) => String(r.fields.Name));
    expect(names.filter((n) => n.startsWith("unread "))).toHaveLength(3);
    broken.disconnect();
  });
});

describe("createWriteRunner with a worker pool (queued runner, workers' heartbeats)", () => {
  const redis = createTestRedis();
  const prefix = uniquePrefix("run-write-queue");
  const logger = createLogger({ level: "silent" });
  let queued: QueuedOperationRunner;
  beforeAll(async () => {
    queued = new QueuedOperationRunner({
      redis,
      keyPrefix: prefix,
      store: h.operations,
      attempts: 1,
      retentionMs: 60_000,
      logger,
    });
    await queued.ready();
  });
  afterAll(async () => {
    await queued?.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("says that no worker is running (and the operation id) when the write cannot start, instead of a bare Queued", async () => {
    const workers = new WorkerLiveness({ redis, keyPrefix: prefix });
    const runWrite = createWriteRunner({ runner: queued, operations: h.operations, waitMs: 300, workers });
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(2, "no worker")), h.ctx));
    expect(result).toMatchObject({ status: "queued", done: false });
    expect(result.message).toBe(noWorkerMessage(result.operationId));
    expect(result.message).toMatch(/^Queued; no worker is running — the operator must start one\. /);
    expect(result.message).toContain(result.operationId);
  });

  it("answers at once that no worker is running when the deployment has had none for a whole window", async () => {
    const windowMs = 200;
    const workers = new WorkerLiveness({ redis, keyPrefix: `${prefix}:absent`, windowMs });
    // Readings (a /readyz probe, an earlier write) have seen no worker for a whole window.
    await workers.status();
    await new Promise((resolve) => setTimeout(resolve, windowMs + 50));
    const runWrite = createWriteRunner({ runner: queued, operations: h.operations, waitMs: 20_000, workers });
    const started = performance.now();
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(2, "absent")), h.ctx));
    // Not the 20 s wait: the answer comes as soon as the operation is queued.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(result).toMatchObject({ status: "queued", done: false });
    expect(result.message).toBe(noWorkerMessage(result.operationId));
    await deleteKeys(redis, `${prefix}:absent`);
  });

  it("waits as usual when a worker stopped moments ago (a restart), and says then that none is running", async () => {
    const keyPrefix = `${prefix}:restart`;
    const windowMs = 2_000;
    const workers = new WorkerLiveness({ redis, keyPrefix, windowMs });
    // No worker for a whole window, then one comes and stops cleanly: the count of absence starts again.
    await workers.status();
    await new Promise((resolve) => setTimeout(resolve, windowMs + 50));
    expect(await workers.absentForWindow()).toBe(true);
    const previous = new WorkerHeartbeat({ redis, keyPrefix, logger, windowMs });
    previous.start();
    await expect.poll(() => workers.anyAlive()).toBe(true);
    await previous.stop();
    const runWrite = createWriteRunner({ runner: queued, operations: h.operations, waitMs: 500, workers });
    const started = performance.now();
    const result = output(await runWrite(createRecords, await h.plan(createRecords, args(2, "restart")), h.ctx));
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(result.message).toBe(noWorkerMessage(result.operationId));
    await deleteKeys(redis, keyPrefix);
  });

  it("says a plain Queued when a worker is alive but busy, or when the heartbeats cannot be read", async () => {
    const heartbeat = new WorkerHeartbeat({ redis, keyPrefix: prefix, logger });
    heartbeat.start();
    try {
      const workers = new WorkerLiveness({ redis, keyPrefix: prefix });
      await expect.poll(() => workers.anyAlive()).toBe(true);
      const runWrite = createWriteRunner({ runner: queued, operations: h.operations, waitMs: 300, workers });
      const busy = output(await runWrite(createRecords, await h.plan(createRecords, args(2, "busy")), h.ctx));
      expect(busy.message).toMatch(/^Queued \(2 records\)\. Poll get_operation/);
    } finally {
      await heartbeat.stop();
    }
    const unreadable = {
      anyAlive: () => Promise.reject(new Error("Connection is closed.")),
      absentForWindow: () => Promise.reject(new Error("Connection is closed.")),
    };
    const runWrite = createWriteRunner({ runner: queued, operations: h.operations, waitMs: 300, workers: unreadable });
    const unknown = output(await runWrite(createRecords, await h.plan(createRecords, args(2, "unknown")), h.ctx));
    expect(unknown.message).toMatch(/^Queued \(2 records\)\./);
  });
});
