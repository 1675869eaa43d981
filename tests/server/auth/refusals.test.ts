import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  approveThroughAirtable,
  authorizeUrl,
  browserGet,
  callMcp,
  cookiesAfterDecision,
  decide,
  DEFAULT_VERIFIER,
  exchangeCode,
  openConsent,
  REDIRECT_URI,
  registerClient,
  signIn,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";
import { createLogger } from "../../../src/shared/logger.ts";

let h: Harness;
let clientId: string;
beforeAll(async () => {
  h = await startHarness();
  ({ clientId } = await registerClient(h));
});
afterAll(async () => {
  await h.close();
});

/** A refusal at /authorize that goes back to the client: its error and state. */
async function errorRedirect(url: string): Promise<URL> {
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(302);
  const back = new URL(res.headers.get("location") as string);
  expect(back.origin + back.pathname).toBe(REDIRECT_URI);
  expect(back.searchParams.get("iss")).toBe(h.url);
  return back;
}

describe("/authorize refuses", () => {
  it("an unregistered client with a page, never a redirect", async () => {
    const res = await fetch(authorizeUrl(h, { clientId: "mcp_doesnotexist" }), { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain("No client is registered with client_id");
  });

  it("an unregistered client asking for JSON (mcp-remote's check before opening the browser): told to register again", async () => {
    const res = await fetch(authorizeUrl(h, { clientId: "mcp_expired" }), {
      redirect: "manual",
      headers: { accept: "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    const body = (await res.json()) as Record<string, string>;
    expect(body.error).toBe("invalid_client");
    expect(body.registration_endpoint).toBe(`${h.url}/register`);
    // The pattern mcp-remote uses to recognise a stale registration (src/lib/node-oauth-client-provider.ts).
    expect(body.error_description).toMatch(/\bclient(?:\s+id)?\b\s+(?:['"][^'"]+['"]\s+)?is\s+not[\s-]+registered\b/i);
  });

  it("a redirect_uri that does not exactly match with a page, never a redirect", async () => {
    // Only the port of a loopback URI may differ (RFC 8252 §7.3; see loopback-and-schemes.test.ts); the host
    // literal, scheme, path and query may not.
    for (const redirectUri of [
      "https://evil.example.com/callback",
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?x=1`,
      "http://localhost:9/callback",
      "https://127.0.0.1:9/callback",
      "http://127.0.0.1:10/callback/",
    ]) {
      const res = await fetch(authorizeUrl(h, { clientId, redirectUri }), { redirect: "manual" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("Redirect URI mismatch");
    }
  });

  it("a repeated parameter (RFC 6749 §3.1): client_id or redirect_uri with a page, any other invalid_request back", async () => {
    const base = authorizeUrl(h, { clientId });
    for (const name of ["redirect_uri", "client_id"]) {
      const url = new URL(base);
      url.searchParams.append(name, name === "redirect_uri" ? "https://evil.example.com/callback" : "mcp_other");
      const res = await fetch(url, { redirect: "manual" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain(`The app sent ${name} more than once`);
    }
    const twice = new URL(base);
    twice.searchParams.append("code_challenge", "x".repeat(43));
    const back = await errorRedirect(twice.toString());
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("error_description")).toBe(
      "code_challenge given more than once (RFC 6749 §3.1: no parameter may repeat)",
    );
    // Unknown parameters are ignored, repeated or not (§3.1); resource may repeat (RFC 8707 §2), each one ours.
    const tolerated = new URL(base);
    tolerated.searchParams.append("utm_source", "a");
    tolerated.searchParams.append("utm_source", "b");
    tolerated.searchParams.append("resource", `${h.url}/mcp`);
    tolerated.searchParams.append("resource", `${h.url}/mcp/`);
    const page = await fetch(tolerated, { redirect: "manual" });
    expect(page.status).toBe(200);
    const foreign = new URL(base);
    foreign.searchParams.append("resource", "https://other.example.com/mcp");
    expect((await errorRedirect(foreign.toString())).searchParams.get("error")).toBe("invalid_target");
  });

  it("a request without PKCE: invalid_request back to the client", async () => {
    const back = await errorRedirect(
      authorizeUrl(h, { clientId, extra: { code_challenge: undefined, code_challenge_method: undefined } }),
    );
    expect(back.searchParams.get("error")).toBe("invalid_request");
    expect(back.searchParams.get("error_description")).toMatch(/PKCE/);
    expect(back.searchParams.get("state")).toBe("client-state-1");
  });

  it("PKCE plain, explicit or by omission: invalid_request", async () => {
    for (const method of ["plain", undefined]) {
      const back = await errorRedirect(
        authorizeUrl(h, { clientId, extra: { code_challenge: DEFAULT_VERIFIER, code_challenge_method: method } }),
      );
      expect(back.searchParams.get("error")).toBe("invalid_request");
      expect(back.searchParams.get("error_description")).toMatch(/S256/);
    }
  });

  it("a resource other than our /mcp URL: invalid_target", async () => {
    const back = await errorRedirect(authorizeUrl(h, { clientId, resource: "https://other.example.com/mcp" }));
    expect(back.searchParams.get("error")).toBe("invalid_target");
  });

  it("unknown scopes are not refused: they are dropped (issue 9; see scopes-and-resource.test.ts)", async () => {
    for (const scope of ["records:read admin", "records:read offline_access"]) {
      const page = await fetch(authorizeUrl(h, { clientId, scope }), { redirect: "manual" });
      expect(page.status, scope).toBe(200);
      const html = await page.text();
      expect(html).toContain("See the records in your bases");
      expect(html).not.toContain("Create, change and delete records");
    }
  });

  it("response_type other than code: unsupported_response_type", async () => {
    const back = await errorRedirect(authorizeUrl(h, { clientId, extra: { response_type: "token" } }));
    expect(back.searchParams.get("error")).toBe("unsupported_response_type");
  });
});

describe("the consent decision refuses", () => {
  it("a POST without the CSRF token: 403, nothing upstream", async () => {
    const page = await openConsent(h, { clientId });
    const res = await decide(h, page, "approve", { csrfToken: undefined });
    expect(res.status).toBe(403);
    expect(res.headers.get("location")).toBeNull();
  });

  it("a POST with a wrong CSRF token: 403", async () => {
    const page = await openConsent(h, { clientId });
    const res = await decide(h, page, "approve", { csrfToken: "A".repeat(43) });
    expect(res.status).toBe(403);
    // The genuine form still works afterwards: a forged attempt does not burn the user's request.
    const ok = await decide(h, page, "approve");
    expect(ok.status).toBe(303);
  });

  it("a POST from a browser without the consent cookie (or another request's cookie): 403", async () => {
    const page = await openConsent(h, { clientId });
    const other = await openConsent(h, { clientId });
    expect((await decide(h, page, "approve", { cookie: undefined })).status).toBe(403);
    expect((await decide(h, page, "approve", { cookie: other.cookie })).status).toBe(403);
    // The cookie's value is bound to the request: another request's value under this request's name fails too.
    const forged = `${page.cookie?.split("=")[0]}=${other.cookie?.split("=")[1]}`;
    expect((await decide(h, page, "approve", { cookie: forged })).status).toBe(403);
  });
});

describe("/oauth/callback refuses", () => {
  it("a replayed state with a page", async () => {
    const page = await openConsent(h, { clientId });
    const { callbackUrl, callback } = await approveThroughAirtable(h, page);
    expect(callback.status).toBe(302);
    const exchanges = h.sandbox.tokenExchangeCount();
    const replay = await fetch(callbackUrl, { redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(replay.headers.get("location")).toBeNull();
    expect(await replay.text()).toContain("already used or has expired");
    expect(h.sandbox.tokenExchangeCount()).toBe(exchanges);
  });

  it("no parameters at all (the URL opened in a browser): a page saying what it is for and where sign-in starts", async () => {
    const res = await fetch(`${h.url}/oauth/callback`, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    const text = await res.text();
    expect(text).toContain("This is the page Airtable returns to after you sign in");
    expect(text).toContain(`connect your MCP client (Claude, Cursor, VS Code...) to ${h.url}/mcp`);
    expect(text).not.toContain("already used or has expired");
  });

  it("an unknown state with a page", async () => {
    const res = await fetch(`${h.url}/oauth/callback?code=x&state=made-up`, { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
  });

  it("Airtable's access_denied goes back to the client as access_denied", async () => {
    const page = await openConsent(h, { clientId, state: "s-up" });
    const decision = await decide(h, page, "approve");
    const upstream = new URL(decision.headers.get("location") as string);
    upstream.searchParams.set("sandbox_user", h.user.email);
    upstream.searchParams.set("sandbox_decision", "deny");
    const atAirtable = await fetch(upstream, { redirect: "manual" });
    const callback = await browserGet(
      atAirtable.headers.get("location") as string,
      cookiesAfterDecision(page, decision),
    );
    expect(callback.status).toBe(302);
    const back = new URL(callback.headers.get("location") as string);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("s-up");
    expect(back.searchParams.get("iss")).toBe(h.url);
  });
});

describe("an Airtable integration without every scope selected", () => {
  // Airtable refuses a scope not selected for the integration ("All scopes must be valid, Airtable defined scopes
  // that have been selected for your integration", OAuth reference): every sign-in asking for it fails, and only
  // the operator can fix it, so both the client's error and the log say which scopes and where.
  it("sends the client server_error naming the scopes and airtable.com/create/oauth, and logs it at error level", async () => {
    const logLines: string[] = [];
    const own = await startHarness({
      sandbox: h.sandbox,
      logger: createLogger({ level: "info" }, { write: (line: string) => void logLines.push(line) }),
    });
    try {
      own.sandbox.registerOAuthClient({
        clientId: own.airtableClientId,
        redirectUris: [`${own.url}/oauth/callback`],
        scopes: ["data.records:read", "schema.bases:read"],
      });
      const { clientId: ownClient } = await registerClient(own);
      const page = await openConsent(own, { clientId: ownClient, state: "s-scope" });
      const decision = await decide(own, page, "approve");
      const upstream = new URL(decision.headers.get("location") as string);
      upstream.searchParams.set("sandbox_user", own.user.email);
      const atAirtable = await fetch(upstream, { redirect: "manual" });
      expect(new URL(atAirtable.headers.get("location") as string).searchParams.get("error")).toBe("invalid_scope");
      const callback = await browserGet(
        atAirtable.headers.get("location") as string,
        cookiesAfterDecision(page, decision),
      );
      expect(callback.status).toBe(302);
      const back = new URL(callback.headers.get("location") as string);
      expect(back.searchParams.get("error")).toBe("server_error");
      expect(back.searchParams.get("state")).toBe("s-scope");
      const description = back.searchParams.get("error_description") ?? "";
      expect(description).toContain("invalid_scope");
      expect(description).toContain("data.records:write");
      expect(description).toContain("https://airtable.com/create/oauth");
      const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const entry = logged.find((l) => l.upstreamError === "invalid_scope");
      expect(entry?.level).toBe("error");
      expect(String(entry?.message ?? entry?.msg)).toContain("https://airtable.com/create/oauth");
      expect(String(entry?.airtableDescription)).toContain("data.records:write");
    } finally {
      await own.close();
    }
  });
});

describe("/token refuses", () => {
  it("a wrong PKCE verifier: invalid_grant, and the code is spent", async () => {
    const { code } = await signIn(h, { clientId });
    const wrong = await exchangeCode(h, clientId, code, "w".repeat(43));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toMatchObject({
      error: "invalid_grant",
      error_description: expect.stringMatching(/code_verifier/),
    });
    const right = await exchangeCode(h, clientId, code);
    expect(right.status).toBe(400);
    expect(right.body.error).toBe("invalid_grant");
  });

  it("code reuse: invalid_grant, and the grant issued from the code is revoked", async () => {
    const { code } = await signIn(h, { clientId });
    const first = await exchangeCode(h, clientId, code);
    expect(first.status).toBe(200);
    expect((await callMcp(h, first.body.access_token as string)).status).toBe(200);
    const reuse = await exchangeCode(h, clientId, code);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe("invalid_grant");
    expect((await callMcp(h, first.body.access_token as string)).status).toBe(401);
    const refresh = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: first.body.refresh_token as string,
    });
    expect(refresh.body.error).toBe("invalid_grant");
  });

  it("a code presented by another client, or with another redirect_uri: invalid_grant", async () => {
    // Another app: identical public metadata would be the same client (register.ts derives its client_id).
    const other = await registerClient(h, { client_name: "Another app" });
    expect(other.clientId).not.toBe(clientId);
    const a = await signIn(h, { clientId });
    const stolen = await exchangeCode(h, other.clientId, a.code);
    expect(stolen.body.error).toBe("invalid_grant");
    const b = await signIn(h, { clientId });
    const res = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: clientId,
      code: b.code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: "http://127.0.0.1:9/other",
    });
    expect(res.body.error).toBe("invalid_grant");
  });

  it("a resource other than the authorized one: invalid_target", async () => {
    const { code } = await signIn(h, { clientId });
    const res = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: REDIRECT_URI,
      resource: "https://other.example.com/mcp",
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_target");
  });

  it("unknown clients, unknown grant types and JSON bodies, in RFC 6749 shape", async () => {
    const unknown = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: "mcp_nobody",
      code: "x",
      code_verifier: DEFAULT_VERIFIER,
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe("invalid_client");
    const grant = await tokenRequest(h, { grant_type: "password", client_id: clientId });
    expect(grant.body.error).toBe("unsupported_grant_type");
    const json = await fetch(`${h.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code", client_id: clientId }),
    });
    expect(json.status).toBe(400);
    expect(json.headers.get("cache-control")).toBe("no-store");
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");
  });
});
