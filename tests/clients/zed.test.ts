/**
 * Zed, with `{"context_servers": {"airtable": {"url": "<PUBLIC_URL>/mcp"}}}` in its settings (Agent panel → Add
 * Custom Server → Remote), then **Authenticate**.
 *
 * Zed has its own OAuth client (zed-industries/zed, crates/context_server/src/oauth.rs; zed#51768):
 * - it starts on the initialize's 401 and reads `resource_metadata` and `scope` from its WWW-Authenticate (same
 *   origin only), then the authorization-server metadata, whose `issuer` must equal the metadata's
 *   `authorization_servers[0]` as parsed URLs; it refuses a server without S256;
 * - it prefers its Client ID Metadata Document `https://zed.dev/oauth/client-metadata.json` whenever the server offers
 *   CIMD (no DCR fallback then); the document (crates/context_server/OAUTH_PLAN.md) registers
 *   `http://127.0.0.1/callback` without a port, `grant_types: ["authorization_code"]` only, and `scope: "mcp:*"`;
 * - it listens on an ephemeral 127.0.0.1 port, sends `resource` = the canonical server URI (trailing slash dropped)
 *   at /authorize, the exchange and every refresh, and ignores `iss`; a refresh sends no `scope`.
 * Here the document is a copy on loopback (CIMD_ALLOW_LOOPBACK_HTTP). Raw HTTP, in its order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMetadataDocument, type MetadataDocumentHost } from "../e2e/fixtures/metadata-document-host.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { deliverToLoopback, listenForRedirect } from "./support/loopback-redirect.ts";
import { postMcp, recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import { expectTokens, newPkce, newState, signInWithBrowser, type TokenSet } from "./support/oauth-wire.ts";

let lab: ClientLab;
let document: MetadataDocumentHost;

beforeAll(async () => {
  lab = await startClientLab("zed");
  document = await hostMetadataDocument({
    clientName: "Zed",
    redirectUris: ["http://127.0.0.1/callback"],
    extra: {
      client_uri: "https://zed.dev",
      logo_uri: "https://zed.dev/img/logo.png",
      grant_types: ["authorization_code"],
      scope: "mcp:*",
    },
  });
});

afterAll(async () => {
  await document?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** The auth-param list of a Bearer challenge (parse_www_authenticate). */
function challengeParams(header: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const match of header.replace(/^Bearer\s+/i, "").matchAll(/([a-z_]+)="([^"]*)"/gi)) {
    params.set((match[1] as string).toLowerCase(), match[2] as string);
  }
  return params;
}

/** canonical_server_uri: lowercase scheme and host, port, path without a trailing slash. */
function canonical(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname.replace(/\/+$/, "")}`;
}

/** post_token_request: a form with Accept: application/json. */
async function tokenPost(tokenEndpoint: string, form: Record<string, string>): Promise<TokenSet> {
  const res = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return expectTokens({ status: res.status, headers: res.headers, body }, form.grant_type as string);
}

describe("Zed (challenge-driven discovery, its CIMD document, 127.0.0.1 callback)", () => {
  it("signs in with its document (authorization_code only, scope mcp:*), gets a refresh token, refreshes", async () => {
    // The configured URL as a person may type it: Zed canonicalises it (no trailing slash) for `resource`.
    const serverUrl = `${lab.mcpUrl}/`;
    const unauthorized = await postMcp(serverUrl, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "Zed", version: "0.240.0" } },
    });
    expect(unauthorized.status).toBe(401);
    const challenge = challengeParams(unauthorized.headers.get("www-authenticate") ?? "");
    const prmUrl = new URL(challenge.get("resource_metadata") as string);
    expect(prmUrl.origin).toBe(new URL(serverUrl).origin); // a cross-origin one would be ignored
    const scopes = (challenge.get("scope") ?? "").split(" ").filter(Boolean);
    expect(scopes.length).toBeGreaterThan(0);

    const prm = (await (await fetch(prmUrl, { headers: { Accept: "application/json" } })).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    const issuer = new URL(prm.authorization_servers[0] as string);
    const asRes = await fetch(new URL("/.well-known/oauth-authorization-server", issuer), {
      headers: { Accept: "application/json" },
    });
    const as = (await asRes.json()) as Record<string, unknown>;
    expect(new URL(String(as.issuer)).href).toBe(issuer.href); // compared as URLs
    expect(as.code_challenge_methods_supported).toContain("S256");
    expect(as.client_id_metadata_document_supported).toBe(true); // so: the document, no DCR

    const resource = canonical(serverUrl);
    const listener = await listenForRedirect(0);
    let tokens: TokenSet;
    try {
      const redirectUri = listener.redirectUri("127.0.0.1", "/callback");
      const pkce = newPkce();
      const state = newState();
      const authorize = new URL(String(as.authorization_endpoint));
      authorize.searchParams.append("response_type", "code");
      authorize.searchParams.append("client_id", document.clientId);
      authorize.searchParams.append("redirect_uri", redirectUri);
      authorize.searchParams.append("scope", scopes.join(" "));
      authorize.searchParams.append("resource", resource);
      authorize.searchParams.append("code_challenge", pkce.challenge);
      authorize.searchParams.append("code_challenge_method", "S256");
      authorize.searchParams.append("state", state);
      const visit = await signInWithBrowser(authorize, lab.user.user.id);
      expect(visit.consentPage).toContain("Zed");
      expect(await deliverToLoopback(visit.redirect)).toBe(200);
      const back = await listener.next();
      expect(back.searchParams.get("state")).toBe(state);
      tokens = await tokenPost(String(as.token_endpoint), {
        grant_type: "authorization_code",
        code: back.searchParams.get("code") as string,
        redirect_uri: redirectUri,
        client_id: document.clientId,
        code_verifier: pkce.verifier,
        resource,
      });
    } finally {
      await listener.close();
    }
    // Its document lists only authorization_code; it gets a refresh token anyway, so it is not signed out hourly.
    expect(tokens.refresh_token).toBeTruthy();
    // "mcp:*" is not ours: dropped, and what the challenge named is granted.
    expect((tokens.scope ?? "").split(" ").sort()).toEqual([...scopes].sort());

    const wire = new WireSession(serverUrl, { token: tokens.access_token });
    await wire.initialize("Zed");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());

    const refreshed = await tokenPost(String(as.token_endpoint), {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: document.clientId,
      resource,
    });
    const again = new WireSession(serverUrl, { token: refreshed.access_token });
    await again.initialize("Zed");
    expect(await again.listToolNames()).toEqual(expect.arrayContaining(["list_bases", "list_records"]));
  });
});
