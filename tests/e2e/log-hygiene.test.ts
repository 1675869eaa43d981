/**
 * The logs of a full run, at the most verbose level: sign-in, reads, a queued write, an Airtable token refresh.
 * Every line is JSON with a Cloud Logging severity; lines written while serving a request carry its request id,
 * lines written while running an operation carry the operation id; and no token — ours or Airtable's, access or
 * refresh — appears anywhere in any process's output. A tool call's line names its caller's user id (two users share
 * the process).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let alice: SeededAccount;
let bob: SeededAccount;
let provider: TestOAuthProvider;
let bobProvider: TestOAuthProvider;

beforeAll(async () => {
  const plan = await planDeployment("logs", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  bob = seedAccount(sandbox, "bob");
  deployment = await startDeployment(plan, sandbox.url, { LOG_LEVEL: "trace" });
  await deployment.addWorker();
  provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  const { client } = await signInAndConnect(`${deployment.instances[0]!.url}/mcp`, provider);
  try {
    await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    const write = await callTool(client, "create_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      records: Array.from({ length: 15 }, (_, i) => ({ fields: { Name: `logged ${i}` } })),
    });
    expect(write.isError).not.toBe(true);
    // Airtable's access token expires: the next call refreshes it (a refresh token travels), then writes again.
    sandbox.expireAccessTokens(alice.user.id);
    await callTool(client, "create_record", { baseId: alice.base.id, tableId: alice.tableName, fields: { Name: "x" } });
    expect(sandbox.refreshCount()).toBeGreaterThanOrEqual(1);
    // Another user's calls between and after Alice's, from the same process (its connections are reused): each
    // call's lines name its own caller.
    bobProvider = new TestOAuthProvider({ sandboxUser: bob.user.id });
    const { client: bobClient } = await signInAndConnect(`${deployment.instances[0]!.url}/mcp`, bobProvider);
    try {
      for (let i = 0; i < 3; i++) {
        expect((await callTool(bobClient, "list_tables", { baseId: bob.base.id })).isError).not.toBe(true);
        expect((await callTool(client, "list_bases", {})).isError).not.toBe(true);
      }
    } finally {
      await bobClient.close();
    }
  } finally {
    await client.close();
  }
  // Log lines travel through pipes; give them a moment.
  await new Promise((resolve) => setTimeout(resolve, 500));
}, 90_000);

afterAll(async () => {
  await deployment?.stop();
  await sandbox?.close();
});

function outputs(): string[] {
  return [...deployment.instances, ...deployment.workers].map((p) => p.fullOutput());
}

function jsonLines(): Record<string, unknown>[] {
  return outputs()
    .flatMap((o) => o.split("\n"))
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("logs", () => {
  it("never contain a token, ours or Airtable's", () => {
    const secrets = [
      ...sandbox.issuedSecrets(),
      ...[...provider.savedTokens, ...bobProvider.savedTokens].flatMap((t) => [t.access_token, t.refresh_token ?? ""]),
    ].filter((s) => s.length >= 16);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const all = outputs().join("\n");
    expect(all.length).toBeGreaterThan(3_000); // the run did log (trace level)
    for (const secret of secrets) expect(all.includes(secret), `a token appears in the logs`).toBe(false);
  });

  it("are JSON lines with a severity; request lines carry the request id, operation lines the operation id", () => {
    const lines = jsonLines();
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(typeof line.severity).toBe("string");
    const toolCalls = lines.filter((l) => l.message === "tool call");
    expect(toolCalls.length).toBeGreaterThanOrEqual(3);
    for (const line of toolCalls) expect(line.requestId).toEqual(expect.any(String));
    // Each tool call's line names its caller: Alice's tools one user id, Bob's (list_tables only) another.
    const userIdsOf = (tools: string[]) =>
      new Set(toolCalls.filter((l) => tools.includes(String(l.tool))).map((l) => l.userId));
    const aliceIds = userIdsOf(["list_records", "create_records", "create_record", "list_bases"]);
    const bobIds = userIdsOf(["list_tables"]);
    expect(toolCalls.filter((l) => l.tool === "list_tables")).toHaveLength(3);
    expect(aliceIds.size).toBe(1);
    expect(bobIds.size).toBe(1);
    expect([...aliceIds][0]).toEqual(expect.any(String));
    expect([...bobIds][0]).toEqual(expect.any(String));
    expect([...aliceIds][0]).not.toBe([...bobIds][0]);
    const workerRequests = lines.filter((l) => l.message === "airtable request" && l.name === "worker");
    expect(workerRequests.length).toBeGreaterThanOrEqual(2);
    for (const line of workerRequests) expect(line.operationId).toMatch(/^op_/);
  });

  it("a worker's Airtable request lines name their base and owner once each", () => {
    // The worker's client logger binds baseId and userId, and the request line added baseId again (session 31).
    const raw = deployment.workers
      .flatMap((p) => p.fullOutput().split("\n"))
      .filter((l) => l.startsWith("{") && l.includes('"message":"airtable request"'));
    expect(raw.length).toBeGreaterThanOrEqual(2);
    for (const line of raw) {
      expect(line.split('"baseId":').length - 1, line).toBe(1);
      expect(line.split('"userId":').length - 1, line).toBe(1);
    }
  });
});
