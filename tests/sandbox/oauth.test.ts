import { createHash, randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

const REDIRECT = "http://localhost:9999/callback";
let f: Fixture;
beforeEach(async () => {
  f = await fixture({
    accessTokenTtlSec: 1,
    oauthClients: [
      { clientId: "public-client", redirectUris: [REDIRECT] },
      { clientId: "secret-client", clientSecret: "s3cret", redirectUris: [REDIRECT] },
    ],
  });
});
afterEach(() => f.sandbox.close());

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

async function authorize(params: Record<string, string>, cookie?: string): Promise<Response> {
  const url = new URL(`${f.sandbox.url}/oauth2/v1/authorize`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return fetch(url, { redirect: "manual", headers: cookie === undefined ? {} : { cookie } });
}

function authParams(clientId: string, challenge: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "data.records:read data.records:write user.email:read",
    state: "st-1",
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test answers are checked by assertions, not types
async function token(form: Record<string, string>, basic?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (basic !== undefined) headers.authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
  const res = await fetch(`${f.sandbox.url}/oauth2/v1/token`, {
    method: "POST",
    headers,
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
}

async function codeFor(clientId: string, user: string): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const res = await authorize(authParams(clientId, challenge, { sandbox_user: user }));
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location") as string);
  expect(location.searchParams.get("state")).toBe("st-1");
  return { code: location.searchParams.get("code") as string, verifier };
}

describe("OAuth", () => {
  it("runs the code flow with PKCE, rotates refresh tokens and refuses their reuse", async () => {
    const { code, verifier } = await codeFor("public-client", f.user.email);
    const exchanged = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "public-client",
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({
      token_type: "Bearer",
      expires_in: 1,
      scope: "data.records:read data.records:write user.email:read",
    });
    expect(f.sandbox.tokenExchangeCount()).toBe(1);
    const again = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "public-client",
    });
    expect(again.body.error).toBe("invalid_grant");

    const who = await f.call("GET", "/v0/meta/whoami", undefined, exchanged.body.access_token);
    expect(who.body).toEqual({
      id: f.user.id,
      email: f.user.email,
      scopes: ["data.records:read", "data.records:write", "user.email:read"],
    });
    expect((await f.call("GET", `/v0/${f.base.id}/Tasks`, undefined, exchanged.body.access_token)).status).toBe(200);
    expect((await f.call("GET", `/v0/meta/bases`, undefined, exchanged.body.access_token)).status).toBe(403); // no schema scope

    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: exchanged.body.refresh_token,
      client_id: "public-client",
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(exchanged.body.refresh_token);
    // The refresh ends the access token issued before it, as Airtable documents; the new one works.
    expect((await f.call("GET", "/v0/meta/whoami", undefined, exchanged.body.access_token)).status).toBe(401);
    expect((await f.call("GET", "/v0/meta/whoami", undefined, refreshed.body.access_token)).status).toBe(200);
    const reuse = await token({
      grant_type: "refresh_token",
      refresh_token: exchanged.body.refresh_token,
      client_id: "public-client",
    });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    expect(f.sandbox.refreshCount()).toBe(1);

    await sleep(1100); // access tokens live accessTokenTtlSec
    expect((await f.call("GET", "/v0/meta/whoami", undefined, refreshed.body.access_token)).status).toBe(401);
  });

  it("requires HTTP Basic for clients with a secret", async () => {
    const { code, verifier } = await codeFor("secret-client", f.user.id);
    const form = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier };
    expect((await token({ ...form, client_id: "secret-client" })).status).toBe(401);
    expect((await token(form, "secret-client:wrong")).body.error).toBe("invalid_client");
    const { code: code2, verifier: v2 } = await codeFor("secret-client", f.user.id);
    const ok = await token({ ...form, code: code2, code_verifier: v2 }, "secret-client:s3cret");
    expect(ok.status).toBe(200);
    f.sandbox.expireAccessTokens(f.user.id);
    expect((await f.call("GET", "/v0/meta/whoami", undefined, ok.body.access_token)).status).toBe(401);
  });

  it("refuses bad verifiers, mismatched redirect URIs, and never redirects to an unregistered URI", async () => {
    const { code } = await codeFor("public-client", f.user.email);
    const bad = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: pkce().verifier,
      client_id: "public-client",
    });
    expect(bad.body.error).toBe("invalid_grant");
    const { challenge } = pkce();
    const wrongUri = await authorize(
      authParams("public-client", challenge, { redirect_uri: "http://evil.example/cb", sandbox_user: f.user.id }),
    );
    expect(wrongUri.status).toBe(400);
    expect(wrongUri.headers.get("location")).toBeNull();
    // The page says what it got, what is registered, and which setting registers more (npm run sandbox).
    const wrongUriPage = (await wrongUri.text()).replaceAll("&quot;", '"').replaceAll("&amp;", "&");
    expect(wrongUriPage).toContain('Received: "http://evil.example/cb"');
    expect(wrongUriPage).toContain(`registered for public-client: "${REDIRECT}"`);
    expect(wrongUriPage).toContain("SANDBOX_REDIRECT_URIS");
    expect((await authorize(authParams("nope", challenge, { sandbox_user: f.user.id }))).status).toBe(400);
    const plain = await authorize(
      authParams("public-client", challenge, { code_challenge_method: "plain", sandbox_user: f.user.id }),
    );
    expect(new URL(plain.headers.get("location") as string).searchParams.get("error")).toBe("invalid_request");
    const scope = await authorize(
      authParams("public-client", challenge, { scope: "data.records:read bogus", sandbox_user: f.user.id }),
    );
    expect(new URL(scope.headers.get("location") as string).searchParams.get("error")).toBe("invalid_scope");
    // A scope Airtable knows but the integration was not given (its integration page): invalid_scope too.
    f.sandbox.registerOAuthClient({
      clientId: "narrow-client",
      redirectUris: [REDIRECT],
      scopes: ["data.records:read"],
    });
    const narrow = await authorize(authParams("narrow-client", challenge, { sandbox_user: f.user.id }));
    const narrowed = new URL(narrow.headers.get("location") as string).searchParams;
    expect(narrowed.get("error")).toBe("invalid_scope");
    expect(narrowed.get("error_description")).toContain("data.records:write user.email:read");
    const allowed = await authorize(
      authParams("narrow-client", challenge, { scope: "data.records:read", sandbox_user: f.user.id }),
    );
    expect(new URL(allowed.headers.get("location") as string).searchParams.get("code")).toBeTruthy();
    const deny = await authorize(
      authParams("public-client", challenge, { sandbox_user: f.user.id, sandbox_decision: "deny" }),
    );
    const denied = new URL(deny.headers.get("location") as string).searchParams;
    expect([denied.get("error"), denied.get("state")]).toEqual(["access_denied", "st-1"]);
    expect((await authorize(authParams("public-client", challenge))).status).toBe(400); // nobody signed in
  });

  it("signs in different users by cookie, and their tokens see only their bases", async () => {
    const other = f.sandbox.addUser({ email: "second@example.com" });
    const { verifier, challenge } = pkce();
    const res = await authorize(
      authParams("public-client", challenge),
      `sandbox_user=${encodeURIComponent(other.email)}`,
    );
    const code = new URL(res.headers.get("location") as string).searchParams.get("code") as string;
    const t = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "public-client",
    });
    expect((await f.call("GET", "/v0/meta/whoami", undefined, t.body.access_token)).body.id).toBe(other.id);
    expect((await f.call("GET", `/v0/${f.base.id}/Tasks`, undefined, t.body.access_token)).status).toBe(403);
    const form = await fetch(`${f.sandbox.url}/oauth2/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "refresh_token",
        refresh_token: t.body.refresh_token,
        client_id: "public-client",
      }),
    });
    expect(form.status).toBe(400);
  });

  it("an authorization reaches only the bases picked on the consent page; the user can change them at any time", async () => {
    // https://airtable.com/developers/web/api/list-bases: "Returns the list of bases the token can access"; the
    // scopes guide: a token cannot "access other bases that have not been added to the token".
    const picked = f.sandbox.createBase(f.user.id, {
      name: "Picked",
      tables: [{ name: "Notes", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    const { verifier, challenge } = pkce();
    const res = await authorize(
      authParams("public-client", challenge, {
        sandbox_user: f.user.email,
        sandbox_bases: picked.id,
        scope: "data.records:read schema.bases:read",
      }),
    );
    const code = new URL(res.headers.get("location") as string).searchParams.get("code") as string;
    const t = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "public-client",
    });
    const as = (path: string, accessToken = t.body.access_token as string) =>
      f.call("GET", path, undefined, accessToken);
    expect((await as("/v0/meta/bases")).body.bases.map((b: { id: string }) => b.id)).toEqual([picked.id]);
    expect((await as(`/v0/${picked.id}/Notes`)).status).toBe(200);
    const other = await as(`/v0/${f.base.id}/Tasks`);
    expect(other.status).toBe(403);
    expect(other.body.error.type).toBe("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");
    expect((await as(`/v0/meta/bases/${f.base.id}/tables`)).status).toBe(403);

    // The user adds the other base on Airtable's integrations page: the same token reaches it at once …
    f.sandbox.setIntegrationBases(f.user.id, "public-client", [picked.id, f.base.id]);
    expect((await as(`/v0/${f.base.id}/Tasks`)).status).toBe(200);
    // … then removes the picked one: its next request is refused, and so is the token a refresh gives.
    f.sandbox.setIntegrationBases(f.user.id, "public-client", [f.base.id]);
    expect((await as(`/v0/${picked.id}/Notes`)).body.error.type).toBe("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");
    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: t.body.refresh_token,
      client_id: "public-client",
    });
    expect((await as("/v0/meta/bases", refreshed.body.access_token)).body.bases).toEqual([
      { id: f.base.id, name: "Test base", permissionLevel: "create" },
    ]);
    // "all": every base the user can see, as without a choice.
    f.sandbox.setIntegrationBases(f.user.id, "public-client", "all");
    expect((await as("/v0/meta/bases", refreshed.body.access_token)).body.bases).toHaveLength(2);

    // A base the user cannot see cannot be picked (Airtable's page offers only theirs).
    const stranger = f.sandbox.addUser({ email: "stranger@example.com" });
    const hidden = f.sandbox.createBase(stranger.id, {
      name: "Hidden",
      tables: [{ name: "T", fields: [{ name: "N", type: "singleLineText" }] }],
    });
    const refused = await authorize(
      authParams("public-client", challenge, { sandbox_user: f.user.email, sandbox_bases: hidden.id }),
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain(hidden.id);
  });

  it("the user revokes the integration: its refresh token answers invalid_grant, its access token 401; a new sign-in works", async () => {
    const signIn = async (clientId: string, basic?: string) => {
      const { code, verifier } = await codeFor(clientId, f.user.email);
      const form = { grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: verifier };
      const t = await token(basic === undefined ? { ...form, client_id: clientId } : form, basic);
      expect(t.status).toBe(200);
      return t.body as { access_token: string; refresh_token: string };
    };
    const revoked = await signIn("public-client");
    const other = await signIn("secret-client", "secret-client:s3cret");

    // Airtable's account page, Integrations, Third-party integrations: Revoke access for public-client.
    expect(f.sandbox.revokeIntegration(f.user.id, "public-client")).toEqual({ refreshTokens: 1, accessTokens: 1 });
    const whoami = await f.call("GET", "/v0/meta/whoami", undefined, revoked.access_token);
    expect(whoami.status).toBe(401);
    expect(whoami.body.error.type).toBe("AUTHENTICATION_REQUIRED");
    const refresh = await token({
      grant_type: "refresh_token",
      refresh_token: revoked.refresh_token,
      client_id: "public-client",
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe("invalid_grant");

    // Another integration of the same user is not touched, and signing in again gives working tokens.
    expect((await f.call("GET", "/v0/meta/whoami", undefined, other.access_token)).status).toBe(200);
    const again = await signIn("public-client");
    expect((await f.call("GET", "/v0/meta/whoami", undefined, again.access_token)).status).toBe(200);
  });

  it("a personal access token with an Access list reaches only those bases", async () => {
    const second = f.sandbox.createBase(f.user.id, {
      name: "Second",
      tables: [{ name: "T", fields: [{ name: "N", type: "singleLineText" }] }],
    });
    const pat = f.sandbox.createPersonalAccessToken(f.user.id, undefined, [second.id]);
    expect((await f.call("GET", "/v0/meta/bases", undefined, pat)).body.bases.map((b: { id: string }) => b.id)).toEqual(
      [second.id],
    );
    expect((await f.call("GET", `/v0/${f.base.id}/Tasks`, undefined, pat)).status).toBe(403);
  });

  it("with nobody signed in, the 400 page offers a link per user that signs in as that user", async () => {
    const other = f.sandbox.addUser({ email: "second@example.com", name: "Second <User>" });
    const { verifier, challenge } = pkce();
    const page = await authorize(authParams("public-client", challenge));
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain("No sandbox user is signed in");
    const links = [...html.matchAll(/<a href="([^"]+)">Sign in as ([^<]+)<\/a>/g)];
    expect(links.map((m) => m[2])).toEqual(["Owner (owner@example.com)", "Second &lt;User&gt; (second@example.com)"]);
    // Following the second link signs in as that user, with the same request (state, PKCE, redirect URI).
    const follow = await fetch(new URL(links[1]![1]!.replace(/&amp;/g, "&"), f.sandbox.url), { redirect: "manual" });
    expect(follow.status).toBe(302);
    const location = new URL(follow.headers.get("location") as string);
    expect(location.searchParams.get("state")).toBe("st-1");
    const exchanged = await token({
      grant_type: "authorization_code",
      code: location.searchParams.get("code") as string,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      client_id: "public-client",
    });
    expect(exchanged.status).toBe(200);
    const whoami = await fetch(`${f.sandbox.url}/v0/meta/whoami`, {
      headers: { authorization: `Bearer ${exchanged.body.access_token}` },
    });
    expect(((await whoami.json()) as { id: string }).id).toBe(other.id);
  });
});

describe("OAuth with signInAs (the demo's automatic sign-in)", () => {
  it("signs in that user when the request names none; a named user (query or cookie) takes precedence", async () => {
    const demo = await fixture({
      signInAs: "owner@example.com",
      oauthClients: [{ clientId: "public-client", redirectUris: [REDIRECT] }],
    });
    try {
      const second = demo.sandbox.addUser({ email: "second@example.com", name: "Second" });
      const whoIsSignedIn = async (extra: Record<string, string>, cookie?: string) => {
        const { verifier, challenge } = pkce();
        const url = new URL(`${demo.sandbox.url}/oauth2/v1/authorize`);
        for (const [k, v] of Object.entries(authParams("public-client", challenge, extra))) url.searchParams.set(k, v);
        const res = await fetch(url, { redirect: "manual", headers: cookie === undefined ? {} : { cookie } });
        expect(res.status).toBe(302);
        const code = new URL(res.headers.get("location") as string).searchParams.get("code") as string;
        const answer = await fetch(`${demo.sandbox.url}/oauth2/v1/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "authorization_code",
            code,
            redirect_uri: REDIRECT,
            code_verifier: verifier,
            client_id: "public-client",
          }),
        });
        const { access_token: accessToken } = (await answer.json()) as { access_token: string };
        const me = await fetch(`${demo.sandbox.url}/v0/meta/whoami`, {
          headers: { authorization: `Bearer ${accessToken}` },
        });
        return ((await me.json()) as { id: string }).id;
      };
      expect(await whoIsSignedIn({})).toBe(demo.user.id);
      expect(await whoIsSignedIn({ sandbox_user: second.email })).toBe(second.id);
      expect(await whoIsSignedIn({}, `sandbox_user=${second.id}`)).toBe(second.id);
    } finally {
      await demo.sandbox.close();
    }
  });
});
