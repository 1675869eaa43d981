/**
 * What an agent sees, through the real MCP SDK clients, when Redis's connection breaks while its write's job is
 * being added and Redis is still away right after (a failover, a restart): the call says the outcome is unknown,
 * names the operation and says not to call again; get_operation (or tasks/get, for a 2026-07-28 client with the
 * Tasks extension) then tells the truth. The server app with its BullMQ runner, a worker, the Airtable sandbox, and
 * Redis behind a proxy that breaks the connection carrying the add (tests/helpers/breaking-proxy.ts). The runner's
 * own cases are tests/shared/queue/submit-connection-lost.test.ts.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { startBreakingProxy, type BreakOptions, type BreakingProxy } from "../../helpers/breaking-proxy.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { callModern } from "../../support/tasks-client.ts";

const keyPrefix = uniquePrefix("write-lost");
const redis = createTestRedis();
let proxy: BreakingProxy;
let sandbox: Sandbox;
let server: ServerHarness;
let provider: TestOAuthProvider;
let client: Client;
let baseId: string;

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
