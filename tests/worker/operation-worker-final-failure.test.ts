/**
 * An operation whose attempts are used up (Airtable answers 5xx throughout) ends with one ERROR line, so that an
 * operator alerting on severity >= ERROR sees it; the earlier attempts are WARNING lines.
 */
import { Writable } from "node:stream";
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

const prefix = uniquePrefix("worker-final-failure");
const redis = createTestRedis();
const workerRedis = createTestRedis({ maxRetriesPerRequest: null });
const lines: { severity: string; message: string; attempt?: number; operationId?: string }[] = [];
const logger = createLogger(
  { level: "info" },
  new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  }),
);
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
    attempts: 2,
    retentionMs: 600_000,
    logger,
  });
  await runner.ready();
  worker = createOperationWorker({
    redis: workerRedis,
    keyPrefix: prefix,
    concurrency: 1,
    lockMs: 5_000,
    store: log,
    fairness: new BaseFairness({ redis, keyPrefix: prefix, maxActivePerBase: 1, leaseMs: 10_000 }),
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

describe("an operation whose attempts are used up", () => {
  it("logs its end at ERROR level, its earlier attempts at WARNING", async () => {
    // Update: safe to re-send, so every attempt fails on the 5xx itself (no read-back, no settle delay).
    const id = (await f.sandbox.listRecordsDirect(f.base.id, "Tasks"))[0]?.id;
    const op = operationFromPlan(
      {
        kind: "update_records",
        baseId: f.base.id,
        tableId: "Tasks",
        input: [{ id: id ?? "recAAAAAAAAAAAAAA", fields: { Name: "x" } }],
        options: { typecast: false, onError: "continue" },
      },
      f.user.id,
    );
    f.sandbox.setFaults({ serverErrorRate: 1 });
    await runner.submit(op);
    const deadline = Date.now() + 45_000;
    while ((await log.state(op.operationId))?.status !== "failed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    f.sandbox.setFaults({ serverErrorRate: 0 });
    expect((await log.state(op.operationId))?.status).toBe("failed");
    const mine = lines.filter((l) => l.operationId === op.operationId && l.attempt !== undefined);
    expect(mine.map((l) => [l.severity, l.attempt])).toEqual([
      ["WARNING", 1],
      ["ERROR", 2],
    ]);
  }, 60_000);
});
