/**
 * The tools that read only this server's own records (get_operation, list_operations, cancel_operation: the user's
 * write operations, kept in Redis) never send a request to Airtable, so their calls must not depend on the user's
 * Airtable sign-in: they are answered whatever Airtable's token endpoint does, and still after the user's Airtable
 * grant was revoked (the caller's MCP token is this server's and still valid: it says whose operations they are).
 * Before session 20 the router built every tool call's full context first, the user's Airtable token included:
 * with that token expired, an agent polling get_operation waited on every poll for a refresh at Airtable's token
 * endpoint (up to READ_CALL_DEADLINE_MS when it hung), and once the grant was revoked the refresh was refused and
 * the call was answered 401, so the user could not see what became of their queued writes. Airtable tools keep their
 * answer (401 with a challenge when the sign-in is found ended before the call runs), alone or in a 2025-03-26
 * JSON-RPC batch beside an own-records call. The tasks methods (`tasks/get`, `tasks/cancel`) never built that context
 * and are checked alike. The real server app (as start-server.ts wires it; writes queued, no worker, so they stay
 * queued), real Redis, the sandbox as Airtable, the MCP SDK client and raw POSTs over real HTTP.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { callTool, postMcp2025, resultText, signInAndConnect, toolsCall } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { callModern } from "../../support/tasks-client.ts";
import { TOKEN_PATH } from "../../support/token-refresh.ts";

/** Far beyond what any call here may wait: a token endpoint this slow is as good as down. */
const HANGING_TOKEN_ENDPOINT_MS = 20_000;

const keyPrefix = uniquePrefix("own-records-without-airtable");
const redis = createTestRedis();
let sandbox: Sandbox;
let h: ServerHarness;
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  // WRITE_WAIT_MS 0 and no worker: a write answers at once with its operation, which stays queued.
  h = await startServerHarness({ sandbox, keyPrefix, env: { WRITE_WAIT_MS: "0", READ_CALL_DEADLINE_MS: "3000" } });
}, 30_000);

afterAll(async () => {
  sandbox?.setFaults({ tokenLatencyMs: 0 });
  await Promise.allSettled(clients.map((c) => c.close()));
  await h?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

afterEach(() => {
  sandbox.setFaults({ tokenLatencyMs: 0 });
});

const tokenRequestsSince = (since: number) => sandbox.requests.filter((r) => r.path === TOKEN_PATH && r.time >= since);

interface SignedInUser {
  userId: string;
  base: BaseInfo;
  client: Client;
  provider: TestOAuthProvider;
  /** The user's MCP access token (this server's), for raw requests. */
  bearer(): string;
  /** Queues a write of one record; its operation id (the operation stays queued: no worker runs). */
  queueWrite(name: string): Promise<string>;
}

/** A new sandbox user with a base, signed in to the server with the MCP SDK client. */
async function signedInUser(label: string): Promise<SignedInUser> {
  const user = sandbox.addUser({ email: `${label}@example.com`, name: label });
  const base = sandbox.createBase(user.id, {
    name: `${label}'s base`,
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  const provider = new TestOAuthProvider({ sandboxUser: user.id });
  const { client } = await signInAndConnect(`${h.url}/mcp`, provider);
  clients.push(client);
  return {
    userId: user.id,
    base,
    client,
    provider,
    bearer: () => provider.tokens()!.access_token,
    async queueWrite(name) {
      const result = await callTool(client, "create_records", {
        baseId: base.id,
        tableId: "Tasks",
        records: [{ fields: { Name: name } }],
      });
      expect(result.isError, resultText(result)).toBeFalsy();
      return (result.structuredContent as { operationId: string }).operationId;
    },
  };
}

/** The user's stored Airtable access token as if it expired now: a call that needs it refreshes it first. */
async function expireStoredAccessToken(userId: string): Promise<void> {
  const account = await h.store.getAirtableAccount(userId);
  if (account === undefined) throw new Error(`no Airtable sign-in stored for ${userId}`);
  await h.store.putAirtableAccount({ ...account, tokens: { ...account.tokens, accessTokenExpiresAt: Date.now() } });
}

/**
 * The user revoked this server's access in Airtable: Airtable takes neither their access tokens nor their refresh
 * token any more. The sandbox's access tokens are expired; the stored refresh token is replaced by one Airtable
 * never issued, which it refuses with `invalid_grant` exactly as a revoked one; the stored access token is due.
 */
async function revokeAirtableGrant(userId: string): Promise<void> {
  sandbox.expireAccessTokens(userId);
  const account = await h.store.getAirtableAccount(userId);
  if (account === undefined) throw new Error(`no Airtable sign-in stored for ${userId}`);
  await h.store.putAirtableAccount({
    ...account,
    tokens: { ...account.tokens, refreshToken: "oar_revoked_by_the_user", accessTokenExpiresAt: Date.now() },
  });
}

const operationsOf = (result: CallToolResult) =>
  (result.structuredContent as { operations: { operationId: string; status: string }[] }).operations;

/** The JSON-RPC answers of a 2025-era POST (JSON, or the messages of an SSE stream). */
async function jsonRpcAnswers(res: Response): Promise<{ id: unknown; result?: CallToolResult; error?: unknown }[]> {
  const text = await res.text();
  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    const parsed: unknown = JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : [parsed]) as Awaited<ReturnType<typeof jsonRpcAnswers>>;
  }
  return text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)) as Awaited<ReturnType<typeof jsonRpcAnswers>>[number]);
}

