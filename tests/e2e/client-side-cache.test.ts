/**
 * The per-process client-side cache (src/shared/kv/client-side-cache.ts) seen from outside: two real server
 * processes of one deployment, real Redis, the sandbox. What a read tool call used to read from Redis every time
 * (the revocation entry, the user's sealed Airtable account, the base schema) is answered from memory, and a
 * change made through one instance — a revoked grant, a refreshed Airtable token — is what the other instance
 * uses at its very next request.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { RedisCommandCounter } from "../helpers/redis-monitor.ts";
import { createTestRedis, testRedisUrl } from "../helpers/redis.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment, type DeploymentPlan } from "./helpers/deployment.ts";
import { callTool, connectClient, postToolsList, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

let plan: DeploymentPlan;
let sandbox: Sandbox;
let deployment: Deployment;
let carol: SeededAccount;
let provider: TestOAuthProvider;
let onA: Client;
let onB: Client;
/** Counts what Redis runs for this deployment's keys (MONITOR); `marker` sends its end-of-count marker. */
let counter: RedisCommandCounter;
let marker: Redis;

beforeAll(async () => {
  plan = await planDeployment("client-cache", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  carol = seedAccount(sandbox, "carol");
  deployment = await startDeployment(plan, sandbox.url);
  provider = new TestOAuthProvider({ sandboxUser: carol.user.id });
  onA = (await signInAndConnect(`${deployment.instances[0]?.url}/mcp`, provider)).client;
  onB = await connectClient(`${deployment.instances[1]?.url}/mcp`, provider);
  marker = createTestRedis();
  counter = await RedisCommandCounter.start(testRedisUrl(), plan.keyPrefix);
});

afterAll(async () => {
  counter?.stop();
  marker?.disconnect();
  await onA?.close();
  await onB?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

async function listCarolsRecords(client: Client) {
  const result = await callTool(client, "list_records", { baseId: carol.base.id, tableId: carol.tableName });
  expect(result.isError, resultText(result)).toBeFalsy();
  expect((result.structuredContent?.records as unknown[]).length).toBe(3);
}

describe("a read tool call reads nothing from Redis but the limiter once its data is known", () => {
  it("calls on B after the first: no GET of the revocation entry, the Airtable account or the schema", async () => {
    // The first call fetches the schema from Airtable and stores it; Redis's invalidation for that write drops
    // B's own entry, so the second call reads it once more. From then on, memory.
    await listCarolsRecords(onB);
    await listCarolsRecords(onB);
    await counter.take(marker);
    for (let i = 0; i < 3; i++) await listCarolsRecords(onB);
    const { sentByName } = await counter.take(marker);
    const reads = Object.keys(sentByName).filter((name) => name === "GET" || name === "MGET" || name === "HGETALL");
    expect(reads).toEqual([]);
    // The rate limit still goes through Redis, once per Airtable request: it is shared by every instance.
    expect(sentByName.EVALSHA ?? 0).toBeGreaterThanOrEqual(3);
  });
});

describe("a change made through one instance is what the other uses at its next request", () => {
  it("Airtable stops taking the user's token: A refreshes it, B uses the new one without refreshing again", async () => {
    await listCarolsRecords(onB); // B has the account (with the old Airtable token) in memory.
    const refreshesBefore = sandbox.refreshCount();
    sandbox.expireAccessTokens(carol.user.id);
    await listCarolsRecords(onA);
    expect(sandbox.refreshCount()).toBe(refreshesBefore + 1);
    // Had B kept its copy, the sandbox would refuse the old token and B would refresh with the (rotated, now
    // invalid) old refresh token: a second refresh, or the user's Airtable access lost.
    await listCarolsRecords(onB);
    expect(sandbox.refreshCount()).toBe(refreshesBefore + 1);
  });

  it("a grant revoked on A: B refuses its access token at the next request", async () => {
    await listCarolsRecords(onB); // B has "not revoked" for this grant in memory.
    const tokens = provider.savedTokens.at(-1);
    const accessToken = tokens?.access_token ?? "";
    const toolsList = () => postToolsList(`${deployment.instances[1]?.url}/mcp`, accessToken);
    expect((await toolsList()).status).toBe(200);

    const revoke = await fetch(`${deployment.instances[0]?.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens?.refresh_token ?? "", client_id: provider.clientId ?? "" }),
    });
    expect(revoke.status).toBe(200);
    expect((await toolsList()).status).toBe(401);
  });
});
