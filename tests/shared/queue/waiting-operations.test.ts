/**
 * What MCP tasks count as "ahead in the queue", on a real BullMQ queue in real Redis (no worker): waiting and
 * delayed jobs (parked by base fairness, or backing off), and the poll interval a queued task gets from it.
 */
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import {
  bullPrefix,
  jobDataOf,
  jobOptions,
  OPERATIONS_QUEUE,
  waitingOperations,
  type OperationJobData,
} from "../../../src/shared/queue/operation-queue.ts";
import { OperationTaskStore } from "../../../src/shared/tasks/operation-task-store.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { testOperation } from "../../support/operations-test-harness.ts";

const redis = createTestRedis();
const keyPrefix = uniquePrefix("waiting-ops");
const queue = new Queue<OperationJobData>(OPERATIONS_QUEUE, { connection: redis, prefix: bullPrefix(keyPrefix) });
afterAll(async () => {
  await queue.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("waitingOperations", () => {
  it("counts waiting and delayed jobs; a queued task behind them polls one request's spacing later per job", async () => {
    const policy = { attempts: 3, retentionMs: 60_000 };
    expect(await waitingOperations(queue)).toBe(0);
    for (let i = 0; i < 3; i++) {
      const op = testOperation({ records: 1 });
      await queue.add(op.kind, jobDataOf(op), jobOptions(op, policy));
    }
    const parked = testOperation({ records: 1 });
    await queue.add(parked.kind, jobDataOf(parked), { ...jobOptions(parked, policy), delay: 60_000 });
    expect(await waitingOperations(queue)).toBe(4);

    const operations = new OperationLog({ redis, keyPrefix, retentionMs: 60_000 });
    const mine = testOperation({ ownerUserId: "usrQueued", records: 5, createdAt: Date.now() });
    await operations.create(mine);
    await queue.add(mine.kind, jobDataOf(mine), jobOptions(mine, policy));
    const tasks = new OperationTaskStore({
      operations,
      retentionMs: 60_000,
      baseRps: 5,
      queueDepth: () => waitingOperations(queue),
      cancel: () => Promise.reject(new Error("not used here")),
    });
    // 5 waiting: 4 ahead of it and its own job. 4 requests ahead + 1 batch of its own = 5 requests at 200 ms.
    expect((await tasks.get(mine.operationId, "usrQueued"))?.pollIntervalMs).toBe(1_000);
  });
});
