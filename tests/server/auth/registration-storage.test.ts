/**
 * What registering costs (issue 9, item 4): every registration is pending until a sign-in completes with it and
 * disappears after PENDING_REGISTRATION_TTL_HOURS otherwise; identical public registrations share one record.
 * Real router, real Redis TokenStore (its keys carry the deadline as a TTL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

  it("are gone after the deadline: /authorize says to register again, and registering again works", async () => {
    const metadata = { client_name: "Left alone", redirect_uris: ["http://127.0.0.1:9/callback"] };
    const { clientId } = await registerClient(h, metadata);
    expect((await openConsent(h, { clientId })).status).toBe(200);
    await h.redis.pexpire(store.keyOf("client", clientId), 1); // the deadline passes
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await h.store.getClient(clientId)).toBeUndefined();
    const gone = await openConsent(h, { clientId });
    expect(gone.status).toBe(400);
    expect(gone.html).toContain("register again");
    const again = await registerClient(h, metadata);
    expect(again.clientId).toBe(clientId);
    expect((await openConsent(h, { clientId })).status).toBe(200);
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
