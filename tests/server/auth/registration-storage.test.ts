/**
 * What registering costs (issue 9, item 4): every registration is pending until a sign-in completes with it and
 * disappears after PENDING_REGISTRATION_TTL_HOURS otherwise; identical public registrations share one record; a
 * lapsed public registration is renewed from its self-describing client_id when its client comes back.
 * Real router, real Redis TokenStore (its keys carry the deadline as a TTL).
 */
import { deflateRawSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publicClientId } from "../../../src/server/auth/registration.ts";
import type { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";
import {
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

const HOUR = 3600_000;
let h: Harness;
let store: RedisTokenStore;
beforeAll(async () => {
  h = await startHarness({ env: { PENDING_REGISTRATION_TTL_HOURS: "2" } });
  store = h.store as RedisTokenStore;
});
afterAll(async () => {
  await h.close();
});

async function clientKeys(): Promise<string[]> {
  return h.redis.keys(`${h.keyPrefix}:tokens:client:*`);
}

function ttlOf(clientId: string): Promise<number> {
  return h.redis.pttl(store.keyOf("client", clientId));
}

describe("identical public registrations", () => {
  it("get one client_id and one stored record, however often they come", async () => {
    const metadata = { client_name: "Claude", redirect_uris: ["https://claude.ai/api/mcp/auth_callback"] };
    const before = (await clientKeys()).length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => registerClient(h, metadata)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201));
    expect(new Set(answers.map((a) => a.clientId)).size).toBe(1);
    expect(new Set(answers.map((a) => a.body.client_id_issued_at)).size).toBe(1);
    expect((await clientKeys()).length).toBe(before + 1);
    expect(answers[0]?.body).toMatchObject({ ...metadata, token_endpoint_auth_method: "none" });
    // Any difference in the metadata is another client.
    const other = await registerClient(h, { ...metadata, client_name: "Claude (beta)" });
    expect(other.clientId).not.toBe(answers[0]?.clientId);
    expect((await clientKeys()).length).toBe(before + 2);
  });

  it("renew a pending registration's deadline and never demote one that was used to sign in", async () => {
    const metadata = { client_name: "VS Code", redirect_uris: ["http://127.0.0.1:9/callback"] };
    const { clientId } = await registerClient(h, metadata);
    await h.redis.pexpire(store.keyOf("client", clientId), 60_000); // as if most of its 2 hours had passed
    expect((await registerClient(h, metadata)).clientId).toBe(clientId);
    expect(await ttlOf(clientId)).toBeGreaterThan(2 * HOUR - 60_000);

    const { code } = await signIn(h, { clientId });
    expect((await exchangeCode(h, clientId, code)).status).toBe(200);
    expect(await ttlOf(clientId)).toBe(-1); // permanent
    expect((await registerClient(h, metadata)).clientId).toBe(clientId);
    expect(await ttlOf(clientId)).toBe(-1);
  });
});

