/**
 * TokenStore on Redis (TOKEN_STORE=redis, the default): good for one-box deployments and tests. Redis must
 * persist (AOF/RDB) for grants to survive a restart; production deployments use Firestore.
 *
 * Key layout (all under `${keyPrefix}:tokens:`):
 *   account:{userId}      string  JSON SealedAirtableAccount (tokens encrypted); expires with the refresh token
 *   client:{clientId}     string  JSON SealedClient (client_secret encrypted); a pending client carries the
 *                                 key's TTL (its deadline), a confirmed one has none
 *   grant:{grantId}       hash    data (JSON of the immutable fields), refreshTokenHash, generation, expiresAt,
 *                                 previousRefreshTokenHash, previousUsedAt, revokedAt, revokedReason; expires
 *                                 GRANT_GRACE_MS after expiresAt (pushed later when a refresh renews expiresAt)
 *   user-grants:{userId}  set     grant ids of the user (index for listGrantsForUser); pruned lazily
 *
 * Grants outlive their expiresAt by a grace period so that a late rotation answers "expired" rather than
 * "not_found"; getGrant and listGrantsForUser never return an expired grant.
 *
 * Given the process's RedisClientSideCache (tracking accountKeyPrefix(keyPrefix)), getAirtableAccount is
 * answered from memory while the stored account is unchanged, and the opened account (JSON.parse, zod check,
 * decrypt) is memoised with it: one open per version of the stored value, not one per tool call. Its plaintext
 * tokens stay in memory no longer than the TokenCipher's decrypt memo keeps them anyway (DECRYPTED_BLOB_TTL_MS,
 * 10 min): the cache's max age is shorter (60 s by default) and a sign-out or refresh by any process drops the
 * entry at once. The account returned is shared by callers and frozen.
 */
import type { Redis } from "ioredis";
import type { RedisClientSideCache } from "../kv/client-side-cache.ts";
import type { TokenCipher } from "./cipher.ts";
import {
  GRANT_GRACE_MS,
  openAccount,
  openClient,
  sealedUnderPreviousKey,
  sealAccount,
  sealClient,
  withoutUndefined,
} from "./sealed-records.ts";
import type { SealedAirtableAccount, SealedClient } from "./sealed-records.ts";
import type { AirtableAccount, Grant, RegisteredClient, RotateOptions, RotateResult, TokenStore } from "./types.ts";

/** Immutable grant fields, stored as one JSON field (records written before expiresAt became mutable have it too). */
type GrantData = Omit<
  Grant,
  | "refreshTokenHash"
  | "generation"
  | "expiresAt"
  | "previousRefreshTokenHash"
  | "previousUsedAt"
  | "revokedAt"
  | "revokedReason"
> & { expiresAt?: number };

/**
 * How much later than its sender's clock a rotation must run before its first use is stamped with Redis's clock
 * instead (ms). A rotation sent into a Redis that stalls (a stopped process, a partition) runs when Redis answers
 * again, after the sender already answered its client 503 (REDIS_COMMAND_TIMEOUT_MS, src/shared/redis-connection.ts);
 * the client retries with the same refresh token, which is a reuse only within the grace window counted from the
 * first use. Counted from the sending, a stall longer than the window would turn that retry into a replay and revoke
 * the grant: the user signed out by an outage. Counted from when Redis ran it, the retry is within the window. 2 s is
 * far above a command's normal latency and any sane clock skew between a server and Redis (NTP keeps them within
 * milliseconds), so an ordinary rotation keeps the sender's clock (tests inject it).
 */
const LATE_ROTATION_MS = 2_000;

/**
 * KEYS[1] grant hash; ARGV: presented hash, new hash, now (epoch ms), reuse grace (ms), new expiresAt or "",
 * the key's new expiry (epoch ms) or "", LATE_ROTATION_MS.
 * Returns {status} or {"rotated" | "reused", HGETALL} — checked and written in one step, so two uses of one
 * current hash cannot both rotate. The first use is stamped `now`, or Redis's own time when that is more than
 * LATE_ROTATION_MS later (see there).
 */
const ROTATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local f = redis.call('HMGET', KEYS[1], 'refreshTokenHash', 'generation', 'revokedAt', 'expiresAt',
  'previousRefreshTokenHash', 'previousUsedAt')
local now = tonumber(ARGV[3])
if f[3] then return {'revoked'} end
if tonumber(f[4]) <= now then return {'expired'} end
local status
if f[1] == ARGV[1] then
  local t = redis.call('TIME')
  local ran = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local usedAt = ARGV[3]
  if ran - now > tonumber(ARGV[7]) then usedAt = tostring(ran) end
  redis.call('HSET', KEYS[1], 'refreshTokenHash', ARGV[2], 'generation', tonumber(f[2]) + 1,
    'previousRefreshTokenHash', ARGV[1], 'previousUsedAt', usedAt)
  status = 'rotated'
elseif f[5] == ARGV[1] and tonumber(ARGV[4]) > 0 and now - tonumber(f[6]) <= tonumber(ARGV[4]) then
  status = 'reused'
