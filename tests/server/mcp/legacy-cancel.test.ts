/**
 * A 2025-era client's `notifications/cancelled` over stateless HTTP (MCP 2025-11-25 basic/utilities/cancellation):
 * it arrives as a POST of its own, perhaps on another instance than the call's, and must still stop the call — the
 * way Claude, Cursor, VS Code and the SDK's own client stop one (they send it on an abort and keep the call's
 * connection open; a dropped connection is not a cancel in those revisions). Two server instances (the real server
 * app, as start-server.ts wires it) sharing Redis, a worker, the sandbox, and the MCP SDK's client over real HTTP.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { callTool, postMcp2025, resultText, signInAndConnect, toolsCall } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { sampleValue, startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("legacy-cancel");
const redis = createTestRedis();
let sandbox: Sandbox;
let a: ServerHarness;
let b: ServerHarness;
let base: BaseInfo;
let userId: string;
let provider: TestOAuthProvider;
let client: Client;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowMs = () => performance.timeOrigin + performance.now();
const requestsTo = (since: number) => sandbox.requests.filter((r) => r.baseId === base.id && r.time >= since);

/** Waits (≤ 5 s) until the sandbox saw a request to the base since `since`. */
async function firstRequestSince(since: number): Promise<void> {
  for (let i = 0; i < 250 && requestsTo(since).length === 0; i++) await sleep(20);
  expect(requestsTo(since).length).toBeGreaterThan(0);
}

/** How many calls of `tool` instance `h` counted with `outcome` in /metrics' tool_call_duration_seconds. */
async function calls(h: ServerHarness, tool: string, outcome: string): Promise<number> {
  return sampleValue(await h.metrics.registry.metrics(), "tool_call_duration_seconds_count", { tool, outcome }) ?? 0;
}

