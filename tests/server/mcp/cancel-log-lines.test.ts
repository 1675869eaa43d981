/**
 * The log lines a write call's cancel writes name whose call it was. A 2025-era client's cancel arrives as a POST of
 * its own (notifications/cancelled, relayed over Redis to the instance serving the call), so the call's abort
 * listener runs outside the call's request: its lines ("the write call was cancelled: cancelling its operation")
 * must still carry the caller's userId and the call's requestId, which the operator searches by. The real server app
 * (as start-server.ts wires it) with a worker, the sandbox, Redis and the MCP SDK's client over real HTTP.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("cancel-log");
const redis = createTestRedis();
const logs: Record<string, unknown>[] = [];
let sandbox: Sandbox;
let h: ServerHarness;
let base: BaseInfo;
let userId: string;
let client: Client;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "cancel-log@example.com", name: "Cancel Log" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Cancel log base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  const logger = createLogger(
    { level: "info", name: "cancel-log" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  h = await startServerHarness({ sandbox, keyPrefix, logger });
  await h.startWorker();
  const provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${h.url}/mcp`, provider));
}, 30_000);

afterAll(async () => {
  sandbox?.setFaults({ latencyMs: 0 });
  await client?.close();
  await h?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("a write call cancelled by its client", () => {
  it("logs the cancel with the caller's userId and the call's requestId", async () => {
    sandbox.setFaults({ latencyMs: 300 });
    const stop = new AbortController();
    const call = client.callTool(
      {
        name: "create_records",
        arguments: {
          baseId: base.id,
          tableId: "Tasks",
          records: Array.from({ length: 60 }, (_, i) => ({ fields: { Name: `c${i}` } })),
        },
      },
      undefined,
      { signal: stop.signal },
    );
    const queued = () => logs.find((l) => l.message === "operation queued");
    for (let i = 0; i < 250 && queued() === undefined; i++) await sleep(20);
    expect(queued()).toMatchObject({ userId });
    stop.abort("the user pressed stop");
    await expect(call).rejects.toThrow();
    const cancelLine = () => logs.find((l) => l.message === "the write call was cancelled: cancelling its operation");
    for (let i = 0; i < 150 && cancelLine() === undefined; i++) await sleep(20);
    sandbox.setFaults({ latencyMs: 0 });
    expect(cancelLine()).toMatchObject({
      userId,
      operationId: queued()!.operationId,
      requestId: queued()!.requestId,
    });
    // The client goes on as usual.
    const next = await callTool(client, "list_records", { baseId: base.id, tableId: "Tasks" });
    expect(next.isError, resultText(next)).toBeFalsy();
  });
});