else
  return {'stale'}
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'expiresAt', ARGV[5])
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
end
return {status, redis.call('HGETALL', KEYS[1])}
`;

/**
 * KEYS[1] client key; ARGV: sealed client JSON, deadline (epoch ms). Creates a pending client, or keeps the
 * live record there (a pending one, i.e. one with a TTL, gets the new deadline). Returns {created, stored JSON}.
 */
const PUT_PENDING_CLIENT_LUA = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
  return {1, ARGV[1]}
end
if ttl >= 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return {0, redis.call('GET', KEYS[1])}
`;

/** KEYS[1] grant hash; ARGV: revokedAt, reason. The first revocation wins; a missing grant stays missing. */
const REVOKE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSETNX', KEYS[1], 'revokedReason', ARGV[2])
return redis.call('HSETNX', KEYS[1], 'revokedAt', ARGV[1])
`;

export interface RedisTokenStoreOptions {
  /** Shared connection; the store does not close it. */
  redis: Redis;
  cipher: TokenCipher;
  keyPrefix: string;
  now?: () => number;
  /** The process's client-side cache over `redis`, tracking `accountKeyPrefix(keyPrefix)`; none: read every time. */
  cache?: RedisClientSideCache;
}

/** The key prefix of every stored Airtable account (what a client-side cache tracks for getAirtableAccount). */
export function accountKeyPrefix(keyPrefix: string): string {
  return `${keyPrefix}:tokens:account:`;
}

export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis;
  readonly #cipher: TokenCipher;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #cache: RedisClientSideCache | undefined;
  /** One stable function: the cache memoises its result per stored value. */
  readonly #open = (raw: string): AirtableAccount =>
    frozen(openAccount(this.#cipher, JSON.parse(raw) as SealedAirtableAccount));

  constructor(opts: RedisTokenStoreOptions) {
    this.#redis = opts.redis;
    this.#cipher = opts.cipher;
    this.#prefix = `${opts.keyPrefix}:tokens`;
    this.#now = opts.now ?? Date.now;
    this.#cache = opts.cache;
  }

  /** The Redis key of a record, e.g. for tests that read what is stored at rest. */
  keyOf(kind: "account" | "client" | "grant" | "user-grants", id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }

  async getAirtableAccount(userId: string): Promise<AirtableAccount | undefined> {
    const key = this.keyOf("account", userId);
    if (this.#cache !== undefined) return this.#cache.getParsed(key, this.#open);
    const raw = await this.#redis.get(key);
    return raw === null ? undefined : this.#open(raw);
  }

  async putAirtableAccount(account: AirtableAccount): Promise<void> {
    const key = this.keyOf("account", account.userId);
    this.#cache?.invalidate(key);
    const value = JSON.stringify(sealAccount(this.#cipher, account));
    const end = account.tokens.refreshTokenExpiresAt;
    if (end !== undefined && end > this.#now()) {
      await this.#redis.set(key, value, "PXAT", end + GRANT_GRACE_MS);
    } else {
      await this.#redis.set(key, value);
    }
  }

  async deleteAirtableAccount(userId: string): Promise<void> {
    const key = this.keyOf("account", userId);
    this.#cache?.invalidate(key);
    await this.#redis.del(key);
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const key = this.keyOf("client", clientId);
    const raw = await this.#redis.get(key);
    if (raw === null) return undefined;
    const sealed = JSON.parse(raw) as SealedClient;
    const client = openClient(this.#cipher, sealed);
    if (sealedUnderPreviousKey(this.#cipher, sealed)) {
      // Re-sealed under the current key where it stands: XX so a registration deleted meanwhile is not brought
      // back, KEEPTTL so a pending one keeps its deadline. Best effort: the next read tries again.
      await this.#redis
        .set(key, JSON.stringify(sealClient(this.#cipher, client)), "KEEPTTL", "XX")
        .catch(() => undefined);
    }
    return client;
  }

  async putClient(client: RegisteredClient): Promise<void> {
    await this.#redis.set(this.keyOf("client", client.client_id), JSON.stringify(sealClient(this.#cipher, client)));
  }

  async putPendingClient(
    client: RegisteredClient,
    pendingUntil: number,
  ): Promise<{ client: RegisteredClient; created: boolean }> {
    const [created, stored] = (await this.#redis.eval(
      PUT_PENDING_CLIENT_LUA,
      1,
      this.keyOf("client", client.client_id),
      JSON.stringify(sealClient(this.#cipher, client)),
      String(Math.ceil(pendingUntil)),
    )) as [number, string];
    return { client: openClient(this.#cipher, JSON.parse(stored) as SealedClient), created: created === 1 };
  }

  async confirmClient(clientId: string): Promise<void> {
    await this.#redis.persist(this.keyOf("client", clientId));
  }

  async getGrant(grantId: string): Promise<Grant | undefined> {
    const grant = grantFromHash(await this.#redis.hgetall(this.keyOf("grant", grantId)));
    return grant === undefined || grant.expiresAt <= this.#now() ? undefined : grant;
  }

  async putGrant(grant: Grant): Promise<void> {
    const key = this.keyOf("grant", grant.grantId);
    const indexKey = this.keyOf("user-grants", grant.userId);
    const expireAt = grant.expiresAt + GRANT_GRACE_MS;
    const data: GrantData = {
      grantId: grant.grantId,
      userId: grant.userId,
      clientId: grant.clientId,
      scopes: grant.scopes,
      resource: grant.resource,
      createdAt: grant.createdAt,
    };
    const fields: Record<string, string> = {
      data: JSON.stringify(data),
      refreshTokenHash: grant.refreshTokenHash,
      generation: String(grant.generation),
      expiresAt: String(grant.expiresAt),
    };
    if (grant.previousRefreshTokenHash !== undefined) fields.previousRefreshTokenHash = grant.previousRefreshTokenHash;
    if (grant.previousUsedAt !== undefined) fields.previousUsedAt = String(grant.previousUsedAt);
    if (grant.revokedAt !== undefined) fields.revokedAt = String(grant.revokedAt);
    if (grant.revokedReason !== undefined) fields.revokedReason = grant.revokedReason;
    await this.#redis
      .multi()
      .del(key)
      .hset(key, fields)
      .pexpireat(key, expireAt)
      .sadd(indexKey, grant.grantId)
      // NX sets the index's first expiry; GT only ever pushes it later: it lives as long as its longest grant.
      .pexpireat(indexKey, expireAt, "NX")
      .pexpireat(indexKey, expireAt, "GT")
      .exec();
  }

  async rotateRefreshToken(
    grantId: string,
    expectedHash: string,
    newHash: string,
    options: RotateOptions = {},
  ): Promise<RotateResult> {
    const expiresAt = options.expiresAt;
    const reply = (await this.#redis.eval(
      ROTATE_LUA,
      1,
      this.keyOf("grant", grantId),
      expectedHash,
      newHash,
      String(this.#now()),
      String(options.reuseGraceMs ?? 0),
      expiresAt === undefined ? "" : String(expiresAt),
      expiresAt === undefined ? "" : String(expiresAt + GRANT_GRACE_MS),
      String(LATE_ROTATION_MS),
    )) as [string, string[]?];
    const [status, flat] = reply;
    if (status === "rotated" || status === "reused") {
      const grant = grantFromHash(pairsToRecord(flat ?? []));
      if (grant === undefined) return { ok: false, reason: "not_found" };
      if (expiresAt !== undefined) {
        // The user's index must live as long as its longest grant (GT: only ever later). Not atomic with the
        // rotation, and need not be: the index is pruned lazily and only serves listGrantsForUser.
        await this.#redis.pexpireat(this.keyOf("user-grants", grant.userId), expiresAt + GRANT_GRACE_MS, "GT");
      }
      return { ok: true, grant, reused: status === "reused" };
    }
    return { ok: false, reason: status as "not_found" | "revoked" | "expired" | "stale" };
  }

  async revokeGrant(grantId: string, reason: string): Promise<void> {
    await this.#redis.eval(REVOKE_LUA, 1, this.keyOf("grant", grantId), String(this.#now()), reason);
  }

  async listGrantsForUser(userId: string): Promise<Grant[]> {
    const indexKey = this.keyOf("user-grants", userId);
    const ids = await this.#redis.smembers(indexKey);
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keyOf("grant", id));
    const replies = (await pipeline.exec()) ?? [];
    const grants: Grant[] = [];
    const gone: string[] = [];
    replies.forEach(([error, value], index) => {
      if (error !== null) throw error;
      const grant = grantFromHash(value as Record<string, string>);
      if (grant === undefined) gone.push(ids[index] as string);
      else if (grant.userId === userId && grant.expiresAt > this.#now()) grants.push(grant);
    });
    if (gone.length > 0) await this.#redis.srem(indexKey, ...gone);
    return grants.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** The Redis connection belongs to the caller: nothing to close here. */
  async close(): Promise<void> {}
}

/** The account, its tokens and scopes frozen: a memoised account is shared by every caller. */
function frozen(account: AirtableAccount): AirtableAccount {
  Object.freeze(account.tokens.scopes);
  Object.freeze(account.tokens);
  return Object.freeze(account);
}

function pairsToRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
}

function grantFromHash(hash: Record<string, string>): Grant | undefined {
  if (hash.data === undefined || hash.refreshTokenHash === undefined) return undefined;
  const { expiresAt: writtenExpiresAt, ...data } = JSON.parse(hash.data) as GrantData;
  return withoutUndefined({
    ...data,
    refreshTokenHash: hash.refreshTokenHash,
    generation: Number(hash.generation ?? 0),
    expiresAt: Number(hash.expiresAt ?? writtenExpiresAt),
    previousRefreshTokenHash: hash.previousRefreshTokenHash,
    previousUsedAt: hash.previousUsedAt === undefined ? undefined : Number(hash.previousUsedAt),
    revokedAt: hash.revokedAt === undefined ? undefined : Number(hash.revokedAt),
    revokedReason: hash.revokedReason,
  });
}
