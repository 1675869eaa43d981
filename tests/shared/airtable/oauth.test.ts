import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxCode, signIn, TEST_REDIRECT_URI } from "../../fixtures/airtable-sign-in.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableOAuth, AirtableOAuthError } from "../../../src/shared/airtable/oauth.ts";

let sandbox: Sandbox;
let user: { id: string; email: string };

beforeAll(async () => {
  sandbox = await startSandbox({
    accessTokenTtlSec: 3600,
    refreshTokenTtlSec: 86_400,
    oauthClients: [
      { clientId: "public-client", redirectUris: [TEST_REDIRECT_URI] },
      { clientId: "secret-client", clientSecret: "s3cret:with/odd chars", redirectUris: [TEST_REDIRECT_URI] },
    ],
  });
  user = sandbox.addUser({ email: "oauth-user@example.com" });
});
afterAll(() => sandbox.close());

const publicClient = (): AirtableOAuth => new AirtableOAuth({ authUrl: sandbox.url, clientId: "public-client" });

async function whoami(token: string): Promise<{ status: number; id?: string }> {
  const res = await fetch(`${sandbox.url}/v0/meta/whoami`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, ...((await res.json()) as { id?: string }) };
}

async function rejection(promise: Promise<unknown>): Promise<AirtableOAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AirtableOAuthError);
  return error as AirtableOAuthError;
}

/** A real local HTTP server answering the token endpoint in a scripted way. */
async function fakeTokenEndpoint(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("AirtableOAuth", () => {
  it("builds the authorize URL with PKCE S256 and the scopes", () => {
    const url = new URL(
      new AirtableOAuth({ authUrl: "https://airtable.com/", clientId: "cid" }).authorizationUrl({
        redirectUri: "https://mcp.example.com/oauth/callback",
        state: "st",
        codeChallenge: "c".repeat(43),
        scopes: ["data.records:read", "schema.bases:read"],
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe("https://airtable.com/oauth2/v1/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: "cid",
      redirect_uri: "https://mcp.example.com/oauth/callback",
      response_type: "code",
      scope: "data.records:read schema.bases:read",
      state: "st",
      code_challenge: "c".repeat(43),
      code_challenge_method: "S256",
    });
  });

  it("exchanges a code (public client: client_id in the body) for tokens with absolute expiries", async () => {
    const oauth = publicClient();
    const before = Date.now();
    const tokens = await signIn(oauth, user.email);
    expect(tokens.scopes).toEqual(["data.records:read", "schema.bases:read"]);
    expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(tokens.accessTokenExpiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(tokens.refreshTokenExpiresAt).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(await whoami(tokens.accessToken)).toMatchObject({ status: 200, id: user.id });
  });

  it("refuses a used code with invalid_grant", async () => {
    const oauth = publicClient();
    const { code, codeVerifier } = await sandboxCode(oauth, user.id);
    await oauth.exchangeCode({ code, redirectUri: TEST_REDIRECT_URI, codeVerifier });
    const error = await rejection(oauth.exchangeCode({ code, redirectUri: TEST_REDIRECT_URI, codeVerifier }));
    expect([error.error, error.status]).toEqual(["invalid_grant", 400]);
    expect(error.message).toMatch(/Airtable refused the token request \(400 invalid_grant\)/);
  });

  it("refreshes, rotating the refresh token; the old one is then refused with invalid_grant", async () => {
    const oauth = publicClient();
    const first = await signIn(oauth, user.id);
    const refreshBefore = sandbox.refreshCount();
    const second = await oauth.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(await whoami(second.accessToken)).toMatchObject({ status: 200, id: user.id });
    const error = await rejection(oauth.refresh(first.refreshToken));
    expect([error.error, error.status]).toEqual(["invalid_grant", 400]);
    expect(sandbox.refreshCount()).toBe(refreshBefore + 1);
  });

  it("authenticates confidential clients with HTTP Basic; a wrong secret is invalid_client", async () => {
    const good = new AirtableOAuth({
      authUrl: sandbox.url,
      clientId: "secret-client",
      clientSecret: "s3cret:with/odd chars",
    });
    const tokens = await signIn(good, user.id);
    expect((await good.refresh(tokens.refreshToken)).accessToken).toMatch(/\S/);
    const bad = new AirtableOAuth({ authUrl: sandbox.url, clientId: "secret-client", clientSecret: "nope" });
    const { code, codeVerifier } = await sandboxCode(bad, user.id);
    const error = await rejection(bad.exchangeCode({ code, redirectUri: TEST_REDIRECT_URI, codeVerifier }));
    expect([error.error, error.status]).toEqual(["invalid_client", 401]);
  });

  it("reports network failures, timeouts, 5xx pages and malformed answers as typed errors", async () => {
    const closed = await fakeTokenEndpoint(() => undefined);
    const closedUrl = closed.url;
    await new Promise((resolve) => closed.server.close(resolve));
    const network = await rejection(new AirtableOAuth({ authUrl: closedUrl, clientId: "c" }).refresh("r"));
    expect([network.error, network.status]).toEqual(["network_error", 0]);

    const hanging = await fakeTokenEndpoint(() => undefined); // never answers
    const timeout = await rejection(
      new AirtableOAuth({ authUrl: hanging.url, clientId: "c", timeoutMs: 150 }).refresh("r"),
    );
    expect([timeout.error, timeout.status]).toEqual(["timeout", 0]);
    hanging.server.closeAllConnections();
    hanging.server.close();

    const scripted = await fakeTokenEndpoint((req, res) => {
      if (req.url === "/bad-gateway/oauth2/v1/token") {
        res.writeHead(502, { "content-type": "text/html" }).end("<html><h1>502 Bad Gateway</h1></html>");
      } else {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ access_token: "a" }));
      }
    });
    const badGateway = await rejection(
      new AirtableOAuth({ authUrl: `${scripted.url}/bad-gateway`, clientId: "c" }).refresh("r"),
    );
    expect([badGateway.error, badGateway.status]).toEqual(["server_error", 502]);
    const malformed = await rejection(new AirtableOAuth({ authUrl: scripted.url, clientId: "c" }).refresh("r"));
    expect([malformed.error, malformed.status]).toEqual(["invalid_response", 200]);
    expect(malformed.message).toMatch(/refresh_token/);
    expect(malformed.message).not.toContain('"a"');
    scripted.server.close();
  });
});
