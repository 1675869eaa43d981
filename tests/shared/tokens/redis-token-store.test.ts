import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startPrivateRedis } from "../../helpers/private-redis.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { failFastRedisOptions } from "../../../src/shared/redis-connection.ts";
import { isRedisUnavailable } from "../../../src/shared/redis-unavailable.ts";
import { configSchema } from "../../../src/shared/config.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { createTokenStore } from "../../../src/shared/tokens/index.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";
import { GRANT_GRACE_MS } from "../../../src/shared/tokens/sealed-records.ts";
import { tokenStoreContract } from "../../support/token-store.contract.ts";

const redis = createTestRedis();
const keyPrefix = uniquePrefix("token-store");
afterAll(async () => {
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

function keyOf(kind: "account" | "client" | "grant", id: string): string {
  return `${keyPrefix}:tokens:${kind}:${id}`;
}

tokenStoreContract(
  "redis",
  async (cipher, now) => ({
    store: new RedisTokenStore({ redis, cipher, keyPrefix, ...(now ? { now } : {}) }),
    async readRaw(kind, id) {
      if (kind === "grant") return JSON.stringify(await redis.hgetall(keyOf(kind, id)));
      return (await redis.get(keyOf(kind, id))) ?? undefined;
    },
  }),
  { isolatesTransactions: true },
);

describe("RedisTokenStore specifics", () => {
  it("is what createTokenStore picks by default, and keeps its keys under `${prefix}:tokens:`", async () => {
    const config = configSchema.parse({});
    const store = createTokenStore(config, { redis, cipher: TokenCipher.create(randomBytes(32)), keyPrefix });
    expect(store).toBeInstanceOf(RedisTokenStore);
    const now = Date.now();
    await store.putGrant({
      grantId: "grt-ttl",
      userId: "usr-ttl",
      clientId: "cli",
      scopes: ["records:read"],
      resource: "https://mcp.example.com/mcp",
      refreshTokenHash: "h",
      generation: 0,
      createdAt: now,
      expiresAt: now + 60_000,
    });
    // Grants expire by themselves (after a grace period that lets a late rotation learn "expired").
    const ttl = await redis.pttl(keyOf("grant", "grt-ttl"));
    expect(ttl).toBeGreaterThan(60_000 + GRANT_GRACE_MS - 5_000);
    expect(ttl).toBeLessThanOrEqual(60_000 + GRANT_GRACE_MS);
    expect(await redis.pttl(`${keyPrefix}:tokens:user-grants:usr-ttl`)).toBeGreaterThan(GRANT_GRACE_MS);
  });
});

describe("RedisTokenStore: sliding lifetimes and pending clients in Redis terms", () => {
  const store = new RedisTokenStore({ redis, cipher: TokenCipher.create(randomBytes(32)), keyPrefix });

  it("moves the grant's key expiry (and its user index's) with a renewed expiresAt", async () => {
    const now = Date.now();
    await store.putGrant({
      grantId: "grt-slide",
      userId: "usr-slide",
      clientId: "cli",
      scopes: ["records:read"],
      resource: "https://mcp.example.com/mcp",
      refreshTokenHash: "h0",
      generation: 0,
      createdAt: now,
      expiresAt: now + 60_000,
    });
    const later = now + 30 * 86_400_000;
    const result = await store.rotateRefreshToken("grt-slide", "h0", "h1", { reuseGraceMs: 60_000, expiresAt: later });
    expect(result).toMatchObject({ ok: true, grant: { expiresAt: later } });
    const ttl = await redis.pttl(keyOf("grant", "grt-slide"));
    expect(ttl).toBeGreaterThan(later + GRANT_GRACE_MS - now - 5_000);
    expect(await redis.pttl(`${keyPrefix}:tokens:user-grants:usr-slide`)).toBeGreaterThan(later - now);
  });

  it("reads grants written before expiresAt could change (expiresAt inside the data field too)", async () => {
    const now = Date.now();
    const data = {
      grantId: "grt-old",
      userId: "usr-old",
      clientId: "cli",
      scopes: ["records:read"],
      resource: "https://mcp.example.com/mcp",
      createdAt: now,
      expiresAt: now + 60_000,
    };
    await redis.hset(keyOf("grant", "grt-old"), {
      data: JSON.stringify(data),
      refreshTokenHash: "h0",
      generation: "3",
      expiresAt: String(now + 60_000),
    });
    expect(await store.getGrant("grt-old")).toEqual({ ...data, refreshTokenHash: "h0", generation: 3 });
    const rotated = await store.rotateRefreshToken("grt-old", "h0", "h1", { expiresAt: now + 120_000 });
    expect(rotated).toMatchObject({ ok: true, grant: { expiresAt: now + 120_000, previousRefreshTokenHash: "h0" } });
  });

  it("keeps a pending client as a key with a TTL, and a confirmed one without", async () => {
    const client = {
      client_id: "mcp_pending_ttl",
      client_id_issued_at: 1,
      redirect_uris: ["http://127.0.0.1/callback"],
      token_endpoint_auth_method: "none" as const,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    };
    await store.putPendingClient(client, Date.now() + 24 * 3600_000);
    const ttl = await redis.pttl(keyOf("client", client.client_id));
    expect(ttl).toBeGreaterThan(24 * 3600_000 - 5_000);
    await store.confirmClient(client.client_id);
    expect(await redis.pttl(keyOf("client", client.client_id))).toBe(-1);
  });
});

describe("RedisTokenStore: a rotation Redis runs late, after a stall", () => {
  it("counts the reuse window from when Redis ran it: the client's retry after the outage is a reuse, not a replay", async () => {
    // A redis-server of this test's own, stopped (SIGSTOP) while the refresh's rotation is on its way: the server
    // answers the client 503 after REDIS_COMMAND_TIMEOUT_MS, and Redis runs the rotation when it answers again.
    const own = await startPrivateRedis();
    const conn = new Redis(own.url, failFastRedisOptions(300));
    conn.on("error", () => undefined);
    try {
      if (conn.status !== "ready") await once(conn, "ready");
      const store = new RedisTokenStore({ redis: conn, cipher: TokenCipher.create(randomBytes(32)), keyPrefix });
      const now = Date.now();
      await store.putGrant({
        grantId: "grt-late",
        userId: "usr-late",
        clientId: "cli",
        scopes: ["records:read"],
        resource: "https://mcp.example.com/mcp",
        refreshTokenHash: "h0",
        generation: 0,
        createdAt: now,
        expiresAt: now + 86_400_000,
      });
      let failure: unknown;
      own.stall();
      try {
        failure = await store.rotateRefreshToken("grt-late", "h0", "h1", { reuseGraceMs: 2_000 }).catch((e) => e);
        // The outage lasts longer than the reuse window (and than LATE_ROTATION_MS).
        await new Promise((resolve) => setTimeout(resolve, 3_200));
      } finally {
        own.resume();
      }
      expect(isRedisUnavailable(failure), String(failure)).toBe(true); // what the client got: 503, keep the token
      // The client tries again with the same refresh token once the service answers.
      expect(await store.rotateRefreshToken("grt-late", "h0", "h1", { reuseGraceMs: 2_000 })).toMatchObject({
        ok: true,
        reused: true,
      });
    } finally {
      conn.disconnect();
      await own.stop();
    }
  });
});
