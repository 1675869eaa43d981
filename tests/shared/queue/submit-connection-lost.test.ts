/**
 * Redis's connection breaks while an operation's job is being added (a failover, a reset): Redis ran the add before
 * the break, or never will, and the answer is lost either way. The write call must not say "nothing was changed"
 * when the write runs (the agent would call again and write it twice), nor leave an operation `queued` forever when
 * it never will. Real Redis (behind a proxy that breaks one connection on cue), BullMQ, the server's runner and a
 * worker against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Job } from "bullmq";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { SubmitOutcomeUnknownError } from "../../../src/shared/operations/operation-runner.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { isRedisUnavailable } from "../../../src/shared/redis-unavailable.ts";
import { describeToolError } from "../../../src/shared/tools/tool-errors.ts";
import { writeTools } from "../../../src/shared/tools/catalog.ts";
import { startBreakingProxy, type BreakOptions, type BreakingProxy } from "../../helpers/breaking-proxy.ts";
import { testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

let proxy: BreakingProxy;
let sandbox: Sandbox;
let server: ServerHarness;
let userId: string;
let baseId: string;

beforeAll(async () => {
  proxy = await startBreakingProxy(testRedisUrl());
  sandbox = await startSandbox();
  server = await startServerHarness({
    sandbox,
    keyPrefix: uniquePrefix("submit-lost"),
    redisUrl: proxy.url,
    env: { REDIS_COMMAND_TIMEOUT_MS: "300" },
  });
  const user = sandbox.addUser({ email: "lost@example.com", name: "Lost" });
  userId = user.id;
  const token = sandbox.createPersonalAccessToken(user.id);
  baseId = sandbox.createBase(user.id, {
    name: "Lost answers",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
  workerToken = token;
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await proxy?.close();
});

let workerToken: string;

function createOne(name: string): Operation {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId: "Tasks",
      input: [{ fields: { Name: name } }],
      options: { typecast: false, onError: "continue" },
    },
    userId,
  );
}

/** Submits `op`, breaking the connection that carries its job's add (the next command naming it after its log). */
async function submitBreakingTheAdd(op: Operation, options: BreakOptions): Promise<unknown> {
  const { operations } = server;
  const create = operations.create.bind(operations);
  let broken: Promise<void> | undefined;
  operations.create = async (operation: Operation) => {
    await create(operation);
    broken = proxy.breakOn(operation.operationId, options);
  };
  try {
    await server.runner.submit(op);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    operations.create = create;
    await broken;
  }
}

/** The operation's state once it ended, or its last state read within `withinMs` (reads fail while Redis is away). */
async function finalState(operationId: string, withinMs = 15_000) {
  const deadline = performance.now() + withinMs;
  const read = () => server.operations.state(operationId).catch(() => undefined);
  let state = await read();
  while (!["completed", "failed", "cancelled"].includes(state?.status ?? "") && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    state = await read();
  }
  return state;
}

const written = (name: string) => sandbox.listRecordsDirect(baseId, "Tasks").filter((r) => r.fields.Name === name);

describe("the connection breaks while a write's job is added", () => {
  // No worker yet: the first two leave their jobs (if any) for nobody.
  it("never reached Redis: the call says nothing was changed, and the operation ends failed instead of staying queued", async () => {
    const op = createOne("never queued");
    const failure = await submitBreakingTheAdd(op, { forward: false });
    expect(isRedisUnavailable(failure), String(failure)).toBe(true);
    expect(failure).not.toBeInstanceOf(SubmitOutcomeUnknownError);
    const state = await server.operations.state(op.operationId);
    expect(state?.status).toBe("failed");
    expect(state?.failure?.reason ?? "").toMatch(/could not be queued.*Nothing was written/);
    expect(await Job.fromId(server.runner.queue, op.operationId)).toBeUndefined();
  });

  it("Redis still away after the break: the call says the outcome is unknown and names the operation; it ends failed once Redis answers", async () => {
    const op = createOne("unknown, not queued");
    const failure = await submitBreakingTheAdd(op, { forward: false, refuseMs: 1_500 });
    expect(failure).toBeInstanceOf(SubmitOutcomeUnknownError);
    const text = describeToolError(
      failure,
      writeTools.find((t) => t.name === "create_records")!,
    );
    expect(text).toContain(op.operationId);
    expect(text).toMatch(/may or may not run.*Do not call create_records again yet.*get_operation/);
    expect(text).not.toMatch(/Nothing was changed/i);
    const state = await finalState(op.operationId);
    expect(state?.status).toBe("failed");
    expect(written("unknown, not queued")).toEqual([]);
  });

  it("Redis still away when the first minute of asking ends (a longer outage, or a server instance without CPU between requests): the operation is still settled once Redis answers", async () => {
    const op = createOne("unknown past a minute");
    const failure = await submitBreakingTheAdd(op, { forward: false, refuseMs: 2_000 });
    expect(failure).toBeInstanceOf(SubmitOutcomeUnknownError);
    // The wall clock passes the first minute before the runner's first try (at 1 s, still refused) answers: what a
    // Redis away for longer, or a Cloud Run instance whose CPU is withheld between requests, looks like to it.
    const realNow = Date.now.bind(Date);
    const clock = vi.spyOn(Date, "now").mockImplementation(() => realNow() + 61_000);
    try {
      const state = await finalState(op.operationId, 6_000);
      expect(state?.status).toBe("failed");
      expect(state?.failure?.reason ?? "").toMatch(/could not be queued.*Nothing was written/);
    } finally {
      clock.mockRestore();
    }
  });

  it("the connection carrying the operation's log breaks, Redis ran it and is still away: nothing was changed, and the log (which list_operations shows) does not stay queued", async () => {
    const op = createOne("log written, answer lost");
    // The first command naming the operation is its log's create, on the server's shared connection.
    const broken = proxy.breakOn(op.operationId, { forward: true, refuseMs: 2_000 });
    const failure = await server.runner.submit(op).then(
      () => undefined,
      (error: unknown) => error,
    );
    await broken;
    expect(isRedisUnavailable(failure), String(failure)).toBe(true);
    expect(failure).not.toBeInstanceOf(SubmitOutcomeUnknownError);
    const state = await finalState(op.operationId, 6_000);
    expect(state?.status).toBe("failed");
    expect(state?.failure?.reason ?? "").toMatch(/could not be queued.*Nothing was written/);
    expect(await Job.fromId(server.runner.queue, op.operationId)).toBeUndefined();
  });

  it("ran in Redis, answer lost: the write is queued after all and runs once (the call is not told it failed)", async () => {
    await server.startWorker({ accessToken: async () => workerToken });
    const op = createOne("ran once");
    const failure = await submitBreakingTheAdd(op, { forward: true });
    expect(failure).toBeUndefined();
    const state = await finalState(op.operationId);
    expect(state?.status).toBe("completed");
    expect(written("ran once")).toHaveLength(1);
  });

  it("ran in Redis, answer lost, Redis still away: unknown at first, then the operation runs once", async () => {
    const op = createOne("unknown, ran");
    const failure = await submitBreakingTheAdd(op, { forward: true, refuseMs: 1_500 });
    expect(failure).toBeInstanceOf(SubmitOutcomeUnknownError);
    const state = await finalState(op.operationId);
    expect(state?.status).toBe("completed");
    expect(written("unknown, ran")).toHaveLength(1);
    expect(sandbox.requests.filter((r) => r.baseId === baseId && r.method === "POST")).toHaveLength(2);
  });
});
