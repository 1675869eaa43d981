/**
 * OpenAI Codex (CLI, IDE extension, ChatGPT desktop app), after `codex mcp add airtable --url <PUBLIC_URL>/mcp`
 * (it then starts `codex mcp login airtable` by itself) or `url = "<PUBLIC_URL>/mcp"` under `[mcp_servers.airtable]`
 * in `~/.codex/config.toml`.
 *
 * Its OAuth is the MCP Rust SDK's (`rmcp`, crates/rmcp/src/transport/auth.rs at 4a738b9), in this order:
 * - discovery without a challenge (`codex mcp login`): `GET <url>` with `MCP-Protocol-Version: 2024-11-05`, hoping
 *   for a 401's `resource_metadata`; on anything else (our 405) the path-inserted
 *   `/.well-known/oauth-protected-resource/mcp`, whose `resource` must be the URL or a parent of it;
 * - the authorization-server metadata (`/.well-known/oauth-authorization-server` for an issuer without a path);
 * - a Client ID Metadata Document rather than DCR, since we offer it with `none`: the stable
 *   `https://chatgpt.com/oauth/codex/client.json` (redirect `http://127.0.0.1:<port>/callback`), because our metadata
 *   says `authorization_response_iss_parameter_supported` and our responses carry `iss`, which it then requires to
 *   equal the issuer ("Authorization server response missing required issuer", openai/codex#41836); without that it
 *   uses a per-server `…/oauth/codex/<callback_id>/client.json` with `…/callback/<callback_id>`
 *   (openai/codex#20237). The documents here are copies of Codex's on loopback (CIMD_ALLOW_LOOPBACK_HTTP): the
 *   deployment cannot reach chatgpt.com, and the pinned copy of the stable one (known-client-documents.ts) is tested
 *   in tests/server/auth/cimd.test.ts.
 * - `scope` from the challenge or the metadata's `scopes_supported`, plus `offline_access` only when the server
 *   lists it (SEP-2207; we do not, and give refresh tokens anyway); `resource` on every request;
 * - the refresh sends the scopes it was granted (the token response's `scope`) and `resource`.
 * Raw HTTP: Codex is not the TypeScript SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostMetadataDocument, type MetadataDocumentHost } from "../e2e/fixtures/metadata-document-host.ts";
import { printServerOutputOnFailure, startClientLab, type ClientLab } from "./support/client-lab.ts";
import { deliverToLoopback, listenForRedirect } from "./support/loopback-redirect.ts";
import { recordNamesOf, WireSession } from "./support/mcp-wire.ts";
import { expectTokens, newPkce, newState, signInWithBrowser, type TokenSet } from "./support/oauth-wire.ts";

/** Fields of Codex's published documents besides the redirect URIs (tests/server/auth/cimd.test.ts pins the rest). */
const CODEX_FIELDS = {
  client_uri: "https://chatgpt.com/codex",
  application_type: "native",
  token_endpoint_auth_methods_supported: ["none"],
  logo_uri: "https://persistent.oaistatic.com/sonic/misc/openai-logo.png",
};
/** A per-server callback id (12 URL-safe characters derived from the server URL). */
const CALLBACK_ID = "4-bzS8rt42zJ";

let lab: ClientLab;
let stable: MetadataDocumentHost;
let perServer: MetadataDocumentHost;

beforeAll(async () => {
  lab = await startClientLab("codex");
  stable = await hostMetadataDocument({
    clientName: "Codex",
    path: "/oauth/codex/client.json",
    redirectUris: ["http://127.0.0.1/callback", "http://localhost/callback"],
    extra: CODEX_FIELDS,
  });
  perServer = await hostMetadataDocument({
    clientName: "Codex",
    path: `/oauth/codex/${CALLBACK_ID}/client.json`,
    redirectUris: [`http://127.0.0.1/callback/${CALLBACK_ID}`, `http://localhost/callback/${CALLBACK_ID}`],
    extra: CODEX_FIELDS,
  });
});

afterAll(async () => {
  await stable?.close();
  await perServer?.close();
  await lab?.stop();
});

printServerOutputOnFailure(() => lab);

/** rmcp's discovery_get: a GET with only MCP-Protocol-Version. */
function discoveryGet(url: string): Promise<Response> {
  return fetch(url, { headers: { "mcp-protocol-version": "2024-11-05" }, redirect: "manual" });
}

interface Discovered {
  resource: string;
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  scopes: string[];
}

