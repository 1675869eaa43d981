/**
 * A tool call whose user's Airtable token must be refreshed first: the refresh (at Airtable's token endpoint, made
 * while the router builds the call's context) is part of the call. Its deadline (READ_CALL_DEADLINE_MS, here 2 s)
 * covers it, and a 2025-era client's `notifications/cancelled` that arrives during it stops the call before it runs
 * (MCP 2025-11-25 basic/utilities/cancellation). Before session 18 the refresh came before the deadline started, so a
 * slow token endpoint held a read past it, and the call was tracked for cancels only once the SDK had it, so such a
 * cancel reached nothing and the read ran. Two server instances (the real server app, as start-server.ts wires it)
 * sharing Redis, the sandbox with a slow token endpoint, the MCP SDK's client and raw POSTs over real HTTP.
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
import { refreshWatch } from "../../support/token-refresh.ts";

const DEADLINE_MS = 2_000;
/** What an answer may take beyond the moment it is due, on a busy machine. */
const MARGIN_MS = 1_000;
/** The client's own timeout: far above what any call here should take. */
const CLIENT_TIMEOUT_MS = 15_000;

const keyPrefix = uniquePrefix("token-refresh-window");
const redis = createTestRedis();
let sandbox: Sandbox;
let a: ServerHarness;
let b: ServerHarness;
let base: BaseInfo;
let userId: string;
let provider: TestOAuthProvider;
let client: Client;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const baseRequestsSince = (since: number) => sandbox.requests.filter((r) => r.baseId === base.id && r.time >= since);
const { tokenRequestsSince, refreshStartedSince, expireStoredAccessToken, calls } = refreshWatch(
  () => sandbox,
  () => a,
  () => userId,
);

const listArgs = () => ({ baseId: base.id, tableId: "Tasks" });

