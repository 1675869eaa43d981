/**
 * Tokens run out and nobody notices: a real server process issuing 2-second access tokens, the MCP SDK client
 * refreshing them on its own, and the server refreshing the user's Airtable token when Airtable stops taking it.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, postToolsList, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

/** The shortest lifetime that leaves the sign-in itself time to finish before the first token expires. */
const ACCESS_TOKEN_TTL_SEC = 2;

let sandbox: Sandbox;
let deployment: Deployment;
let mcpUrl: string;
let carol: SeededAccount;
let provider: TestOAuthProvider;
let client: Client | undefined;

beforeAll(async () => {
  const plan = await planDeployment("refresh", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  carol = seedAccount(sandbox, "carol");
  deployment = await startDeployment(plan, sandbox.url, { ACCESS_TOKEN_TTL_SEC: String(ACCESS_TOKEN_TTL_SEC) });
  mcpUrl = `${deployment.publicUrl}/mcp`;
  provider = new TestOAuthProvider({ sandboxUser: carol.user.id });
  client = (await signInAndConnect(mcpUrl, provider)).client;
});

afterAll(async () => {
  await client?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

function listCarolsRecords() {
  return callTool(client as Client, "list_records", { baseId: carol.base.id, tableId: carol.tableName });
}

/** The `exp` claim of one of our access tokens (a JWT), in ms since the epoch. */
function expiresAtMs(accessToken: string): number {
  const payload = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as { exp: number };
  return payload.exp * 1000;
}

describe("refresh after expiry", () => {
  it("our access token expires: the SDK refreshes it silently and the call succeeds", async () => {
    const before = provider.tokens();
    expect(before?.expires_in).toBe(ACCESS_TOKEN_TTL_SEC);
    const saved = provider.savedTokens.length;
    const expiresAt = expiresAtMs(before?.access_token ?? "");
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() + 50)));

    // The server now refuses the old token, as a client that did not refresh would see.
    const stale = await postToolsList(mcpUrl, before?.access_token ?? "");
    expect(stale.status).toBe(401);
    expect(stale.headers.get("www-authenticate")).toContain('error="invalid_token"');

    const result = await listCarolsRecords();
    expect(result.isError, resultText(result)).toBeFalsy();
    expect((result.structuredContent?.records as unknown[]).length).toBe(3);
    // Exactly one refresh, and it rotated both tokens.
    expect(provider.savedTokens).toHaveLength(saved + 1);
    const after = provider.tokens();
    expect(after?.access_token).not.toBe(before?.access_token);
    expect(after?.refresh_token).not.toBe(before?.refresh_token);
    expect((await postToolsList(mcpUrl, after?.access_token ?? "")).status).toBe(200);
  });

  it("Airtable stops taking the user's token: the server refreshes it once and the call succeeds", async () => {
    const refreshesBefore = sandbox.refreshCount();
    sandbox.expireAccessTokens(carol.user.id);
    const result = await listCarolsRecords();
    expect(result.isError, resultText(result)).toBeFalsy();
    expect((result.structuredContent?.records as unknown[]).length).toBe(3);
    expect(sandbox.refreshCount()).toBe(refreshesBefore + 1);

    // And the new Airtable token keeps working without another refresh.
    const again = await listCarolsRecords();
    expect(again.isError, resultText(again)).toBeFalsy();
    expect(sandbox.refreshCount()).toBe(refreshesBefore + 1);
  });
});
