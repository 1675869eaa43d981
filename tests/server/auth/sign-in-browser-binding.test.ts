/**
 * The return from Airtable (/oauth/callback) is bound to the browser that pressed Allow (MCP security best
 * practices, Confused Deputy, "OAuth State Parameter Validation": the callback must find the state in the callback
 * request's cookies, set only after consent). The attack it stops, replayed over HTTP with two cookie jars: an
 * attacker registers a client whose redirect URI is theirs, presses Allow in their own browser, and sends the
 * Airtable link they got to a victim; the victim's browser signs in at Airtable and comes back to our callback
 * without our cookie. Before the fix that answered 302 to the attacker's redirect URI with a code for the victim's
 * Airtable.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSetCookies } from "../../helpers/cookie-jar.ts";
import {
  browserGet,
  cookiesAfterDecision,
  decide,
  DEFAULT_VERIFIER,
  exchangeCode,
  openConsent,
  REDIRECT_URI,
  registerClient,
  startHarness,
  tokenRequest,
  type ConsentPage,
  type Harness,
} from "../../support/auth-test-harness.ts";

const ATTACKER_REDIRECT = "https://attacker.example/cb";

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

/** The attacker's half: register, open /authorize and press Allow in their own browser. */
async function attackerPressesAllow() {
  const reg = await registerClient(h, { client_name: "Attacker", redirect_uris: [ATTACKER_REDIRECT] });
  const page = await openConsent(h, { clientId: reg.clientId, redirectUri: ATTACKER_REDIRECT, state: "s" });
  expect(page.status).toBe(200);
  const decision = await decide(h, page, "approve");
  expect(decision.status).toBe(303);
  return {
    clientId: reg.clientId,
    airtableUrl: new URL(decision.headers.get("location") as string),
    attackerCookies: cookiesAfterDecision(page, decision),
  };
}

/** The victim's browser at "Airtable": signs in as `email` and is sent back; the callback URL. */
async function victimSignsInAtAirtable(airtableUrl: URL, email: string): Promise<string> {
  const url = new URL(airtableUrl);
  url.searchParams.set("sandbox_user", email);
  const atAirtable = await fetch(url, { redirect: "manual" });
  expect(atAirtable.status).toBe(302);
  const callbackUrl = atAirtable.headers.get("location") as string;
  expect(callbackUrl.startsWith(`${h.url}/oauth/callback?`)).toBe(true);
  return callbackUrl;
}

function signInCookieLine(res: Response): string {
  return res.headers.getSetCookie().find((line) => /^(__Host-)?signin_/.test(line)) ?? "";
}

describe("the Airtable link sent to someone else (confused deputy)", () => {
  it("the victim's browser, without the cookie, gets a page: no Airtable exchange, no code, no redirect", async () => {
    const victim = h.sandbox.addUser({ email: `victim-${randomBytes(3).toString("hex")}@example.com` });
    const { airtableUrl, attackerCookies } = await attackerPressesAllow();
    const callbackUrl = await victimSignsInAtAirtable(airtableUrl, victim.email);
    const exchanges = h.sandbox.tokenExchangeCount();

    const back = await browserGet(callbackUrl, undefined); // the victim's browser: no cookie from our server
    expect(back.status).toBe(403);
    expect(back.headers.get("location")).toBeNull();
    const text = await back.text();
    expect(text).toContain("This sign-in was started in another browser");
    expect(text).toContain("Start again from your app");
    expect(h.sandbox.tokenExchangeCount()).toBe(exchanges);
    expect(await h.store.getAirtableAccount(victim.id)).toBeUndefined();

    // The state was spent by the refusal: the attacker's own browser (which holds the right cookie) cannot
    // complete the victim's return either, should the URL leak to them.
    const replay = await browserGet(callbackUrl, attackerCookies);
    expect(replay.status).toBe(400);
    expect(replay.headers.get("location")).toBeNull();
    expect(await replay.text()).toContain("already used or has expired");
    expect(h.sandbox.tokenExchangeCount()).toBe(exchanges);
  });

  it("a cookie from another sign-in, or another sign-in's value under this one's name, is refused too", async () => {
    // The victim has a sign-in of their own under way in the same browser: its cookie is no pass for the attacker's.
    const own = await openConsent(h, { clientId: (await registerClient(h)).clientId });
    const ownDecision = await decide(h, own, "approve");
    const victimCookies = cookiesAfterDecision(own, ownDecision) as string;
    expect(victimCookies).toMatch(/^signin_[0-9a-f]{24}=[A-Za-z0-9_-]+$/);

    const first = await attackerPressesAllow();
    const exchanges = h.sandbox.tokenExchangeCount();
    const refused = await browserGet(await victimSignsInAtAirtable(first.airtableUrl, h.user.email), victimCookies);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("location")).toBeNull();

    // The cookie's name can be worked out from the state, its value cannot: the attacker's state's name with the
    // victim's value fails.
    const second = await attackerPressesAllow();
    const attackerName = (second.attackerCookies as string).split("=")[0] as string;
    const forged = `${attackerName}=${victimCookies.split("=")[1]}`;
    const forgedAnswer = await browserGet(await victimSignsInAtAirtable(second.airtableUrl, h.user.email), forged);
    expect(forgedAnswer.status).toBe(403);
    expect(h.sandbox.tokenExchangeCount()).toBe(exchanges);
  });
});

