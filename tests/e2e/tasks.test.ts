/**
 * MCP Tasks against a real deployment (issue 14, "Writes as tasks"): two server processes behind one public URL,
 * a worker process, real Redis/BullMQ, the Airtable sandbox, real bearer tokens from our OAuth server. Alice's
 * 2026-07-28 client declares the Tasks extension (ext-tasks' own session over the SDK v2 client): her write is
 * created as a task on instance A and polled to completion on instance B, and its result is the get_operation
 * answer. Bob, signed in too, cannot see her task. Clients without the extension keep waiting for the write.
 */
import { Client as ModernClient, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { resultFromTaskOutcome, type RawClientDispatch } from "@modelcontextprotocol/ext-tasks/client";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { callModern, httpRawDispatch, MODERN, TASKS, taskSession } from "../support/tasks-client.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let a: string; // instance A's /mcp (the public URL)
let b: string; // instance B's /mcp
let alice: SeededAccount;
let bob: SeededAccount;
let legacyAlice: Client;
let legacyBob: Client;
let aliceToken: string;
let bobToken: string;
const modernClients: ModernClient[] = [];

beforeAll(async () => {
  const plan = await planDeployment("tasks", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  bob = seedAccount(sandbox, "bob");
  deployment = await startDeployment(plan, sandbox.url, { WRITE_WAIT_MS: "20000" });
  await deployment.addWorker();
  a = `${deployment.instances[0]?.url}/mcp`;
  b = `${deployment.instances[1]?.url}/mcp`;
  const aliceProvider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  legacyAlice = (await signInAndConnect(a, aliceProvider)).client;
  aliceToken = aliceProvider.tokens()?.access_token ?? "";
  const bobProvider = new TestOAuthProvider({ sandboxUser: bob.user.id });
  legacyBob = (await signInAndConnect(a, bobProvider)).client;
  bobToken = bobProvider.tokens()?.access_token ?? "";
});

afterAll(async () => {
  await Promise.allSettled([legacyAlice?.close(), legacyBob?.close(), ...modernClients.map((c) => c.close())]);
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function connectModern(url: string, token: string): Promise<ModernClient> {
  const client = new ModernClient(
    { name: "e2e-tasks", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: bearer(token) } }));
  modernClients.push(client);
  return client;
}

/** Sends tools/call to instance A and every tasks/* request to instance B: no instance holds task state. */
function acrossInstances(token: string, seen: string[]): RawClientDispatch {
  const toA = httpRawDispatch(a, bearer(token));
  const toB = httpRawDispatch(b, bearer(token));
  return (request, options) => {
    const method = (request as { method: string }).method;
    seen.push(`${method} → ${method === "tools/call" ? "A" : "B"}`);
    return method === "tools/call" ? toA(request, options) : toB(request, options);
  };
}

const aliceNames = () => sandbox.listRecordsDirect(alice.base.id, alice.tableName).map((r) => String(r.fields.Name));

describe("writes as MCP tasks, two instances and a worker", () => {
  it("Alice's task: created on A at once, polled on B to completion, its result is get_operation's", async () => {
    const client = await connectModern(b, aliceToken);
    expect(client.getDiscoverResult()?.capabilities.extensions).toEqual({ [TASKS]: {} });
    const seen: string[] = [];
    const session = taskSession(client, acrossInstances(aliceToken, seen));
    try {
      const records = Array.from({ length: 35 }, (_, i) => ({ fields: { Name: `alice task ${i}` } }));
      const execution = await session.callTool("create_records", {
        baseId: alice.base.id,
        tableId: alice.tableName,
        records,
      });
      expect(execution.kind).toBe("task");
      const taskId = execution.handle!.taskId;
      const { outcome } = await execution.settle();
      const result = resultFromTaskOutcome(outcome) as { content: unknown; structuredContent: unknown };
      expect(result.structuredContent).toMatchObject({ operationId: taskId, status: "completed", done: true });
      expect(aliceNames().filter((n) => n.startsWith("alice task "))).toHaveLength(35);
      expect(seen[0]).toBe("tools/call → A");
      expect(seen.slice(1).length).toBeGreaterThan(0);
      expect(seen.slice(1).every((s) => s === "tasks/get → B")).toBe(true);

      // The same answer get_operation gives, on either instance, in either era.
      const viaModern = await client.callTool({ name: "get_operation", arguments: { operationId: taskId } });
      const viaLegacy = await callTool(legacyAlice, "get_operation", { operationId: taskId });
      const json = (r: { content?: unknown; structuredContent?: unknown }) =>
        JSON.parse(JSON.stringify({ content: r.content, structuredContent: r.structuredContent }));
      expect(json(result)).toEqual(json(viaModern));
      expect(json(result)).toEqual(json(viaLegacy));

      // Bob cannot see it: tasks/get and tasks/cancel answer as for a task that does not exist.
      for (const method of ["tasks/get", "tasks/cancel"]) {
        const theirs = await callModern(b, bearer(bobToken), method, { taskId }, true);
        const none = await callModern(b, bearer(bobToken), method, { taskId: "op_AAAAAAAAAAAAAAAAAAAAAA" }, true);
        expect(theirs.error?.code).toBe(-32602);
        expect(theirs.error?.message).toBe(none.error?.message.replace("op_AAAAAAAAAAAAAAAAAAAAAA", taskId));
      }
      const bobsView = await callTool(legacyBob, "get_operation", { operationId: taskId });
      expect(bobsView.isError).toBe(true);
    } finally {
      await session.close();
    }
  });

  it("without the extension nothing changes: a 2026-07-28 client and a 2025-era client wait for the write", async () => {
    const modern = await connectModern(b, aliceToken);
    const waited = await modern.callTool({
      name: "create_record",
      arguments: { baseId: alice.base.id, tableId: alice.tableName, fields: { Name: "alice: no tasks, modern" } },
    });
    expect(waited.structuredContent).toMatchObject({ status: "completed", done: true });

    const legacy = await callTool(legacyAlice, "create_record", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      fields: { Name: "alice: no tasks, legacy" },
    });
    expect(legacy.structuredContent).toMatchObject({ status: "completed", done: true });
    expect(aliceNames()).toEqual(expect.arrayContaining(["alice: no tasks, modern", "alice: no tasks, legacy"]));
  });
});
