/**
 * Limits that do not punish shared egress but still stop guessing (issue 9, item 4): wrong secrets are counted
 * per client_id and refused refreshes per grant, whichever address they come from; the per-IP ceilings remain;
 * every 429 carries Retry-After. The router's default limits, real Redis.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultRateLimits } from "../../../src/server/auth/rate-limit.ts";
import {
  authorizeUrl,
  registerClient,
  signedInClient,
  startHarness,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ rateLimits: {} }); // the defaults
});
afterAll(async () => {
  await h.close();
});

/** Retry-After in whole seconds, within the window it belongs to. */
function expectRetryAfter(headers: Headers, maxSec: number): void {
  const value = headers.get("retry-after");
  expect(value, "429 without Retry-After").toMatch(/^\d+$/);
  expect(Number(value)).toBeGreaterThan(0);
  expect(Number(value)).toBeLessThanOrEqual(maxSec);
}

function refreshAs(
  clientId: string,
  secret: string,
  refreshToken = `gr_${randomBytes(8).toString("hex")}.${randomBytes(40).toString("base64url")}`,
) {
  return tokenRequest(h, {
    grant_type: "refresh_token",
    client_id: clientId,
    client_secret: secret,
    refresh_token: refreshToken,
  });
}

describe("guessing at one client or one grant", () => {
  it("wrong secrets for one client_id: 401 up to the limit, then 429 with Retry-After, even for the right one", async () => {
    const target = await registerClient(h, { client_name: "Target", token_endpoint_auth_method: "client_secret_post" });
    const bystander = await registerClient(h, {
      client_name: "Bystander",
      token_endpoint_auth_method: "client_secret_post",
    });
    for (let i = 0; i < defaultRateLimits.clientAuthFailuresPer10Min; i++) {
      const guess = await refreshAs(target.clientId, randomBytes(32).toString("base64url"));
      expect(guess.status).toBe(401);
      expect(guess.body.error).toBe("invalid_client");
    }
    const locked = await refreshAs(target.clientId, target.secret);
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe("too_many_requests");
    expect(locked.body.error_description).toMatch(/client_id/);
    expectRetryAfter(locked.headers, 600);
    // Keyed on the client, not the address: another client from the same IP authenticates as usual (and gets
    // the answer its made-up refresh token deserves).
    const other = await refreshAs(bystander.clientId, bystander.secret);
    expect(other.status).toBe(400);
    expect(other.body.error).toBe("invalid_grant");
  });

  it("successes are never counted: a confidential client authenticates far more often than the failure limit", async () => {
    const busy = await registerClient(h, { client_name: "Busy", token_endpoint_auth_method: "client_secret_post" });
    for (let i = 0; i < defaultRateLimits.clientAuthFailuresPer10Min * 2; i++) {
      expect((await refreshAs(busy.clientId, busy.secret)).status).toBe(400); // authenticated; made-up grant
    }
  });

  it("made-up refresh tokens for one grant: invalid_grant up to the limit, then 429 with Retry-After", async () => {
    const c = await signedInClient(h);
    const neighbour = await signedInClient(h);
    const grantId = c.refreshToken.split(".")[0] as string;
    for (let i = 0; i < defaultRateLimits.refreshFailuresPer10Min; i++) {
      const guess = await tokenRequest(h, {
        grant_type: "refresh_token",
        client_id: c.clientId,
        refresh_token: `${grantId}.${randomBytes(40).toString("base64url")}`,
      });
      expect(guess.status).toBe(400);
      expect(guess.body.error).toBe("invalid_grant");
    }
    const locked = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: c.clientId,
      refresh_token: c.refreshToken,
    });
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe("too_many_requests");
    expectRetryAfter(locked.headers, 600);
    // The guesses signed no one out, and other grants (same client, same address) refresh as usual.
    expect((await h.store.getGrant(grantId))?.revokedAt).toBeUndefined();
    const other = await tokenRequest(h, {
      grant_type: "refresh_token",
      client_id: neighbour.clientId,
      refresh_token: neighbour.refreshToken,
    });
    expect(other.status).toBe(200);
  });
});

describe("the per-IP ceilings", () => {
  let low: Harness;
  beforeAll(async () => {
    low = await startHarness({
      sandbox: h.sandbox,
      rateLimits: { registerPerHour: 1, tokenPerMinute: 1, authorizePerMinute: 1 },
    });
  });
  afterAll(async () => {
    await low.close();
  });

  it("remain, and every 429 they give carries Retry-After", async () => {
    expect((await registerClient(low)).status).toBe(201);
    const register = await registerClient(low);
    expect(register.status).toBe(429);
    expectRetryAfter(register.headers, 3600);

    const form = { grant_type: "refresh_token", client_id: "x", refresh_token: "y" };
    expect((await tokenRequest(low, form)).status).not.toBe(429);
    const token = await tokenRequest(low, form);
    expect(token.status).toBe(429);
    expect(token.body.error).toBe("too_many_requests");
    expectRetryAfter(token.headers, 60);

    const page = authorizeUrl(low, { clientId: "mcp_unknown" });
    expect((await fetch(page, { redirect: "manual" })).status).not.toBe(429);
    const authorize = await fetch(page, { redirect: "manual" });
    expect(authorize.status).toBe(429);
    expect(await authorize.text()).toContain("Too many requests");
    expectRetryAfter(authorize.headers, 60);
  });
});