describe("a sign-in finished in the browser that started it", () => {
  it("Allow sets the sign-in cookie (HttpOnly, SameSite=Lax, Path=/, the sign-in's lifetime); the callback needs and clears it", async () => {
    const { clientId } = await registerClient(h);
    const page = await openConsent(h, { clientId, state: "s-ok" });
    const decision = await decide(h, page, "approve");
    expect(decision.status).toBe(303);
    // Plain http PUBLIC_URL here: no __Host- prefix, no Secure.
    expect(signInCookieLine(decision)).toMatch(
      /^signin_[0-9a-f]{24}=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/,
    );
    // The consent cookie is cleared by the same answer: only the sign-in cookie remains.
    const cookies = cookiesAfterDecision(page, decision) as string;
    expect(cookies.split("; ")).toHaveLength(1);

    const upstream = new URL(decision.headers.get("location") as string);
    upstream.searchParams.set("sandbox_user", h.user.email);
    const callbackUrl = (await fetch(upstream, { redirect: "manual" })).headers.get("location") as string;
    const callback = await browserGet(callbackUrl, cookies);
    expect(callback.status).toBe(302);
    const back = new URL(callback.headers.get("location") as string);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(back.searchParams.get("state")).toBe("s-ok");
    expect(back.searchParams.get("iss")).toBe(h.url);
    expect(signInCookieLine(callback)).toMatch(/^signin_[0-9a-f]{24}=; Path=\/; Max-Age=0; /);
    expect(withSetCookies(cookies, callback)).toBeUndefined();
    const tokens = await exchangeCode(h, clientId, back.searchParams.get("code") as string);
    expect(tokens.status).toBe(200);
  });

  it("several sign-ins at once in one browser each finish, in any order", async () => {
    const { clientId } = await registerClient(h);
    // One browser: every answer's cookies go into one jar, and every request sends the whole jar.
    let jar: string | undefined;
    const pages: ConsentPage[] = [];
    for (const state of ["tab-1", "tab-2", "tab-3"]) {
      const page = await openConsent(h, { clientId, state });
      jar = withSetCookies(jar, page);
      pages.push(page);
    }
    const callbackUrls: string[] = [];
    for (const page of pages) {
      const decision = await decide(h, { ...page, cookie: jar }, "approve");
      expect(decision.status).toBe(303);
      jar = withSetCookies(jar, decision);
      const upstream = new URL(decision.headers.get("location") as string);
      upstream.searchParams.set("sandbox_user", h.user.email);
      callbackUrls.push((await fetch(upstream, { redirect: "manual" })).headers.get("location") as string);
    }
    expect(jar?.split("; ").filter((c) => c.startsWith("signin_"))).toHaveLength(3);
    for (const [i, state] of [
      [2, "tab-3"],
      [0, "tab-1"],
      [1, "tab-2"],
    ] as const) {
      const callback = await browserGet(callbackUrls[i] as string, jar);
      expect(callback.status, state).toBe(302);
      jar = withSetCookies(jar, callback);
      const back = new URL(callback.headers.get("location") as string);
      expect(back.searchParams.get("state")).toBe(state);
      expect(back.searchParams.get("code")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    expect(jar).toBeUndefined();
  });

  it("over https the sign-in cookie is __Host- prefixed and Secure, and the callback accepts it", async () => {
    const { clientId } = await registerClient(https);
    const resource = "https://mcp.example.com/mcp";
    const page = await openConsent(https, { clientId, resource });
    const decision = await decide(https, page, "approve");
    expect(decision.status).toBe(303);
    const line = signInCookieLine(decision);
    expect(line).toMatch(/^__Host-signin_[0-9a-f]{24}=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; /);
    expect(line).toContain("; SameSite=Lax");
    expect(line).toContain("; Secure");
    expect(line).not.toContain("Domain");

    const upstream = new URL(decision.headers.get("location") as string);
    upstream.searchParams.set("sandbox_user", https.user.email);
    // Airtable sends the browser to PUBLIC_URL's callback; this test reaches the same server at its own address.
    const callbackUrl = new URL((await fetch(upstream, { redirect: "manual" })).headers.get("location") as string);
    expect(callbackUrl.origin).toBe("https://mcp.example.com");
    const local = new URL(`${callbackUrl.pathname}${callbackUrl.search}`, https.url);
    const callback = await browserGet(local, cookiesAfterDecision(page, decision));
    expect(callback.status).toBe(302);
    const code = new URL(callback.headers.get("location") as string).searchParams.get("code") as string;
    const tokens = await tokenRequest(https, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: REDIRECT_URI,
      resource,
    });
    expect(tokens.status).toBe(200);
  });
});
