/**
 * Gemini CLI, with `{"mcpServers": {"airtable": {"url": "<PUBLIC_URL>/mcp", "type": "http", "oauth": {"enabled":
 * true}}}}` in `~/.gemini/settings.json` (its docs: tools/mcp-server.md, "OAuth support for remote MCP servers"), or
 * the same without `oauth` and `/mcp auth airtable` in a session.
 *
 * Gemini CLI has its own OAuth code (google-gemini/gemini-cli at 5411f11: packages/core/src/tools/mcp-client.ts,
 * mcp/oauth-provider.ts, mcp/oauth-utils.ts, utils/oauth-flow.ts); the MCP SDK only carries the MCP messages and
 * throws on the 401 without the header. So, in this order:
 * - `POST <url>` initialize without a token: 401.
 * - `HEAD <url>` with `Accept: application/json`: the only request whose `WWW-Authenticate` it reads (a 401, or a
 *   307). With it, discovery starts from the header's `resource_metadata`; without it (our 405 before session 23),
 *   the automatic sign-in tried discovery at the bare origin and refused our metadata because its `resource`
 *   (`<origin>/mcp`) is not `<origin>/` ("Protected resource … does not match expected …", stripe/ai#221).
 * - the protected-resource metadata, whose `resource` must equal `protocol//host + pathname` of the configured URL;
 *   the authorization-server metadata (RFC 8414 at the issuer's root).
 * - DCR as "Gemini CLI MCP Client", one redirect URI `http://localhost:<port>/oauth/callback` (OS-chosen port),
 *   `scope` = the metadata's `scopes_supported`.
 * - the authorization URL (its parameters in its order, `resource` last); the callback checks `state` only.
 * - the code exchange and refresh as forms with `Accept: application/json, application/x-www-form-urlencoded`,
 *   `resource` on both; a refresh of stored tokens sends no `scope`.
 * Raw HTTP: what it sends is the point.
 *
 * The Gemini web app's "Custom apps for Spark" (gemini.google.com, 2026-07) is another client of the same company:
 * server-side, it registers by DCR with Google's relay `https://oauth-redirect.googleusercontent.com/r/<per-user
 * connector id>` as its redirect URI (makeplane/plane-mcp-server#230, Swiggy/swiggy-mcp-server-manifest#78: servers
 * with an allowlist of redirect hosts refused it; firecrawl/firecrawl-mcp-server#345: when registration fails it asks
 * the person for a client id and secret). With a server offering Client ID Metadata Documents it has also signed in
 * with one: `client_id=https://accountlinking.google.com/clientidmetadata/user_bound_provider/user_bound_custom-mcp-
 * <id>-<server host>`, whose document lists that relay URI, on another host than the document's
 * (homeassistant-ai/ha-mcp#1787, home-assistant/core#176282: a server accepting only same-host redirects refused it).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMetadataDocument } from "../e2e/fixtures/metadata-document-host.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { deliverToLoopback, listenForRedirect } from "./support/loopback-redirect.ts";
import { postMcp, recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import {
  authorizationUrl,
  codeFrom,
  newPkce,
  newState,
  registerClient,
  signInWithBrowser,
  expectTokens,
  type TokenSet,
} from "./support/oauth-wire.ts";

const GEMINI_TOKEN_HEADERS = {
  "Content-Type": "application/x-www-form-urlencoded",
  Accept: "application/json, application/x-www-form-urlencoded",
};

let lab: ClientLab;

beforeAll(async () => {
  lab = await startClientLab("gemini-cli");
});

afterAll(async () => {
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** OAuthUtils.buildResourceParameter: what Gemini CLI sends as `resource` and compares metadata against. */
function resourceOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url); // fetchProtectedResourceMetadata / fetchAuthorizationServerMetadata: no headers
  return { status: res.status, body: res.ok ? ((await res.json()) as Record<string, unknown>) : {} };
}

