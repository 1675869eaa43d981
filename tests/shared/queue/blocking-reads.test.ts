/**
 * The server's connection fails fast (REDIS_COMMAND_TIMEOUT_MS, src/shared/redis-connection.ts), but its blocking
 * read of BullMQ's event stream (XREAD BLOCK 10 s, a connection BullMQ duplicates from the one it is given) must not
 * inherit that timeout: it would fail every idle read, BullMQ would then pause its event loop for 5 s, and a write
 * call waiting for its operation would learn of the end seconds late — past WRITE_WAIT_MS, "still running" for a
 * write that was done. Real Redis, BullMQ, the server's runner and a worker against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("blocking-reads");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix, env: { REDIS_COMMAND_TIMEOUT_MS: "200" } });
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("blocking reads on the server's fail-fast connection", () => {
  it("after idling far past the command timeout, a waited-for write is seen to end at once", async () => {
    const user = sandbox.addUser({ email: "idle@example.com", name: "Idle" });
    const token = sandbox.createPersonalAccessToken(user.id);
    const baseId = sandbox.createBase(user.id, {
      name: "Idle",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    }).id;
    await server.startWorker({ accessToken: async () => token });
    // Idle: the event stream's XREAD blocks (10 s) far longer than the 200 ms command timeout.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId,
        tableId: "Tasks",
        input: [{ fields: { Name: "one" } }, { fields: { Name: "two" } }],
        options: { typecast: false, onError: "continue" },
      },
      user.id,
    );
    await server.runner.submit(op);
    await server.runner.waitForEnd(op.operationId, 10_000);
    const seenAt = Date.now();

    const state = (await server.operations.state(op.operationId))!;
    expect(state.status).toBe("completed");
    const endedAt = (await server.operations.read(op.operationId)).at(-1)!.at;
    expect(seenAt - endedAt, "ms between the operation's end and the wait's").toBeLessThan(1_000);
  }, 30_000);
});