describe("registrations that never complete a sign-in", () => {
  it("are stored with a PENDING_REGISTRATION_TTL_HOURS deadline, which a completed sign-in removes", async () => {
    const reg = await registerClient(h, { client_name: "Unused", token_endpoint_auth_method: "client_secret_post" });
    const used = await registerClient(h, { client_name: "Used", token_endpoint_auth_method: "client_secret_post" });
    for (const { clientId } of [reg, used]) {
      const ttl = await ttlOf(clientId);
      expect(ttl).toBeGreaterThan(2 * HOUR - 60_000);
      expect(ttl).toBeLessThanOrEqual(2 * HOUR);
    }
    const { code } = await signIn(h, { clientId: used.clientId });
    const withSecret = await tokenRequest(h, {
      grant_type: "authorization_code",
      client_id: used.clientId,
      client_secret: used.secret,
      code,
      code_verifier: DEFAULT_VERIFIER,
      redirect_uri: REDIRECT_URI,
    });
    expect(withSecret.status).toBe(200); // the sign-in completed
    expect(await ttlOf(used.clientId)).toBe(-1);
    expect(await ttlOf(reg.clientId)).toBeGreaterThan(0); // still pending
  });

  it("public ones are renewed from their client_id when the client comes back after the deadline", async () => {
    // Claude Code caches its client_id and replays it (anthropics/claude-code#84614): a user who left the first
    // sign-in unfinished for longer than the deadline must still be able to sign in with it.
    const metadata = { client_name: "Left alone", redirect_uris: ["http://127.0.0.1:9/callback"] };
    const { clientId } = await registerClient(h, metadata);
    expect(clientId).toMatch(/^mcp_m1_[A-Za-z0-9_-]+$/);
    expect((await openConsent(h, { clientId })).status).toBe(200);
    await h.redis.pexpire(store.keyOf("client", clientId), 1); // the deadline passes
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await h.store.getClient(clientId)).toBeUndefined();

    const back = await openConsent(h, { clientId });
    expect(back.status).toBe(200);
    expect(back.html).toContain("Left alone");
    // Renewed as a new registration is: pending, with the deadline, and what registering again answers.
    expect(await h.store.getClient(clientId)).toMatchObject({ client_id: clientId, ...metadata });
    expect(await ttlOf(clientId)).toBeGreaterThan(2 * HOUR - 60_000);
    expect((await registerClient(h, metadata)).clientId).toBe(clientId);
    const { code } = await signIn(h, { clientId });
    const tokens = await exchangeCode(h, clientId, code);
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toMatch(/^gr_/);
    expect(await ttlOf(clientId)).toBe(-1); // permanent once a sign-in completed
  });

  it("confidential ones are gone after the deadline: /authorize says to register again, and registering again works", async () => {
    const metadata = { client_name: "Left alone (secret)", token_endpoint_auth_method: "client_secret_post" };
    const { clientId } = await registerClient(h, metadata);
    expect((await openConsent(h, { clientId })).status).toBe(200);
    await h.redis.pexpire(store.keyOf("client", clientId), 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const gone = await openConsent(h, { clientId });
    expect(gone.status).toBe(400);
    expect(gone.html).toContain("register again");
    const again = await registerClient(h, metadata);
    expect(again.clientId).not.toBe(clientId);
    expect((await openConsent(h, { clientId: again.clientId })).status).toBe(200);
  });

  it("a client_id carrying metadata /register would refuse today is not renewed, and the page says why", async () => {
    // REDIRECT_URI_SCHEMES (its default) does not list zed: as if the operator removed it.
    const refused = publicClientId({
      redirect_uris: ["zed://oauth/callback"],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_name: "Zed",
    });
    const page = await openConsent(h, { clientId: refused, redirectUri: "zed://oauth/callback" });
    expect(page.status).toBe(400);
    expect(page.html).toContain("cannot be renewed");
    expect(page.html).toContain("zed");
    expect(await h.store.getClient(refused)).toBeUndefined();

    // Not what /register issues: a confidential client's metadata, a corrupt id, keys out of canonical order.
    const confidential = publicClientId({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "client_secret_post",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
    });
    const reordered = `mcp_m1_${deflateRawSync(
      JSON.stringify({
        token_endpoint_auth_method: "none",
        redirect_uris: [REDIRECT_URI],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      }),
    ).toString("base64url")}`;
    for (const clientId of [confidential, "mcp_m1_AAAA", "mcp_m1_not*base64", reordered]) {
      const unknown = await openConsent(h, { clientId });
      expect(unknown.status, clientId).toBe(400);
      expect(unknown.html).toContain("register again");
      expect(await h.store.getClient(clientId)).toBeUndefined();
    }
  });

  it("are renewed only at /authorize, and only from the one encoding of a deflate stream", async () => {
    // A lapsed client holds no code or refresh token, so /token and /revoke have nothing to renew for; renewing
    // there would store a registration per request at their per-IP limit, far above /register's.
    const metadata = {
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none" as const,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      client_name: "Never registered",
    };
    const issued = publicClientId(metadata);
    const json = JSON.stringify(metadata, Object.keys(metadata).sort());
    const before = (await clientKeys()).length;
    const variants = [
      issued,
      // Bytes after the end of the deflate stream, which inflate ignores.
      `mcp_m1_${Buffer.concat([deflateRawSync(json, { level: 9 }), Buffer.from("x")]).toString("base64url")}`,
    ];
    for (const clientId of variants) {
      const token = await tokenRequest(h, {
        grant_type: "refresh_token",
        client_id: clientId,
        refresh_token: "gr_x.y",
      });
      expect(token.status, clientId).toBe(401);
      expect(token.body.error).toBe("invalid_client");
      const revoke = await fetch(`${h.url}/revoke`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ client_id: clientId, token: "gr_x.y" }),
      });
      expect(revoke.status).toBe(401);
    }
    expect((await clientKeys()).length).toBe(before);
    expect(await h.store.getClient(issued)).toBeUndefined();

    const garbage = variants[1] as string;
    expect((await openConsent(h, { clientId: garbage })).status).toBe(400);
    expect(await h.store.getClient(garbage)).toBeUndefined();
    expect((await openConsent(h, { clientId: issued })).status).toBe(200);
    expect((await clientKeys()).length).toBe(before + 1);
  });

  it("confidential ones are never shared: identical ones get their own client_id and secret", async () => {
    const metadata = { client_name: "ChatGPT", token_endpoint_auth_method: "client_secret_basic" };
    const [one, two] = [await registerClient(h, metadata), await registerClient(h, metadata)];
    expect(one.clientId).not.toBe(two.clientId);
    expect(one.secret).not.toBe(two.secret);
    expect(await ttlOf(one.clientId)).toBeGreaterThan(0);
    expect(await ttlOf(two.clientId)).toBeGreaterThan(0);
  });
});