/** A 2025-03-26 JSON-RPC batch (the last revision with batches) POSTed with a bearer token. */
function postBatch(token: string, batch: unknown[]): Promise<Response> {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-03-26",
    },
    body: JSON.stringify(batch),
  });
}

describe("own-records tools while the user's Airtable token is expired and Airtable's token endpoint hangs", () => {
  it("get_operation, list_operations and cancel_operation answer without asking the token endpoint", async () => {
    const user = await signedInUser("poller");
    const polled = await user.queueWrite("polled");
    const cancelled = await user.queueWrite("cancelled");
    await expireStoredAccessToken(user.userId);
    sandbox.setFaults({ tokenLatencyMs: HANGING_TOKEN_ENDPOINT_MS });
    const before = nowMs();

    // An agent polling its write, as agents do every few seconds.
    for (let poll = 0; poll < 3; poll++) {
      const got = await callTool(user.client, "get_operation", { operationId: polled });
      expect(got.isError, resultText(got)).toBeFalsy();
      expect(got.structuredContent).toMatchObject({ operationId: polled, status: "queued" });
    }
    const listed = await callTool(user.client, "list_operations", { limit: 10 });
    expect(listed.isError, resultText(listed)).toBeFalsy();
    expect(operationsOf(listed).map((o) => o.operationId)).toEqual([cancelled, polled]);
    const stopped = await callTool(user.client, "cancel_operation", { operationId: cancelled });
    expect(stopped.isError, resultText(stopped)).toBeFalsy();
    expect(stopped.structuredContent).toMatchObject({ operationId: cancelled, status: "cancelled" });

    // MCP Tasks over the same operations (a task id is its operation's id) never needed the token either.
    const bearer = { authorization: `Bearer ${user.bearer()}` };
    const task = await callModern(`${h.url}/mcp`, bearer, "tasks/get", { taskId: polled }, true);
    expect(task.error).toBeUndefined();
    expect(task.result).toMatchObject({ taskId: polled, status: "working" });

    // Nothing of this asked Airtable's token endpoint (or Airtable at all): the token is still the expired one.
    expect(tokenRequestsSince(before)).toEqual([]);
    expect(sandbox.requests.filter((r) => r.time >= before)).toEqual([]);
  });

  it("a 2025-03-26 batch of get_operation and list_records still refreshes the token for list_records", async () => {
    const user = await signedInUser("batcher");
    const operationId = await user.queueWrite("batched");
    await expireStoredAccessToken(user.userId);
    const refreshes = sandbox.refreshCount();
    const before = nowMs();
    const res = await postBatch(user.bearer(), [
      toolsCall("get_operation", { operationId }, 1),
      toolsCall("list_records", { baseId: user.base.id, tableId: "Tasks" }, 2),
    ]);
    expect(res.status).toBe(200);
    const answers = await jsonRpcAnswers(res);
    const byId = new Map(answers.map((a) => [a.id, a.result]));
    expect(byId.get(1)?.isError, resultText(byId.get(1)!)).toBeFalsy();
    expect(byId.get(1)?.structuredContent).toMatchObject({ operationId, status: "queued" });
    expect(byId.get(2)?.isError, resultText(byId.get(2)!)).toBeFalsy();
    expect(resultText(byId.get(2)!)).toContain('"one"');
    expect(tokenRequestsSince(before)).toHaveLength(1);
    expect(sandbox.refreshCount()).toBe(refreshes + 1);
  });
});

