/**
 * The logs of a full run, at the most verbose level: sign-in, reads, a queued write, an Airtable token refresh.
 * Every line is JSON with a Cloud Logging severity; lines written while serving a request carry its request id,
 * lines written while running an operation carry the operation id; and no token — ours or Airtable's, access or
 * refresh — appears anywhere in any process's output.
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
let provider: TestOAuthProvider;

beforeAll(async () => {
  const plan = await planDeployment("logs", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
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
      ...provider.savedTokens.flatMap((t) => [t.access_token, t.refresh_token ?? ""]),
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
    const workerRequests = lines.filter((l) => l.message === "airtable request" && l.name === "worker");
    expect(workerRequests.length).toBeGreaterThanOrEqual(2);
    for (const line of workerRequests) expect(line.operationId).toMatch(/^op_/);
  });
});
