/**
 * The user's Airtable sign-in dies for good (the refresh token expired or was revoked at Airtable): the server
 * must not refresh our tokens into the same failure forever. The MCP client is told, is sent to sign in again,
 * and works afterwards. Sandbox refresh tokens here live 1 s, so any Airtable refresh after that is refused
 * with invalid_grant.
 */
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, finishSignIn, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

const AIRTABLE_REFRESH_TOKEN_TTL_SEC = 1;

let sandbox: Sandbox;
let deployment: Deployment;
let mcpUrl: string;
let dave: SeededAccount;
const clients: Client[] = [];

beforeAll(async () => {
  const plan = await planDeployment("access-lost", 1);
  sandbox = await startSandbox({
    oauthClients: [plan.airtableClient],
    refreshTokenTtlSec: AIRTABLE_REFRESH_TOKEN_TTL_SEC,
  });
  dave = seedAccount(sandbox, "dave");
  deployment = await startDeployment(plan, sandbox.url);
  mcpUrl = `${deployment.publicUrl}/mcp`;
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** The tool result of the call that found the Airtable sign-in dead (set by the first test). */
let failedCall: CallToolResult | undefined;

describe("Airtable access lost", () => {
  it("the call fails, the client is sent to sign in again, and then calls work", async () => {
    const provider = new TestOAuthProvider({ sandboxUser: dave.user.id });
    const { client } = await signInAndConnect(mcpUrl, provider);
    clients.push(client);
    const args = { baseId: dave.base.id, tableId: dave.tableName };
    expect((await callTool(client, "list_records", args)).isError).toBeFalsy();

    // Airtable stops taking the access token, and the refresh token is past its life: refresh → invalid_grant.
    await new Promise((resolve) => setTimeout(resolve, AIRTABLE_REFRESH_TOKEN_TTL_SEC * 1000 + 100));
    sandbox.expireAccessTokens(dave.user.id);
    const refreshesBefore = sandbox.refreshCount();
    failedCall = await callTool(client, "list_records", args);
    expect(failedCall.isError).toBe(true);
    expect(resultText(failedCall)).not.toMatch(/\n\s+at /);
    expect(sandbox.refreshCount()).toBe(refreshesBefore);

    // The next request: our tokens were revoked with the Airtable sign-in, so the SDK's refresh is refused
    // and it sends the user to sign in again (the provider's browser does, at once).
    const signInsBefore = provider.returns.length;
    await expect(callTool(client, "list_records", args)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.invalidated).toContain("tokens");
    expect(provider.returns).toHaveLength(signInsBefore + 1);

    // Finishing that sign-in restores access.
    await finishSignIn(mcpUrl, provider);
    const again = await connectClient(mcpUrl, provider);
    clients.push(again);
    const result = await callTool(again, "list_records", args);
    expect(result.isError, resultText(result)).toBeFalsy();
    expect((result.structuredContent?.records as unknown[]).length).toBe(3);
  });

  it("the failed call tells the agent to sign in again (not an internal error)", () => {
    expect(failedCall, "the previous test did not get that far").toBeDefined();
    expect(resultText(failedCall as CallToolResult)).toMatch(/sign in/i);
  });
});
