/**
 * The bearer check's revocation read and the caller's stored Airtable account read (app.ts, bearer.ts
 * `alongsideRevocationRead`) go to Redis together: one round trip per MCP request instead of two (issue 15). What
 * must hold, on the real server app over real HTTP, real Redis (through a recording proxy) and the sandbox: both
 * reads are sent before Redis answers either, the tool uses that read rather than reading again, and a revoked
 * grant is still refused on the very request whose account read went out with its revocation read.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "../../e2e/fixtures/airtable-accounts.ts";
import { callTool, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { startRedisExchangeRecorder, type RedisExchangeRecorder } from "../../helpers/redis-exchange-recorder.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("account-read");
const redis = createTestRedis();
let sandbox: Sandbox;
let recorder: RedisExchangeRecorder;
let server: ServerHarness;
let alice: SeededAccount;
let provider: TestOAuthProvider;
let client: Client;

beforeAll(async () => {
  sandbox = await startSandbox();
  alice = seedAccount(sandbox, "alice");
  recorder = await startRedisExchangeRecorder(testRedisUrl());
  server = await startServerHarness({ sandbox, keyPrefix, redisUrl: recorder.url });
  provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  ({ client } = await signInAndConnect(`${server.url}/mcp`, provider));
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await recorder?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const accountKey = () => `${keyPrefix}:tokens:account:${alice.user.id}`;
const isRevocationRead = (key: string | undefined) => key?.startsWith(`${keyPrefix}:oauth:revoked:`) === true;

/** The GETs of the account and of the revocation list in `exchanges`, and what crossed their connection between. */
function accountAndRevocationReads(from: number) {
  const seen = recorder.exchanges().slice(from);
  const at = (match: (key: string | undefined) => boolean) =>
    seen.flatMap((e, i) => (e.kind === "command" && e.name === "GET" && match(e.key) ? [i] : []));
  const account = at((key) => key === accountKey());
  const revocation = at(isRevocationRead);
  const [first, last] = [Math.min(...account, ...revocation), Math.max(...account, ...revocation)];
  const connection = seen[first]?.connection;
  const between = seen.slice(first + 1, last).filter((e) => e.connection === connection);
  return { account, revocation, between, sameConnection: seen[last]?.connection === connection };
}

describe("the revocation read and the account read share a round trip", () => {
  it("a tool call sends both before Redis answers either, and reads the account only that once", async () => {
    // First a call that caches the base's schema: the measured call then sends one Airtable request (each further
    // Airtable request of a call reads the token again, app.ts clientFor).
    expect(
      (await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName })).isError,
    ).toBeFalsy();
    const from = recorder.exchanges().length;
    const result = await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(result.isError).toBeFalsy();

    const reads = accountAndRevocationReads(from);
    expect(reads.revocation).toHaveLength(1);
    // The tool's token came from the read sent with the revocation read: no second read of the account.
    expect(reads.account).toHaveLength(1);
    expect(reads.sameConnection).toBe(true);
    expect(reads.between.filter((e) => e.kind === "answer")).toEqual([]);
  });

  it("a revoked grant is refused on that very request (401, nothing sent to Airtable) though its account read went out", async () => {
    const revoked = await fetch(`${server.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        token: provider.tokens()!.refresh_token!,
        client_id: provider.clientInformation()!.client_id,
      }),
    });
    expect(revoked.status).toBe(200);

    const airtableRequestsBefore = sandbox.requests.length;
    const from = recorder.exchanges().length;
    const answer = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${provider.tokens()!.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "list_records", arguments: { baseId: alice.base.id, tableId: alice.tableName } },
      }),
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(((await answer.json()) as { error_description: string }).error_description).toMatch(/revoked/);
    expect(sandbox.requests.length).toBe(airtableRequestsBefore);

    const reads = accountAndRevocationReads(from);
    expect(reads.revocation).toHaveLength(1);
    expect(reads.account).toHaveLength(1);
  });
});
