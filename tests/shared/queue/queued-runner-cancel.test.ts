/**
 * QueuedOperationRunner.cancel on a log a crashed run left with a create in flight (its answer lost): the cancel is
 * recorded, but the request is not left unknown — the job goes back on the queue, a real worker reads the table back
 * (reconcile), lists what Airtable did write, and only then ends the operation `cancelled`, sending nothing more.
 * Real Redis, BullMQ, the server app's runner and a worker against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("queued-cancel");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix, env: { RECONCILE_SETTLE_MS: "100" } });
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("QueuedOperationRunner.cancel with a create in flight", () => {
  it("reconciles the lost create before the operation ends cancelled; nothing more is sent", async () => {
    const user = sandbox.addUser({ email: "crashed@example.com", name: "Crashed" });
    const token = sandbox.createPersonalAccessToken(user.id);
    const baseId = sandbox.createBase(user.id, {
      name: "Crashed",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId,
        tableId: "Tasks",
        input: Array.from({ length: 20 }, (_, i) => ({ fields: { Name: `lost ${i}` } })),
        options: { typecast: false, onError: "continue" },
      },
      user.id,
    );
    await server.runner.submit(op);
    // A worker sent batch 0 (Airtable created it) and died before recording the answer.
    await server.operations.append(op.operationId, {
      type: "batch.started",
      batch: 0,
      attempt: 1,
      at: Date.now() - 1_000,
    });
    const created = await fetch(`${sandbox.url}/v0/${baseId}/Tasks`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ records: Array.from({ length: 10 }, (_, i) => ({ fields: { Name: `lost ${i}` } })) }),
    });
    const ids = ((await created.json()) as { records: { id: string }[] }).records.map((r) => r.id);
    const cancelledAt = nowMs();

    const asked = await server.runner.cancel(op.operationId, user.id);
    expect(asked?.status).toBe("running");
    expect(asked?.cancellation).toBeDefined();
    expect(await server.runner.queue.getJobState(op.operationId)).toBe("waiting");

    const worker = await server.startWorker({ accessToken: async () => token });
    await server.runner.waitForEnd(op.operationId, 15_000);
    const state = (await server.operations.state(op.operationId))!;
    expect(state.status).toBe("cancelled");
    expect(state.outcomes.map((o) => ("recordId" in o ? o.recordId : "?"))).toEqual(ids);
    const creates = sandbox.requests.filter(
      (r) => r.baseId === baseId && r.method === "POST" && r.recordCount !== undefined && r.time >= cancelledAt,
    );
    expect(creates).toEqual([]);
    expect(sandbox.listRecordsDirect(baseId, "Tasks")).toHaveLength(10);
    await worker.worker.close();
  });
});
