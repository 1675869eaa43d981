/**
 * Airtable refresh tokens are single-use: once a refresh answered, the token stored before is dead, so the rotated
 * tokens must reach the store or the user is signed out at the next refresh. The server's Redis connection fails
 * fast and does not resend (src/shared/redis-connection.ts), so a Redis restart right after Airtable answered used
 * to lose the write. Real sandbox OAuth, real Redis behind a TCP proxy that drops every connection at that moment
 * and comes back 600 ms later, the server's fail-fast connection options.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { signIn, TEST_REDIRECT_URI } from "../../fixtures/airtable-sign-in.ts";
import { deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startRedisProxy, type RedisProxy } from "../../e2e/helpers/redis-proxy.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableOAuth } from "../../../src/shared/airtable/oauth.ts";
import { RedisKeyValueStore } from "../../../src/shared/kv/redis-key-value-store.ts";
import { failFastRedisOptions } from "../../../src/shared/redis-connection.ts";
import { AirtableTokenProvider } from "../../../src/shared/tokens/airtable-token-provider.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";

const CLIENT = { clientId: "mcp-server", clientSecret: "server-secret" };
const keyPrefix = uniquePrefix("rotated-tokens");
const cipher = TokenCipher.create(randomBytes(32));
let sandbox: Sandbox;
let proxy: RedisProxy;
let direct: Redis;
let failFast: Redis;

beforeAll(async () => {
  sandbox = await startSandbox({ oauthClients: [{ ...CLIENT, redirectUris: [TEST_REDIRECT_URI] }] });
  proxy = await startRedisProxy(testRedisUrl());
  direct = new Redis(testRedisUrl());
  failFast = new Redis(proxy.url, failFastRedisOptions(500));
  failFast.on("error", () => undefined); // the drop below is on purpose
});
afterAll(async () => {
  failFast.disconnect();
  await proxy.close();
  await deleteKeys(direct, keyPrefix);
  direct.disconnect();
  await sandbox.close();
});

/** The real client, and Redis restarting (every connection dropped, back 600 ms later) as Airtable answers. */
class RestartAfterRefresh extends AirtableOAuth {
  override async refresh(refreshToken: string) {
    const tokens = await super.refresh(refreshToken);
    await proxy.down();
    setTimeout(() => void proxy.up(), 600);
    return tokens;
  }
}

it("tokens Airtable rotated are stored even when Redis restarts right after it answered", async () => {
  const oauth = new AirtableOAuth({ authUrl: sandbox.url, ...CLIENT });
  const user = sandbox.addUser({ email: `${randomBytes(6).toString("hex")}@example.com` });
  const tokens = await signIn(oauth, user.id);
  const plainStore = new RedisTokenStore({ redis: direct, cipher, keyPrefix });
  await plainStore.putAirtableAccount({
    userId: user.id,
    tokens: { ...tokens, accessTokenExpiresAt: Date.now() - 1 },
    updatedAt: Date.now(),
  });

  const provider = new AirtableTokenProvider({
    store: new RedisTokenStore({ redis: failFast, cipher, keyPrefix }),
    oauth: new RestartAfterRefresh({ authUrl: sandbox.url, ...CLIENT }),
    locks: new RedisKeyValueStore(failFast),
    keyPrefix,
  });
  const accessToken = await provider.getAccessToken(user.id);
  expect(accessToken).not.toBe(tokens.accessToken);

  // What the store holds is the rotated set, whose refresh token is the live one: the next refresh works.
  const stored = await plainStore.getAirtableAccount(user.id);
  expect(stored?.tokens.accessToken).toBe(accessToken);
  expect(stored?.tokens.refreshToken).not.toBe(tokens.refreshToken);
  await expect(oauth.refresh(stored!.tokens.refreshToken)).resolves.toMatchObject({ accessToken: expect.any(String) });
});
