/**
 * Redis stalls (SIGSTOP of a redis-server of this test's own) in the middle of queueing a write: its log is written,
 * the job's add is sent and gets no answer. The write call answers "temporarily unavailable, nothing was changed"
 * once REDIS_COMMAND_TIMEOUT_MS has passed — but Redis still runs the add when it answers again, and a worker would
 * then write what the agent was told was not written (and will write again). It must not: the operation ends
 * `cancelled` and nothing reaches Airtable. Real Redis, BullMQ, the server's runner and a worker against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { isRedisUnavailable } from "../../../src/shared/redis-unavailable.ts";
import { startPrivateRedis, type PrivateRedis } from "../../helpers/private-redis.ts";
import { uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

let redis: PrivateRedis;
let sandbox: Sandbox;
let server: ServerHarness;

beforeAll(async () => {
  redis = await startPrivateRedis();
  sandbox = await startSandbox();
  server = await startServerHarness({
    sandbox,
    keyPrefix: uniquePrefix("submit-stall"),
    redisUrl: redis.url,
    env: { REDIS_COMMAND_TIMEOUT_MS: "300" },
  });
});

afterAll(async () => {
  redis?.resume();
  await server?.close();
  await sandbox?.close();
  await redis?.stop();
});

describe("a stall between an operation's log and its job", () => {
  it("the call fails as unavailable, and the job Redis adds afterwards writes nothing: the operation ends cancelled", async () => {
    const user = sandbox.addUser({ email: "stalled@example.com", name: "Stalled" });
    const token = sandbox.createPersonalAccessToken(user.id);
    const baseId = sandbox.createBase(user.id, {
      name: "Stalled",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    await server.startWorker({ accessToken: async () => token });
    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId,
        tableId: "Tasks",
        input: [{ fields: { Name: "told it failed" } }],
        options: { typecast: false, onError: "continue" },
      },
      user.id,
    );

    // The log is written; Redis stops before the job's add (the next command) reaches it.
    const { operations } = server;
    const create = operations.create.bind(operations);
    operations.create = async (operation: Operation) => {
      await create(operation);
      redis.stall();
    };
    let failure: unknown;
    try {
      await server.runner.submit(op).catch((error: unknown) => (failure = error));
      // A while longer than the command timeout: what was sent waits in Redis's input meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      operations.create = create;
      redis.resume();
    }
    expect(isRedisUnavailable(failure), String(failure)).toBe(true); // the call says "temporarily unavailable"

    let state = await operations.state(op.operationId);
    const deadline = Date.now() + 15_000;
    while (state?.status !== "cancelled" && state?.status !== "completed" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await operations.state(op.operationId);
    }
    expect(state?.status).toBe("cancelled");
    expect(sandbox.listRecordsDirect(baseId, "Tasks")).toEqual([]);
    expect(sandbox.requests.filter((r) => r.baseId === baseId && r.method === "POST")).toEqual([]);
  }, 30_000);
});
