/**
 * A user whose agents use all 50 requests of Airtable's second signs in another client with fewer scopes (issue
 * found in session 12, when CI failed on a 429 the server caused itself). The callback then checks her stored,
 * broader Airtable sign-in with a whoami on its token; that request is hers and must wait its turn in her rate
 * limit. A real server process, real Redis, the sandbox and the MCP SDK's client. In the "timing" group: it needs
 * the burst and the sign-in to fall in one second, which a busy machine cannot promise.
 */
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { listFirstRecordComments, seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let mcpUrl: string;
let alice: SeededAccount;
let fullAlice: Client;

beforeAll(async () => {
  const plan = await planDeployment("full-rate", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url);
  mcpUrl = `${deployment.instances[0]?.url}/mcp`;
  fullAlice = (await signInAndConnect(mcpUrl, new TestOAuthProvider({ sandboxUser: alice.user.id }))).client;
});

afterAll(async () => {
  await fullAlice?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

describe("a user at Airtable's full rate", () => {
  it("signing in another client while her agent uses all 50 requests of Airtable's second: no 429, her broader sign-in is kept", async () => {
    const before = sandbox.count429();
    // Airtable's second for her token starts empty, so the burst below fills it at once.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const burst = await Promise.all(Array.from({ length: 50 }, () => callTool(fullAlice, "list_bases", {})));
    for (const result of burst) expect(result.isError, resultText(result)).toBeFalsy();
    const storedToken = sandbox.requests.filter((r) => r.userId === alice.user.id && r.path === "/v0/meta/bases").at(-1)
      ?.token as string;

    // Right away a narrower sign-in. The test is only worth something if her second is still full now.
    const signInStarted = performance.timeOrigin + performance.now();
    const inHerSecond = sandbox.requests.filter((r) => r.token === storedToken && r.time > signInStarted - 1_000);
    expect(inHerSecond, "the burst must fill her second before the sign-in starts").toHaveLength(50);
    const provider = new TestOAuthProvider({ sandboxUser: alice.user.id, clientName: "Narrow Client" });
    expect(await auth(provider, { serverUrl: mcpUrl, scope: "records:read" })).toBe("REDIRECT");
    expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: provider.lastCode() })).toBe("AUTHORIZED");

    // The check (a whoami on her stored token) was made, and waited for room instead of being her 51st request.
    const check = sandbox.requests.find(
      (r) => r.token === storedToken && r.path === "/v0/meta/whoami" && r.time > signInStarted,
    );
    expect(check?.status).toBe(200);
    expect(sandbox.count429()).toBe(before);
    expect(sandbox.maxRequestsInWindow({ token: storedToken })).toBeLessThanOrEqual(50);
    // Her broader sign-in (which can read comments) still serves her full client; a 429 on the check would have
    // replaced it by the narrow one.
    const comments = await listFirstRecordComments(fullAlice, sandbox, alice);
    expect(comments.isError, resultText(comments)).not.toBe(true);
  });
});