describe("after the user revoked this server's access in Airtable", () => {
  it("list_operations, get_operation and cancel_operation still serve the user's operations; list_records answers 401 with a challenge", async () => {
    const user = await signedInUser("revoker");
    const kept = await user.queueWrite("kept");
    const toCancel = await user.queueWrite("to cancel");
    await revokeAirtableGrant(user.userId);
    const before = nowMs();

    const listed = await callTool(user.client, "list_operations", { limit: 10 });
    expect(listed.isError, resultText(listed)).toBeFalsy();
    expect(operationsOf(listed).map((o) => o.operationId)).toEqual([toCancel, kept]);
    const got = await callTool(user.client, "get_operation", { operationId: kept });
    expect(got.isError, resultText(got)).toBeFalsy();
    expect(got.structuredContent).toMatchObject({ operationId: kept, status: "queued" });
    const stopped = await callTool(user.client, "cancel_operation", { operationId: toCancel });
    expect(stopped.isError, resultText(stopped)).toBeFalsy();
    expect(stopped.structuredContent).toMatchObject({ operationId: toCancel, status: "cancelled" });
    const bearer = { authorization: `Bearer ${user.bearer()}` };
    const task = await callModern(`${h.url}/mcp`, bearer, "tasks/cancel", { taskId: kept }, true);
    expect(task.error).toBeUndefined();
    expect((await h.operations.getForOwner(kept, user.userId))?.status).toBe("cancelled");
    // None of it asked Airtable: the revoked sign-in was not even noticed yet.
    expect(tokenRequestsSince(before)).toEqual([]);

    // A tool that asks Airtable gets what it got before: the refresh is refused, so the sign-in has ended (401 with
    // the challenge that sends the client to sign in again), and the user's grants end with it.
    const read = await postMcp2025(
      `${h.url}/mcp`,
      user.bearer(),
      toolsCall("list_records", { baseId: user.base.id, tableId: "Tasks" }),
    );
    expect(read.status).toBe(401);
    expect(read.headers.get("www-authenticate")).toContain('error_description="Airtable sign-in ended; sign in again"');
    expect(await read.json()).toMatchObject({ error: { code: -32001 } });
    expect(tokenRequestsSince(before)).toHaveLength(1);
    const grants = await h.store.listGrantsForUser(user.userId);
    expect(grants.map((g) => g.revokedReason)).toEqual(["airtable_access_lost"]);
  });

  it("a 2025-03-26 batch of list_operations and list_records is answered 401 with the challenge, as list_records alone", async () => {
    const user = await signedInUser("batch-revoker");
    await user.queueWrite("queued");
    await revokeAirtableGrant(user.userId);
    const res = await postBatch(user.bearer(), [
      toolsCall("list_operations", { limit: 10 }, 1),
      toolsCall("list_records", { baseId: user.base.id, tableId: "Tasks" }, 2),
    ]);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error_description="Airtable sign-in ended; sign in again"');
  });
});