/** The form POST of exchangeCodeForToken / refreshAccessToken (utils/oauth-flow.ts). */
async function tokenForm(tokenUrl: string, params: URLSearchParams): Promise<TokenSet> {
  const res = await fetch(tokenUrl, { method: "POST", headers: GEMINI_TOKEN_HEADERS, body: params.toString() });
  const body = (await res.json()) as Record<string, unknown>;
  return expectTokens({ status: res.status, headers: res.headers, body }, String(params.get("grant_type")));
}

describe("Gemini CLI (HEAD probe for the challenge, DCR, localhost callback, resource everywhere)", () => {
  let tokens: TokenSet;
  let clientId: string;
  let tokenUrl: string;

  it("automatic sign-in: the HEAD probe gets the 401 challenge and the whole discovery follows from it", async () => {
    const serverUrl = lab.mcpUrl;
    // 1. The SDK's initialize without a token.
    const first = await postMcp(serverUrl, {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "gemini-cli-mcp-client", version: "0.0.1" },
      },
    });
    expect(first.status).toBe(401);

    // 2. The error string has no header, so it asks the server: HEAD with Accept: application/json.
    const head = await fetch(serverUrl, { method: "HEAD", headers: { Accept: "application/json" } });
    expect(head.status).toBe(401);
    const wwwAuthenticate = head.headers.get("www-authenticate") ?? "";
    const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(wwwAuthenticate)?.[1];
    expect(resourceMetadataUrl, wwwAuthenticate).toBe(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`);

    // 3. discoverOAuthFromWWWAuthenticate: the metadata's resource must be the configured URL (RFC 9728 §7.3).
    const prm = await getJson(resourceMetadataUrl as string);
    expect(prm.status).toBe(200);
    expect(resourceOf(String(prm.body.resource))).toBe(resourceOf(serverUrl));
    const issuer = String((prm.body.authorization_servers as string[])[0]);

    // 4. discoverAuthorizationServerMetadata: an issuer without a path is read at the root.
    const as = await getJson(new URL("/.well-known/oauth-authorization-server", issuer).toString());
    expect(as.status).toBe(200);
    expect(as.body.issuer).toBe(issuer);
    const scopes = as.body.scopes_supported as string[];
    tokenUrl = String(as.body.token_endpoint);

    // 5. The callback server starts first (port 0), then DCR with exactly Gemini CLI's body.
    const listener = await listenForRedirect(0);
    try {
      const redirectUri = `http://localhost:${listener.port}/oauth/callback`;
      const registration = await fetch(String(as.body.registration_endpoint), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          client_name: "Gemini CLI MCP Client",
          redirect_uris: [redirectUri],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
          scope: scopes.join(" "),
        }),
      });
      const registered = (await registration.json()) as Record<string, unknown>;
      expect(registration.status, JSON.stringify(registered)).toBe(201);
      clientId = String(registered.client_id);

      // 6. buildAuthorizationUrl, parameters in its order.
      const pkce = newPkce();
      const state = newState();
      const authorize = new URL(String(as.body.authorization_endpoint));
      const params = new URLSearchParams({
        client_id: clientId,
        response_type: "code",
        redirect_uri: redirectUri,
        state,
        code_challenge: pkce.challenge,
        code_challenge_method: "S256",
      });
      params.append("scope", scopes.join(" "));
      params.append("resource", resourceOf(serverUrl));
      params.forEach((value, key) => authorize.searchParams.append(key, value));
      const visit = await signInWithBrowser(authorize, lab.user.user.id);
      expect(visit.consentPage).toContain("Gemini CLI MCP Client");
      expect(await deliverToLoopback(visit.redirect)).toBe(200);
      const back = await listener.next();
      expect(back.pathname).toBe("/oauth/callback");
      expect(back.searchParams.get("state")).toBe(state);
      const code = back.searchParams.get("code");
      expect(code).toBeTruthy();

      // 7. exchangeCodeForToken.
      const exchange = new URLSearchParams({
        grant_type: "authorization_code",
        code: code as string,
        redirect_uri: redirectUri,
        code_verifier: pkce.verifier,
        client_id: clientId,
      });
      exchange.append("resource", resourceOf(serverUrl));
      tokens = await tokenForm(tokenUrl, exchange);
      expect(tokens.refresh_token).toBeTruthy();
    } finally {
      await listener.close();
    }

    // 8. The retried connection, with the token.
    const wire = new WireSession(serverUrl, { token: tokens.access_token });
    await wire.initialize("gemini-cli-mcp-client");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("with a token the HEAD probe is still 405 (POST only); a refresh of the stored tokens (no scope) works", async () => {
    expect(tokens, "the sign-in test runs first").toBeDefined();
    const head = await fetch(lab.mcpUrl, {
      method: "HEAD",
      headers: { Accept: "application/json", Authorization: `Bearer ${tokens.access_token}` },
    });
    expect(head.status).toBe(405);
    expect(head.headers.get("allow")).toBe("POST");

    // getStoredOAuthToken → getValidToken → refreshAccessToken with only the client id in its config.
    const refresh = new URLSearchParams({
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: clientId,
    });
    refresh.append("resource", resourceOf(lab.mcpUrl));
    const refreshed = await tokenForm(tokenUrl, refresh);
    const wire = new WireSession(lab.mcpUrl, { token: refreshed.access_token });
    await wire.initialize("gemini-cli-mcp-client");
    expect(await wire.listToolNames()).toEqual(expect.arrayContaining(["list_bases", "list_records"]));
  });

  it("the URL typed with a trailing slash: its challenge names metadata whose resource is that URL, and it signs in", async () => {
    const serverUrl = `${lab.mcpUrl}/`;
    const head = await fetch(serverUrl, { method: "HEAD", headers: { Accept: "application/json" } });
    expect(head.status).toBe(401);
    const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(head.headers.get("www-authenticate") ?? "")?.[1];
    expect(resourceMetadataUrl).toBe(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp/`);
    const prm = await getJson(resourceMetadataUrl as string);
    // isEquivalentResourceIdentifier: protocol//host + pathname, compared as strings.
    expect(resourceOf(String(prm.body.resource))).toBe(resourceOf(serverUrl));
    // The URL without the slash keeps its own metadata.
    expect((await getJson(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`)).body.resource).toBe(lab.mcpUrl);

    const listener = await listenForRedirect(0);
    let slashed: TokenSet;
    try {
      const redirectUri = `http://localhost:${listener.port}/oauth/callback`;
      const registration = await fetch(`${lab.publicUrl}/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          client_name: "Gemini CLI MCP Client",
          redirect_uris: [redirectUri],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
          scope: "records:read schema:read",
        }),
      });
      const slashClient = String(((await registration.json()) as Record<string, unknown>).client_id);
      const pkce = newPkce();
      const state = newState();
      const authorize = new URL(`${lab.publicUrl}/authorize`);
      for (const [key, value] of Object.entries({
        client_id: slashClient,
        response_type: "code",
        redirect_uri: redirectUri,
        state,
        code_challenge: pkce.challenge,
        code_challenge_method: "S256",
        scope: "records:read schema:read",
        resource: resourceOf(serverUrl),
      })) {
        authorize.searchParams.append(key, value);
      }
      const visit = await signInWithBrowser(authorize, lab.user.user.id);
      expect(await deliverToLoopback(visit.redirect)).toBe(200);
      const back = await listener.next();
      const exchange = new URLSearchParams({
        grant_type: "authorization_code",
        code: back.searchParams.get("code") as string,
        redirect_uri: redirectUri,
        code_verifier: pkce.verifier,
        client_id: slashClient,
      });
      exchange.append("resource", resourceOf(serverUrl));
      slashed = await tokenForm(`${lab.publicUrl}/token`, exchange);
    } finally {
      await listener.close();
    }
    const wire = new WireSession(serverUrl, { token: slashed.access_token });
    await wire.initialize("gemini-cli-mcp-client");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  });

  it("a HEAD with an expired or forged token gets 401 invalid_token, so it signs in again", async () => {
    const head = await fetch(lab.mcpUrl, {
      method: "HEAD",
      headers: { Accept: "application/json", Authorization: "Bearer not.a.token" },
    });
    expect(head.status).toBe(401);
    expect(head.headers.get("www-authenticate")).toMatch(/error="invalid_token".*resource_metadata="/);
  });
});

describe("Gemini web app, custom apps for Spark (server-side DCR, Google's redirect relay)", () => {
  it("registers the relay's per-user URI, is sent back to it with our code, and reads records after a refresh", async () => {
    const relay = "https://oauth-redirect.googleusercontent.com/r/user_bound_custom-mcp-116109532806053202916-airtable";
    const prm = (await getJson(`${lab.publicUrl}/.well-known/oauth-protected-resource/mcp`)).body as {
      resource: string;
      scopes_supported: string[];
    };
    // A confidential client: no token_endpoint_auth_method, so RFC 7591's default, client_secret_basic.
    const registration = await registerClient(lab.publicUrl, {
      client_name: "Gemini",
      redirect_uris: [relay],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    });
    expect(registration.status, JSON.stringify(registration.body)).toBe(201);
    expect(registration.body.token_endpoint_auth_method).toBe("client_secret_basic");
    const client = { id: String(registration.body.client_id), secret: String(registration.body.client_secret) };
    const basic = `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`;

    const pkce = newPkce();
    const state = newState();
    const visit = await signInWithBrowser(
      authorizationUrl(lab.publicUrl, {
        clientId: client.id,
        redirectUri: relay,
        pkce,
        state,
        scope: prm.scopes_supported.join(" "),
        resource: prm.resource,
      }),
      lab.user.user.id,
    );
    // The consent page names where the person is sent back to: Google's relay host.
    expect(visit.consentPage).toContain("oauth-redirect.googleusercontent.com");
    expect(`${visit.redirect.origin}${visit.redirect.pathname}`).toBe(relay);
    const code = codeFrom(visit.redirect, { state, issuer: lab.publicUrl });

    const token = async (form: Record<string, string>): Promise<TokenSet> => {
      const res = await fetch(`${lab.publicUrl}/token`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/json",
          Authorization: basic,
        },
        body: new URLSearchParams(form),
      });
      return expectTokens(
        { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> },
        form.grant_type as string,
      );
    };
    const first = await token({
      grant_type: "authorization_code",
      code,
      code_verifier: pkce.verifier,
      redirect_uri: relay,
      resource: prm.resource,
    });
    const second = await token({ grant_type: "refresh_token", refresh_token: first.refresh_token as string });

    const wire = new WireSession(lab.mcpUrl, { token: second.access_token });
    await wire.initialize("Gemini");
    const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    expect(recordNamesOf(result)).toEqual(lab.recordNames());
  });

  it("signs in with its per-user metadata document, whose redirect URI is on Google's relay host", async () => {
    const connector = "user_bound_custom-mcp-116109532806053202916-airtable";
    const relay = `https://oauth-redirect.googleusercontent.com/r/${connector}`;
    // Served on loopback here (CIMD_ALLOW_LOOPBACK_HTTP, the lab's development switch), at Google's path.
    const document = await hostMetadataDocument({
      clientName: "Gemini",
      redirectUris: [relay],
      path: `/clientidmetadata/user_bound_provider/${connector}`,
    });
    try {
      const pkce = newPkce();
      const state = newState();
      const visit = await signInWithBrowser(
        authorizationUrl(lab.publicUrl, {
          clientId: document.clientId,
          redirectUri: relay,
          pkce,
          state,
          resource: lab.mcpUrl,
        }),
        lab.user.user.id,
      );
      expect(`${visit.redirect.origin}${visit.redirect.pathname}`).toBe(relay);
      const res = await fetch(`${lab.publicUrl}/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: document.clientId,
          code: codeFrom(visit.redirect, { state, issuer: lab.publicUrl }),
          code_verifier: pkce.verifier,
          redirect_uri: relay,
          resource: lab.mcpUrl,
        }),
      });
      const tokens = expectTokens(
        { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> },
        "authorization_code",
      );
      const wire = new WireSession(lab.mcpUrl, { token: tokens.access_token });
      await wire.initialize("Gemini");
      const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(recordNamesOf(result)).toEqual(lab.recordNames());
    } finally {
      await document.close();
    }
  });
});
