/**
 * End to end, as a user of an MCP client sees it: two real server processes of one deployment (A's address is
 * the PUBLIC_URL; B is a second instance behind the same URL), real Redis, the Airtable sandbox, and the MCP
 * SDK's own client doing discovery, registration (DCR) or a Client ID Metadata Document, PKCE, the token
 * exchange and tool calls. Only the browser is headless (see helpers/headless-browser.ts).
 */
import { UnauthorizedError, auth } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { listFirstRecordComments, seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { hostMetadataDocument, type MetadataDocumentHost } from "./fixtures/metadata-document-host.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { CLIENT_REDIRECT_URI, TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

const READ_TOOLS = [
  "describe_table",
  "get_record",
  "list_bases",
  "list_comments",
  "list_records",
  "list_tables",
  "search_records",
];

const OPERATION_TOOLS = ["get_operation", "list_operations", "cancel_operation"];
const WRITE_TOOLS = [
  "create_comment",
  "create_field",
  "create_record",
  "create_records",
  "create_table",
  "delete_records",
  "update_field",
  "update_records",
  "update_table",
  "upload_attachment",
  "upsert_records",
];

let sandbox: Sandbox;
let deployment: Deployment;
let a: string; // instance A's /mcp (the public URL)
let b: string; // instance B's /mcp
let alice: SeededAccount;
let bob: SeededAccount;
let documentHost: MetadataDocumentHost;
const clients: Client[] = [];

beforeAll(async () => {
  const plan = await planDeployment("sign-in", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  bob = seedAccount(sandbox, "bob");
  deployment = await startDeployment(plan, sandbox.url);
  a = `${deployment.instances[0]?.url}/mcp`;
  b = `${deployment.instances[1]?.url}/mcp`;
  documentHost = await hostMetadataDocument({ clientName: "Doc Client", redirectUris: [CLIENT_REDIRECT_URI] });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await deployment?.stop();
  await documentHost?.close();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** Closed in afterAll. */
function track(client: Client): Client {
  clients.push(client);
  return client;
}

/** Alice, signed in on A through DCR (the first test does it; later tests reuse her client). */
let aliceSession: Promise<{ provider: TestOAuthProvider; client: Client; firstAttempt: unknown }> | undefined;
function signedInAlice() {
  aliceSession ??= (async () => {
    const provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
    const { client, firstAttempt } = await signInAndConnect(a, provider);
    return { provider, client: track(client), firstAttempt };
  })();
  return aliceSession;
}

function recordNames(result: { structuredContent?: Record<string, unknown> }): string[] {
  const records = (result.structuredContent?.records ?? []) as { fields: Record<string, unknown> }[];
  return records.map((r) => String(r.fields.Name)).sort();
}

function sandboxRecordNames(account: SeededAccount): string[] {
  return sandbox
    .listRecordsDirect(account.base.id, account.tableName)
    .map((r) => String(r.fields.Name))
    .sort();
}

describe("signing in with the MCP SDK client", () => {
  it("DCR: 401 → discovery → registration → consent → Airtable → code → tools/list → tools/call", async () => {
    const exchangesBefore = sandbox.tokenExchangeCount();
    const { provider, client, firstAttempt } = await signedInAlice();

    expect(firstAttempt).toBeInstanceOf(UnauthorizedError);
    // The SDK registered (DCR) and sent the browser to our /authorize with PKCE S256 and our resource.
    expect(provider.clientId).toMatch(/^[A-Za-z0-9_-]+$/);
    const authorize = provider.authorizationUrls[0] as URL;
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${deployment.publicUrl}/authorize`);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("resource")).toBe(deployment.resource);
    expect(provider.consentPages[0]).toContain("E2E Test Client");
    // Back at the client: our code, the client's own state, and our issuer (RFC 9207).
    const back = provider.returns[0] as URL;
    expect(`${back.origin}${back.pathname}`).toBe(CLIENT_REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe(provider.states[0]);
    expect(back.searchParams.get("iss")).toBe(deployment.publicUrl);
    expect(provider.savedTokens).toHaveLength(1);
    expect(sandbox.tokenExchangeCount()).toBe(exchangesBefore + 1);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, ...OPERATION_TOOLS, ...WRITE_TOOLS].sort());
    for (const tool of tools.filter((t) => WRITE_TOOLS.includes(t.name))) {
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(false);
      expect(tool.outputSchema, tool.name).toBeDefined();
    }
    for (const tool of tools.filter((t) => READ_TOOLS.includes(t.name))) {
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      });
      expect(tool.outputSchema, tool.name).toBeDefined();
    }

    const result = await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(result.isError, resultText(result)).toBeFalsy();
    expect(recordNames(result)).toEqual(sandboxRecordNames(alice));
    expect(JSON.parse(resultText(result))).toEqual(result.structuredContent);
  });

  it("CIMD: the client's metadata document URL is its client_id; no registration", async () => {
    const fetchesBefore = documentHost.fetches();
    const provider = new TestOAuthProvider({ sandboxUser: alice.user.id, metadataDocumentUrl: documentHost.clientId });
    const { client, firstAttempt } = await signInAndConnect(a, provider);
    track(client);

    expect(firstAttempt).toBeInstanceOf(UnauthorizedError);
    expect(provider.clientId).toBe(documentHost.clientId);
    expect((provider.authorizationUrls[0] as URL).searchParams.get("client_id")).toBe(documentHost.clientId);
    expect(documentHost.fetches()).toBeGreaterThan(fetchesBefore);
    // The consent page names the client as its document does, and the URL that identifies it.
    expect(provider.consentPages[0]).toContain("Doc Client");
    expect(provider.consentPages[0]).toContain(documentHost.clientId);
    expect((provider.returns[0] as URL).searchParams.get("iss")).toBe(deployment.publicUrl);

    const result = await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(result.isError, resultText(result)).toBeFalsy();
    expect(recordNames(result)).toEqual(sandboxRecordNames(alice));
  });
});

describe("a stateless web tier", () => {
  it("signed in on process A, the same tokens work on process B", async () => {
    const { provider } = await signedInAlice();
    const saved = provider.savedTokens.length;
    const onB = track(await connectClient(b, provider));
    const result = await callTool(onB, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(result.isError, resultText(result)).toBeFalsy();
    expect(recordNames(result)).toEqual(sandboxRecordNames(alice));
    // No new sign-in and no refresh: B accepted A's tokens as they were.
    expect(provider.savedTokens).toHaveLength(saved);
  });

  it("50 concurrent calls on A and B with an expired Airtable token: all succeed after exactly 1 refresh", async () => {
    const { provider, client: onA } = await signedInAlice();
    const onB = track(await connectClient(b, provider));
    sandbox.expireAccessTokens(alice.user.id);
    const refreshesBefore = sandbox.refreshCount();

    // list_bases: one Airtable request per call, charged to the user (50 req/s), not to one base (5 req/s).
    const calls = Array.from({ length: 50 }, (_, i) => callTool(i % 2 === 0 ? onA : onB, "list_bases", {}));
    const results = await Promise.all(calls);

    for (const result of results) {
      expect(result.isError, resultText(result)).toBeFalsy();
      const bases = (result.structuredContent?.bases ?? []) as { id: string }[];
      expect(bases.map((base) => base.id)).toContain(alice.base.id);
    }
    expect(sandbox.refreshCount() - refreshesBefore).toBe(1);
  });
});

describe("refusals a user sees", () => {
  it("no token: 401 with a challenge naming our protected resource metadata", async () => {
    const res = await fetch(a, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(challenge).toMatch(/^Bearer /);
    expect(metadataUrl).toBe(`${deployment.publicUrl}/.well-known/oauth-protected-resource/mcp`);
    const metadata = (await (await fetch(metadataUrl as string)).json()) as Record<string, unknown>;
    expect(metadata.resource).toBe(deployment.resource);
    expect(metadata.authorization_servers).toEqual([deployment.publicUrl]);
  });

  it("user B reading user A's base: a tool error that says what to do, no stack trace", async () => {
    // Bob signs in at the public URL like everyone (the SDK checks the resource the server names), then his
    // calls land on B.
    const provider = new TestOAuthProvider({ sandboxUser: bob.user.id });
    track((await signInAndConnect(a, provider)).client);
    const client = track(await connectClient(b, provider));
    const own = await callTool(client, "list_records", { baseId: bob.base.id, tableId: bob.tableName });
    expect(recordNames(own)).toEqual(sandboxRecordNames(bob));

    const result = await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(result.isError).toBe(true);
    const text = resultText(result);
    expect(text).toMatch(/no access|not exist|not found/i);
    expect(text).toContain("list_bases");
    expect(text).not.toMatch(/\n\s+at |Error:|\.ts:\d+/);
    // Nothing of Alice's data reaches Bob.
    expect(result.structuredContent).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain("alice:");
  });

  it("a client granted only records:read: records work, a schema:read tool gets 403 insufficient_scope; her full client keeps its rights", async () => {
    // Alice's full sign-in comes first (as the first test left it).
    const { client: fullAlice } = await signedInAlice();
    const provider = new TestOAuthProvider({ sandboxUser: alice.user.id, clientName: "Narrow Client" });
    expect(await auth(provider, { serverUrl: a, scope: "records:read" })).toBe("REDIRECT");
    expect(await auth(provider, { serverUrl: a, authorizationCode: provider.lastCode() })).toBe("AUTHORIZED");
    const tokens = provider.tokens();
    expect(tokens?.scope).toBe("records:read");

    const client = track(await connectClient(a, provider));
    const records = await callTool(client, "list_records", { baseId: alice.base.id, tableId: alice.tableName });
    expect(recordNames(records)).toEqual(sandboxRecordNames(alice));

    const res = await fetch(a, {
      method: "POST",
      headers: {
        authorization: `Bearer ${tokens?.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "list_bases", arguments: {} },
      }),
    });
    expect(res.status).toBe(403);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toContain('error="insufficient_scope"');
    expect(/scope="([^"]+)"/.exec(challenge)?.[1]?.split(" ")).toContain("schema:read");
    expect(challenge).toContain(`resource_metadata="${deployment.publicUrl}/.well-known/oauth-protected-resource/mcp"`);

    // The narrow sign-in did not take rights away from Alice's other client: her first, full sign-in's Airtable
    // token (which can read comments, data.recordComments:read) is kept while it works, so list_comments answers.
    const comments = await listFirstRecordComments(fullAlice, sandbox, alice);
    expect(comments.isError, resultText(comments)).not.toBe(true);
  });
});
