/**
 * Cancelling needs the scopes of the tool that made the operation (catalog.ts scopesToCancel), for both ways to
 * cancel: `tasks/cancel` (2026-07-28 Tasks extension) and cancel_operation. The real server app (its OAuth server,
 * bearer check and insufficient_scope challenge, its BullMQ runner) against the Airtable sandbox and real Redis, with
 * no worker: every write stays queued until it is cancelled, so a cancel that was let through is seen to end it, and
 * one that was refused is seen to leave it waiting. Alice signs in from several clients: with every scope (she makes
 * the writes), with the schema scopes only, with the record scopes only, and later with the record scopes plus
 * comments:write (what a refused cancel asks for); Bob with every scope.
 */
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { callTool, connectClient, postMcp2025, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { callModern, fetchModern, modernMeta } from "../../support/tasks-client.ts";

const keyPrefix = uniquePrefix("cancel-scopes");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let mcp: string;
let alice: string;
let baseId: string;
let recordId: string;
/** Alice's clients by what her sign-in granted, and Bob's. */
let full: TestOAuthProvider;
let schemaOnly: TestOAuthProvider;
let recordsOnly: TestOAuthProvider;
let bob: TestOAuthProvider;
const clients: Client[] = [];

/** A sign-in from a new client asking for exactly `scope` (the SDK's own authorization flow). */
async function signInWith(userId: string, scope: string, clientName: string): Promise<TestOAuthProvider> {
  const provider = new TestOAuthProvider({ sandboxUser: userId, clientName });
  expect(await auth(provider, { serverUrl: mcp, scope })).toBe("REDIRECT");
  expect(await auth(provider, { serverUrl: mcp, authorizationCode: provider.lastCode() })).toBe("AUTHORIZED");
  expect(provider.tokens()?.scope).toBe(scope);
  return provider;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({ sandbox, keyPrefix });
  mcp = `${server.url}/mcp`;
  alice = sandbox.addUser({ email: "alice@cancel-scopes.example", name: "Alice" }).id;
  const bobUser = sandbox.addUser({ email: "bob@cancel-scopes.example", name: "Bob" });
  baseId = sandbox.createBase(alice, {
    name: "Cancel scopes",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "first" }] }],
  }).id;
  recordId = sandbox.listRecordsDirect(baseId, "Tasks")[0]!.id;
  // Her full sign-in first: it is the Airtable sign-in the server keeps for her (the narrower ones do not replace it).
  full = new TestOAuthProvider({ sandboxUser: alice, clientName: "Full" });
  clients.push((await signInAndConnect(mcp, full)).client);
  schemaOnly = await signInWith(alice, "schema:read schema:write", "Schema only");
  recordsOnly = await signInWith(alice, "records:read records:write", "Records only");
  bob = new TestOAuthProvider({ sandboxUser: bobUser.id, clientName: "Bob" });
  clients.push((await signInAndConnect(mcp, bob)).client);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const bearer = (provider: TestOAuthProvider) => ({ authorization: `Bearer ${provider.tokens()!.access_token}` });

/** The MCP SDK's client sending `provider`'s access token as a plain header: a refusal reaches the caller as it is. */
async function connectWithToken(provider: TestOAuthProvider): Promise<Client> {
  const client = new Client({ name: "cancel-scopes", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp), { requestInit: { headers: bearer(provider) } }));
  clients.push(client);
  return client;
}

/** A write as Alice's full client, declaring the Tasks extension: its task id (= operation id), queued. */
async function queuedTask(name: string, args: Record<string, unknown>): Promise<string> {
  const answer = await callModern(mcp, bearer(full), "tools/call", { name, arguments: args }, true);
  expect(answer.result, JSON.stringify(answer)).toMatchObject({ resultType: "task", status: "working" });
  return String(answer.result!.taskId);
}

const createTable = (name: string) => ({
  baseId,
  name,
  fields: [{ name: "Name", type: "singleLineText" }],
});

/** `tasks/cancel` as a raw 2026-07-28 request, for the HTTP answer itself (status and challenge). */
function tasksCancel(provider: TestOAuthProvider, taskId: string): Promise<Response> {
  return fetchModern(mcp, bearer(provider), { method: "tasks/cancel", params: { taskId, _meta: modernMeta(true) } });
}

/** The scopes a 403's `WWW-Authenticate` asks for (RFC 6750 §3: `scope="…"`, space-separated). */
function challengedScopes(res: Response): string[] {
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toContain('error="insufficient_scope"');
  return /scope="([^"]*)"/.exec(challenge)?.[1]?.split(" ") ?? [];
}

const taskStatus = async (provider: TestOAuthProvider, taskId: string) =>
  (await callModern(mcp, bearer(provider), "tasks/get", { taskId }, true)).result?.status;

