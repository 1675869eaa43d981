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
import { RedisKeyValueStore } from "./kv/redis-key-value-store.ts";
import { BottleneckAirtableLimiter, limiterSettingsFrom, type LimiterHooks } from "./limiter/index.ts";
import type { Logger } from "./logger.ts";
import { OperationLog } from "./operations/operation-log.ts";
import { AirtableTokenProvider } from "./tokens/airtable-token-provider.ts";
import { createTokenStore, tokenCipherFromConfig, type TokenStore } from "./tokens/index.ts";

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

export function createAirtableAccess(
  config: Config,
  parts: { redis: Redis; logger: Logger; limiterHooks?: LimiterHooks },
): AirtableAccess {
  const { redis, logger } = parts;
  const keyPrefix = config.REDIS_KEY_PREFIX;
  const store = createTokenStore(config, { redis, cipher: tokenCipherFromConfig(config), keyPrefix });
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
