/**
 * A tool call whose client goes away (closes its connection, sending no `notifications/cancelled`: the user stopped a
 * client that aborts its fetch, or the client crashed) while the router is still building the call's context, here
 * waiting on a refresh of the user's Airtable token (the sandbox's slow token endpoint, `tokenLatencyMs`). Nobody
 * reads the answer any more, so no request of the call may reach Airtable afterwards (it would spend the base's
 * 5 requests per second, and the user's, for nothing). Before session 19 the router did not watch the connection
 * until the SDK had the call, and the SDK's 2025-era leg, handed a request whose connection had already closed, ran
 * it: the read was sent once the refresh ended, a write was queued (its 2026-07-28 handler refused such a request
 * unseen, so it was not counted as cancelled). (The tools that read only this server's own records — get_operation,
 * list_operations, cancel_operation — waited for that context too; session 19 bounded that wait by
 * READ_CALL_DEADLINE_MS, and since session 20 they do not wait for it at all: own-records-without-airtable.test.ts.)
 * The real server app (as start-server.ts wires it), real Redis, the sandbox, raw HTTP requests whose socket is
 * destroyed, and the MCP SDK client, over real HTTP.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { nowMs } from "../../../src/sandbox/recorder.ts";
import { callTool, connectClient, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";
import { rawMcpPost, toolsCallRequest, type RawEra, type RawPost } from "../../support/raw-mcp-post.ts";
import { MODERN } from "../../support/tasks-client.ts";
import { refreshWatch } from "../../support/token-refresh.ts";

const DEADLINE_MS = 2_000;
/** The token endpoint's delay in the disconnect tests: the client leaves well before it ends. */
const REFRESH_MS = 1_500;

const keyPrefix = uniquePrefix("disconnect-during-context");
const redis = createTestRedis();
let sandbox: Sandbox;
let h: ServerHarness;
let base: BaseInfo;
let userId: string;
let provider: TestOAuthProvider;
let client: Client;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const baseRequestsSince = (since: number) => sandbox.requests.filter((r) => r.baseId === base.id && r.time >= since);
const { tokenRequestsSince, refreshStartedSince, expireStoredAccessToken, calls } = refreshWatch(
  () => sandbox,
  () => h,
  () => userId,
);

/** Waits (≤ 10 s) until the refresh counter passed `count`: the refresh the test started has ended. */
async function refreshEndedAfter(count: number): Promise<void> {
  for (let i = 0; i < 500 && sandbox.refreshCount() <= count; i++) await sleep(20);
  expect(sandbox.refreshCount()).toBe(count + 1);
}

const listArgs = () => ({ baseId: base.id, tableId: "Tasks" });

/**
 * A `tools/call` POST /mcp written by hand on a socket of its own (rawMcpPost), as `era` sends it (2025-11-25: no
 * envelope; 2026-07-28: the `_meta` envelope and the Mcp-Method/Mcp-Name headers). The socket, to destroy: a client
 * leaving without a word. `received` is everything the server wrote back.
 */
const rawCall = (era: RawEra, name: string, args: Record<string, unknown>): Promise<RawPost> =>
  rawMcpPost(`${h.url}/mcp`, provider.tokens()!.access_token, toolsCallRequest(era, name, args));

beforeAll(async () => {
  sandbox = await startSandbox();
  const user = sandbox.addUser({ email: "leaves@example.com", name: "Leaving User" });
  userId = user.id;
  base = sandbox.createBase(user.id, {
    name: "Disconnect base",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  h = await startServerHarness({ sandbox, keyPrefix, env: { READ_CALL_DEADLINE_MS: String(DEADLINE_MS) } });
  provider = new TestOAuthProvider({ sandboxUser: user.id });
  ({ client } = await signInAndConnect(`${h.url}/mcp`, provider));
  // The schema is cached: a read below would send its list request only.
  const warm = await callTool(client, "list_records", listArgs());
  expect(warm.isError, resultText(warm)).toBeFalsy();
}, 30_000);

afterAll(async () => {
  sandbox?.setFaults({ tokenLatencyMs: 0 });
  await client?.close();
  await h?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

afterEach(async () => {
  sandbox.setFaults({ tokenLatencyMs: 0 });
  await sleep(200);
});

describe("a client that closes its connection while the call's token is being refreshed", () => {
  for (const era of ["2025-11-25", MODERN] as const) {
    it(`${era}: the read is never sent to Airtable, and is counted as cancelled`, async () => {
      await expireStoredAccessToken();
      sandbox.setFaults({ tokenLatencyMs: REFRESH_MS });
      const refreshes = sandbox.refreshCount();
      const cancelled = await calls("list_records", "cancelled");
      const before = nowMs();
      const call = await rawCall(era, "list_records", listArgs());
      await refreshStartedSince(before);
      call.socket.destroy();
      // The refresh ends (it is the user's, and Airtable's refresh tokens are single-use: it is never cut off)...
      await refreshEndedAfter(refreshes);
      await sleep(1_000);
      // ...and the call whose client left sends nothing.
      expect(call.received()).toBe("");
      expect(baseRequestsSince(before)).toEqual([]);
      expect(await calls("list_records", "cancelled")).toBe(cancelled + 1);
      // The rotated token was stored: the next call needs no refresh and runs.
      const next = await callTool(client, "list_records", listArgs());
      expect(next.isError, resultText(next)).toBeFalsy();
      expect(tokenRequestsSince(before)).toHaveLength(1);
    });
  }

  it("a write's checks stop there: nothing is read from the base, nothing queued", async () => {
    await expireStoredAccessToken();
    sandbox.setFaults({ tokenLatencyMs: REFRESH_MS });
    const refreshes = sandbox.refreshCount();
    const before = nowMs();
    const call = await rawCall("2025-11-25", "create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "left" } }],
    });
    await refreshStartedSince(before);
    call.socket.destroy();
    await refreshEndedAfter(refreshes);
    await sleep(1_000);
    expect(baseRequestsSince(before)).toEqual([]);
    const ops = await callTool(client, "list_operations", { limit: 5 });
    const kinds = (ops.structuredContent as { operations: { kind: string }[] }).operations.map((o) => o.kind);
    expect(kinds).not.toContain("create_records");
    expect(sandbox.listRecordsDirect(base.id, "Tasks").map((r) => r.fields.Name)).toEqual(["one"]);
  });

  it("the MCP SDK client closed during the refresh (its fetch aborted, no cancel sent): nothing reaches the base", async () => {
    await expireStoredAccessToken();
    sandbox.setFaults({ tokenLatencyMs: REFRESH_MS });
    const refreshes = sandbox.refreshCount();
    const cancelled = await calls("list_records", "cancelled");
    const leaving = await connectClient(`${h.url}/mcp`, provider);
    const before = nowMs();
    const call = leaving.callTool({ name: "list_records", arguments: listArgs() });
    await refreshStartedSince(before);
    await leaving.close();
    await expect(call).rejects.toThrow();
    await refreshEndedAfter(refreshes);
    await sleep(1_000);
    expect(baseRequestsSince(before)).toEqual([]);
    expect(await calls("list_records", "cancelled")).toBe(cancelled + 1);
  });
});