describe("cancelling needs the scopes of the tool that made the operation", () => {
  it("tasks/cancel of a create_table task: refused to a records:write token (403 naming schema:write), done by a schema:write one", async () => {
    const taskId = await queuedTask("create_table", createTable("Planned"));

    const refused = await tasksCancel(recordsOnly, taskId);
    expect(refused.status).toBe(403);
    // The step-up challenge (MCP 2025-11-25 authorization): what the token has plus what this cancel needs.
    expect(challengedScopes(refused).sort()).toEqual(["records:read", "records:write", "schema:write"]);
    expect(((await refused.json()) as { error_description: string }).error_description).toContain("schema:write");
    // Refused: the task is untouched, and reading it needs no scope of its own.
    expect(await taskStatus(recordsOnly, taskId)).toBe("working");

    // Another user's task is unknown to Bob, scopes or not: neither a refusal nor a cancel.
    const theirs = await callModern(mcp, bearer(bob), "tasks/cancel", { taskId }, true);
    expect(theirs.error?.code).toBe(-32602);
    expect(await taskStatus(full, taskId)).toBe("working");

    const done = await tasksCancel(schemaOnly, taskId);
    expect(done.status).toBe(200);
    expect(await taskStatus(schemaOnly, taskId)).toBe("cancelled");
    const op = await callModern(
      mcp,
      bearer(full),
      "tools/call",
      { name: "get_operation", arguments: { operationId: taskId } },
      false,
    );
    expect(op.result?.structuredContent).toMatchObject({
      kind: "create_table",
      status: "cancelled",
      results: [{ index: 0, notWritten: true }],
    });
  });

  it("tasks/cancel of a record write still needs records:write: refused to a schema:write token, done by a records:write one", async () => {
    const taskId = await queuedTask("create_records", {
      baseId,
      tableId: "Tasks",
      records: [{ fields: { Name: "x" } }],
    });

    const refused = await tasksCancel(schemaOnly, taskId);
    expect(refused.status).toBe(403);
    expect(challengedScopes(refused).sort()).toEqual(["records:write", "schema:read", "schema:write"]);
    expect(await taskStatus(schemaOnly, taskId)).toBe("working");

    expect((await tasksCancel(recordsOnly, taskId)).status).toBe(200);
    expect(await taskStatus(recordsOnly, taskId)).toBe("cancelled");
  });

  it("cancel_operation the same way: a schema:write client stops a create_table; a records:write client must sign in for comments:write to stop a create_comment", async () => {
    const table = await queuedTask("create_table", createTable("Also planned"));
    const comment = await queuedTask("create_comment", { baseId, tableId: "Tasks", recordId, text: "later" });

    const schemaClient = await connectClient(mcp, schemaOnly);
    clients.push(schemaClient);
    const stopped = await callTool(schemaClient, "cancel_operation", { operationId: table });
    expect(stopped.isError, resultText(stopped)).not.toBe(true);
    expect(stopped.structuredContent).toMatchObject({ operationId: table, kind: "create_table", status: "cancelled" });

    // The MCP SDK's client with the records-only token as it is (no sign-in of its own to step up with): the call
    // fails with the server's 403, whose description names the scope to sign in for.
    const recordsClient = await connectWithToken(recordsOnly);
    await expect(callTool(recordsClient, "cancel_operation", { operationId: comment })).rejects.toMatchObject({
      code: 403,
      message: expect.stringMatching(/"insufficient_scope".*This needs the comments:write scope/),
    });
    expect(await taskStatus(full, comment)).toBe("working");

    // Signed in for it (what the challenge asks: the token's scopes plus comments:write), the same cancel goes through.
    const widened = await signInWith(alice, "records:read records:write comments:write", "Records and comments");
    const again = await connectClient(mcp, widened);
    clients.push(again);
    const cancelled = await callTool(again, "cancel_operation", { operationId: comment });
    expect(cancelled.isError, resultText(cancelled)).not.toBe(true);
    expect(cancelled.structuredContent).toMatchObject({ operationId: comment, status: "cancelled" });
  });

  it("an id that is not the caller's operation needs no scope: 'no operation' for any token, as get_operation answers", async () => {
    const table = await queuedTask("create_table", createTable("Bob cannot see"));
    const bobClient = await connectClient(mcp, bob);
    clients.push(bobClient);
    const theirs = await callTool(bobClient, "cancel_operation", { operationId: table });
    expect(theirs.isError).toBe(true);
    expect(resultText(theirs)).toMatch(/^There is no operation "op_/);
    expect(await taskStatus(full, table)).toBe("working");

    // Alice's schema-only client, for an id that does not exist: the same answer, no challenge.
    const schemaClient = await connectClient(mcp, schemaOnly);
    clients.push(schemaClient);
    const none = await callTool(schemaClient, "cancel_operation", { operationId: "op_AAAAAAAAAAAAAAAAAAAAAA" });
    expect(none.isError).toBe(true);
    expect(resultText(none)).toMatch(/^There is no operation "op_AAAAAAAAAAAAAAAAAAAAAA"/);
  });

  it("a batch naming more than 20 operations to cancel needs every cancel scope, without a log read per id", async () => {
    const cancels = Array.from({ length: 21 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i + 1,
      method: "tools/call",
      params: { name: "cancel_operation", arguments: { operationId: `op_${String(i).padStart(20, "0")}` } },
    }));
    const res = await postMcp2025(mcp, recordsOnly.tokens()!.access_token, cancels);
    expect(res.status).toBe(403);
    expect(challengedScopes(res)).toEqual(expect.arrayContaining(["schema:write", "comments:write", "records:write"]));
  });
});
