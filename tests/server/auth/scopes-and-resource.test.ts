import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allScopes } from "../../../src/shared/auth/scopes.ts";
import {
  authorizeUrl,
  callMcp,
  DEFAULT_VERIFIER,
  finishSignIn,
  openConsent,
  REDIRECT_URI,
  registerClient,
  signIn,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * Leniency the specs allow and real clients need: scope words that are not ours (`openid profile email`,
 * `offline_access`, another server's) are dropped rather than refused, and `resource` may carry a trailing slash
 * or an uppercase scheme and host (MCP authorization, "Canonical Server URI").
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function codeExchange(clientId: string, code: string, extra: Record<string, string> = {}) {
  return tokenRequest(h, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: DEFAULT_VERIFIER,
    redirect_uri: REDIRECT_URI,
    resource: `${h.url}/mcp`,
    ...extra,
  });
}

/** The scopes the bearer guard sees on an access token. */
async function scopesOf(accessToken: string): Promise<string[]> {
  const res = await callMcp(h, accessToken);
  expect(res.status).toBe(200);
  return ((await res.json()) as { auth: { scopes: string[] } }).auth.scopes;
}

describe("unknown scopes are dropped, not refused", () => {
  it("openid profile email offline_access beside ours: the grant holds only ours", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, scope: "openid profile email offline_access records:read" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("See the records in your bases");
    expect(page.html).not.toContain("Create, change and delete records");
    const back = await finishSignIn(h, page);
    const tokens = await codeExchange(clientId, back.searchParams.get("code") as string);
    expect(tokens.status).toBe(200);
    expect(tokens.body.scope).toBe("records:read"); // what was granted (RFC 6749 §5.1)
    expect(await scopesOf(tokens.body.access_token as string)).toEqual(["records:read"]);
  });

  it("only unknown scopes: the default applies, as if no scope was asked (all of ours, or what the client registered)", async () => {
    const open = await registerClient(h);
    const a = await signIn(h, { clientId: open.clientId, scope: "openid profile email" });
    const all = await codeExchange(open.clientId, a.code);
    expect(all.status).toBe(200);
    expect(all.body.scope).toBe(allScopes.join(" "));

    const narrow = await registerClient(h, { scope: "records:read schema:read" });
    const b = await signIn(h, { clientId: narrow.clientId, scope: "openid offline_access" });
    const registered = await codeExchange(narrow.clientId, b.code);
    expect(registered.body.scope).toBe("records:read schema:read");
  });

  it("at refresh: unknown words are ignored, ours still narrow, and none of ours means the grant's scopes", async () => {
    const { clientId } = await registerClient(h);
    const { code } = await signIn(h, { clientId, scope: "records:read schema:read" });
    const tokens = await codeExchange(clientId, code);
    const narrowed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
      scope: "openid records:read",
    });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe("records:read");
    const unknownOnly = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: narrowed.body.refresh_token as string,
      scope: "offline_access openid",
    });
    expect(unknownOnly.status).toBe(200);
    expect(unknownOnly.body.scope).toBe("records:read schema:read");
    // Widening beyond the grant with a scope of ours is still refused.
    const widened = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: unknownOnly.body.refresh_token as string,
      scope: "openid records:write",
    });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe("invalid_scope");
  });
});

describe("resource with a trailing slash names our resource", () => {
  it("at /authorize, at the code exchange and at refresh; tokens carry the canonical audience", async () => {
    const slashed = `${h.url}/mcp/`;
    const { clientId } = await registerClient(h);
    const { code } = await signIn(h, { clientId, resource: slashed });
    const tokens = await codeExchange(clientId, code, { resource: slashed });
    expect(tokens.status).toBe(200);
    const res = await callMcp(h, tokens.body.access_token as string);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { auth: { resource: string } }).auth.resource).toBe(`${h.url}/mcp`);

    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
      resource: slashed,
    });
    expect(refreshed.status).toBe(200);
    expect((await callMcp(h, refreshed.body.access_token as string)).status).toBe(200);
  });

  it("resource may repeat (RFC 8707 §2) at the code exchange and at refresh when each names us; one other is invalid_target", async () => {
    const { clientId } = await registerClient(h);
    const { code } = await signIn(h, { clientId });
    const post = (form: [string, string][]) =>
      fetch(`${h.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as Record<string, string> }));
    const tokens = await post([
      ["grant_type", "authorization_code"],
      ["client_id", clientId],
      ["code", code],
      ["code_verifier", DEFAULT_VERIFIER],
      ["redirect_uri", REDIRECT_URI],
      ["resource", `${h.url}/mcp`],
      ["resource", `${h.url}/mcp/`],
    ]);
    expect(tokens.status).toBe(200);
    const refresh = (resources: string[]) =>
      post([
        ["grant_type", "refresh_token"],
        ["client_id", clientId],
        ["refresh_token", tokens.body.refresh_token!],
        ...resources.map((r): [string, string] => ["resource", r]),
      ]);
    const foreign = await refresh([`${h.url}/mcp`, "https://other.example.com/mcp"]);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe("invalid_target");
    expect((await refresh([`${h.url}/mcp/`, `${h.url}/mcp`])).status).toBe(200);
  });

  it("anything more than one trailing slash is another resource: invalid_target, and the refresh token survives", async () => {
    const { clientId } = await registerClient(h);
    const authorize = await fetch(authorizeUrl(h, { clientId, resource: `${h.url}/mcp//` }), { redirect: "manual" });
    expect(authorize.status).toBe(302);
    expect(new URL(authorize.headers.get("location") as string).searchParams.get("error")).toBe("invalid_target");

    const { code } = await signIn(h, { clientId });
    const tokens = await codeExchange(clientId, code);
    for (const resource of [`${h.url}/mcp//`, `${h.url}/mcp/x`, `${h.url}/MCP`]) {
      const res = await tokenRequest(h, {
        grant_type: "refresh_token",
        client_id: clientId,
        refresh_token: tokens.body.refresh_token as string,
        resource,
      });
      expect(res.status, resource).toBe(400);
      expect(res.body.error).toBe("invalid_target");
    }
    const ok = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(ok.status).toBe(200);
  });
});

describe("resource with an uppercase scheme or host names our resource (MCP authorization, Canonical Server URI)", () => {
  it("at /authorize, at the code exchange and at refresh; tokens carry the canonical, lowercase audience", async () => {
    // The harness listens on 127.0.0.1, which has no letters: the scheme carries the case here, and
    // resource-param.test.ts covers host names.
    const upper = `HTTP://${new URL(h.url).host}/mcp`;
    const mixed = `Http://${new URL(h.url).host}/mcp/`;
    const { clientId } = await registerClient(h);
    const { code } = await signIn(h, { clientId, resource: upper });
    const tokens = await codeExchange(clientId, code, { resource: mixed });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const res = await callMcp(h, tokens.body.access_token as string);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { auth: { resource: string } }).auth.resource).toBe(`${h.url}/mcp`);

    const refreshed = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: tokens.body.refresh_token as string,
      resource: upper,
    });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect((await callMcp(h, refreshed.body.access_token as string)).status).toBe(200);
  });

  it("the path keeps its case: HTTP://…/MCP is another resource", async () => {
    const { clientId } = await registerClient(h);
    const other = `HTTP://${new URL(h.url).host}/MCP`;
    const authorize = await fetch(authorizeUrl(h, { clientId, resource: other }), { redirect: "manual" });
    expect(new URL(authorize.headers.get("location") as string).searchParams.get("error")).toBe("invalid_target");
  });
});
