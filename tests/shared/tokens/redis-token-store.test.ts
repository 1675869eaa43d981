import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
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
  async (cipher) => ({
    store: new RedisTokenStore({ redis, cipher, keyPrefix }),
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
