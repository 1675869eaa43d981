/**
 * What an agent sees, through the real MCP SDK clients, when Redis's connection breaks while its write's job is
 * being added and Redis is still away right after (a failover, a restart): the call says the outcome is unknown,
 * names the operation and says not to call again; get_operation (or tasks/get, for a 2026-07-28 client with the
 * Tasks extension) then tells the truth. The server app with its BullMQ runner, a worker, the Airtable sandbox, and
 * Redis behind a proxy that breaks the connection carrying the add (tests/helpers/breaking-proxy.ts). The runner's
 * own cases are tests/shared/queue/submit-connection-lost.test.ts.
 *
 * And when the server process exits before it could settle such a write (a crash, a Cloud Run scale-in): its
 * operation is left `queued` with no job, which get_operation, list_operations and tasks/get end `failed` (nothing
 * written, call again) once the grace has passed; the runner's cases are
 * tests/shared/queue/not-queued-on-read.test.ts.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { jobDataOf, jobOptions } from "../../../src/shared/queue/operation-queue.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { startBreakingProxy, type BreakOptions, type BreakingProxy } from "../../helpers/breaking-proxy.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { callModern } from "../../support/tasks-client.ts";
import { oneRecordOperation } from "../../support/operations-test-harness.ts";

const keyPrefix = uniquePrefix("write-lost");
const redis = createTestRedis();
let proxy: BreakingProxy;
let sandbox: Sandbox;
let server: ServerHarness;
let provider: TestOAuthProvider;
let client: Client;
let baseId: string;
let userId: string;

beforeAll(async () => {
  proxy = await startBreakingProxy(testRedisUrl());
  sandbox = await startSandbox();
  server = await startServerHarness({
    sandbox,
    keyPrefix,
    redisUrl: proxy.url,
    env: { REDIS_COMMAND_TIMEOUT_MS: "300" },
  });
  const user = sandbox.addUser({ email: "write-lost@example.com", name: "Lost" });
  userId = user.id;
  baseId = sandbox.createBase(user.id, {
    name: "Lost writes",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${server.url}/mcp`, provider));
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await proxy?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

/**
 * Arms the proxy to break the connection that carries the next write's job add (the first command naming its
 * operation after its log was written): the operation's id, and a promise that resolves once the break happened.
 */
function breakTheNextAdd(options: BreakOptions): { operationId: () => string; broken: () => Promise<void> } {
  const { operations } = server;
  const create = operations.create.bind(operations);
  let operationId = "";
  let broken: Promise<void> | undefined;
  operations.create = async (operation: Operation) => {
    operations.create = create;
    await create(operation);
    operationId = operation.operationId;
    broken = proxy.breakOn(operationId, options);
  };
  return { operationId: () => operationId, broken: () => broken ?? Promise.resolve() };
}

const records = (name: string) => ({ baseId, tableId: "Tasks", records: [{ fields: { Name: name } }] });
const written = (name: string) => sandbox.listRecordsDirect(baseId, "Tasks").filter((r) => r.fields.Name === name);

/** The agent's "outcome unknown" answer for `operationId`. */
function expectOutcomeUnknown(text: string, operationId: string): void {
  expect(text).toContain(`operation ${operationId}`);
  expect(text).toMatch(/may or may not run.*Do not call create_records again yet.*get_operation/);
  expect(text).not.toMatch(/nothing was changed/i);
}

