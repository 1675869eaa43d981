import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import {
  DECRYPTED_BLOB_TTL_MS,
  DECRYPTED_BLOBS_MAX,
  TokenCipher,
  TokenDecryptError,
} from "../../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";
import type { AirtableAccount } from "../../../src/shared/tokens/types.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";

/**
 * TokenCipher remembers blobs it decrypted (cipher.ts #decrypted), so a tool call does not decrypt the caller's
 * sealed Airtable account again. What must still hold: after a refresh (by any process) the new Airtable token is
 * the one used, a tampered blob never decrypts, and memory stays bounded.
 */
const redis = createTestRedis();
const prefix = uniquePrefix("decrypt-cache");
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});
afterEach(() => {
  vi.useRealTimers();
});

const key = randomBytes(32);
const account = (accessToken: string): AirtableAccount => ({
  userId: "usrCache",
  tokens: {
    accessToken,
    refreshToken: `refresh-${accessToken}`,
    accessTokenExpiresAt: Date.now() + 3_600_000,
    scopes: ["data.records:read"],
  },
  updatedAt: Date.now(),
});

describe("decrypted Airtable tokens are remembered, and a rotated token is used at once", () => {
  it("a token refreshed by another process is what this process reads next, although it read the old one", async () => {
    // Two processes: each its own TokenCipher (own memory) over the same Redis and key.
    const here = new RedisTokenStore({ redis, cipher: TokenCipher.create(key), keyPrefix: prefix });
    const there = new RedisTokenStore({ redis, cipher: TokenCipher.create(key), keyPrefix: prefix });
    await there.putAirtableAccount(account("token-1"));
    expect((await here.getAirtableAccount("usrCache"))?.tokens.accessToken).toBe("token-1");
    expect((await here.getAirtableAccount("usrCache"))?.tokens.accessToken).toBe("token-1");
    await there.putAirtableAccount(account("token-2")); // the refresh, elsewhere
    expect((await here.getAirtableAccount("usrCache"))?.tokens.accessToken).toBe("token-2");
    await here.putAirtableAccount(account("token-3")); // and here
    expect((await here.getAirtableAccount("usrCache"))?.tokens.accessToken).toBe("token-3");
    expect((await there.getAirtableAccount("usrCache"))?.tokens.accessToken).toBe("token-3");
  });

  it("a tampered copy of a blob it decrypted before is still refused", () => {
    const cipher = TokenCipher.create(key);
    const blob = cipher.encrypt("secret", "ctx");
    expect(cipher.decrypt(blob, "ctx")).toBe("secret");
    const parts = blob.split(".");
    const data = Buffer.from(parts[4]!, "base64url");
    data[0] = data[0]! ^ 1;
    parts[4] = data.toString("base64url");
    expect(() => cipher.decrypt(parts.join("."), "ctx")).toThrow(TokenDecryptError);
    // The same blob under another record's context (a copied blob) is refused too.
    expect(() => cipher.decrypt(blob, "other")).toThrow(TokenDecryptError);
  });

  it("forgets a decrypted blob after 10 minutes, even one that is never read again (a signed-out user's)", () => {
    vi.useFakeTimers({ toFake: ["performance"] });
    const cipher = TokenCipher.create(key);
    const signedOut = cipher.encrypt("signed-out user's token", "usrGone");
    const active = cipher.encrypt("active user's token", "usrHere");
    cipher.decrypt(signedOut, "usrGone");
    cipher.decrypt(active, "usrHere");
    expect(cipher.decryptedCount).toBe(2);
    vi.advanceTimersByTime(DECRYPTED_BLOB_TTL_MS - 1);
    cipher.decrypt(active, "usrHere"); // still remembered: nothing expired yet
    expect(cipher.decryptedCount).toBe(2);
    vi.advanceTimersByTime(1);
    cipher.decrypt(active, "usrHere"); // both expired; only the one read again is back
    expect(cipher.decryptedCount).toBe(1);
    expect(cipher.decrypt(signedOut, "usrGone")).toBe("signed-out user's token");
  });

  it(`remembers at most ${DECRYPTED_BLOBS_MAX} blobs`, () => {
    const cipher = TokenCipher.create(key);
    const blobs = Array.from({ length: DECRYPTED_BLOBS_MAX + 50 }, (_, i) => cipher.encrypt(`p${i}`));
    for (const b of blobs) cipher.decrypt(b);
    expect(cipher.decryptedCount).toBe(DECRYPTED_BLOBS_MAX);
    expect(cipher.decrypt(blobs[0]!)).toBe("p0");
  });
});
