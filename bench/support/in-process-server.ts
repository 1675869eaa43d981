import { randomBytes } from "node:crypto";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { QueuedOperationRunner } from "../../src/shared/queue/queued-runner.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { airtableClientFactory } from "../../src/shared/airtable/client-factory.ts";
import { AirtableOAuth } from "../../src/shared/airtable/oauth.ts";
import { configSchema } from "../../src/shared/config.ts";
import { BottleneckAirtableLimiter, type LimiterSettings } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { AirtableTokenProvider } from "../../src/shared/tokens/airtable-token-provider.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import { createTokenStore, tokenCipherFromConfig } from "../../src/shared/tokens/index.ts";
import { createServerApp } from "../../src/server/app.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";

export interface InProcessServer {
  /** `${url}/mcp` */
  mcpUrl: string;
  close(): Promise<void>;
}

/**
 * The real server app (createServerApp: auth, bearer check, MCP router, clustered limiter, Redis token store)
 * on an ephemeral localhost port, wired to the sandbox as Airtable, as src/server/main.ts wires it.
 */
export async function startInProcessServer(opts: {
  sandbox: Sandbox;
  redis: Redis;
  keyPrefix: string;
  limiterSettings?: Partial<LimiterSettings>;
  /** TOKEN_ENCRYPTION_KEY (base64); give the workers' key when they must read the tokens sign-in stores. */
  tokenEncryptionKey?: string;
}): Promise<InProcessServer> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = `bench-${randomBytes(4).toString("hex")}`;
  opts.sandbox.registerOAuthClient({ clientId, redirectUris: [`${url}/oauth/callback`] });
  const config = configSchema.parse({
    PUBLIC_URL: url,
    TOKEN_ENCRYPTION_KEY: opts.tokenEncryptionKey ?? randomBytes(32).toString("base64"),
    AIRTABLE_CLIENT_ID: clientId,
    AIRTABLE_AUTH_URL: opts.sandbox.url,
    AIRTABLE_API_URL: opts.sandbox.url,
    AIRTABLE_CONTENT_URL: opts.sandbox.url,
    REDIS_KEY_PREFIX: opts.keyPrefix,
  });
  const { redis, keyPrefix } = opts;
  const logger = createLogger({ level: "silent" });
  const store = createTokenStore(config, { redis, cipher: tokenCipherFromConfig(config), keyPrefix });
  const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix, logger, settings: opts.limiterSettings });
  const airtableOAuth = new AirtableOAuth({ authUrl: opts.sandbox.url, clientId });
  const kv = new RedisKeyValueStore(redis);
  const tokens = new AirtableTokenProvider({ store, oauth: airtableOAuth, locks: kv, keyPrefix, logger });
  const operations = new OperationLog({ redis, keyPrefix, retentionMs: 3_600_000 });
  const runner = new QueuedOperationRunner({
    redis,
    keyPrefix,
    store: operations,
    attempts: 8,
    retentionMs: 3_600_000,
    logger,
  });
  await runner.ready();
  server.on(
    "request",
    createServerApp({
      config,
      redis,
      kv,
      keyPrefix,
      store,
      airtableClients: airtableClientFactory(config, { limiter, logger }),
      airtableOAuth,
      tokens,
      operations,
      runner,
      logger,
    }),
  );
  return {
    mcpUrl: `${url}/mcp`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.close();
      await limiter.close();
      await store.close();
    },
  };
}
