import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allScopes } from "../../../src/shared/auth/scopes.ts";
import {
  authorizeUrl,
  REDIRECT_URI,
  registerClient,
  startHarness,
  type Harness,
} from "../../support/auth-test-harness.ts";

let h: Harness;
let https: Harness; // PUBLIC_URL on https, as in production
beforeAll(async () => {
  h = await startHarness();
  https = await startHarness({ publicUrl: "https://mcp.example.com", sandbox: h.sandbox });
});
afterAll(async () => {
  await https.close();
  await h.close();
});

async function getJson(url: string) {
  const res = await fetch(url, { headers: { "mcp-protocol-version": "2025-11-25" } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe("metadata documents", () => {
  it("protected resource metadata at the root and at the /mcp path (RFC 9728)", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const { status, body, headers } = await getJson(`${https.url}${path}`);
      expect(status).toBe(200);
      expect(headers.get("access-control-allow-origin")).toBe("*");
      expect(body).toMatchObject({
        resource: "https://mcp.example.com/mcp",
        authorization_servers: ["https://mcp.example.com"],
        scopes_supported: allScopes,
        bearer_methods_supported: ["header"],
      });
    }
  });

  it("authorization server metadata (RFC 8414): issuer without trailing slash, S256 only, CIMD, iss", async () => {
    const { status, body } = await getJson(`${https.url}/.well-known/oauth-authorization-server`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      issuer: "https://mcp.example.com",
      authorization_endpoint: "https://mcp.example.com/authorize",
      token_endpoint: "https://mcp.example.com/token",
      registration_endpoint: "https://mcp.example.com/register",
      revocation_endpoint: "https://mcp.example.com/revoke",
      response_types_supported: ["code"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_post", "client_secret_basic"],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      scopes_supported: allScopes,
    });
    // We are no OpenID provider: no openid-configuration to mislead clients into expecting ID tokens.
    expect((await fetch(`${https.url}/.well-known/openid-configuration`)).status).toBe(404);
  });

  it("CORS preflight for browser clients on the token endpoint", async () => {
    const res = await fetch(`${h.url}/token`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:6274", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("over https, the consent cookie is __Host- prefixed and Secure", async () => {
    const { clientId } = await registerClient(https);
    const res = await fetch(authorizeUrl(https, { clientId, resource: "https://mcp.example.com/mcp" }));
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie()[0] ?? "";
    expect(cookie).toMatch(/^__Host-consent_[A-Za-z0-9_-]+=[A-Za-z0-9_-]+; Path=\/; /);
    expect(cookie).toContain("; Secure");
    expect(cookie).toContain("; HttpOnly");
    expect(cookie).toContain("; SameSite=Lax");
    expect(cookie).not.toContain("Domain");
  });
});

describe("dynamic client registration (RFC 7591)", () => {
  it("registers a public client and echoes its metadata", async () => {
    // No grant_types sent: RFC 7591's default (authorization_code) plus the refresh_token this server adds to it
    // (RFC 7591 §3.2.1) is what is registered and echoed.
    const reg = await registerClient(h, { scope: "records:read schema:read openid", grant_types: undefined });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({
      client_id: expect.stringMatching(/^mcp_/),
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_name: "Test Client",
      scope: "records:read schema:read", // unknown words dropped
    });
    expect(reg.body.client_secret).toBeUndefined();
    expect(await h.store.getClient(reg.clientId)).toMatchObject({ client_id: reg.clientId });
  });

  it("accepts https and loopback http redirect URIs", async () => {
    const reg = await registerClient(h, {
      redirect_uris: ["https://claude.ai/api/mcp/auth_callback", "http://localhost:33418/cb", "http://[::1]:8080/cb"],
    });
    expect(reg.status).toBe(201);
  });

  it("refuses redirect URIs that are not https or loopback http, or carry a fragment", async () => {
    for (const uri of [
      "http://evil.example.com/callback",
      "javascript:alert(1)",
      "https://app.example.com/cb#frag",
      "ftp://app.example.com/cb",
      "not a url",
      "http://192.168.0.10/cb",
    ]) {
      const reg = await registerClient(h, { redirect_uris: [uri] });
      expect(reg.status, uri).toBe(400);
      expect(reg.body.error).toBe("invalid_redirect_uri");
    }
  });

  it("drops cosmetic metadata it cannot use instead of refusing the client; reads a scope array as its words", async () => {
    const reg = await registerClient(h, {
      client_name: null,
      client_uri: "http://192.168.1.10:3080",
      logo_uri: "",
      scope: ["records:read", "schema:read"],
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body).not.toHaveProperty("client_uri");
    expect(reg.body).not.toHaveProperty("logo_uri");
    expect(reg.body).not.toHaveProperty("client_name");
    expect(reg.body.scope).toBe("records:read schema:read");
    // An http logo is never kept (the consent page links only https), but no longer costs the client its sign-in.
    const insecureLogo = await registerClient(h, { logo_uri: "http://insecure.example.com/logo.png" });
    expect(insecureLogo.status).toBe(201);
    expect(insecureLogo.body).not.toHaveProperty("logo_uri");
  });

  it("refuses bad metadata with invalid_client_metadata", async () => {
    const cases: Record<string, unknown>[] = [
      { redirect_uris: [] },
      { token_endpoint_auth_method: "private_key_jwt" },
      { grant_types: ["client_credentials"] },
      { response_types: ["token"] },
      { scope: 42 },
    ];
    for (const metadata of cases) {
      const reg = await registerClient(h, metadata);
      expect(reg.status, JSON.stringify(metadata)).toBe(400);
      expect(reg.body.error).toBe("invalid_client_metadata");
    }
    const broken = await fetch(`${h.url}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toBe("invalid_client_metadata");
  });
});
