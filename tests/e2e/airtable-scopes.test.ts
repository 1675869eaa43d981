/**
 * An Airtable scope the user's stored Airtable sign-in lacks, end to end. This server keeps one Airtable sign-in per
 * user for all their MCP clients, and a later sign-in that asked for other scopes replaces it (callback.ts), so a
 * client's grant may allow a tool (create_field: schema:write) whose Airtable scope (schema.bases:write) the stored
 * sign-in was not granted; Airtable would answer 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND
 * (https://airtable.com/developers/web/api/scopes). The granted scopes are in Airtable's token answer (`scope`), so
 * the call is refused before anything is sent, naming the scope and the fix; signing in again from that client
 * fixes it. A real server process and a worker process, the MCP SDK's client signing in through the sandbox's OAuth.
 */
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, resultText } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { answerOf, type OperationAnswer } from "./helpers/write-operations.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let mcpUrl: string;
let dana: { id: string };
let base: BaseInfo;
const clients: Client[] = [];

beforeAll(async () => {
  const plan = await planDeployment("airtable-scopes", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  dana = sandbox.addUser({ email: "dana@example.com", name: "Dana" });
  base = sandbox.createBase(dana.id, {
    name: "Projects",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "first" }] }],
  });
  deployment = await startDeployment(plan, sandbox.url);
  await deployment.addWorker();
  mcpUrl = `${deployment.publicUrl}/mcp`;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** A sign-in of `provider`'s client asking for `scope` (the SDK's own flow), then a client connected with it. */
async function signIn(provider: TestOAuthProvider, scope: string): Promise<Client> {
  expect(await auth(provider, { serverUrl: mcpUrl, scope })).toBe("REDIRECT");
  expect(await auth(provider, { serverUrl: mcpUrl, authorizationCode: provider.lastCode() })).toBe("AUTHORIZED");
  const client = await connectClient(mcpUrl, provider);
  clients.push(client);
  return client;
}

describe("a tool whose Airtable scope the user's stored Airtable sign-in lacks", () => {
  it("is refused before any request, naming the scope and the fix; signing in again from that client fixes it", async () => {
    const schemaApp = new TestOAuthProvider({ sandboxUser: dana.id, clientName: "Schema App" });
    const schemaClient = await signIn(schemaApp, "schema:read schema:write");
    // Her records app signs in later, asking for other scopes: its Airtable sign-in replaces the first.
    await signIn(
      new TestOAuthProvider({ sandboxUser: dana.id, clientName: "Records App" }),
      "records:read records:write",
    );

    const sent = sandbox.requests.length;
    const refused = await callTool(schemaClient, "create_field", {
      baseId: base.id,
      tableId: "Tasks",
      name: "Contact",
      type: "email",
    });
    expect(refused.isError).toBe(true);
    const text = resultText(refused);
    expect(text).toContain(
      "create_field needs the Airtable scope schema.bases:write, which your Airtable sign-in on this server was not " +
        "granted (it has ",
    );
    expect(text).toContain("so Airtable would refuse the call: nothing was sent");
    expect(text).toContain("a later sign-in from another client that asked for other scopes replaces it");
    expect(text).toContain("Sign in again from this client");
    expect(text).toContain(
      "the server's operator must enable schema.bases:write for this server's Airtable OAuth integration",
    );
    expect(sandbox.requests.slice(sent)).toEqual([]);
    // What the stored sign-in does allow still works for this client.
    const tables = await callTool(schemaClient, "list_tables", { baseId: base.id });
    expect(tables.isError, resultText(tables)).toBeFalsy();

    // Signing in again from the schema app gives its Airtable scopes back.
    schemaApp.invalidateCredentials("tokens");
    const again = await signIn(schemaApp, "schema:read schema:write");
    const field = answerOf<OperationAnswer>(
      "create_field",
      await callTool(again, "create_field", { baseId: base.id, tableId: "Tasks", name: "Contact", type: "email" }),
    );
    expect(field.status).toBe("completed");
  });
});
