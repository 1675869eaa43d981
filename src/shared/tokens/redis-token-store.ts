/**
 * TokenStore on Redis (TOKEN_STORE=redis, the default): good for one-box deployments and tests. Redis must
 * persist (AOF/RDB) for grants to survive a restart; production deployments use Firestore.
 *
 * Key layout (all under `${keyPrefix}:tokens:`):
 *   account:{userId}      string  JSON SealedAirtableAccount (tokens encrypted); expires with the refresh token
 *   client:{clientId}     string  JSON SealedClient (client_secret encrypted); no expiry
 *   grant:{grantId}       hash    data (JSON of the immutable fields), refreshTokenHash, generation, expiresAt,
 *                                 revokedAt, revokedReason; expires GRANT_GRACE_MS after expiresAt
 *   user-grants:{userId}  set     grant ids of the user (index for listGrantsForUser); pruned lazily
 *
 * Grants outlive their expiresAt by a grace period so that a late rotation answers "expired" rather than
 * "not_found"; getGrant and listGrantsForUser never return an expired grant.
 */
import type { Redis } from "ioredis";
import type { TokenCipher } from "./cipher.ts";
import {
  GRANT_GRACE_MS,
  openAccount,
  openClient,
  sealAccount,
  sealClient,
  withoutUndefined,
} from "./sealed-records.ts";
import type { SealedAirtableAccount, SealedClient } from "./sealed-records.ts";
import type { AirtableAccount, Grant, RegisteredClient, RotateResult, TokenStore } from "./types.ts";

/** Immutable grant fields, stored as one JSON field. */
type GrantData = Omit<Grant, "refreshTokenHash" | "generation" | "revokedAt" | "revokedReason">;

/**
 * KEYS[1] grant hash; ARGV: expected hash, new hash, now (epoch ms).
 * Returns {status} or {"ok", HGETALL} — checked and written in one step, so two rotations with the same
 * expected hash cannot both succeed.
 */
const ROTATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local f = redis.call('HMGET', KEYS[1], 'refreshTokenHash', 'generation', 'revokedAt', 'expiresAt')
if f[3] then return {'revoked'} end
if tonumber(f[4]) <= tonumber(ARGV[3]) then return {'expired'} end
if f[1] ~= ARGV[1] then return {'stale'} end
redis.call('HSET', KEYS[1], 'refreshTokenHash', ARGV[2], 'generation', tonumber(f[2]) + 1)
return {'ok', redis.call('HGETALL', KEYS[1])}
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
}

export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis;
  readonly #cipher: TokenCipher;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(opts: RedisTokenStoreOptions) {
    this.#redis = opts.redis;
    this.#cipher = opts.cipher;
    this.#prefix = `${opts.keyPrefix}:tokens`;
    this.#now = opts.now ?? Date.now;
  }

  /** The Redis key of a record, e.g. for tests that read what is stored at rest. */
  keyOf(kind: "account" | "client" | "grant" | "user-grants", id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }

  async getAirtableAccount(userId: string): Promise<AirtableAccount | undefined> {
    const raw = await this.#redis.get(this.keyOf("account", userId));
    return raw === null ? undefined : openAccount(this.#cipher, JSON.parse(raw) as SealedAirtableAccount);
  }

  async putAirtableAccount(account: AirtableAccount): Promise<void> {
    const key = this.keyOf("account", account.userId);
    const value = JSON.stringify(sealAccount(this.#cipher, account));
    const end = account.tokens.refreshTokenExpiresAt;
    if (end !== undefined && end > this.#now()) {
      await this.#redis.set(key, value, "PXAT", end + GRANT_GRACE_MS);
    } else {
      await this.#redis.set(key, value);
    }
  }

  async deleteAirtableAccount(userId: string): Promise<void> {
    await this.#redis.del(this.keyOf("account", userId));
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const raw = await this.#redis.get(this.keyOf("client", clientId));
    return raw === null ? undefined : openClient(this.#cipher, JSON.parse(raw) as SealedClient);
  }

  async putClient(client: RegisteredClient): Promise<void> {
    await this.#redis.set(this.keyOf("client", client.client_id), JSON.stringify(sealClient(this.#cipher, client)));
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
      expiresAt: grant.expiresAt,
    };
    const fields: Record<string, string> = {
      data: JSON.stringify(data),
      refreshTokenHash: grant.refreshTokenHash,
      generation: String(grant.generation),
      expiresAt: String(grant.expiresAt),
    };
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

  async rotateRefreshToken(grantId: string, expectedHash: string, newHash: string): Promise<RotateResult> {
    const reply = (await this.#redis.eval(
      ROTATE_LUA,
      1,
      this.keyOf("grant", grantId),
      expectedHash,
      newHash,
      String(this.#now()),
    )) as [string, string[]?];
    const [status, flat] = reply;
    if (status === "ok") {
      const grant = grantFromHash(pairsToRecord(flat ?? []));
      if (grant !== undefined) return { ok: true, grant };
      return { ok: false, reason: "not_found" };
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

function pairsToRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i] as string] = flat[i + 1] as string;
  return record;
}

function grantFromHash(hash: Record<string, string>): Grant | undefined {
  if (hash.data === undefined || hash.refreshTokenHash === undefined) return undefined;
  const data = JSON.parse(hash.data) as GrantData;
  return withoutUndefined({
    ...data,
    refreshTokenHash: hash.refreshTokenHash,
    generation: Number(hash.generation ?? 0),
    revokedAt: hash.revokedAt === undefined ? undefined : Number(hash.revokedAt),
    revokedReason: hash.revokedReason,
  });
}
