/**
 * A server process that exits (a crash, a Cloud Run scale-in, a SIGTERM) after writing an operation's log and
 * before its job was added, or before Redis answered whether the add ran, leaves the operation `queued` with no job:
 * nobody is left to settle it. Reads settle it (what get_operation, list_operations and tasks/get read:
 * settlingReader over the runner, as server/app.ts wires it): past the grace it ends `failed`, nothing written;
 * before the grace, and whenever its job exists, it is left alone. Real Redis (behind a proxy that breaks the
 * connection carrying the add, for the exiting server), BullMQ, two server instances sharing one queue, and a worker
 * against the sandbox. The agent's view through MCP: tests/server/mcp/write-connection-lost.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Job } from "bullmq";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import type { OperationListEntry, OperationReader } from "../../../src/shared/operations/operation-store.ts";
import { SubmitOutcomeUnknownError } from "../../../src/shared/operations/operation-runner.ts";
import { settlingReader } from "../../../src/shared/operations/settling-reader.ts";
import type { OperationSummary } from "../../../src/shared/operations/summary.ts";
import { isUnreadable } from "../../../src/shared/operations/unreadable-log.ts";
import { jobDataOf, jobOptions } from "../../../src/shared/queue/operation-queue.ts";
import { startBreakingProxy, type BreakingProxy } from "../../helpers/breaking-proxy.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { oneRecordOperation } from "../../support/operations-test-harness.ts";

const NOT_QUEUED = /could not be queued.*Nothing was written; call again/;
const keyPrefix = uniquePrefix("not-queued-read");
const redis = createTestRedis();
let proxy: BreakingProxy;
let sandbox: Sandbox;
/** The instance that stays up, and answers the reads. */
let server: ServerHarness;
let reader: OperationReader;
let userId: string;
let baseId: string;
let token: string;

beforeAll(async () => {
  proxy = await startBreakingProxy(testRedisUrl());
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix });
  reader = settlingReader(server.operations, server.runner, createLogger({ level: "silent" }));
  const user = sandbox.addUser({ email: "exited@example.com", name: "Exited" });
  userId = user.id;
  token = sandbox.createPersonalAccessToken(user.id);
  baseId = sandbox.createBase(user.id, {
    name: "Exited servers",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
});

