/**
 * Cursor, with `{"mcpServers": {"airtable": {"url": "<PUBLIC_URL>/mcp"}}}` in `~/.cursor/mcp.json` (cursor.com/docs/mcp).
 *
 * - It registers by DCR with the private-use redirect URI `cursor://anysphere.cursor-mcp/oauth/callback`
 *   (RFC 8252 §7.1; makeplane/plane-mcp-server#159, different-ai/openwork#3059, TanStack/tanstack.com#667).
 *   Newer builds send it together with `https://www.cursor.com/agents/mcp/oauth/callback` and
 *   `http://localhost:8787/callback` (erp-mafia/accounted#2225, bytebase/bytebase#20510).
 * - The browser's last redirect goes to that scheme; the OS hands it to Cursor, which exchanges the code.
 * - The operator allows the scheme with REDIRECT_URI_SCHEMES, whose default is `cursor` (issue 9 item 2); the
 *   consent page shows the scheme plainly, since a private scheme names no web site.
 * SDK-based: the MCP SDK's client runs discovery, DCR, PKCE and the exchange.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { recordNamesOf } from "./support/mcp-wire.ts";
import { registerClient } from "./support/oauth-wire.ts";
import { ProfileOAuthProvider, signInWithSdk } from "./support/sdk-profile.ts";

const CURSOR_CALLBACK = "cursor://anysphere.cursor-mcp/oauth/callback";

let lab: ClientLab;
const clients: Client[] = [];

beforeAll(async () => {
  // No REDIRECT_URI_SCHEMES: the default must let Cursor in.
  lab = await startClientLab("cursor");
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

describe("Cursor (DCR with a private-use cursor:// redirect URI, MCP SDK)", () => {
  it("registers cursor://…, the browser is sent back to that scheme, and Cursor lists tools and reads records", async () => {
    const provider = new ProfileOAuthProvider({
      sandboxUser: lab.user.user.id,
      redirectUrl: CURSOR_CALLBACK,
      clientMetadata: {
        client_name: "Cursor",
        redirect_uris: [CURSOR_CALLBACK],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      },
    });
    const client = await signInWithSdk(lab.mcpUrl, provider, "cursor-vscode");
    clients.push(client);

    expect(provider.store.client?.client_id).toMatch(/^[\w-]+$/);
    expect((provider.authorizationUrls[0] as URL).searchParams.get("redirect_uri")).toBe(CURSOR_CALLBACK);
    // The consent page says where the user is sent back to, scheme included.
    expect(provider.consentPages[0]).toContain("Cursor");
    expect(provider.consentPages[0]).toContain("cursor:");
    // The browser's final redirect is the private-use URI itself, with our code, Cursor's state and our issuer.
    const back = provider.returns[0] as URL;
    expect(`${back.protocol}//${back.host}${back.pathname}`).toBe(CURSOR_CALLBACK);
    expect(back.searchParams.get("state")).toBe(provider.states[0]);
    expect(back.searchParams.get("iss")).toBe(lab.publicUrl);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["list_bases", "list_records", "upsert_records"]));
    const result = (await client.callTool({
      name: "list_records",
      arguments: { baseId: lab.user.base.id, tableId: lab.user.tableName },
    })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("the three-URI registration of newer Cursor builds is accepted as sent", async () => {
    const uris = [
      CURSOR_CALLBACK,
      "https://www.cursor.com/agents/mcp/oauth/callback",
      "http://localhost:8787/callback",
    ];
    const registration = await registerClient(lab.publicUrl, {
      client_name: "Cursor",
      redirect_uris: uris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    expect(registration.body.redirect_uris).toEqual(uris);
  });
});