/** AuthorizationManager's discovery, as `codex mcp login` runs it (no challenge in hand). */
async function discover(): Promise<Discovered> {
  const probe = await discoveryGet(lab.mcpUrl);
  await probe.arrayBuffer();
  // Not a 401: rmcp goes on with the well-known paths (the path-inserted one first).
  expect(probe.status).toBe(405);
  const prmUrl = new URL("/.well-known/oauth-protected-resource/mcp", lab.mcpUrl);
  const prmRes = await discoveryGet(prmUrl.toString());
  expect(prmRes.status).toBe(200);
  const prm = (await prmRes.json()) as {
    resource: string;
    authorization_servers: string[];
    scopes_supported: string[];
  };
  // is_resource_identifier_valid: the same URL, or a parent path of it.
  expect(prm.resource).toBe(lab.mcpUrl);
  const issuer = prm.authorization_servers[0] as string;
  const asRes = await discoveryGet(new URL("/.well-known/oauth-authorization-server", issuer).toString());
  expect(asRes.status).toBe(200);
  const as = (await asRes.json()) as Record<string, unknown>;
  // What makes it choose the stable document and require `iss` on the callback.
  expect(as.client_id_metadata_document_supported).toBe(true);
  expect(as.token_endpoint_auth_methods_supported).toContain("none");
  expect(as.authorization_response_iss_parameter_supported).toBe(true);
  expect(as.issuer).toBe(issuer);
  // SEP-2207: offline_access is added only when listed; it is not, and refresh tokens come anyway.
  expect(as.scopes_supported).not.toContain("offline_access");
  return {
    resource: prm.resource,
    issuer,
    authorizationEndpoint: String(as.authorization_endpoint),
    tokenEndpoint: String(as.token_endpoint),
    scopes: prm.scopes_supported,
  };
}

/** oauth2-rs's form POST to the token endpoint (a public client: client_id in the body). */
async function tokenPost(d: Discovered, form: Record<string, string>): Promise<TokenSet> {
  const res = await fetch(d.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return expectTokens({ status: res.status, headers: res.headers, body }, form.grant_type as string);
}

/** Authorization, the browser, the loopback callback (state and iss checked) and the code exchange. */
async function login(d: Discovered, clientId: string, callbackPath: string): Promise<TokenSet> {
  const listener = await listenForRedirect(0);
  try {
    const redirectUri = listener.redirectUri("127.0.0.1", callbackPath);
    const pkce = newPkce();
    const state = newState();
    const url = new URL(d.authorizationEndpoint);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", clientId);
    url.searchParams.set("state", state);
    url.searchParams.set("code_challenge", pkce.challenge);
    url.searchParams.set("code_challenge_method", "S256");
    url.searchParams.set("redirect_uri", redirectUri);
    url.searchParams.set("scope", d.scopes.join(" "));
    url.searchParams.set("resource", d.resource);
    const visit = await signInWithBrowser(url, lab.user.user.id);
    expect(visit.consentPage).toContain("Codex");
    expect(await deliverToLoopback(visit.redirect)).toBe(200);
    const back = await listener.next();
    expect(back.pathname).toBe(callbackPath);
    expect(back.searchParams.get("state")).toBe(state);
    // Required because the metadata advertises it, and compared with the metadata's issuer.
    expect(back.searchParams.get("iss")).toBe(d.issuer);
    return await tokenPost(d, {
      grant_type: "authorization_code",
      code: back.searchParams.get("code") as string,
      code_verifier: pkce.verifier,
      redirect_uri: redirectUri,
      client_id: clientId,
      resource: d.resource,
    });
  } finally {
    await listener.close();
  }
}

async function expectToolsWork(accessToken: string): Promise<void> {
  const wire = new WireSession(lab.mcpUrl, { token: accessToken });
  await wire.initialize("codex-mcp-client");
  const result = await wire.callTool("list_records", { baseId: lab.user.base.id, tableId: lab.user.tableName });
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  expect(recordNamesOf(result)).toEqual(lab.recordNames());
}

describe("Codex (rmcp discovery, its metadata documents, iss-bound loopback callback)", () => {
  it("the stable document: signs in at 127.0.0.1:<port>/callback, calls tools, refreshes with its granted scopes", async () => {
    const d = await discover();
    const tokens = await login(d, stable.clientId, "/callback");
    expect(stable.fetches()).toBeGreaterThan(0);
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBeTruthy();
    await expectToolsWork(tokens.access_token);
    const refreshed = await tokenPost(d, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token as string,
      client_id: stable.clientId,
      resource: d.resource,
      scope: tokens.scope as string,
    });
    await expectToolsWork(refreshed.access_token);
  });

  it("a per-server document (older Codex): /callback/<callback_id> at any port", async () => {
    const d = await discover();
    const tokens = await login(d, perServer.clientId, `/callback/${CALLBACK_ID}`);
    await expectToolsWork(tokens.access_token);
  });
});
