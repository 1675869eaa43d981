/**
 * Refresh as real clients do it (issue 9, item 3): the same refresh token arriving twice within seconds
 * (Claude.ai's egress nodes, two Claude Code sessions, two server processes at once, a burst of parallel calls) or a
 * minute later (hosts' retries), replays after the grace window, made-up tokens, the sliding idle lifetime and the
 * absolute cap, key rotation, tokens from before tags.
 * Two instances of one deployment (same keys, Redis prefix and Airtable integration) share one moved clock.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../../src/server/auth/pkce.ts";
import { uniquePrefix } from "../../helpers/redis.ts";
import {
  callMcp,
  registerClient,
  signedInClient,
  startHarness,
  TestClock,
  tokenRequest,
  type Harness,
} from "../../support/auth-test-harness.ts";

const DAY = 86_400_000;
const clock = new TestClock();
const keyPrefix = uniquePrefix("auth-grants");
let a: Harness;
let b: Harness;
beforeAll(async () => {
  a = await startHarness({ keyPrefix, now: clock.now });
  b = await startHarness({
    keyPrefix,
    sandbox: a.sandbox,
    publicUrl: a.url,
    airtableClientId: a.airtableClientId,
    now: clock.now,
  });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

function refresh(h: Harness, clientId: string, refreshToken: string) {
  return tokenRequest(h, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken });
}

describe("the same refresh token twice within the grace window", () => {
  it("both callers get valid tokens of the grant, the same refresh token, and the next refresh works", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    clock.advance(5_000); // another egress node, a few seconds later
    const second = await refresh(a, c.clientId, c.refreshToken);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toBe(first.body.refresh_token);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    expect(second.body.scope).toBe(first.body.scope);
    // Every access token of the grant works, the first caller's included.
    for (const token of [c.accessToken, first.body.access_token, second.body.access_token]) {
      expect((await callMcp(a, token as string)).status).toBe(200);
    }
    const next = await refresh(a, c.clientId, first.body.refresh_token as string);
    expect(next.status).toBe(200);
    expect(next.body.refresh_token).not.toBe(first.body.refresh_token);
    expect((await callMcp(a, next.body.access_token as string)).status).toBe(200);
  });

  it("two instances refreshing one token at the same moment both succeed, with the same refresh token", async () => {
    for (let round = 0; round < 5; round++) {
      const c = await signedInClient(a);
      const [onA, onB] = await Promise.all([
        refresh(a, c.clientId, c.refreshToken),
        refresh(b, c.clientId, c.refreshToken),
      ]);
      expect([onA.status, onB.status]).toEqual([200, 200]);
      expect(onA.body.refresh_token).toBe(onB.body.refresh_token);
      for (const h of [a, b]) {
        expect((await callMcp(h, onA.body.access_token as string)).status).toBe(200);
        expect((await callMcp(h, onB.body.access_token as string)).status).toBe(200);
      }
      // Still signed in: the shared refresh token refreshes again, on either instance.
      const next = await refresh(round % 2 === 0 ? a : b, c.clientId, onA.body.refresh_token as string);
      expect(next.status).toBe(200);
      // One rotation happened, not two: the grant moved from generation 0 to 1, then 2.
      const grantId = c.refreshToken.split(".")[0] as string;
      expect((await a.store.getGrant(grantId))?.generation).toBe(2);
    }
  });

  it("the window runs from the token's first use: at 119 s it is still honoured, at 121 s the grant is revoked", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    clock.advance(30_000);
    expect((await refresh(b, c.clientId, c.refreshToken)).status).toBe(200);
    clock.advance(89_000); // 119 s after the first use; the reuse at 30 s did not restart the window
    const late = await refresh(a, c.clientId, c.refreshToken);
    expect(late.status).toBe(200);
    expect(late.body.refresh_token).toBe(first.body.refresh_token);
    clock.advance(2_000); // 121 s
    const replay = await refresh(a, c.clientId, c.refreshToken);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({
      error: "invalid_grant",
      error_description: expect.stringMatching(/already used/),
    });
    // RFC 9700 §4.14.2: the whole grant ends, the tokens handed out within the window included.
    expect((await refresh(a, c.clientId, first.body.refresh_token as string)).body.error).toBe("invalid_grant");
    for (const token of [first.body.access_token, late.body.access_token]) {
      expect((await callMcp(b, token as string)).status).toBe(401);
    }
  });

  it("hosts' late retries (61–119 s after the first use, comet-ml/opik#8287 saw 33–76 s) get the same tokens", async () => {
    for (const after of [61_000, 76_000, 119_000]) {
      const c = await signedInClient(a);
      const first = await refresh(a, c.clientId, c.refreshToken);
      clock.advance(after);
      const retry = await refresh(b, c.clientId, c.refreshToken);
      expect(retry.status, `${after} ms`).toBe(200);
      expect(retry.body.refresh_token).toBe(first.body.refresh_token);
      for (const token of [first.body.access_token, retry.body.access_token]) {
        expect((await callMcp(a, token as string)).status).toBe(200);
      }
      expect((await refresh(a, c.clientId, first.body.refresh_token as string)).status).toBe(200);
    }
  });

  it("any number of reuses within the window gets the same tokens (no cap: invalid_grant would sign the client out); past it, a replay revokes", async () => {
    // MCP SDK clients answer invalid_grant on a refresh by dropping their tokens and opening a new browser sign-in
    // (sdk client/auth.js auth(): InvalidGrantError → invalidateCredentials('tokens')), so a refused reuse signs
    // the user out; a cap of 10 (REFRESH_REUSE_LIMIT, tried and removed) did that to the 11th.
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    for (let i = 1; i <= 15; i++) {
      clock.advance(1_000);
      const reuse = await refresh(i % 2 === 0 ? a : b, c.clientId, c.refreshToken);
      expect(reuse.status, `reuse ${i}: ${JSON.stringify(reuse.body)}`).toBe(200);
      expect(reuse.body.refresh_token).toBe(first.body.refresh_token);
    }
    expect((await callMcp(a, first.body.access_token as string)).status).toBe(200);
    const next = await refresh(b, c.clientId, first.body.refresh_token as string);
    expect(next.status).toBe(200);
    // Past the window the old token is a replay that revokes the grant (RFC 9700 §4.14.2).
    clock.advance(121_000);
    expect((await refresh(a, c.clientId, c.refreshToken)).body.error_description).toMatch(/already used/);
    expect((await callMcp(a, next.body.access_token as string)).status).toBe(401);
  });

  it("a burst of parallel refreshes of one token on two instances: one rotation, every other one a reuse, still signed in", async () => {
    const c = await signedInClient(a);
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) => refresh(i % 2 === 0 ? a : b, c.clientId, c.refreshToken)),
    );
    expect(results.map((r) => r.status)).toEqual(Array(14).fill(200));
    expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
    const grantId = c.refreshToken.split(".")[0] as string;
    expect((await a.store.getGrant(grantId))?.revokedAt).toBeUndefined();
    expect((await refresh(a, c.clientId, results[0]?.body.refresh_token as string)).status).toBe(200);
  });

  it("a token two rotations back is a replay even within the window", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    const second = await refresh(a, c.clientId, first.body.refresh_token as string);
    expect(second.status).toBe(200);
    const replay = await refresh(a, c.clientId, c.refreshToken);
    expect(replay.body.error).toBe("invalid_grant");
    expect((await callMcp(a, second.body.access_token as string)).status).toBe(401);
  });

  it("another client presenting the token within the window is refused, and the grant is untouched", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    const { clientId: otherClient } = await registerClient(a, { client_name: "Another app" });
    expect(otherClient).not.toBe(c.clientId);
    const stolen = await refresh(a, otherClient, c.refreshToken);
    expect(stolen.body).toMatchObject({
      error: "invalid_grant",
      error_description: expect.stringMatching(/another client/),
    });
    expect((await callMcp(a, first.body.access_token as string)).status).toBe(200);
    expect((await refresh(a, c.clientId, first.body.refresh_token as string)).status).toBe(200);
  });

  it("a made-up refresh token for a real grant is refused without signing the user out", async () => {
    const c = await signedInClient(a);
    const grantId = c.refreshToken.split(".")[0] as string;
    for (const secret of [randomBytes(40).toString("base64url"), randomBytes(32).toString("base64url")]) {
      const forged = await refresh(a, c.clientId, `${grantId}.${secret}`);
      expect(forged.body.error).toBe("invalid_grant");
    }
    expect((await a.store.getGrant(grantId))?.revokedAt).toBeUndefined();
    expect((await callMcp(a, c.accessToken)).status).toBe(200);
    expect((await refresh(a, c.clientId, c.refreshToken)).status).toBe(200);
  });
});

describe("REFRESH_REUSE_GRACE_SECONDS set by the operator", () => {
  it("a 60 s window: a reuse at 59 s gets the same tokens, one at 61 s revokes", async () => {
    const tight = await startHarness({
      sandbox: a.sandbox,
      env: { REFRESH_REUSE_GRACE_SECONDS: "60" },
      now: clock.now,
    });
    try {
      const c = await signedInClient(tight);
      const first = await refresh(tight, c.clientId, c.refreshToken);
      clock.advance(59_000);
      const reuse = await refresh(tight, c.clientId, c.refreshToken);
      expect(reuse.status).toBe(200);
      expect(reuse.body.refresh_token).toBe(first.body.refresh_token);
      expect((await callMcp(tight, first.body.access_token as string)).status).toBe(200);
      clock.advance(2_000);
      expect((await refresh(tight, c.clientId, c.refreshToken)).body.error_description).toMatch(/already used/);
      expect((await callMcp(tight, first.body.access_token as string)).status).toBe(401);
    } finally {
      await tight.close();
    }
  });
});

describe("revocation after a double refresh", () => {
  it("revoking with the replaced refresh token (what the second caller may still hold) ends the grant", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    const res = await fetch(`${a.url}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: c.refreshToken, client_id: c.clientId }),
    });
    expect(res.status).toBe(200);
    expect((await callMcp(a, first.body.access_token as string)).status).toBe(401);
    expect((await refresh(a, c.clientId, first.body.refresh_token as string)).body.error).toBe("invalid_grant");
  });
});

describe("lifetimes", () => {
  it("a refresh token left idle for a week still works; every refresh renews the 30-day idle lifetime", async () => {
    const c = await signedInClient(a);
    clock.advance(7 * DAY);
    const week = await refresh(a, c.clientId, c.refreshToken);
    expect(week.status).toBe(200);
    clock.advance(29 * DAY);
    const later = await refresh(a, c.clientId, week.body.refresh_token as string);
    expect(later.status).toBe(200); // 36 days after sign-in, 29 after the last use
    clock.advance(29 * DAY);
    const again = await refresh(b, c.clientId, later.body.refresh_token as string);
    expect(again.status).toBe(200);
    clock.advance(30 * DAY + 1_000); // idle for longer than REFRESH_TOKEN_IDLE_DAYS
    const idle = await refresh(a, c.clientId, again.body.refresh_token as string);
    expect(idle.status).toBe(400);
    expect(idle.body.error).toBe("invalid_grant");
  });

  it("however often it is used, a grant ends REFRESH_TOKEN_TTL_DAYS (90) after the sign-in", async () => {
    const c = await signedInClient(a);
    let token = c.refreshToken;
    for (const day of [29, 58, 87]) {
      clock.advance(29 * DAY);
      const res = await refresh(a, c.clientId, token);
      expect(res.status, `refresh on day ${day}`).toBe(200);
      token = res.body.refresh_token as string;
    }
    const grantId = c.refreshToken.split(".")[0] as string;
    const grant = await a.store.getGrant(grantId);
    expect(grant?.expiresAt).toBe((grant?.createdAt ?? 0) + 90 * DAY); // capped, not day 87 + 30
    clock.advance(3 * DAY + 1_000);
    expect((await refresh(a, c.clientId, token)).body.error).toBe("invalid_grant");
  });
});

describe("across a key rotation and from before tagged tokens", () => {
  let rotated: Harness;
  beforeAll(async () => {
    // A new instance after TOKEN_ENCRYPTION_KEY was rotated: the old key is TOKEN_ENCRYPTION_KEY_PREVIOUS.
    rotated = await startHarness({
      keyPrefix,
      sandbox: a.sandbox,
      publicUrl: a.url,
      airtableClientId: a.airtableClientId,
      now: clock.now,
      env: {
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        TOKEN_ENCRYPTION_KEY_PREVIOUS: (a.config.TOKEN_ENCRYPTION_KEY as Buffer).toString("base64"),
      },
    });
  });
  afterAll(async () => {
    await rotated.close();
  });

  it("a replay within the window on the rotated instance gets the successor the first use got", async () => {
    const c = await signedInClient(a);
    const first = await refresh(a, c.clientId, c.refreshToken);
    const replay = await refresh(rotated, c.clientId, c.refreshToken);
    expect(replay.status).toBe(200);
    expect(replay.body.refresh_token).toBe(first.body.refresh_token);
    // And the token minted under the old key still refreshes under the new one.
    expect((await refresh(rotated, c.clientId, first.body.refresh_token as string)).status).toBe(200);
  });

  it("an untagged refresh token from before this scheme works while current, then rotates into it", async () => {
    const c = await signedInClient(a);
    const grantId = c.refreshToken.split(".")[0] as string;
    const grant = await a.store.getGrant(grantId);
    const legacySecret = randomBytes(32).toString("base64url"); // what refresh tokens were before tags
    await a.store.putGrant({ ...grant!, refreshTokenHash: sha256Hex(legacySecret) });
    const res = await refresh(a, c.clientId, `${grantId}.${legacySecret}`);
    expect(res.status).toBe(200);
    expect((res.body.refresh_token as string).split(".")[1]).toHaveLength(54);
    expect((await refresh(a, c.clientId, res.body.refresh_token as string)).status).toBe(200);
  });
});