afterAll(async () => {
  await server?.close();
  await sandbox?.close();
  await proxy?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const createOne = (name: string, ageMs = 0): Operation => oneRecordOperation(baseId, userId, name, ageMs);

/** The summary of `operationId` in a list (a log that cannot be read has none). */
function listedOne(entries: OperationListEntry[], operationId: string): OperationSummary | undefined {
  return entries.find((s): s is OperationSummary => !isUnreadable(s) && s.operationId === operationId);
}

/** Reads as the tools do, `aheadMs` later than now (the process's clock moved on: the grace passed). */
async function readLater(operationId: string, aheadMs: number) {
  const realNow = Date.now.bind(Date);
  const clock = vi.spyOn(Date, "now").mockImplementation(() => realNow() + aheadMs);
  try {
    return {
      state: await reader.getForOwner(operationId, userId),
      listed: listedOne(await reader.listForOwner(userId, { limit: 100 }), operationId),
    };
  } finally {
    clock.mockRestore();
  }
}

let worker: Promise<unknown> | undefined;
/** One worker for the cases that run a write (started once, after the cases that need jobs to wait). */
const startWorker = () => (worker ??= server.startWorker({ accessToken: async () => token }));

const events = async (operationId: string) => (await server.operations.read(operationId)).map((e) => e.type);
const written = (name: string) => sandbox.listRecordsDirect(baseId, "Tasks").filter((r) => r.fields.Name === name);

describe("an operation left queued with no job by a server process that exited", () => {
  it("the server exits before Redis answers whether the add ran: another instance's read ends it failed once the grace has passed, not before", async () => {
    // A second instance of the same deployment (same queue), behind the proxy: it takes the write, then goes away.
    const exiting = await startServerHarness({
      sandbox,
      keyPrefix,
      redisUrl: proxy.url,
      env: { REDIS_COMMAND_TIMEOUT_MS: "300" },
    });
    const op = createOne("exited before the answer");
    const { operations } = exiting;
    const create = operations.create.bind(operations);
    let broken: Promise<void> | undefined;
    operations.create = async (operation: Operation) => {
      await create(operation);
      broken = proxy.breakOn(operation.operationId, { forward: false, refuseMs: 1_500 });
    };
    const failure = await exiting.runner.submit(op).then(
      () => undefined,
      (error: unknown) => error,
    );
    await broken;
    expect(failure).toBeInstanceOf(SubmitOutcomeUnknownError);
    // It exits before its first try to settle it (1 s after the break; Redis is away for 1.5 s).
    await exiting.close();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await events(op.operationId)).toEqual(["accepted"]);
    expect(await Job.fromId(server.runner.queue, op.operationId)).toBeUndefined();

    // Read soon after: the add might still be on its way, as far as a reader can tell. Untouched.
    const early = await readLater(op.operationId, 0);
    expect(early.state?.status).toBe("queued");
    expect(early.listed?.status).toBe("queued");
    expect(await events(op.operationId)).toEqual(["accepted"]);

    // Read once the grace has passed: failed, saying nothing was written and to call again.
    const late = await readLater(op.operationId, server.runner.notQueuedGraceMs + 1_000);
    expect(late.state?.status).toBe("failed");
    expect(late.state?.failure?.reason ?? "").toMatch(NOT_QUEUED);
    expect(late.listed?.status).toBe("failed");
    expect(await events(op.operationId)).toEqual(["accepted", "failed"]);
    expect(await Job.fromId(server.runner.queue, op.operationId)).toBeUndefined();
  });

  it("a log recorded as submit records it, its job never added: failed past the grace (34 s by default), queued before", async () => {
    // REDIS_COMMAND_TIMEOUT_MS's default, 2 s: the log's create and the job's add, then 30 s of margin.
    expect(server.runner.notQueuedGraceMs).toBe(34_000);
    const old = createOne("old, no job", server.runner.notQueuedGraceMs + 1_000);
    const young = createOne("young, no job", server.runner.notQueuedGraceMs - 5_000);
    await server.operations.create(old);
    await server.operations.create(young);

    const state = await reader.getForOwner(old.operationId, userId);
    expect(state).toMatchObject({ status: "failed", failure: { reason: expect.stringMatching(NOT_QUEUED) } });
    expect(state?.progress).toMatchObject({ recordsSucceeded: 0, recordsInDoubt: 0 });
    expect((await reader.getForOwner(young.operationId, userId))?.status).toBe("queued");
    const listed = await reader.listForOwner(userId, { limit: 100 });
    expect(listedOne(listed, young.operationId)?.status).toBe("queued");
    expect(await events(young.operationId)).toEqual(["accepted"]);
    // Another user's read of it answers nothing and changes nothing.
    expect(await reader.getForOwner(young.operationId, "usrSomeoneElse")).toBeUndefined();
  });

  it("one whose job exists is never touched, however old: a worker then runs it, once", async () => {
    const op = createOne("old, queued", server.runner.notQueuedGraceMs + 60_000);
    await server.operations.create(op);
    await server.runner.queue.add(op.kind, jobDataOf(op), jobOptions(op, { attempts: 1, retentionMs: 3_600_000 }));

    expect((await reader.getForOwner(op.operationId, userId))?.status).toBe("queued");
    expect(listedOne(await reader.listForOwner(userId, { limit: 100 }), op.operationId)?.status).toBe("queued");
    expect(await events(op.operationId)).toEqual(["accepted"]);

    await startWorker();
    await vi.waitFor(async () => expect((await reader.getForOwner(op.operationId, userId))?.status).toBe("completed"), {
      timeout: 15_000,
      interval: 100,
    });
    expect(written("old, queued")).toHaveLength(1);
  });

  it("its job added at the last moment (after the read found none): the operation is not failed, and it runs once", async () => {
    await startWorker();
    const op = createOne("job at the last moment", server.runner.notQueuedGraceMs + 1_000);
    await server.operations.create(op);
    const { operations } = server;
    const appendIf = operations.appendIf.bind(operations);
    let added = false;
    // The add lands after the settle read the log and found it queued with no job, just before it appends its end.
    operations.appendIf = async (...args: Parameters<typeof appendIf>) => {
      if (args[0] === op.operationId && !added) {
        added = true;
        await server.runner.queue.add(op.kind, jobDataOf(op), jobOptions(op, { attempts: 1, retentionMs: 3_600_000 }));
      }
      return appendIf(...args);
    };
    try {
      expect((await reader.getForOwner(op.operationId, userId))?.status).not.toBe("failed");
    } finally {
      operations.appendIf = appendIf;
    }
    expect(added).toBe(true);
    await vi.waitFor(async () => expect((await reader.getForOwner(op.operationId, userId))?.status).toBe("completed"), {
      timeout: 15_000,
      interval: 100,
    });
    expect(await events(op.operationId)).not.toContain("failed");
    expect(written("job at the last moment")).toHaveLength(1);
  });
});
