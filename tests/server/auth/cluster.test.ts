import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import {
  browserGet,
  callMcp,
  cookiesAfterDecision,
  decide,
  DEFAULT_VERIFIER,
  openConsent,
  REDIRECT_URI,
  registerClient,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

/**
 * Two instances of one deployment: same PUBLIC_URL (a's address), same keys, same Redis prefix, same Airtable
 * integration. Each step of one sign-in may land on either: nothing lives in one process's memory.
 */
let a: Harness;
let b: Harness;
const keyPrefix = uniquePrefix("auth-cluster");
beforeAll(async () => {
  a = await startHarness({ keyPrefix, rateLimits: { registerPerHour: 3 } });
  b = await startHarness({
    keyPrefix,
    sandbox: a.sandbox,
    publicUrl: a.url,
    airtableClientId: a.airtableClientId,
    rateLimits: { registerPerHour: 3 },
  });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

describe("a stateless web tier", () => {
  it("authorize on A, consent on B, callback on A, token on B, calls on B, revoke on A", async () => {
    const { clientId } = await registerClient(b);
    const page = await openConsent(a, { clientId });
    expect(page.status).toBe(200);
    const decision = await decide(b, page, "approve");
    expect(decision.status).toBe(303);
    const upstream = new URL(decision.headers.get("location") as string);
    upstream.searchParams.set("sandbox_user", a.user.email);
    const atAirtable = await fetch(upstream, { redirect: "manual" });
    const callbackUrl = atAirtable.headers.get("location") as string;
    expect(callbackUrl.startsWith(`${a.url}/oauth/callback?`)).toBe(true);
    // The sign-in cookie B set is checked by A (one key per deployment; cookies ignore the port).
    const callback = await browserGet(callbackUrl, cookiesAfterDecision(page, decision));
    const code = new URL(callback.headers.get("location") as string).searchParams.get("code") as string;

    const tokens = await tokenRequest(b, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: REDIRECT_URI,
      resource: `${a.url}/mcp`,
    });
    expect(tokens.status).toBe(200);
    const accessToken = tokens.body.access_token as string;
    expect((await callMcp(b, accessToken)).status).toBe(200);
    expect((await callMcp(a, accessToken)).status).toBe(200);

    const revoke = await fetch(`${a.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.body.refresh_token as string, client_id: clientId }),
    });
    expect(revoke.status).toBe(200);
    expect((await callMcp(b, accessToken)).status).toBe(401);
  });

  it("the registration limit holds across instances, counted per client IP in Redis", async () => {
    await deleteKeys(a.redis, `${keyPrefix}:oauth:rl:`);
    const statuses: number[] = [];
    for (const h of [a, b, a, b]) statuses.push((await registerClient(h)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await registerClient(a);
    expect(limited.body.error).toBe("too_many_requests");
  });
});
