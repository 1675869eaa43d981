/**
 * /authorize is not an open redirector (RFC 9700 §4.11.2; MCP authorization, security considerations, Open
 * Redirection): anyone can register a client whose redirect URI is their own site and send a broken request, so an
 * error found before the person has seen the consent page is a page (400) naming the error, with a link back to the
 * client carrying the error response (error, error_description, state, iss) that the person may follow. Only a
 * loopback redirect URI (a native app on the person's computer, RFC 8252 §7.3) is still redirected to at once; an
 * answer after the consent page (Deny) still redirects, since the page named where it goes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizeUrl,
  decide,
  DEFAULT_VERIFIER,
  openConsent,
  REDIRECT_URI,
  registerClient,
  startHarness,
  type AuthorizeParams,
  type Harness,
} from "../../support/auth-test-harness.ts";

const WEB_REDIRECT = "https://client.example/cb";
const CURSOR_REDIRECT = "cursor://anysphere.cursor-mcp/oauth/callback";

let h: Harness;
let webClient: string;
beforeAll(async () => {
  h = await startHarness();
  // Registered for records:read only, so asking for more is invalid_scope.
  ({ clientId: webClient } = await registerClient(h, { redirect_uris: [WEB_REDIRECT], scope: "records:read" }));
});
afterAll(async () => {
  await h.close();
});

function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&");
}

/** GET /authorize; expects the refusal page, and returns its text and the link back to the client, parsed. */
async function refusalPage(params: AuthorizeParams, url = authorizeUrl(h, params)) {
  const res = await fetch(url, { redirect: "manual" });
  expect(res.status).toBe(400);
  expect(res.headers.get("location")).toBeNull();
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const html = await res.text();
  // Nothing that would leave by itself: no script, no meta refresh.
  expect(html).not.toMatch(/<script|http-equiv/i);
  const links = [...html.matchAll(/<a href="([^"]*)"/g)].map((m) => unescapeHtml(m[1] as string));
  expect(links).toHaveLength(1);
  return { html, link: new URL(links[0] as string) };
}

describe("an error before the consent page, for a client whose redirect URI is a web site", () => {
  const cases: { name: string; params: Omit<AuthorizeParams, "clientId">; error: string; description: RegExp }[] = [
    {
      name: "response_type token (the review's example)",
      params: { extra: { response_type: "token" } },
      error: "unsupported_response_type",
      description: /response_type must be code/,
    },
    {
      name: "no PKCE",
      params: { extra: { code_challenge: undefined, code_challenge_method: undefined } },
      error: "invalid_request",
      description: /PKCE/,
    },
    {
      name: "PKCE plain",
      params: { extra: { code_challenge: DEFAULT_VERIFIER, code_challenge_method: "plain" } },
      error: "invalid_request",
      description: /S256/,
    },
    {
      name: "a challenge that is not S256",
      params: { extra: { code_challenge: "short" } },
      error: "invalid_request",
      description: /not a S256 challenge/,
    },
    {
      name: "a resource that is not ours",
      params: { resource: "https://other.example.com/mcp" },
      error: "invalid_target",
      description: /resource must be/,
    },
    {
      name: "a scope the client did not register",
      params: { scope: "records:read records:write" },
      error: "invalid_scope",
      description: /did not register for records:write/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.error} on a page with a link back, never a redirect`, async () => {
      const { html, link } = await refusalPage({ clientId: webClient, redirectUri: WEB_REDIRECT, ...c.params });
      expect(html).toContain("This sign-in request was refused");
      expect(html).toContain(`<code>${c.error}</code>`);
      expect(html).toContain("client.example");
      expect(html).toContain("Nothing was shared");
      expect(link.origin + link.pathname).toBe(WEB_REDIRECT);
      expect(link.searchParams.get("error")).toBe(c.error);
      expect(link.searchParams.get("error_description")).toMatch(c.description);
      expect(link.searchParams.get("state")).toBe("client-state-1");
      expect(link.searchParams.get("iss")).toBe(h.url);
    });
  }

  it("a repeated parameter (RFC 6749 §3.1): invalid_request on a page", async () => {
    const url = new URL(authorizeUrl(h, { clientId: webClient, redirectUri: WEB_REDIRECT }));
    url.searchParams.append("scope", "records:read");
    url.searchParams.append("scope", "records:read");
    const { link } = await refusalPage({ clientId: webClient }, url.toString());
    expect(link.searchParams.get("error")).toBe("invalid_request");
    expect(link.searchParams.get("error_description")).toContain("scope given more than once");
    expect(link.searchParams.get("iss")).toBe(h.url);
  });

  it("a client stored without the authorization_code grant: unauthorized_client on a page", async () => {
    const clientId = "mcp_legacy_refresh_only_web";
    await h.store.putClient({
      client_id: clientId,
      client_id_issued_at: Math.floor(Date.now() / 1000),
      redirect_uris: [WEB_REDIRECT],
      token_endpoint_auth_method: "none",
      grant_types: ["refresh_token"],
      response_types: ["code"],
    });
    const { link } = await refusalPage({ clientId, redirectUri: WEB_REDIRECT });
    expect(link.searchParams.get("error")).toBe("unauthorized_client");
  });

  it("without a state, the link carries none (and still iss)", async () => {
    const { link } = await refusalPage({
      clientId: webClient,
      redirectUri: WEB_REDIRECT,
      extra: { response_type: "token", state: undefined },
    });
    expect(link.searchParams.has("state")).toBe(false);
    expect(link.searchParams.get("iss")).toBe(h.url);
  });
});

describe("other redirect URIs", () => {
  it("a private-use scheme (an app the browser would open): a page too, naming the scheme", async () => {
    const { clientId } = await registerClient(h, { client_name: "Cursor", redirect_uris: [CURSOR_REDIRECT] });
    const { html, link } = await refusalPage({
      clientId,
      redirectUri: CURSOR_REDIRECT,
      extra: { response_type: "token" },
    });
    expect(html).toContain("<strong>cursor:</strong>");
    expect(link.protocol).toBe("cursor:");
    expect(link.searchParams.get("error")).toBe("unsupported_response_type");
    expect(link.searchParams.get("iss")).toBe(h.url);
  });

  it("a loopback redirect URI (a native app waiting on this computer) is still redirected to at once", async () => {
    const { clientId } = await registerClient(h);
    const res = await fetch(authorizeUrl(h, { clientId, extra: { response_type: "token" } }), { redirect: "manual" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location") as string);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get("error")).toBe("unsupported_response_type");
    expect(back.searchParams.get("iss")).toBe(h.url);
  });
});

describe("after the consent page", () => {
  it("Deny still goes back to a web client at once: access_denied, state and iss", async () => {
    const page = await openConsent(h, { clientId: webClient, redirectUri: WEB_REDIRECT, state: "s-deny" });
    expect(page.status).toBe(200);
    expect(page.html).toContain("client.example"); // the consent page named where Deny goes
    const res = await decide(h, page, "deny");
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get("location") as string);
    expect(back.origin + back.pathname).toBe(WEB_REDIRECT);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe("s-deny");
    expect(back.searchParams.get("iss")).toBe(h.url);
  });
});
