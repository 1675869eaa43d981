import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeUrl,
  callMcp,
  DEFAULT_VERIFIER,
  exchangeCode,
  finishSignIn,
  openConsent,
  REDIRECT_URI,
  registerClient,
  signedInClient,
  signIn,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * Registered grant types (RFC 7591 §2 grant_types, for DCR and Client ID Metadata Documents alike): a client must
 * have authorization_code; every such client also gets refresh_token (RFC 7591 §3.2.1 lets the server replace
 * requested metadata; clients that omit it — the MCP Swift SDK, older Zed, clients sending no grant_types — would
 * otherwise sign in again every hour). Omitted grant_types means ["authorization_code"].
 */
let h: Harness;
let docs: Server;
let docsUrl: string;
const documents = new Map<string, (url: string) => Record<string, unknown>>();

beforeAll(async () => {
  docs = createServer((req, res) => {
    const doc = documents.get(req.url ?? "");
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc(`${docsUrl}${req.url}`)));
  });
  await new Promise<void>((resolve) => docs.listen(0, "127.0.0.1", resolve));
  docsUrl = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
  h = await startHarness({ env: { CIMD_ALLOW_LOOPBACK_HTTP: "true" } });
});
afterAll(async () => {
  await h.close();
  docs.closeAllConnections();
  await new Promise<void>((resolve) => docs.close(() => resolve()));
});

function serveDocument(path: string, grantTypes: string[] | undefined): string {
  documents.set(path, (url) => ({
    client_id: url,
    client_name: "Doc Client",
    redirect_uris: [REDIRECT_URI],
    ...(grantTypes !== undefined ? { grant_types: grantTypes } : {}),
  }));
  return `${docsUrl}${path}`;
}

async function tokensFor(clientId: string) {
  const page = await openConsent(h, { clientId });
  expect(page.status).toBe(200);
  const back = await finishSignIn(h, page);
  return exchangeCode(h, clientId, back.searchParams.get("code") as string);
}

function refresh(clientId: string, refreshToken: string) {
  return tokenRequest(h, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });
}

describe("dynamic registration", () => {
  it("without grant_types (RFC 7591 default authorization_code): refresh_token is added, shown, and works", async () => {
    const reg = await registerClient(h, { grant_types: undefined, client_name: "No grant types" });
    // RFC 7591 §3.2.1: the server may replace requested metadata; the answer shows what the client got.
    expect(reg.body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    const tokens = await tokensFor(reg.clientId);
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    expect((await callMcp(h, tokens.body.access_token as string)).status).toBe(200);
    const refreshed = await refresh(reg.clientId, tokens.body.refresh_token as string);
    expect(refreshed.status).toBe(200);
    expect((await callMcp(h, refreshed.body.access_token as string)).status).toBe(200);

    // A refresh token of another client is refused, and is not burned for its owner. (Public clients with the same
    // metadata share a client_id, hence this one's own client_name.)
    const other = await signedInClient(h);
    expect(other.clientId).not.toBe(reg.clientId);
    const res = await refresh(reg.clientId, other.refreshToken);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_grant");
    expect((await refresh(other.clientId, other.refreshToken)).status).toBe(200);
  });

  it("an explicit [authorization_code] (the MCP Swift SDK's registration, swift-sdk#222) stays signed in too", async () => {
    const reg = await registerClient(h, { grant_types: ["authorization_code"] });
    expect(reg.body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    const tokens = await tokensFor(reg.clientId);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    const refreshed = await refresh(reg.clientId, tokens.body.refresh_token as string);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token);
  });

  it("a client stored with [authorization_code] by an earlier version gets refresh tokens at its next sign-in", async () => {
    const clientId = "mcp_stored_code_only";
    await h.store.putClient({
      client_id: clientId,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code"],
      response_types: ["code"],
    });
    const tokens = await tokensFor(clientId);
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    expect((await refresh(clientId, tokens.body.refresh_token as string)).status).toBe(200);
  });

  it("Claude.ai's registration (confidential, client_secret_post, OpenID scopes): a refresh token with its secret", async () => {
    const reg = await registerClient(h, {
      redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      scope: "openid profile email offline_access",
      client_name: "Claude",
    });
    expect(reg.status).toBe(201);
    expect(reg.body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    expect(reg.body.scope).toBeUndefined(); // none of its words are ours: no restriction
    const redirectUri = "https://claude.ai/api/mcp/auth_callback";
    const page = await openConsent(h, {
      clientId: reg.clientId,
      redirectUri,
      scope: "openid profile email offline_access",
    });
    const code = (await finishSignIn(h, page)).searchParams.get("code") as string;
    const tokens = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: reg.clientId,
      client_secret: reg.secret,
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: redirectUri,
    });
    expect(tokens.status).toBe(200);
    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: reg.clientId,
      client_secret: reg.secret,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
  });

  it("with refresh_token listed: a refresh token that rotates", async () => {
    const reg = await registerClient(h, { grant_types: ["authorization_code", "refresh_token"] });
    const tokens = await tokensFor(reg.clientId);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    const refreshed = await refresh(reg.clientId, tokens.body.refresh_token as string);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token);
  });

  it("grant types we do not implement are dropped; a registration without authorization_code is refused", async () => {
    const extra = await registerClient(h, {
      grant_types: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
    });
    expect(extra.status).toBe(201);
    expect(extra.body.grant_types).toEqual(["authorization_code", "refresh_token"]);
    for (const grantTypes of [["refresh_token"], [], ["client_credentials"]]) {
      const reg = await registerClient(h, { grant_types: grantTypes });
      expect(reg.status, JSON.stringify(grantTypes)).toBe(400);
      expect(reg.body.error).toBe("invalid_client_metadata");
      expect(reg.body.error_description).toMatch(/authorization_code/);
    }
  });

  it("a client stored without authorization_code (registered before it was required) is refused at /authorize", async () => {
    const clientId = "mcp_legacy_refresh_only";
    await h.store.putClient({
      client_id: clientId,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["refresh_token"],
      response_types: ["code"],
    });
    const res = await fetch(authorizeUrl(h, { clientId }), { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location") as string).searchParams.get("error")).toBe("unauthorized_client");
  });
});

describe("Client ID Metadata Documents", () => {
  it("a document without grant_types (authorization_code by RFC 7591 §2) gets a refresh token that works", async () => {
    const clientId = serveDocument("/no-grant-types.json", undefined);
    const tokens = await tokensFor(clientId);
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    expect((await refresh(clientId, tokens.body.refresh_token as string)).status).toBe(200);
  });

  it("Claude.ai-style grant_types with one we do not implement (jwt-bearer): refresh works", async () => {
    const clientId = serveDocument("/claude-ai-style.json", [
      "authorization_code",
      "refresh_token",
      "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ]);
    const tokens = await tokensFor(clientId);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    expect((await refresh(clientId, tokens.body.refresh_token as string)).status).toBe(200);
  });

  it("a document whose grant_types lack authorization_code is refused with a page", async () => {
    const clientId = serveDocument("/refresh-only.json", ["refresh_token"]);
    const res = await fetch(`${h.url}/authorize?client_id=${encodeURIComponent(clientId)}`, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("grant_types lacks authorization_code");
  });
});

describe("signed-in clients keep working", () => {
  it("the harness's default registration (authorization_code + refresh_token, as MCP clients send) refreshes", async () => {
    const { clientId } = await registerClient(h);
    const { code } = await signIn(h, { clientId });
    const tokens = await exchangeCode(h, clientId, code);
    expect((await refresh(clientId, tokens.body.refresh_token as string)).status).toBe(200);
  });
});
