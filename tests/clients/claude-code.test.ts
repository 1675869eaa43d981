/**
 * Claude Code, as it connects after `claude mcp add --transport http airtable <PUBLIC_URL>/mcp`.
 *
 * - It identifies itself with a Client ID Metadata Document, https://claude.ai/oauth/claude-code-client-metadata,
 *   whose `redirect_uris` are loopback URIs WITHOUT a port: `http://localhost/callback` and
 *   `http://127.0.0.1/callback`; at run time it listens on an OS-chosen port and sends e.g.
 *   `redirect_uri=http://localhost:58135/callback` (anthropics/claude-code#37767, #42301, #44429, #64705).
 *   The document is served here on loopback with the same content (CIMD_ALLOW_LOOPBACK_HTTP, the development switch).
 * - It is built on the MCP TypeScript SDK: the SDK's own client does discovery, PKCE, the exchange and refresh.
 * - Several sessions (terminals) share one credentials file and refresh with the same stored refresh token
 *   (anthropics/claude-code#88947): both must get valid tokens and the user must stay signed in
 *   (REFRESH_REUSE_GRACE_SECONDS, issue 9 item 3).
 * - Its refresh sends no `scope` (anthropics/claude-code#89862, 2026-08: an authorization server that does not give
 *   back the original grant for a scope-less refresh signs it out at every expiry); RFC 6749 §6 says an omitted
 *   scope is the grant's.
 * - It keeps an `Mcp-Session-Id` it once received and does not start a new session on a 404 for it
 *   (anthropics/claude-code#62008, #55970): a server that 404s a stale id loses it until a restart.
 */
