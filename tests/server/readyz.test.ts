/**
 * GET /readyz of the real server app (createServerApp over the real BullMQ queue, real Redis, a worker as
 * src/worker/main.ts wires it): ready with no work; "degraded" (still 200, see src/server/readyz.ts) when a write
 * waits and no worker is alive; ready again once a worker runs it; degraded again as soon as that worker stops and
 * another write waits. Redis away (503): tests/e2e/shutdown-and-outage.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationFromPlan } from "../../src/shared/operations/plan.ts";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("readyz");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let token: string;
let user: { id: string };
let base: BaseInfo;

beforeAll(async () => {
  sandbox = await startSandbox();
  user = sandbox.addUser({ email: "readyz@example.com", name: "Readyz" });
  token = sandbox.createPersonalAccessToken(user.id);
  base = sandbox.createBase(user.id, {
    name: "Readyz base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  server = await startServerHarness({ sandbox, keyPrefix });
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function queueWrite(tag: string): Promise<string> {
  const op = operationFromPlan(
    {
      kind: "create_records",
      baseId: base.id,
      tableId: "Tasks",
      input: [{ fields: { Name: tag } }],
      options: { typecast: false, onError: "continue" },
    },
    user.id,
  );
  await server.runner.submit(op);
  return op.operationId;
}

describe("GET /readyz and the workers", () => {
  it("is ready with no worker while no write waits", async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: "ready", workers: { alive: 0, writesWaiting: 0 } } });
  });

  it("is degraded (200) while a write waits and no worker is alive, and ready once a worker has run it", async () => {
    const id = await queueWrite("waiting");
    const degraded = await readyz();
    expect(degraded.status).toBe(200);
    expect(degraded.body).toMatchObject({
      status: "degraded",
      degraded: ["workers"],
      workers: { alive: 0, writesWaiting: 1 },
    });
    expect(degraded.body.message).toMatch(
      /^1 write operation\(s\) are waiting and no worker is running \(none has sent a heartbeat in the last 30 s, or the last one stopped\): start a worker/,
    );

    const worker = await server.startWorker({ accessToken: async () => token });
    await server.runner.waitForEnd(id, 15_000);
    expect((await server.operations.state(id))?.status).toBe("completed");
    await expect
      .poll(async () => (await readyz()).body)
      .toMatchObject({ status: "ready", workers: { alive: 1, writesWaiting: 0 } });
    expect((await readyz()).body.workers).toHaveProperty("lastHeartbeatSecondsAgo");

    // The worker stops (SIGTERM): it leaves the heartbeat set at once, so the next waiting write is reported.
    await worker.worker.close();
    await queueWrite("after the worker stopped");
    expect((await readyz()).body).toMatchObject({ status: "degraded", workers: { alive: 0, writesWaiting: 1 } });
  });
});
