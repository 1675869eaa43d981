/**
 * Both MCP protocol eras against a real deployment (issue 14): two server processes behind one public URL, a
 * worker process, real Redis, the Airtable sandbox, and real bearer tokens from our OAuth server. Alice signs in
 * once (the v1 SDK client's OAuth flow); her token then serves a 2026-07-28 client (SDK v2, per-request `_meta`,
 * no initialize) on instance B and 2025-era clients on A, on the same /mcp URL.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { SERVER_NAME } from "../../src/shared/tools/create-mcp-server.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

const MODERN = "2026-07-28";

let sandbox: Sandbox;
let deployment: Deployment;
let a: string; // instance A's /mcp (the public URL)
let b: string; // instance B's /mcp
let alice: SeededAccount;
let legacyClient: Client;
let token: string;
const modernClients: ModernClient[] = [];

beforeAll(async () => {
  const plan = await planDeployment("eras", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url, { WRITE_WAIT_MS: "20000" });
  await deployment.addWorker();
  a = `${deployment.instances[0]?.url}/mcp`;
  b = `${deployment.instances[1]?.url}/mcp`;
  const provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  legacyClient = (await signInAndConnect(a, provider)).client;
  token = provider.tokens()?.access_token ?? "";
});

afterAll(async () => {
  await Promise.allSettled([legacyClient?.close(), ...modernClients.map((c) => c.close())]);
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

async function connectModern(url: string): Promise<ModernClient> {
  const client = new ModernClient({ name: "e2e-modern", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
  await client.connect(
    new ModernHttpTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  modernClients.push(client);
  return client;
}

function sandboxNames(): string[] {
  return sandbox
    .listRecordsDirect(alice.base.id, alice.tableName)
    .map((r) => String(r.fields.Name))
    .sort();
}

describe("one /mcp URL, two protocol eras, real bearer tokens", () => {
  it("2026-07-28 on instance B: discover, tools/list, a read and a write (by the worker) with Alice's token", async () => {
    const client = await connectModern(b);
    expect(client.getProtocolEra()).toBe("modern");
    expect(client.getServerVersion()?.name).toBe(SERVER_NAME);
    expect(client.getDiscoverResult()?.supportedVersions).toEqual([MODERN]);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());

    const read = await client.callTool({
      name: "list_records",
      arguments: { baseId: alice.base.id, tableId: alice.tableName },
    });
    expect(read.isError).not.toBe(true);
    const names = (read.structuredContent as { records: { fields: { Name: string } }[] }).records.map(
      (r) => r.fields.Name,
    );
    expect(names.sort()).toEqual(sandboxNames());

    const write = await client.callTool({
      name: "create_record",
      arguments: { baseId: alice.base.id, tableId: alice.tableName, fields: { Name: "alice: modern write" } },
    });
    expect(write.isError).not.toBe(true);
    expect(write.structuredContent).toMatchObject({ status: "completed", done: true });
    expect(sandboxNames()).toContain("alice: modern write");
  });

  it("the same URL serves the v1 client (2025-11-25) on A and a raw 2025-06-18 initialize on B", async () => {
    const result = await callTool(legacyClient, "list_bases", {});
    expect((result.structuredContent as { bases: { id: string }[] }).bases.map((x) => x.id)).toContain(alice.base.id);

    const res = await fetch(b, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
      }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe("2025-06-18");
  });

  it("a 2026-07-28 request without a token gets our 401 challenge, naming the resource metadata", async () => {
    const res = await fetch(b, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": "server/discover",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "server/discover",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(
      /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource/,
    );
  });
});
