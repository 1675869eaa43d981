/**
 * Bull Board's remove cancels the operation (bull-board.ts), over real HTTP against /admin/queues' JSON API, on the
 * real server app and BullMQ queue, with a real worker writing to the sandbox: a waiting job removed never sends a
 * request and its operation ends cancelled; removing a running job stops it after the batch in flight, leaving
 * exactly what the sandbox holds; emptying the queue cancels every waiting operation.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { operationResult } from "../../../src/shared/tools/operation-result.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import {
  TEST_ADMIN_TOKEN,
  bearer,
  startServerHarness,
  type ServerHarness,
  type TestWorker,
} from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("bull-board-cancel");
const redis = createTestRedis();
const admin = { authorization: bearer(TEST_ADMIN_TOKEN) };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sandbox: Sandbox;
let server: ServerHarness;
let token: string;
let user: { id: string };
const workers: TestWorker[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  user = sandbox.addUser({ email: "board-cancel@example.com", name: "Board Cancel" });
  token = sandbox.createPersonalAccessToken(user.id);
  server = await startServerHarness({ sandbox, keyPrefix, env: { ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
});

afterAll(async () => {
  await Promise.allSettled(workers.map((w) => w.worker.close()));
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

function newBase(name: string): string {
  return sandbox.createBase(user.id, {
    name,
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
}

function createOperation(baseId: string, count: number) {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `row ${i}` } })),
      options: { typecast: false, onError: "continue" },
    },
    user.id,
  );
}

const requestsTo = (baseId: string) => sandbox.requests.filter((r) => r.baseId === baseId).length;

async function boardPut(path: string): Promise<number> {
  const res = await fetch(`${server.url}/admin/queues/api/queues/operations/${path}`, {
    method: "PUT",
    headers: admin,
  });
  await res.arrayBuffer();
  return res.status;
}

describe("Bull Board remove = cancel", () => {
  it("removing a waiting job cancels its operation: nothing is sent, before or after a worker starts", async () => {
    const baseId = newBase("waiting");
    const op = createOperation(baseId, 30);
    await server.runner.submit(op);
    expect(await server.runner.queue.getJobState(op.operationId)).toBe("waiting");

    expect(await boardPut(`${op.operationId}/clean`)).toBe(204);
    const state = await server.operations.state(op.operationId);
    expect(state?.status).toBe("cancelled");
    expect(state?.cancellation?.via).toBe("bull_board");
    const answer = operationResult(state!);
    expect(answer.results?.every((r) => r.notWritten === true)).toBe(true);
    expect(await server.runner.queue.getJobState(op.operationId)).toBe("unknown");

    workers.push(await server.startWorker({ accessToken: async () => token }));
    await sleep(1_500);
    expect(requestsTo(baseId)).toBe(0);
    expect(sandbox.listRecordsDirect(baseId, "Tasks")).toEqual([]);
    expect((await server.operations.state(op.operationId))?.status).toBe("cancelled");
  });

  it("removing a running job stops it after the batch in flight; the result matches the sandbox", async () => {
    if (workers.length === 0) workers.push(await server.startWorker({ accessToken: async () => token }));
    const baseId = newBase("running");
    const op = createOperation(baseId, 300);
    await server.runner.submit(op);
    for (let i = 0; i < 100; i++) {
      if (((await server.operations.state(op.operationId))?.progress.recordsSucceeded ?? 0) >= 20) break;
      await sleep(100);
    }
    expect(await server.runner.queue.getJobState(op.operationId)).toBe("active");
    expect(await boardPut(`${op.operationId}/clean`)).toBe(204);
    await server.runner.waitForEnd(op.operationId, 10_000);

    const state = (await server.operations.state(op.operationId))!;
    expect(state.status).toBe("cancelled");
    const written = sandbox.listRecordsDirect(baseId, "Tasks");
    // Within one batch: at most the request in flight when the cancel was recorded reached Airtable after it.
    const cancelledAt = state.cancellation!.requestedAt;
    const after = sandbox.requests.filter(
      (r) => r.baseId === baseId && r.recordCount !== undefined && r.time >= cancelledAt,
    );
    expect(after.length).toBeLessThanOrEqual(1);
    expect(written.length).toBeLessThan(300);
    const ids = state.outcomes.flatMap((o) => ("recordId" in o ? [o.recordId] : []));
    expect(new Set(ids)).toEqual(new Set(written.map((r) => r.id)));
    await sleep(1_500);
    expect(sandbox.listRecordsDirect(baseId, "Tasks")).toHaveLength(written.length);
  });

  it("emptying the queue cancels every waiting operation", async () => {
    await Promise.all(workers.splice(0).map((w) => w.worker.close()));
    const baseId = newBase("empty");
    const ops = [createOperation(baseId, 12), createOperation(baseId, 5)];
    for (const op of ops) await server.runner.submit(op);
    expect(await boardPut("empty")).toBe(200);
    for (const op of ops) expect((await server.operations.state(op.operationId))?.status).toBe("cancelled");
    expect(requestsTo(baseId)).toBe(0);
  });
});
