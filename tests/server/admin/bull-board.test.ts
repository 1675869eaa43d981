/**
 * Bull Board on the real server app, over the real BullMQ queue that write operations go to and a real worker
 * running them against the sandbox: each job is listed with its owner, base and progress; ADMIN_READ_ONLY=true
 * refuses a retry that the writable board performs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import {
  TEST_ADMIN_TOKEN,
  bearer,
  startServerHarness,
  type ServerHarness,
  type TestWorker,
} from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("bull-board");
const redis = createTestRedis();
let sandbox: Sandbox;
let writable: ServerHarness;
let readOnly: ServerHarness;
let worker: TestWorker;
let user: { id: string };
let base: BaseInfo;

beforeAll(async () => {
  sandbox = await startSandbox();
  user = sandbox.addUser({ email: "board-owner@example.com", name: "Board Owner" });
  const token = sandbox.createPersonalAccessToken(user.id);
  base = sandbox.createBase(user.id, {
    name: "Board base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  [writable, readOnly] = await Promise.all([
    startServerHarness({ sandbox, keyPrefix, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN } }),
    startServerHarness({ sandbox, keyPrefix, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN, ADMIN_READ_ONLY: "true" } }),
  ]);
  worker = await writable.startWorker({ accessToken: async () => token });
});

afterAll(async () => {
  await Promise.allSettled([writable?.close(), readOnly?.close()]);
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

interface BoardJob {
  id: string;
  name: string;
  data: { ownerUserId: string; baseId: string; kind: string };
  progress: unknown;
  failedReason?: string;
}
interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
  counts: Record<string, number>;
  jobs: BoardJob[];
}

const admin = { authorization: bearer(TEST_ADMIN_TOKEN) };

/** What the board's page asks for: the operations queue with the jobs of one status. */
async function boardJobs(server: ServerHarness, status: string): Promise<BoardQueue> {
  const res = await fetch(
    `${server.url}/admin/queues/api/queues?activeQueue=operations&status=${status}&page=1&jobsPerPage=50`,
    { headers: admin },
  );
  expect(res.status).toBe(200);
  const { queues } = (await res.json()) as { queues: BoardQueue[] };
  expect(queues).toHaveLength(1);
  return queues[0]!;
}

function createOperation(baseId: string, count: number, tag: string) {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `${tag} ${i}` } })),
      options: { typecast: true, onError: "continue" },
    },
    user.id,
  );
}

describe("Bull Board", () => {
  it("lists an operation's job with its owner, base and progress", async () => {
    const op = createOperation(base.id, 15, "board");
    await writable.runner.submit(op);
    await writable.runner.waitForEnd(op.operationId, 15_000);
    expect((await writable.operations.state(op.operationId))?.status).toBe("completed");

    for (const server of [writable, readOnly]) {
      const queue = await boardJobs(server, "completed");
      const job = queue.jobs.find((j) => j.id === op.operationId);
      expect(job, "the completed job is listed").toBeDefined();
      expect(job!.name).toBe(`create_records · owner ${user.id} · base ${base.id} · batch 2/2, 15/15 written`);
      expect(job!.data).toMatchObject({ ownerUserId: user.id, baseId: base.id, kind: "create_records" });
      expect(job!.progress).toEqual({
        batchesDone: 2,
        batchesTotal: 2,
        recordsTotal: 15,
        recordsSucceeded: 15,
        recordsFailed: 0,
        recordsInDoubt: 0,
      });
      expect(queue.readOnlyMode).toBe(server === readOnly);
    }
  });

  it("in read-only mode refuses to retry a failed operation; the writable board retries it", async () => {
    // A base that does not exist: Airtable refuses the first batch and the operation fails for good.
    const op = createOperation("appNoSuchBase0000", 3, "doomed");
    await writable.runner.submit(op);
    await writable.runner.waitForEnd(op.operationId, 15_000);
    expect((await writable.operations.state(op.operationId))?.status).toBe("failed");
    const failed = (await boardJobs(readOnly, "failed")).jobs.find((j) => j.id === op.operationId);
    expect(failed?.failedReason).toMatch(/Airtable refused access/);

    // No worker from here on, so a retried job stays visibly waiting.
    await worker.worker.close();
    const retryOne = `/admin/queues/api/queues/operations/${op.operationId}/retry`;
    const retryAll = "/admin/queues/api/queues/operations/retry/failed";
    for (const path of [retryOne, retryAll]) {
      const refused = await fetch(`${readOnly.url}${path}`, { method: "PUT", headers: admin });
      expect(refused.status, path).toBe(405);
      expect(await refused.text()).toMatch(/read.?only/i);
    }
    const job = await writable.runner.queue.getJob(op.operationId);
    expect(await job?.getState()).toBe("failed");

    const done = await fetch(`${writable.url}${retryOne}`, { method: "PUT", headers: admin });
    expect(done.status).toBe(204);
    expect(await (await writable.runner.queue.getJob(op.operationId))?.getState()).toBe("waiting");

    // What a retry does: the job runs again, but the operation's log already ends in `failed` and the log decides,
    // so nothing is sent to Airtable and the operation stays failed (the agent calls the tool again to redo it).
    const again = await writable.startWorker({ accessToken: async () => "unused" });
    await writable.runner.waitForEnd(op.operationId, 10_000);
    expect(await (await writable.runner.queue.getJob(op.operationId))?.getState()).toBe("completed");
    expect((await writable.operations.state(op.operationId))?.status).toBe("failed");
    expect(await again.metrics.registry.getSingleMetric("airtable_requests_total")?.get()).toMatchObject({
      values: [],
    });
  });
});
