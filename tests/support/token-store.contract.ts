/**
 * The one contract every TokenStore honours, run against each implementation (redis-token-store.test.ts,
 * firestore-token-store.test.ts). Each test uses fresh random ids, so the tests of one store share a namespace.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenCipher } from "../../src/shared/tokens/cipher.ts";
import type { AirtableAccount, Grant, RegisteredClient, TokenStore } from "../../src/shared/tokens/types.ts";

export interface ContractTarget {
  store: TokenStore;
  /** The record as it sits in the backend (raw Redis value / Firestore document), as text. */
  readRaw(kind: "account" | "client" | "grant", id: string): Promise<string | undefined>;
}

export interface ContractOptions {
  /**
   * Whether concurrent transactions are isolated by the backend. The npm Firestore emulator does not isolate
   * them, so the concurrent-rotation test is skipped there (Redis and real Firestore run it).
   */
  isolatesTransactions: boolean;
}

/**
 * Builds a store on the same backend namespace each time, encrypting with the given cipher; `now` (epoch ms)
 * is the store's clock when given.
 */
export type ContractFactory = (cipher: TokenCipher, now?: () => number) => Promise<ContractTarget>;

const id = (prefix: string): string => `${prefix}${randomBytes(8).toString("hex")}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

function account(userId: string, now = Date.now()): AirtableAccount {
  return {
    userId,
    email: `${userId}@example.com`,
    tokens: {
      accessToken: `oaa-${randomBytes(24).toString("hex")}`,
      refreshToken: `oar-${randomBytes(24).toString("hex")}`,
      accessTokenExpiresAt: now + 3_600_000,
      refreshTokenExpiresAt: now + 60 * 86_400_000,
      scopes: ["data.records:read", "schema.bases:read"],
    },
    updatedAt: now,
  };
}

function grant(userId: string, overrides: Partial<Grant> = {}): Grant {
  const now = Date.now();
  return {
    grantId: id("grt"),
    userId,
    clientId: id("cli"),
    scopes: ["records:read", "schema:read"],
    resource: "https://mcp.example.com/mcp",
    refreshTokenHash: sha(randomBytes(16).toString("hex")),
    generation: 0,
    createdAt: now,
    expiresAt: now + 90 * 86_400_000,
    ...overrides,
  };
}

export function tokenStoreContract(name: string, factory: ContractFactory, options: ContractOptions): void {
  describe(`TokenStore contract: ${name}`, () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    let target: ContractTarget;
    let store: TokenStore;
    const extra: ContractTarget[] = [];

    beforeAll(async () => {
      target = await factory(TokenCipher.create(keyA));
      store = target.store;
    });
    afterAll(async () => {
      for (const t of [target, ...extra]) await t?.store.close();
    });

    it("round-trips Airtable accounts, encrypted at rest, and deletes them", async () => {
      const acc = account(id("usr"));
      expect(await store.getAirtableAccount(acc.userId)).toBeUndefined();
      await store.putAirtableAccount(acc);
      expect(await store.getAirtableAccount(acc.userId)).toEqual(acc);

      const raw = await target.readRaw("account", acc.userId);
      expect(raw).toBeDefined();
      expect(raw).toContain(acc.userId); // the record is there…
      expect(raw).not.toContain(acc.tokens.accessToken); // …but its tokens are not readable
      expect(raw).not.toContain(acc.tokens.refreshToken);
      expect(raw).not.toContain("data.records:read");

      const replaced = account(acc.userId);
      delete replaced.email; // optional fields may be absent
      await store.putAirtableAccount(replaced);
      expect(await store.getAirtableAccount(acc.userId)).toEqual(replaced);
      await store.deleteAirtableAccount(acc.userId);
      expect(await store.getAirtableAccount(acc.userId)).toBeUndefined();
      await store.deleteAirtableAccount(acc.userId); // deleting twice is fine
    });

    it("reads accounts written before a key rotation and writes new ones with the new key", async () => {
      const acc = account(id("usr"));
      await store.putAirtableAccount(acc);
      const rotated = await factory(TokenCipher.create(keyB, keyA));
      extra.push(rotated);
      expect(await rotated.store.getAirtableAccount(acc.userId)).toEqual(acc);
      const next = account(acc.userId);
      await rotated.store.putAirtableAccount(next);
      expect(await rotated.store.getAirtableAccount(acc.userId)).toEqual(next);
      // The old key alone can no longer read it: it really was re-encrypted with the new key.
      await expect(store.getAirtableAccount(acc.userId)).rejects.toThrow(/TOKEN_ENCRYPTION_KEY/);
      await store.deleteAirtableAccount(acc.userId);
    });

    it("round-trips DCR clients with their secret encrypted at rest, and public clients", async () => {
      const confidential: RegisteredClient = {
        client_id: id("cli"),
        client_secret: `sec-${randomBytes(24).toString("hex")}`,
        client_id_issued_at: 1_700_000_000,
        client_secret_expires_at: 0,
        redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
        client_name: "Claude",
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        scope: "records:read",
      };
      const publicClient: RegisteredClient = {
        client_id: id("cli"),
        client_id_issued_at: 1_700_000_001,
        redirect_uris: ["http://127.0.0.1:33418/callback"],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code"],
        response_types: ["code"],
      };
      expect(await store.getClient(confidential.client_id)).toBeUndefined();
      await store.putClient(confidential);
      await store.putClient(publicClient);
      expect(await store.getClient(confidential.client_id)).toEqual(confidential);
      expect(await store.getClient(publicClient.client_id)).toEqual(publicClient);
      const raw = await target.readRaw("client", confidential.client_id);
      expect(raw).toContain("claude.ai");
      expect(raw).not.toContain(confidential.client_secret);
    });

    it("re-seals a DCR client read after a key rotation, so it outlives the previous key; a pending one keeps its deadline", async () => {
      const client = (clientId: string): RegisteredClient => ({
        client_id: clientId,
        client_secret: `sec-${randomBytes(24).toString("hex")}`,
        client_id_issued_at: 1_700_000_000,
        client_secret_expires_at: 0,
        redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
        token_endpoint_auth_method: "client_secret_post",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      });
      const permanent = client(id("cli"));
      const pending = client(id("mcp_"));
      await store.putClient(permanent);
      await store.putPendingClient(pending, Date.now() + 1_500);
      const rotated = await factory(TokenCipher.create(keyB, keyA)); // the rotation window
      const newKeyOnly = await factory(TokenCipher.create(keyB)); // TOKEN_ENCRYPTION_KEY_PREVIOUS dropped
      extra.push(rotated, newKeyOnly);
      const before = await target.readRaw("client", permanent.client_id);
      expect(await rotated.store.getClient(permanent.client_id)).toEqual(permanent);
      expect(await rotated.store.getClient(pending.client_id)).toEqual(pending);
      expect(await target.readRaw("client", permanent.client_id)).not.toEqual(before); // written again
      // Read once in the window, each is readable with the new key alone; the old key alone no longer reads it.
      expect(await newKeyOnly.store.getClient(permanent.client_id)).toEqual(permanent);
      expect(await newKeyOnly.store.getClient(pending.client_id)).toEqual(pending);
      await expect(store.getClient(permanent.client_id)).rejects.toThrow(/TOKEN_ENCRYPTION_KEY/);
      // Reading it again under the new key writes nothing more.
      const after = await target.readRaw("client", permanent.client_id);
      await newKeyOnly.store.getClient(permanent.client_id);
      expect(await target.readRaw("client", permanent.client_id)).toEqual(after);
      // Re-sealing did not make the pending registration permanent.
      await sleep(1_700);
      expect(await newKeyOnly.store.getClient(pending.client_id)).toBeUndefined();
    });

    it("round-trips grants, which hold only the refresh token's hash", async () => {
      const g = grant(id("usr"));
      expect(await store.getGrant(g.grantId)).toBeUndefined();
      await store.putGrant(g);
      expect(await store.getGrant(g.grantId)).toEqual(g);
      const raw = await target.readRaw("grant", g.grantId);
      expect(raw).toContain(g.refreshTokenHash);
    });

    it("rotates the refresh token hash when the expected hash is current, refuses a stale one", async () => {
      const g = grant(id("usr"));
      await store.putGrant(g);
      const h1 = sha("second");
      const before = Date.now();
      const first = await store.rotateRefreshToken(g.grantId, g.refreshTokenHash, h1);
      // The replaced hash is kept with the time of its first use (the start of its reuse grace window).
      const rotated = {
        ...g,
        refreshTokenHash: h1,
        generation: 1,
        previousRefreshTokenHash: g.refreshTokenHash,
        previousUsedAt: expect.any(Number),
      };
      expect(first).toEqual({ ok: true, grant: rotated, reused: false });
      expect(await store.getGrant(g.grantId)).toEqual(rotated);
      expect((await store.getGrant(g.grantId))?.previousUsedAt).toBeGreaterThanOrEqual(before);
      expect((await store.getGrant(g.grantId))?.previousUsedAt).toBeLessThanOrEqual(Date.now());

      // The old hash again = a replayed refresh token.
      expect(await store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("third"))).toEqual({
        ok: false,
        reason: "stale",
      });
      expect((await store.getGrant(g.grantId))?.refreshTokenHash).toBe(h1);
      const h2 = sha("third");
      expect(await store.rotateRefreshToken(g.grantId, h1, h2)).toMatchObject({ ok: true, grant: { generation: 2 } });
      expect(await store.rotateRefreshToken(id("grt"), h2, sha("x"))).toEqual({ ok: false, reason: "not_found" });
    });

    it("revokes grants: rotation then answers revoked, and the first reason stays", async () => {
      const g = grant(id("usr"));
      await store.putGrant(g);
      await store.revokeGrant(g.grantId, "refresh token reuse");
      const revoked = await store.getGrant(g.grantId);
      expect(revoked?.revokedReason).toBe("refresh token reuse");
      expect(revoked?.revokedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(await store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("n"))).toEqual({
        ok: false,
        reason: "revoked",
      });
      await store.revokeGrant(g.grantId, "user signed out");
      expect((await store.getGrant(g.grantId))?.revokedReason).toBe("refresh token reuse");
      await store.revokeGrant(id("grt"), "unknown grant"); // no error, and nothing created
    });

    it("treats expired grants as gone: getGrant undefined, rotation expired", async () => {
      const g = grant(id("usr"), { expiresAt: Date.now() - 1_000, createdAt: Date.now() - 90_000 });
      await store.putGrant(g);
      expect(await store.getGrant(g.grantId)).toBeUndefined();
      expect(await store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("n"))).toEqual({
        ok: false,
        reason: "expired",
      });
      expect(await store.listGrantsForUser(g.userId)).toEqual([]);
    });

    it.runIf(options.isolatesTransactions)(
      "lets exactly one of 20 concurrent rotations with the same expected hash win",
      async () => {
        const g = grant(id("usr"));
        await store.putGrant(g);
        const next = Array.from({ length: 20 }, (_, i) => sha(`candidate-${i}`));
        const results = await Promise.all(next.map((h) => store.rotateRefreshToken(g.grantId, g.refreshTokenHash, h)));
        const winners = results.flatMap((r, i) => (r.ok ? [next[i]] : []));
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => !r.ok).map((r) => (r.ok ? "" : r.reason))).toEqual(Array(19).fill("stale"));
        expect(await store.getGrant(g.grantId)).toMatchObject({ refreshTokenHash: winners[0], generation: 1 });
      },
    );

    it("answers the replaced hash within its grace window as a reuse, without rotating; stale after it", async () => {
      let now = Date.now();
      const timed = await factory(TokenCipher.create(keyA), () => now);
      extra.push(timed);
      const g = grant(id("usr"));
      await timed.store.putGrant(g);
      const h1 = sha("h1");
      const usedAt = now;
      expect(
        await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, h1, { reuseGraceMs: 60_000 }),
      ).toMatchObject({ ok: true, reused: false, grant: { refreshTokenHash: h1, generation: 1 } });

      // Twice more within the window (the window runs from the FIRST use: reuses do not extend it).
      for (const after of [1_000, 59_000]) {
        now = usedAt + after;
        const again = await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("other"), {
          reuseGraceMs: 60_000,
        });
        expect(again).toEqual({
          ok: true,
          reused: true,
          grant: {
            ...g,
            refreshTokenHash: h1,
            generation: 1,
            previousRefreshTokenHash: g.refreshTokenHash,
            previousUsedAt: usedAt,
          },
        });
      }
      now = usedAt + 60_001;
      expect(
        await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("late"), { reuseGraceMs: 60_000 }),
      ).toEqual({ ok: false, reason: "stale" });
      // Without a grace window the replaced hash is stale at once.
      now = usedAt + 1;
      expect(await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("strict"))).toEqual({
        ok: false,
        reason: "stale",
      });
      expect(await timed.store.getGrant(g.grantId)).toMatchObject({ refreshTokenHash: h1, generation: 1 });

      // Once the chain moves on, the hash two steps back is stale even within its window.
      const h2 = sha("h2");
      expect(await timed.store.rotateRefreshToken(g.grantId, h1, h2, { reuseGraceMs: 60_000 })).toMatchObject({
        ok: true,
        reused: false,
        grant: { previousRefreshTokenHash: h1, previousUsedAt: usedAt + 1, generation: 2 },
      });
      expect(
        await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("x"), { reuseGraceMs: 60_000 }),
      ).toEqual({ ok: false, reason: "stale" });
      // A hash never issued is stale too.
      expect(await timed.store.rotateRefreshToken(g.grantId, sha("never"), sha("y"), { reuseGraceMs: 60_000 })).toEqual(
        { ok: false, reason: "stale" },
      );
    });

    it("renews expiresAt on every successful use (sliding lifetime); a lapsed grant answers expired", async () => {
      let now = Date.now();
      const timed = await factory(TokenCipher.create(keyA), () => now);
      extra.push(timed);
      const day = 86_400_000;
      const g = grant(id("usr"), { createdAt: now, expiresAt: now + 30 * day });
      await timed.store.putGrant(g);
      now += 20 * day;
      const h1 = sha("h1");
      const rotated = await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, h1, {
        reuseGraceMs: 60_000,
        expiresAt: now + 30 * day,
      });
      expect(rotated).toMatchObject({ ok: true, grant: { expiresAt: now + 30 * day } });
      expect((await timed.store.getGrant(g.grantId))?.expiresAt).toBe(now + 30 * day);
      // A reuse within the window renews it too.
      now += 1_000;
      expect(
        await timed.store.rotateRefreshToken(g.grantId, g.refreshTokenHash, sha("n"), {
          reuseGraceMs: 60_000,
          expiresAt: now + 30 * day,
        }),
      ).toMatchObject({ ok: true, reused: true, grant: { expiresAt: now + 30 * day } });
      // Past the renewed end (50 days after creation: the original 30 would have ended long before) it is gone.
      now += 29 * day;
      expect(await timed.store.getGrant(g.grantId)).toMatchObject({ refreshTokenHash: h1 });
      now += 2 * day;
      expect(await timed.store.getGrant(g.grantId)).toBeUndefined();
      expect(await timed.store.rotateRefreshToken(g.grantId, h1, sha("m"), { expiresAt: now + day })).toEqual({
        ok: false,
        reason: "expired",
      });
      expect(await timed.store.listGrantsForUser(g.userId)).toEqual([]);
    });

    it.runIf(options.isolatesTransactions)(
      "lets 20 concurrent uses of one token that derive one successor all succeed: one rotation, 19 reuses",
      async () => {
        const g = grant(id("usr"));
        await store.putGrant(g);
        const successor = sha("deterministic successor");
        const results = await Promise.all(
          Array.from({ length: 20 }, () =>
            store.rotateRefreshToken(g.grantId, g.refreshTokenHash, successor, { reuseGraceMs: 60_000 }),
          ),
        );
        expect(results.every((r) => r.ok && r.grant.refreshTokenHash === successor)).toBe(true);
        expect(results.filter((r) => r.ok && !r.reused)).toHaveLength(1);
        expect(await store.getGrant(g.grantId)).toMatchObject({ refreshTokenHash: successor, generation: 1 });
      },
    );

    it("keeps pending clients until their deadline; the same id again renews them and writes nothing new", async () => {
      const client: RegisteredClient = {
        client_id: id("mcp_"),
        client_id_issued_at: 1_700_000_000,
        redirect_uris: ["https://chatgpt.com/connector_platform_oauth_redirect"],
        client_name: "ChatGPT",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      };
      expect(await store.putPendingClient(client, Date.now() + 400)).toEqual({ client, created: true });
      expect(await store.getClient(client.client_id)).toEqual(client);
      // Registered again (a later issue time): the stored record is answered, with a new deadline.
      const again = await store.putPendingClient({ ...client, client_id_issued_at: 1_800_000_000 }, Date.now() + 1_500);
      expect(again).toEqual({ client, created: false });
      await sleep(600);
      expect(await store.getClient(client.client_id)).toEqual(client); // the first deadline has passed
      await sleep(1_100);
      expect(await store.getClient(client.client_id)).toBeUndefined(); // the renewed one too
      // Once lapsed, registering creates it afresh.
      const fresh = { ...client, client_id_issued_at: 1_900_000_000 };
      expect(await store.putPendingClient(fresh, Date.now() + 60_000)).toEqual({ client: fresh, created: true });
    });

    it("makes a pending client permanent on confirmation; a pending write never demotes a permanent one", async () => {
      const confidential: RegisteredClient = {
        client_id: id("mcp_"),
        client_secret: `sha256:${sha("secret")}`,
        client_secret_expires_at: 0,
        client_id_issued_at: 1_700_000_000,
        redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
        token_endpoint_auth_method: "client_secret_post",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      };
      await store.putPendingClient(confidential, Date.now() + 300);
      await store.confirmClient(confidential.client_id);
      await store.confirmClient(confidential.client_id); // twice is fine
      const permanent: RegisteredClient = { ...confidential, client_id: id("mcp_"), client_secret: undefined };
      delete permanent.client_secret;
      delete permanent.client_secret_expires_at;
      await store.putClient(permanent);
      expect(await store.putPendingClient({ ...permanent, client_name: "changed" }, Date.now() + 300)).toEqual({
        client: permanent,
        created: false,
      });
      await sleep(500);
      expect(await store.getClient(confidential.client_id)).toEqual(confidential);
      expect(await store.getClient(permanent.client_id)).toEqual(permanent);
      const raw = await target.readRaw("client", confidential.client_id);
      expect(raw).not.toContain(sha("secret")); // still encrypted at rest
      const unknown = id("mcp_");
      await store.confirmClient(unknown); // an unknown id (e.g. a metadata document URL): nothing happens
      expect(await store.getClient(unknown)).toBeUndefined();
      expect(await target.readRaw("client", unknown)).toBeUndefined();
    });

    it("lists a user's live grants (revoked included, expired and other users' not)", async () => {
      const userA = id("usr");
      const userB = id("usr");
      const now = Date.now();
      const a1 = grant(userA, { createdAt: now - 2_000 });
      const a2 = grant(userA, { createdAt: now - 1_000 });
      const aExpired = grant(userA, { createdAt: now - 3_000, expiresAt: now - 1 });
      const b1 = grant(userB);
      for (const g of [a2, aExpired, b1, a1]) await store.putGrant(g);
      await store.revokeGrant(a2.grantId, "test");
      const listed = await store.listGrantsForUser(userA);
      expect(listed.map((g) => g.grantId)).toEqual([a1.grantId, a2.grantId]);
      expect(listed[1]?.revokedReason).toBe("test");
      expect((await store.listGrantsForUser(userB)).map((g) => g.grantId)).toEqual([b1.grantId]);
      expect(await store.listGrantsForUser(id("usr"))).toEqual([]);
    });
  });
}
