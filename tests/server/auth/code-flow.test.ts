import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s256 } from "../../../src/server/auth/pkce.ts";
import {
  approveThroughAirtable,
  callMcp,
  decide,
  DEFAULT_VERIFIER,
  finishSignIn,
  exchangeCode,
  forgeAccessToken,
  openConsent,
  REDIRECT_URI,
  registerClient,
  signedInClient,
  signIn,
  startHarness,
  TestClock,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";
import { rawRequest } from "../../helpers/raw-http.ts";

let h: Harness;
const clock = new TestClock();
beforeAll(async () => {
  h = await startHarness({ now: clock.now });
});
afterAll(async () => {
  await h.close();
});

function challengeOf(res: Response): string {
  return res.headers.get("www-authenticate") ?? "";
}

describe("the authorization code flow, headless", () => {
  it("registers, consents, signs in at Airtable and gets tokens that the bearer guard accepts", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "records:read schema:read" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("Test Client");
    expect(page.html).toContain("127.0.0.1:9"); // the redirect host, named on the page
    expect(page.html).toContain("See the records in your bases");
    expect(page.html).not.toContain("Create, change and delete records");
    expect(page.html).toContain('<button type="submit" name="decision" value="approve">');
    expect(page.html).toContain('<button type="submit" name="decision" value="deny">');
    expect(page.html).not.toContain("<script");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-store");
    // Plain http PUBLIC_URL here: no __Host- prefix, no Secure; always HttpOnly + SameSite=Lax.
    expect(page.cookie).toMatch(/^consent_[A-Za-z0-9_-]+=/);
    const rawCookie = page.headers.getSetCookie()[0] ?? "";
    expect(rawCookie).toContain("HttpOnly");
    expect(rawCookie).toContain("SameSite=Lax");
    expect(rawCookie).not.toContain("Secure");

    const back = await finishSignIn(h, page);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe("client-state-1");
    expect(back.searchParams.get("iss")).toBe(h.url);
    const code = back.searchParams.get("code") as string;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const tokens = await exchangeCode(h, clientId, code);
    expect(tokens.status).toBe(200);
    expect(tokens.headers.get("cache-control")).toBe("no-store");
    expect(tokens.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "records:read schema:read" });
    expect(tokens.body.refresh_token).toMatch(/^gr_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

    const res = await callMcp(h, tokens.body.access_token as string);
    expect(res.status).toBe(200);
    const { auth } = (await res.json()) as { auth: Record<string, unknown> };
    expect(auth).toMatchObject({
      clientId,
      scopes: ["records:read", "schema:read"],
      resource: `${h.url}/mcp`,
      extra: { userId: h.user.id },
    });
    expect((auth.extra as { grantId: string }).grantId).toMatch(/^gr_/);
    expect(auth.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);

    // The Airtable tokens are stored for the user (the store encrypts them), never handed to the client.
    const account = await h.store.getAirtableAccount(h.user.id);
    expect(account?.tokens.accessToken).toMatch(/^oaa/);
    expect(JSON.stringify(tokens.body)).not.toContain(account?.tokens.accessToken);
  });

  it("never forwards the client's PKCE challenge, state or redirect URI to Airtable", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, state: "my-state" });
    const { upstream } = await approveThroughAirtable(h, page);
    expect(upstream.origin).toBe(h.sandbox.url);
    expect(upstream.searchParams.get("redirect_uri")).toBe(`${h.url}/oauth/callback`);
    expect(upstream.searchParams.get("state")).not.toBe("my-state");
    expect(upstream.searchParams.get("code_challenge_method")).toBe("S256");
    expect(upstream.searchParams.get("code_challenge")).not.toBe(s256(DEFAULT_VERIFIER));
    expect(upstream.toString()).not.toContain(encodeURIComponent(REDIRECT_URI));
    // Airtable is asked for exactly what our scopes need (schema.bases:read always).
    expect(upstream.searchParams.get("scope")?.split(" ").sort()).toEqual(
      [
        "data.recordComments:read",
        "data.recordComments:write",
        "data.records:read",
        "data.records:write",
        "schema.bases:read",
        "schema.bases:write",
      ].sort(),
    );
  });

  it("rotates refresh tokens, narrows scope on request and never widens it", async () => {
    const c = await signedInClient(h, "records:read schema:read");
    const first = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: c.refreshToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(c.refreshToken);
    expect(first.body.scope).toBe("records:read schema:read");
    expect((await callMcp(h, first.body.access_token as string)).status).toBe(200);

    const narrowed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: first.body.refresh_token as string,
      scope: "records:read",
    });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("records:read");

    const widened = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: narrowed.body.refresh_token as string,
      scope: "records:read records:write",
    });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe("invalid_scope");
    // The refused request burned nothing: the same token still refreshes, to the grant's full scope.
    const again = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: narrowed.body.refresh_token as string,
    });
    expect(again.status).toBe(200);
    expect(again.body.scope).toBe("records:read schema:read");
  });

  it("a refresh token replayed after its grace window revokes the whole grant, access tokens included", async () => {
    const c = await signedInClient(h);
    const rotated = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: c.refreshToken,
    });
    expect(rotated.status).toBe(200);
    const liveAccess = rotated.body.access_token as string;
    expect((await callMcp(h, liveAccess)).status).toBe(200);
    // REFRESH_REUSE_GRACE_SECONDS (120 by default) after its first use, the old token is a replay.
    clock.advance(121_000);

    const replay = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: c.refreshToken,
    });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    expect(replay.body.error_description).toMatch(/already used/);

    // Every token of the grant is dead: the new refresh token and both access tokens.
    const next = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: rotated.body.refresh_token as string,
    });
    expect(next.status).toBe(400);
    expect(next.body.error).toBe("invalid_grant");
    for (const token of [liveAccess, c.accessToken]) {
      const res = await callMcp(h, token);
      expect(res.status).toBe(401);
      expect(challengeOf(res)).toContain('error="invalid_token"');
    }
  });

  it("a refresh token is refused to another client without being burned", async () => {
    const c = await signedInClient(h);
    // Another app: identical public metadata would be the same client (register.ts derives its client_id).
    const other = await registerClient(h, { client_name: "Another app" });
    expect(other.clientId).not.toBe(c.clientId);
    const stolen = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: other.clientId,
      refresh_token: c.refreshToken,
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe("invalid_grant");
    const own = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: c.refreshToken,
    });
    expect(own.status).toBe(200);
  });

  it("deny sends the user back with access_denied, state and iss", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, state: "s-deny" });
    const res = await decide(h, page, "deny");
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get("location") as string);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("s-deny");
    expect(back.searchParams.get("iss")).toBe(h.url);
    // The request is answered: deciding again (approve this time) is refused and nothing goes upstream.
    const again = await decide(h, page, "approve");
    expect(again.status).toBe(400);
    expect(again.headers.get("location")).toBeNull();
  });

  it("a confidential client authenticates with client_secret_basic or client_secret_post, and not without", async () => {
    const reg = await registerClient(h, { token_endpoint_auth_method: "client_secret_basic" });
    expect(reg.status).toBe(201);
    expect(reg.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The store keeps only a hash of the secret.
    expect((await h.store.getClient(reg.clientId))?.client_secret).not.toContain(reg.secret);

    const { code } = await signIn(h, { clientId: reg.clientId });
    const form = {
      grant_type: "authorization_code",
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: REDIRECT_URI,
    };
    const noSecret = await tokenRequest(h, { ...form, client_id: reg.clientId });
    expect(noSecret.status).toBe(401);
    expect(noSecret.body.error).toBe("invalid_client");
    const basic = `Basic ${Buffer.from(`${reg.clientId}:${reg.secret}`).toString("base64")}`;
    const wrong = `Basic ${Buffer.from(`${reg.clientId}:nope`).toString("base64")}`;
    const bad = await tokenRequest(h, form, { authorization: wrong });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/^Basic/);
    // The code survived both refusals (client authentication comes first) and works with Basic.
    const ok = await tokenRequest(h, form, { authorization: basic });
    expect(ok.status).toBe(200);
    const viaPost = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: reg.clientId,
      client_secret: reg.secret,
      refresh_token: ok.body.refresh_token as string,
    });
    expect(viaPost.status).toBe(200);
  });

  it("/revoke with a refresh token or an access token ends the grant; unknown tokens get 200", async () => {
    for (const which of ["refresh", "access"] as const) {
      const c = await signedInClient(h);
      const token = which === "refresh" ? c.refreshToken : c.accessToken;
      const res = await fetch(`${h.url}/revoke`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, client_id: c.clientId }),
      });
      expect(res.status).toBe(200);
      expect((await callMcp(h, c.accessToken)).status).toBe(401);
      const refresh = await tokenRequest(h, {
        grant_type: "refresh_token",
        client_id: c.clientId,
        refresh_token: c.refreshToken,
      });
      expect(refresh.body.error).toBe("invalid_grant");
    }
    const { clientId } = await registerClient(h);
    const unknown = await fetch(`${h.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: `gr_nothing.${randomBytes(32).toString("base64url")}`, client_id: clientId }),
    });
    expect(unknown.status).toBe(200);
  });
});

describe("the bearer guard", () => {
  const metadataUrl = () => `${h.url}/.well-known/oauth-protected-resource/mcp`;

  it("no token: 401 naming the resource metadata and scopes, without an error code", async () => {
    const res = await callMcp(h, undefined);
    expect(res.status).toBe(401);
    const header = challengeOf(res);
    expect(header).toMatch(/^Bearer /);
    expect(header).toContain(`resource_metadata="${metadataUrl()}"`);
    expect(header).toContain(
      'scope="records:read records:write schema:read schema:write comments:read comments:write"',
    );
    expect(header).not.toContain("error=");
  });

  it("an Authorization header holding no bearer token (empty, bare Bearer, another scheme): 401 like none at all", async () => {
    // RFC 6750 §3.1: no authentication information, or an unsupported method, gets no error code; MCP clients
    // start their sign-in on this 401 (a 400 left them stuck). Inspector 0.16.8 sent a bare `Bearer`; Open WebUI
    // and VS Code an empty one; `Basic …` and GitHub-style `token …` come from hand-made configurations.
    const basic = `Basic ${Buffer.from("user:pass").toString("base64")}`;
    for (const value of ["", "Bearer ", "Bearer", "bearer   ", basic, "token abc", "eyJhbGciOiJIUzI1NiJ9.e30.sig"]) {
      const res = await rawRequest(`${h.url}/mcp`, { method: "POST", headers: { authorization: value } });
      expect(res.status, JSON.stringify(value)).toBe(401);
      const header = String(res.headers["www-authenticate"]);
      expect(header, JSON.stringify(value)).toBe(challengeOf(await callMcp(h, undefined)));
      expect(header).toContain(`resource_metadata="${metadataUrl()}"`);
      expect(header).not.toContain("error=");
      const body = JSON.parse(res.body) as { error: string; error_description: string };
      expect(body.error).toBe("unauthorized");
      expect(body.error_description).toMatch(/^Sign in: this endpoint needs a bearer token/);
    }
    const basicBody = await rawRequest(`${h.url}/mcp`, { method: "POST", headers: { authorization: basic } });
    expect(JSON.parse(basicBody.body).error_description).toMatch(/Authorization: Bearer <token>, not Basic$/);
    // A token sent without a scheme is not repeated back.
    const bare = await rawRequest(`${h.url}/mcp`, { method: "POST", headers: { authorization: "abc.def.ghi" } });
    expect(bare.body).not.toContain("abc.def.ghi");
  });

  it("a Bearer header whose token is not a b64token: 401 invalid_token, not a 400", async () => {
    for (const value of ["Bearer abc def", "Bearer a,b", "Bearer \u00e9t\u00e9", "Bearer\tabc"]) {
      const res = await rawRequest(`${h.url}/mcp`, { method: "POST", headers: { authorization: value } });
      expect(res.status, JSON.stringify(value)).toBe(401);
      expect(String(res.headers["www-authenticate"])).toContain('error="invalid_token"');
      expect(String(res.headers["www-authenticate"])).toContain(`resource_metadata="${metadataUrl()}"`);
    }
  });

  it("two Authorization header lines: 400 invalid_request, even when the first holds a good token", async () => {
    // Node keeps only the first line; a proxy in front may have judged the request by the other one.
    const good = await forgeAccessToken(h, {});
    for (const lines of [
      [`Bearer ${good}`, "Bearer other"],
      [`Bearer ${good}`, `Bearer ${good}`],
      ["Basic eDp5", `Bearer ${good}`],
    ]) {
      const res = await new Promise<{ status: number; challenge: string; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${h.url}/mcp`,
          // Raw header pairs, so both lines go out (Node adds no Host to those: HTTP/1.1 needs one).
          {
            method: "POST",
            headers: ["Host", new URL(h.url).host, ...lines.flatMap((line) => ["Authorization", line])],
          },
          (r) => {
            let body = "";
            r.setEncoding("utf8");
            r.on("data", (chunk: string) => (body += chunk));
            r.on("end", () =>
              resolve({ status: r.statusCode ?? 0, challenge: String(r.headers["www-authenticate"]), body }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(res.status).toBe(400);
      expect(res.challenge).toContain('error="invalid_request"');
      expect(JSON.parse(res.body)).toMatchObject({ error: "invalid_request" });
    }
  });

  it("an expired token: 401 invalid_token", async () => {
    const res = await callMcp(h, await forgeAccessToken(h, { expSecondsFromNow: -5 }));
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
    expect(challengeOf(res)).toContain(`resource_metadata="${metadataUrl()}"`);
    expect(((await res.json()) as { error_description: string }).error_description).toMatch(/expired/);
  });

  it("a token for another audience: 401 invalid_token", async () => {
    for (const aud of ["https://other.example.com/mcp", `${h.url}/mcp/`, h.url]) {
      const res = await callMcp(h, await forgeAccessToken(h, { aud }));
      expect(res.status).toBe(401);
      expect(challengeOf(res)).toContain('error="invalid_token"');
    }
  });

  it("a token signed with another key, or garbage: 401 invalid_token", async () => {
    const res = await callMcp(h, await forgeAccessToken(h, { key: randomBytes(32) }));
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
    const garbage = await callMcp(h, "not-a-jwt");
    expect(garbage.status).toBe(401);
  });

  it("a well-formed token from this server is accepted (the forging helper itself is sound)", async () => {
    const res = await callMcp(h, await forgeAccessToken(h, {}));
    expect(res.status).toBe(200);
  });

  it("insufficientScope: 403 naming the current scopes plus the missing one", async () => {
    const c = await signedInClient(h, "records:read schema:read");
    const res = await callMcp(h, c.accessToken, "/mcp/needs-write");
    expect(res.status).toBe(403);
    const header = challengeOf(res);
    expect(header).toContain('error="insufficient_scope"');
    expect(header).toContain('scope="records:read records:write schema:read"');
    expect(header).toContain(`resource_metadata="${metadataUrl()}"`);
  });
});