/** A raw 2025-era JSON-RPC POST to `/mcp` of `h` with `token`. */
const post = (h: ServerHarness, token: string, body: unknown) => postMcp2025(`${h.url}/mcp`, token, body);
const listCall = (id: number) => toolsCall("list_records", { baseId: base.id, tableId: "Tasks" }, id);
const cancelOf = (id: number) => ({
  jsonrpc: "2.0",
  method: "notifications/cancelled",
  params: { requestId: id, reason: "the user pressed stop" },
});

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "cancel@example.com", name: "Cancel User" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Cancel base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  a = await startServerHarness({ sandbox, keyPrefix });
  // Instances of one deployment: one public URL (tokens are issued for it, RFC 8707), any instance serves it.
  b = await startServerHarness({ sandbox, keyPrefix, env: { PUBLIC_URL: a.url, ALLOWED_HOSTS: "127.0.0.1" } });
  await a.startWorker();
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${a.url}/mcp`, provider));
  // The schema is cached: each read below sends its list request only.
  const warm = await callTool(client, "list_records", { baseId: base.id, tableId: "Tasks" });
  expect(warm.isError, resultText(warm)).toBeFalsy();
}, 30_000);

afterAll(async () => {
  sandbox?.setFaults({ latencyMs: 0, serverErrorRate: 0 });
  await client?.close();
  await a?.close();
  await b?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

describe("notifications/cancelled from a 2025-era client over stateless HTTP", () => {
  afterEach(() => sandbox.setFaults({ serverErrorRate: 0, latencyMs: 0 }));

  /**
   * Calls list_records with the SDK client while Airtable answers 503 slowly (the read would retry for tens of
   * seconds, up to READ_CALL_DEADLINE_MS), aborts it once its first request reached the sandbox, and checks that
   * nothing more was sent and instance A counted it as cancelled.
   */
  async function abortSlowRead(options: { onprogress?: () => void } = {}): Promise<void> {
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    const counted = await calls(a, "list_records", "cancelled");
    const stop = new AbortController();
    const before = nowMs();
    const call = client.callTool(
      { name: "list_records", arguments: { baseId: base.id, tableId: "Tasks" } },
      undefined,
      {
        signal: stop.signal,
        ...options,
      },
    );
    await firstRequestSince(before);
    stop.abort("the user pressed stop");
    await expect(call).rejects.toThrow();
    const stoppedAt = nowMs();
    await sleep(2_500);
    sandbox.setFaults({ serverErrorRate: 0, latencyMs: 0 });
    // Without the cancel, a retry would have gone by now (backoff ≤ 1.6 s after an 800 ms answer).
    expect(requestsTo(stoppedAt + 50)).toEqual([]);
    expect(await calls(a, "list_records", "cancelled")).toBe(counted + 1);
  }

  it("the SDK client's abort stops a read that Airtable keeps failing: no more requests, counted as cancelled", async () => {
    await abortSlowRead();
    // The client goes on as usual.
    const next = await callTool(client, "list_records", { baseId: base.id, tableId: "Tasks" });
    expect(next.isError, resultText(next)).toBeFalsy();
  });

  it("the same for a call that asked for progress (its answer is an SSE stream, which then ends)", async () => {
    await abortSlowRead({ onprogress: () => {} });
  });

  it("a cancel that reaches another instance stops the call where it runs; its request ends with 202", async () => {
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    const token = provider.tokens()!.access_token;
    const before = nowMs();
    const running = post(a, token, listCall(41));
    await firstRequestSince(before);
    const cancelled = await post(b, token, cancelOf(41));
    expect(cancelled.status).toBe(202);
    const answer = await running;
    const answeredAt = nowMs();
    expect(answer.status).toBe(202);
    expect(await answer.text()).toBe("");
    // The call's answer came at once: well before Airtable's next slow 503.
    expect(answeredAt - before).toBeLessThan(3_000);
    await sleep(2_500);
    sandbox.setFaults({ serverErrorRate: 0, latencyMs: 0 });
    expect(requestsTo(answeredAt + 50)).toEqual([]);
    expect(await calls(a, "list_records", "cancelled")).toBe(3);
  });

  it("another client's sign-in cannot cancel the call, even with its id", async () => {
    const other = new TestOAuthProvider({ sandboxUser: userId, clientName: "Other Client" });
    const otherClient = (await signInAndConnect(`${a.url}/mcp`, other)).client;
    await otherClient.close();
    sandbox.setFaults({ serverErrorRate: 0, latencyMs: 600 });
    const before = nowMs();
    const running = post(a, provider.tokens()!.access_token, listCall(42));
    await firstRequestSince(before);
    expect((await post(b, other.tokens()!.access_token, cancelOf(42))).status).toBe(202);
    const answer = await running;
    sandbox.setFaults({ latencyMs: 0 });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('"one"');
  });

  it("a write call cancelled this way cancels its operation: the rest of the records are not sent", async () => {
    sandbox.setFaults({ latencyMs: 300 });
    const stop = new AbortController();
    const before = nowMs();
    const call = client.callTool(
      {
        name: "create_records",
        arguments: {
          baseId: base.id,
          tableId: "Tasks",
          records: Array.from({ length: 100 }, (_, i) => ({ fields: { Name: `w${i}` } })),
        },
      },
      undefined,
      { signal: stop.signal },
    );
    // The first batch reached Airtable: the operation is running.
    for (let i = 0; i < 250 && !requestsTo(before).some((r) => r.method === "POST"); i++) await sleep(20);
    stop.abort("the user pressed stop");
    await expect(call).rejects.toThrow();
    // The worker stops between batches; then nothing more is written.
    await sleep(2_000);
    const writes = requestsTo(before).filter((r) => r.method === "POST" && !r.path.endsWith("/listRecords")).length;
    sandbox.setFaults({ latencyMs: 0 });
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(10);
    const ops = await callTool(client, "list_operations", { limit: 5 });
    const last = (ops.structuredContent as { operations: { kind: string; status: string }[] }).operations[0];
    expect(last).toMatchObject({ kind: "create_records", status: "cancelled" });
  });
});
