/**
 * The parts every process that acts for signed-in users builds the same way (server and worker): the token
 * store, the cluster-wide limiter, the factory of Airtable clients behind it, Airtable's OAuth endpoints, the
 * token provider that refreshes under a lock, and the operations' logs. One builder, so the two composition roots
 * cannot drift apart.
 */
import type { Redis } from "ioredis";
import { airtableClientFactory, type AirtableClientFactory } from "./airtable/client-factory.ts";
import { AirtableOAuth } from "./airtable/oauth.ts";
import type { Config } from "./config.ts";
import { RedisClientSideCache } from "./kv/client-side-cache.ts";
import { RedisKeyValueStore } from "./kv/redis-key-value-store.ts";
import { BottleneckAirtableLimiter, limiterSettingsFrom, type LimiterHooks } from "./limiter/index.ts";
import type { Logger } from "./logger.ts";
import { OperationLog } from "./operations/operation-log.ts";
import { AirtableTokenProvider } from "./tokens/airtable-token-provider.ts";
import { accountKeyPrefix, createTokenStore, tokenCipherFromConfig, type TokenStore } from "./tokens/index.ts";
import { schemaKeyPrefix } from "./schema-cache.ts";

export interface AirtableAccess {
  store: TokenStore;
  limiter: BottleneckAirtableLimiter;
  /** Builds the Airtable client acting for a user, through `limiter`: the process's only way to make one. */
  clients: AirtableClientFactory;
  airtableOAuth: AirtableOAuth;
  tokens: AirtableTokenProvider;
  operations: OperationLog;
  /** Closes the limiter and the token store (not `redis`, which the caller owns). */
  close(): Promise<void>;
}

/**
 * The process's client-side cache over `redis` (one per process; see src/shared/kv/client-side-cache.ts), tracking
 * the stored Airtable accounts and the base schemas plus `extraPrefixes` (the server adds its revocation list), or
 * undefined with REDIS_CLIENT_CACHE=off. The caller closes it with the other Redis connections.
 */
export function createClientSideCache(
  config: Pick<Config, "REDIS_CLIENT_CACHE" | "REDIS_KEY_PREFIX">,
  parts: { redis: Redis; logger: Logger; extraPrefixes?: string[] },
): RedisClientSideCache | undefined {
  if (!config.REDIS_CLIENT_CACHE) return undefined;
  const keyPrefix = config.REDIS_KEY_PREFIX;
  return new RedisClientSideCache({
    redis: parts.redis,
    prefixes: [accountKeyPrefix(keyPrefix), schemaKeyPrefix(keyPrefix), ...(parts.extraPrefixes ?? [])],
    logger: parts.logger,
    connectionName: `${keyPrefix}-csc`,
  });
}

export function createAirtableAccess(
  config: Config,
  parts: { redis: Redis; logger: Logger; limiterHooks?: LimiterHooks; cache?: RedisClientSideCache },
): AirtableAccess {
  const { redis, logger } = parts;
  const keyPrefix = config.REDIS_KEY_PREFIX;
  const store = createTokenStore(config, {
    redis,
    cipher: tokenCipherFromConfig(config),
    keyPrefix,
    ...(parts.cache !== undefined && { cache: parts.cache }),
  });
  const limiter = BottleneckAirtableLimiter.clustered({
    redis,
    keyPrefix,
    logger,
    settings: limiterSettingsFrom(config),
    ...(parts.limiterHooks && { hooks: parts.limiterHooks }),
  });
  const clients = airtableClientFactory(config, { limiter, logger });
  const airtableOAuth = new AirtableOAuth({
    authUrl: config.AIRTABLE_AUTH_URL,
    clientId: config.AIRTABLE_CLIENT_ID!,
    ...(config.AIRTABLE_CLIENT_SECRET ? { clientSecret: config.AIRTABLE_CLIENT_SECRET } : {}),
  });
  const tokens = new AirtableTokenProvider({
    store,
    oauth: airtableOAuth,
    locks: new RedisKeyValueStore(redis),
    keyPrefix,
    logger,
  });
  const operations = new OperationLog({ redis, keyPrefix, retentionMs: config.OPERATION_RETENTION_HOURS * 3_600_000 });
  return {
    store,
    limiter,
    clients,
    airtableOAuth,
    tokens,
    operations,
    async close() {
      await limiter.close();
      await store.close();
    },
  };
}