/** list_records with the SDK client; its duration in ms. */
async function timedList(): Promise<{ result: CallToolResult; ms: number }> {
  const started = performance.now();
  const result = (await client.callTool({ name: "list_records", arguments: listArgs() }, undefined, {
    timeout: CLIENT_TIMEOUT_MS,
  })) as CallToolResult;
  return { result, ms: performance.now() - started };
}

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "refresh@example.com", name: "Refresh User" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Refresh base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  const env = { READ_CALL_DEADLINE_MS: String(DEADLINE_MS) };
  a = await startServerHarness({ sandbox, keyPrefix, env });
  // Instances of one deployment: one public URL (tokens are issued for it, RFC 8707), any instance serves it.
  b = await startServerHarness({ sandbox, keyPrefix, env: { ...env, PUBLIC_URL: a.url, ALLOWED_HOSTS: "127.0.0.1" } });
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${a.url}/mcp`, provider));
  // The schema is cached: each read below sends its list request only.
  const warm = await callTool(client, "list_records", listArgs());
  expect(warm.isError, resultText(warm)).toBeFalsy();
}, 30_000);

afterAll(async () => {
  sandbox?.setFaults({ tokenLatencyMs: 0 });
  await client?.close();
  await a?.close();
  await b?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

afterEach(async () => {
  // Whatever a test left in flight (a refresh the sandbox still holds) ends before the next one starts.
  sandbox.setFaults({ tokenLatencyMs: 0 });
  await sleep(200);
});

describe("READ_CALL_DEADLINE_MS covers the refresh of the user's Airtable token", () => {
  it("a read whose token is being refreshed answers by its deadline; the refresh goes on for a call sharing it", async () => {
    await expireStoredAccessToken();
    // Airtable's token endpoint answers after 3 s: past the first call's deadline, within the second one's.
    sandbox.setFaults({ tokenLatencyMs: 3_000 });
    const refreshes = sandbox.refreshCount();
    const errors = await calls("list_records", "error");
    const before = nowMs();
    const first = timedList();
    await refreshStartedSince(before);
    await sleep(1_600);
    // Arrives while the refresh is still on its way, and joins it (one refresh per user at a time).
    const second = timedList();

    const stopped = await first;
    const text = resultText(stopped.result);
    expect(stopped.result.isError, text).toBe(true);
    expect(text).toMatch(/^list_records was stopped after 2(\.\d)? s: /);
    expect(text).toContain("Airtable did not answer this server's request for your access token");
    expect(text).toContain("READ_CALL_DEADLINE_MS");
    expect(text).toContain("Nothing was changed");
    expect(stopped.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    // Counted as any read stopped at its deadline is.
    expect(await calls("list_records", "error")).toBe(errors + 1);

    // The refresh was not cut off when the first call's deadline passed: the second call gets its token.
    const shared = await second;
    expect(shared.result.isError, resultText(shared.result)).toBeFalsy();
    expect(resultText(shared.result)).toContain('"one"');
    expect(sandbox.refreshCount()).toBe(refreshes + 1);
    expect(tokenRequestsSince(before)).toHaveLength(1);
    // The first call sent nothing to the base; the second sent its one list request.
    expect(baseRequestsSince(before)).toHaveLength(1);

    // The rotated token was stored: the next call needs no refresh.
    const next = await timedList();
    expect(next.result.isError, resultText(next.result)).toBeFalsy();
    expect(tokenRequestsSince(before)).toHaveLength(1);
  });

  it("a write's checks answer by the deadline too: nothing is queued, nothing written", async () => {
    await expireStoredAccessToken();
    sandbox.setFaults({ tokenLatencyMs: 3_000 });
    const before = nowMs();
    const started = performance.now();
    const result = (await client.callTool(
      {
        name: "create_records",
        arguments: { baseId: base.id, tableId: "Tasks", records: [{ fields: { Name: "w" } }] },
      },
      undefined,
      { timeout: CLIENT_TIMEOUT_MS },
    )) as CallToolResult;
    const ms = performance.now() - started;
    const text = resultText(result);
    expect(result.isError, text).toBe(true);
    expect(text).toMatch(
      /^create_records was stopped after 2(\.\d)? s: Airtable did not answer this server's request /,
    );
    expect(text).toContain("the write was NOT queued");
    expect(ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    await sleep(1_500); // the refresh ends
    expect(baseRequestsSince(before)).toEqual([]);
    const ops = await callTool(client, "list_operations", { limit: 5 });
    const kinds = (ops.structuredContent as { operations: { kind: string }[] }).operations.map((o) => o.kind);
    expect(kinds).not.toContain("create_records");
  });
});

describe("a 2025-era client's cancel that arrives while the call's token is being refreshed", () => {
  const cancelOf = (id: number) => ({
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: id, reason: "the user pressed stop" },
  });

  it("stops the call before it runs, from another instance: its request ends with 202, nothing reaches the base", async () => {
    await expireStoredAccessToken();
    sandbox.setFaults({ tokenLatencyMs: 1_500 });
    const cancelled = await calls("list_records", "cancelled");
    const token = provider.tokens()!.access_token;
    const before = nowMs();
    const running = postMcp2025(`${a.url}/mcp`, token, toolsCall("list_records", listArgs(), 71));
    await refreshStartedSince(before);
    const cancelledAt = nowMs();
    expect((await postMcp2025(`${b.url}/mcp`, token, cancelOf(71))).status).toBe(202);
    const answer = await running;
    const answeredAt = nowMs();
    expect(answer.status).toBe(202);
    expect(await answer.text()).toBe("");
    // At once: the refresh (1.5 s) is still on its way.
    expect(answeredAt - cancelledAt).toBeLessThan(1_000);
    // The refresh ends (it is the user's, not the call's), and the call never runs.
    await sleep(2_500);
    expect(tokenRequestsSince(before)).toHaveLength(1);
    expect(baseRequestsSince(before)).toEqual([]);
    expect(await calls("list_records", "cancelled")).toBe(cancelled + 1);
  });

  it("the MCP SDK client's abort during the refresh stops the call: nothing reaches the base, counted as cancelled", async () => {
    await expireStoredAccessToken();
    sandbox.setFaults({ tokenLatencyMs: 1_500 });
    const cancelled = await calls("list_records", "cancelled");
    const refreshes = sandbox.refreshCount();
    const stop = new AbortController();
    const before = nowMs();
    const call = client.callTool({ name: "list_records", arguments: listArgs() }, undefined, { signal: stop.signal });
    await refreshStartedSince(before);
    stop.abort("the user pressed stop");
    await expect(call).rejects.toThrow();
    await sleep(2_500);
    expect(baseRequestsSince(before)).toEqual([]);
    expect(await calls("list_records", "cancelled")).toBe(cancelled + 1);
    // The refresh itself was not stopped: it rotated the tokens once, and the client goes on as usual.
    expect(sandbox.refreshCount()).toBe(refreshes + 1);
    const next = await callTool(client, "list_records", listArgs());
    expect(next.isError, resultText(next)).toBeFalsy();
    expect(tokenRequestsSince(before)).toHaveLength(1);
  });

  it("a cancel of an id not in flight is not remembered: a later call with that id runs", async () => {
    const token = provider.tokens()!.access_token;
    expect((await postMcp2025(`${a.url}/mcp`, token, cancelOf(72))).status).toBe(202);
    const answer = await postMcp2025(`${a.url}/mcp`, token, toolsCall("list_records", listArgs(), 72));
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('"one"');
  });
});
