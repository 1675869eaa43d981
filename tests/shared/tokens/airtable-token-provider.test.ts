import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn, TEST_REDIRECT_URI } from "../../fixtures/airtable-sign-in.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { AirtableOAuth, AirtableOAuthError } from "../../../src/shared/airtable/oauth.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import {
  AirtableReauthRequiredError,
  AirtableTokenProvider,
  AirtableTokenUnavailableError,
  type AirtableTokenProviderOptions,
} from "../../../src/shared/tokens/airtable-token-provider.ts";
import { RedisKeyValueStore } from "../../../src/shared/kv/redis-key-value-store.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";
import type { AirtableAccount, AirtableTokenSet } from "../../../src/shared/tokens/types.ts";

const CLIENT = { clientId: "mcp-server", clientSecret: "server-secret" };
const redis = createTestRedis();
const keyPrefix = uniquePrefix("token-provider");
const encryptionKey = randomBytes(32);
const store = new RedisTokenStore({ redis, cipher: TokenCipher.create(encryptionKey), keyPrefix });
let sandbox: Sandbox;
let oauth: AirtableOAuth;

beforeAll(async () => {
  sandbox = await startSandbox({
    oauthClients: [{ ...CLIENT, redirectUris: [TEST_REDIRECT_URI] }],
  });
  oauth = new AirtableOAuth({ authUrl: sandbox.url, ...CLIENT });
});
afterAll(async () => {
  await sandbox.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

/** A signed-in sandbox user whose stored Airtable access token has (or has not) expired. */
async function signedInUser(opts: { expired: boolean }): Promise<{ userId: string; tokens: AirtableTokenSet }> {
  const user = sandbox.addUser({ email: `${randomBytes(6).toString("hex")}@example.com` });
  const tokens = await signIn(oauth, user.id);
  if (opts.expired) sandbox.expireAccessTokens(user.id);
  const stored = { ...tokens, accessTokenExpiresAt: opts.expired ? Date.now() - 1 : tokens.accessTokenExpiresAt };
  await store.putAirtableAccount({ userId: user.id, tokens: stored, updatedAt: Date.now() });
  return { userId: user.id, tokens: stored };
}

function provider(opts: Partial<AirtableTokenProviderOptions> = {}): AirtableTokenProvider {
  return new AirtableTokenProvider({ store, oauth, locks: new RedisKeyValueStore(redis), keyPrefix, ...opts });
}

async function whoamiStatus(token: string): Promise<number> {
  const res = await fetch(`${sandbox.url}/v0/meta/whoami`, { headers: { authorization: `Bearer ${token}` } });
  await res.body?.cancel();
  return res.status;
}

const lockKey = (userId: string): string => `${keyPrefix}:tokens:refresh-lock:${userId}`;

function startWorker(userId: string, calls: number): { child: ChildProcessWithoutNullStreams; lines: string[] } {
  const script = fileURLToPath(new URL("../../fixtures/token-refresh-worker.ts", import.meta.url));
  const child = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      REDIS_URL: testRedisUrl(),
      KEY_PREFIX: keyPrefix,
      AUTH_URL: sandbox.url,
      CLIENT_ID: CLIENT.clientId,
      CLIENT_SECRET: CLIENT.clientSecret,
      ENCRYPTION_KEY: encryptionKey.toString("hex"),
      USER_ID: userId,
      CALLS: String(calls),
    },
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
  child.stderr.on("data", (chunk: Buffer) => process.stderr.write(chunk));
  return { child, lines };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("AirtableTokenProvider", () => {
  it("50 concurrent calls across two OS processes with an expired token: one refresh, one new token for all", async () => {
    const { userId, tokens: old } = await signedInUser({ expired: true });
    const refreshesBefore = sandbox.refreshCount();
    const workers = [startWorker(userId, 25), startWorker(userId, 25)];
    const exited = workers.map(
      ({ child }) => new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code))),
    );
    await waitFor(() => workers.every((w) => w.lines.includes("ready")), "both workers to connect");
    for (const { child } of workers) child.stdin.write("go\n");
    expect(await Promise.all(exited)).toEqual([0, 0]);

    const results = workers.map((w) => JSON.parse(w.lines.at(-1) as string) as { tokens: string[]; errors: string[] });
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = results.flatMap((r) => r.tokens);
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(1);
    expect(sandbox.refreshCount() - refreshesBefore).toBe(1);
    const fresh = all[0] as string;
    expect(fresh).not.toBe(old.accessToken);
    expect(await whoamiStatus(fresh)).toBe(200);

    // (b) The store holds the rotated tokens: the new access token, and a new refresh token that is the live one.
    const account = await store.getAirtableAccount(userId);
    expect(account?.tokens.accessToken).toBe(fresh);
    expect(account?.tokens.accessTokenExpiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    expect(account?.tokens.refreshToken).not.toBe(old.refreshToken);
    await expect(oauth.refresh(old.refreshToken)).rejects.toMatchObject({ error: "invalid_grant" });
    await expect(oauth.refresh(account?.tokens.refreshToken as string)).resolves.toMatchObject({
      accessToken: expect.any(String),
    });
    expect(await redis.exists(lockKey(userId))).toBe(0); // released
  });

  it("serves a fresh token from the store without refreshing", async () => {
    const { userId, tokens } = await signedInUser({ expired: false });
    const before = sandbox.refreshCount();
    const tokensSeen = await Promise.all(Array.from({ length: 10 }, () => provider().getAccessToken(userId)));
    expect(new Set(tokensSeen)).toEqual(new Set([tokens.accessToken]));
    expect(sandbox.refreshCount()).toBe(before);
  });

  it("refreshes within refreshSkewMs of expiry", async () => {
    const { userId, tokens } = await signedInUser({ expired: false });
    await store.putAirtableAccount({
      userId,
      tokens: { ...tokens, accessTokenExpiresAt: Date.now() + 30_000 },
      updatedAt: Date.now(),
    });
    const before = sandbox.refreshCount();
    expect(await provider({ refreshSkewMs: 10_000 }).getAccessToken(userId)).toBe(tokens.accessToken);
    const refreshed = await provider({ refreshSkewMs: 60_000 }).getAccessToken(userId);
    expect(refreshed).not.toBe(tokens.accessToken);
    expect(sandbox.refreshCount()).toBe(before + 1);
  });

  it("getAccess answers the token with its sign-in's Airtable scopes, before and after a refresh", async () => {
    const { userId, tokens } = await signedInUser({ expired: false });
    expect(tokens.scopes.length).toBeGreaterThan(0);
    expect(await provider().getAccess(userId)).toEqual({ accessToken: tokens.accessToken, scopes: tokens.scopes });
    const refreshed = await provider().getAccess(userId, tokens.accessToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.scopes).toEqual(tokens.scopes);
  });

  it("invalid_grant: deletes the account, logs it, and fails fast with AirtableReauthRequiredError", async () => {
    const { userId, tokens } = await signedInUser({ expired: true });
    await oauth.refresh(tokens.refreshToken); // used once outside: ours is now consumed
    const before = sandbox.refreshCount();
    const logLines: string[] = [];
    const logger = createLogger(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString("utf8"));
          done();
        },
      }),
    );
    const p = provider({ logger });
    const error = await p.getAccessToken(userId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AirtableReauthRequiredError);
    expect((error as AirtableReauthRequiredError).userId).toBe(userId);
    expect((error as Error).cause).toBeInstanceOf(AirtableOAuthError);
    expect(await store.getAirtableAccount(userId)).toBeUndefined();
    expect(logLines.join("")).toMatch(/sign in again/);
    expect(logLines.join("")).not.toContain(tokens.refreshToken);

    await expect(p.getAccessToken(userId)).rejects.toBeInstanceOf(AirtableReauthRequiredError);
    expect(sandbox.refreshCount()).toBe(before); // no further attempt at Airtable
  });

  it("`rejected` forces a refresh of a token that is not near expiry, once", async () => {
    const { userId, tokens } = await signedInUser({ expired: false });
    const before = sandbox.refreshCount();
    const p = provider();
    const results = await Promise.all(Array.from({ length: 5 }, () => p.getAccessToken(userId, tokens.accessToken)));
    expect(new Set(results).size).toBe(1);
    expect(results[0]).not.toBe(tokens.accessToken);
    expect(sandbox.refreshCount()).toBe(before + 1);
    // Airtable ends the old access token with the refresh: a request still holding it gets 401, the new one works.
    expect(await whoamiStatus(tokens.accessToken)).toBe(401);
    expect(await whoamiStatus(results[0]!)).toBe(200);
    // A caller that saw the old token rejected later gets the replacement, without another refresh.
    expect(await provider().getAccessToken(userId, tokens.accessToken)).toBe(results[0]);
    expect(sandbox.refreshCount()).toBe(before + 1);
  });

  it("re-reads the account after taking the lock: no token request when another process just refreshed", async () => {
    const { userId } = await signedInUser({ expired: true });
    const other = provider();
    let raced = false;
    // The real store, except that right after our first (stale) read, "another process" refreshes and releases
    // the lock: we then take a free lock while holding a stale copy.
    const racingGet = async (id: string): Promise<AirtableAccount | undefined> => {
      const account = await store.getAirtableAccount(id);
      if (!raced) {
        raced = true;
        await other.getAccessToken(id);
      }
      return account;
    };
    const racingStore = new Proxy(store, {
      get(target, prop) {
        if (prop === "getAirtableAccount") return racingGet;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const tokenRequests = (): number => sandbox.requests.filter((r) => r.path === "/oauth2/v1/token").length;
    const before = tokenRequests();
    const token = await provider({ store: racingStore }).getAccessToken(userId);
    expect(raced).toBe(true);
    expect(token).toBe((await store.getAirtableAccount(userId))?.tokens.accessToken);
    expect(tokenRequests() - before).toBe(1); // the other process's refresh only
  });

  it("takes over from a lock holder that died once its lock expires (lockTtlMs)", async () => {
    const { userId } = await signedInUser({ expired: true });
    await redis.set(lockKey(userId), "holder-that-died", "PX", 600); // what a killed holder leaves behind
    const before = sandbox.refreshCount();
    const started = Date.now();
    const token = await provider({ lockTtlMs: 600 }).getAccessToken(userId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(await whoamiStatus(token)).toBe(200);
    expect(sandbox.refreshCount()).toBe(before + 1);
  });

  it("never refreshes while another process holds the lock: waits, then gives up retryably", async () => {
    const { userId } = await signedInUser({ expired: true });
    await redis.set(lockKey(userId), "busy-holder", "PX", 10_000);
    const before = sandbox.refreshCount();
    const error = await provider({ waitTimeoutMs: 300 })
      .getAccessToken(userId)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableTokenUnavailableError);
    expect(sandbox.refreshCount()).toBe(before);
    expect(await redis.get(lockKey(userId))).toBe("busy-holder"); // not ours to delete
    await redis.del(lockKey(userId));
  });

  it("keeps the account and throws a retryable error when Airtable cannot be reached", async () => {
    const { userId, tokens } = await signedInUser({ expired: true });
    const unreachable = new AirtableOAuth({ authUrl: "http://127.0.0.1:9", ...CLIENT, timeoutMs: 2_000 });
    const error = await provider({ oauth: unreachable })
      .getAccessToken(userId)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AirtableTokenUnavailableError);
    expect((error as AirtableTokenUnavailableError).retryable).toBe(true);
    expect((await store.getAirtableAccount(userId))?.tokens.refreshToken).toBe(tokens.refreshToken);
    expect(await redis.exists(lockKey(userId))).toBe(0);
    // Once Airtable is back, the same account refreshes fine.
    expect(await whoamiStatus(await provider().getAccessToken(userId))).toBe(200);
  });

  it("asks for sign-in when no account is stored", async () => {
    await expect(provider().getAccessToken("usrNobody")).rejects.toThrow(AirtableReauthRequiredError);
  });
});