import { auth } from "@modelcontextprotocol/sdk/client/auth.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMetadataDocument, type MetadataDocumentHost } from "../e2e/fixtures/metadata-document-host.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { listenForRedirect, type RedirectListener } from "./support/loopback-redirect.ts";
import { recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import { approveConsent, openConsentForm } from "../e2e/helpers/headless-browser.ts";
import {
  authorizationUrl,
  codeFrom,
  exchangeCode,
  expectTokens,
  newPkce,
  newState,
  refreshRequest,
} from "./support/oauth-wire.ts";
import { CredentialStore, ProfileOAuthProvider, connectSdkClient, signInWithSdk } from "./support/sdk-profile.ts";

/** Claude Code's published document, as issues quote it (redirect URIs without a port). */
const CLAUDE_CODE_REDIRECT_URIS = ["http://localhost/callback", "http://127.0.0.1/callback"];

let lab: ClientLab;
let document: MetadataDocumentHost;
let listener: RedirectListener;
/** The shared credentials file of every Claude Code session on this machine. */
const credentials = new CredentialStore();
let firstSession: ProfileOAuthProvider;
const clients: Client[] = [];

beforeAll(async () => {
  lab = await startClientLab("claude-code");
  document = await hostMetadataDocument({ clientName: "Claude Code", redirectUris: CLAUDE_CODE_REDIRECT_URIS });
  listener = await listenForRedirect();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await listener?.close();
  await document?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

function session(): ProfileOAuthProvider {
  return new ProfileOAuthProvider({
    sandboxUser: lab.user.user.id,
    metadataDocumentUrl: document.clientId,
    // Claude Code binds its callback listener to an ephemeral port and names it with `localhost`.
    redirectUrl: listener.redirectUri("localhost", "/callback"),
    clientMetadata: { client_name: "Claude Code", redirect_uris: CLAUDE_CODE_REDIRECT_URIS },
    store: credentials,
  });
}

function listRecordsArgs() {
  return { baseId: lab.user.base.id, tableId: lab.user.tableName };
}

describe("Claude Code (CIMD, port-less loopback redirect URIs, MCP SDK)", () => {
  it("signs in with its metadata document at an ephemeral port, lists tools and reads records", async () => {
    const fetchesBefore = document.fetches();
    firstSession = session();
    const client = await signInWithSdk(lab.mcpUrl, firstSession, "claude-code");
    clients.push(client);

    // No registration: the document URL is the client_id, and the server read the document.
    const authorize = firstSession.authorizationUrls[0] as URL;
    expect(authorize.searchParams.get("client_id")).toBe(document.clientId);
    expect(document.fetches()).toBeGreaterThan(fetchesBefore);
    // The runtime redirect carries the port the registered URI lacks (RFC 8252 §7.3).
    expect(authorize.searchParams.get("redirect_uri")).toBe(`http://localhost:${listener.port}/callback`);
    expect(authorize.searchParams.get("resource")).toBe(lab.mcpUrl);
    expect(firstSession.consentPages[0]).toContain("Claude Code");
    // The browser came back to Claude Code's own listener, on that port, with our code.
    const back = await listener.next();
    expect(back.pathname).toBe("/callback");
    expect(back.searchParams.get("code")).toBeTruthy();
    expect(back.searchParams.get("state")).toBe(firstSession.states[0]);
    expect(back.searchParams.get("iss")).toBe(lab.publicUrl);
    expect(credentials.tokens?.refresh_token).toBeTruthy();

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["list_bases", "list_records", "create_records"]));
    const result = (await client.callTool({ name: "list_records", arguments: listRecordsArgs() })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("the document's other loopback form, http://127.0.0.1/callback, matches at any port; other paths do not", async () => {
    const other = await listenForRedirect();
    try {
      const ok = await fetch(
        authorizationUrl(lab.publicUrl, {
          clientId: document.clientId,
          redirectUri: other.redirectUri("127.0.0.1", "/callback"),
          pkce: newPkce(),
          state: newState(),
          resource: lab.mcpUrl,
        }),
      );
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('value="approve"');

      // Only the port may differ: a path the document does not list is refused on our page (never redirected).
      const wrongPath = await fetch(
        authorizationUrl(lab.publicUrl, {
          clientId: document.clientId,
          redirectUri: other.redirectUri("127.0.0.1", "/elsewhere"),
          pkce: newPkce(),
          state: newState(),
        }),
        { redirect: "manual" },
      );
      expect(wrongPath.status).toBe(400);
      expect(wrongPath.headers.get("location")).toBeNull();
    } finally {
      await other.close();
    }
  });

  it("two sessions refresh with the same stored refresh token at once: both get tokens, the user stays signed in", async () => {
    expect(firstSession, "the sign-in test runs first").toBeDefined();
    const shared = credentials.tokens?.refresh_token;
    expect(shared).toBeTruthy();
    // Two terminals, one credentials file: each session finds the same refresh token and refreshes it now.
    const terminalA = session();
    const terminalB = session();
    const savedBefore = credentials.saved.length;
    const [a, b] = await Promise.all([
      auth(terminalA, { serverUrl: lab.mcpUrl }),
      auth(terminalB, { serverUrl: lab.mcpUrl }),
    ]);
    expect([a, b]).toEqual(["AUTHORIZED", "AUTHORIZED"]);
    // Neither session was sent back to the browser: both refreshes were answered with tokens.
    expect(terminalA.authorizationUrls).toHaveLength(0);
    expect(terminalB.authorizationUrls).toHaveLength(0);
    const answers = credentials.saved.slice(savedBefore);
    expect(answers).toHaveLength(2);
    for (const answer of answers) {
      expect(answer.refresh_token).toBeTruthy();
      // Each session's access token works (the first caller's is not revoked by the second refresh).
      const wire = new WireSession(lab.mcpUrl, { token: answer.access_token });
      await wire.initialize("claude-code");
      const result = await wire.callTool("list_records", listRecordsArgs());
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(recordNamesOf(result)).toEqual(lab.recordNames());
    }

    // Later, a session refreshes again with whatever the credentials file holds (the last writer's token).
    const later = session();
    expect(await auth(later, { serverUrl: lab.mcpUrl })).toBe("AUTHORIZED");
    expect(later.authorizationUrls).toHaveLength(0);
    const client = await connectSdkClient(lab.mcpUrl, later, "claude-code");
    clients.push(client);
    const result = (await client.callTool({ name: "list_records", arguments: listRecordsArgs() })) as CallToolResult;
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("a refresh without `scope` after the person unticked the writes gets the ticked scopes; a stale Mcp-Session-Id is served", async () => {
    const readScopes = ["records:read", "schema:read", "comments:read"];
    const prm = (await (await fetch(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`)).json()) as {
      resource: string;
      scopes_supported: string[];
    };
    const pkce = newPkce();
    const state = newState();
    const redirectUri = listener.redirectUri("localhost", "/callback");
    const form = await openConsentForm(
      authorizationUrl(lab.publicUrl, {
        clientId: document.clientId,
        redirectUri,
        pkce,
        state,
        scope: prm.scopes_supported.join(" "),
        resource: prm.resource,
      }).toString(),
    );
    form.checked = form.checked.filter(([name, value]) => name !== "scope" || readScopes.includes(value));
    const redirect = await approveConsent(form, lab.user.user.id);
    const code = codeFrom(redirect, { state, issuer: lab.publicUrl });
    const first = await exchangeCode(lab.publicUrl, {
      clientId: document.clientId,
      code,
      verifier: pkce.verifier,
      redirectUri,
      resource: prm.resource,
    });
    expect((first.scope ?? "").split(" ").sort()).toEqual([...readScopes].sort());

    // Claude Code's refresh: grant_type, refresh_token, client_id and resource; no scope.
    const refreshed = await refreshRequest(lab.publicUrl, {
      clientId: document.clientId,
      refreshToken: first.refresh_token as string,
      resource: prm.resource,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const second = expectTokens(refreshed, "refresh_token");
    // The grant, neither more nor less (RFC 6749 §6: an omitted scope is the one originally granted).
    expect((second.scope ?? "").split(" ").sort()).toEqual([...readScopes].sort());

    // /mcp issues no session id (stateless), so no id it holds can go stale: one sent anyway is not a 404.
    const wire = new WireSession(lab.mcpUrl, {
      token: second.access_token,
      headers: { "mcp-session-id": "0b4d8a6e-stale-session-from-before-a-restart" },
    });
    const init = await wire.initialize("claude-code");
    expect(init.protocolVersion).toBe("2025-11-25");
    expect(wire.answers[0]?.headers.get("mcp-session-id")).toBeNull();
    const result = await wire.callTool("list_records", listRecordsArgs());
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });
});