describe("a write call whose job's add loses its connection, Redis still away", () => {
  it("an MCP client is told the outcome is unknown, with the operation id; get_operation then says nothing was written", async () => {
    const cue = breakTheNextAdd({ forward: false, refuseMs: 1_000 });
    const answer = await callTool(client, "create_records", records("never queued"));
    await cue.broken();
    expect(answer.isError).toBe(true);
    expectOutcomeUnknown(resultText(answer), cue.operationId());

    // What the agent does next, as told: get_operation with that id, until it has an answer.
    let polled: CallToolResult | undefined;
    for (let i = 0; i < 40; i++) {
      polled = await callTool(client, "get_operation", { operationId: cue.operationId() });
      if ((polled.structuredContent as { done?: boolean } | undefined)?.done === true) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(polled?.isError).not.toBe(true);
    expect(polled?.structuredContent).toMatchObject({ status: "failed", done: true });
    expect(resultText(polled!)).toMatch(/could not be queued.*Nothing was written; call again/);
    expect(written("never queued")).toEqual([]);
  });

  it("a 2026-07-28 client with the Tasks extension gets the same tool error (no task); tasks/get on the id then shows the write, done once", async () => {
    await server.startWorker();
    const headers = { authorization: `Bearer ${provider.tokens()!.access_token}` };
    const mcp = `${server.url}/mcp`;
    const cue = breakTheNextAdd({ forward: true, refuseMs: 1_000 });
    const answer = await callModern(
      mcp,
      headers,
      "tools/call",
      { name: "create_records", arguments: records("ran") },
      true,
    );
    await cue.broken();
    expect(answer.result).toMatchObject({ resultType: "complete", isError: true });
    expectOutcomeUnknown(
      (answer.result as unknown as CallToolResult).content.map((c) => (c.type === "text" ? c.text : "")).join(""),
      cue.operationId(),
    );

    let task = (await callModern(mcp, headers, "tasks/get", { taskId: cue.operationId() }, true)).result;
    for (let i = 0; task?.status === "working" && i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      task = (await callModern(mcp, headers, "tasks/get", { taskId: cue.operationId() }, true)).result;
    }
    expect(task).toMatchObject({
      taskId: cue.operationId(),
      status: "completed",
      statusMessage: "Done: 1 record written of 1.",
    });
    expect(written("ran")).toHaveLength(1);
  });
});

describe("a write whose server process exited before it was settled: its operation is queued with no job", () => {
  // Redis is back for this server (the cases above leave the proxy refusing new connections for a while).
  beforeAll(async () => {
    await vi.waitFor(() => server.runner.queue.getJobCounts(), { timeout: 10_000, interval: 100 });
  });

  /**
   * Records an operation's log as submit does (create_records, one record) and never adds its job, as a server that
   * exited between the two (or before Redis answered whether the add ran) leaves it; created `ageMs` ago.
   */
  async function leftByAnExitedServer(name: string, ageMs: number): Promise<Operation> {
    const created = oneRecordOperation(baseId, userId, name, ageMs);
    await server.operations.create(created);
    return created;
  }
  const modern = async (method: string, params: Record<string, unknown>) =>
    (
      await callModern(
        `${server.url}/mcp`,
        { authorization: `Bearer ${provider.tokens()!.access_token}` },
        method,
        params,
        true,
      )
    ).result;
  const listed = async (operationId: string) =>
    (
      (await callTool(client, "list_operations", { limit: 100 })).structuredContent as {
        operations: { operationId: string; status: string }[];
      }
    ).operations.find((o) => o.operationId === operationId);

  it("past the grace, get_operation says it failed, that nothing was written and to call again; list_operations and tasks/get agree", async () => {
    const op = await leftByAnExitedServer("left queued", server.runner.notQueuedGraceMs + 1_000);
    const polled = await callTool(client, "get_operation", { operationId: op.operationId });
    expect(polled.isError).not.toBe(true);
    expect(polled.structuredContent).toMatchObject({ status: "failed", done: true });
    expect(resultText(polled)).toMatch(/could not be queued.*Nothing was written; call again/);
    expect((await listed(op.operationId))?.status).toBe("failed");
    expect(await modern("tasks/get", { taskId: op.operationId })).toMatchObject({
      status: "completed",
      statusMessage: expect.stringMatching(/could not be queued.*Nothing was written; call again/),
      result: { structuredContent: { status: "failed" } },
    });
    expect(written("left queued")).toEqual([]);
  });

  it("a 2026-07-28 client that only polls tasks/get sees the same", async () => {
    const op = await leftByAnExitedServer("left queued, task", server.runner.notQueuedGraceMs + 1_000);
    expect(await modern("tasks/get", { taskId: op.operationId })).toMatchObject({
      status: "completed",
      statusMessage: expect.stringMatching(/could not be queued.*Nothing was written; call again/),
    });
  });

  it("within the grace (its add may still be on its way) it stays queued, and one whose job exists stays queued however old", async () => {
    const young = await leftByAnExitedServer("young", server.runner.notQueuedGraceMs - 5_000);
    const waiting = await leftByAnExitedServer("waiting", server.runner.notQueuedGraceMs + 60_000);
    // Its job exists (delayed, so that the running worker leaves it waiting, as a busy queue would).
    await server.runner.queue.add(waiting.kind, jobDataOf(waiting), {
      ...jobOptions(waiting, { attempts: 1, retentionMs: 3_600_000 }),
      delay: 600_000,
    });
    for (const op of [young, waiting]) {
      const polled = await callTool(client, "get_operation", { operationId: op.operationId });
      expect(polled.structuredContent).toMatchObject({ status: "queued", done: false });
      expect((await listed(op.operationId))?.status).toBe("queued");
      expect(await modern("tasks/get", { taskId: op.operationId })).toMatchObject({ status: "working" });
      expect((await server.operations.read(op.operationId)).map((e) => e.type)).toEqual(["accepted"]);
    }
  });
});
