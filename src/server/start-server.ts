/**
 * The web tier of the distributed mode, built from the configuration: the shared Redis (fail-fast connection),
 * the token store, the cluster-wide limiter, the BullMQ queue that hands write operations to the workers, and
 * the HTTP app listening on PORT. Used by src/server/main.ts (the Docker image's entrypoint) and by `npm start`
 * with REDIS_URL and ROLE=all|server (src/main.ts).
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { KeyValueFingerprintStore, redisKeyName, requireKeyAgreement } from "../shared/key-fingerprint.ts";
import { Redis } from "ioredis";
import { createAirtableAccess, createClientSideCache } from "../shared/airtable-access.ts";
import type { Config } from "../shared/config.ts";
import { closeHttpServer, keepIdleConnections } from "../shared/http/keep-alive.ts";
import { listenOn } from "../shared/http/listen.ts";
import { RedisKeyValueStore } from "../shared/kv/redis-key-value-store.ts";
import type { Logger } from "../shared/logger.ts";
import { checkEvictionPolicy } from "../shared/redis-eviction-policy.ts";
import { requireRedisDatabase } from "../shared/redis-database.ts";
import { failFastRedisOptions, startupDuplicate } from "../shared/redis-connection.ts";
import { logRedisErrors, logSecondaryErrors } from "../shared/redis-unavailable.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { AirtableReachability } from "../shared/airtable/reachability.ts";
import { QueuedOperationRunner } from "../shared/queue/queued-runner.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { CallCancels } from "./mcp/call-cancels.ts";
import { createServerApp } from "./app.ts";
import { revokedKeyPrefix } from "./auth/revocation-list.ts";

export interface RunningServer {
  server: Server;
  /** The port it listens on (PORT, or the one the OS chose for PORT=0). */
  port: number;
  /**
   * Stops taking connections, gives in-flight requests up to 8 s (Cloud Run kills 10 s after SIGTERM), then
   * closes the queue, the limiter, the token store, the client-side cache and Redis. Never rejects.
   */
  close(): Promise<void>;
}

/** `config` must satisfy loadConfig(…, "server") (REDIS_URL, PUBLIC_URL, AIRTABLE_CLIENT_ID, TOKEN_ENCRYPTION_KEY). */
export async function startServer(config: Config, opts: { logger: Logger; metrics?: Metrics }): Promise<RunningServer> {
  const { logger } = opts;
  const keyPrefix = config.REDIS_KEY_PREFIX;
  // The web tier answers people: a request fails within REDIS_COMMAND_TIMEOUT_MS when Redis stalls or is away,
  // rather than hang until it answers again (redis-connection.ts).
  const redis = new Redis(config.REDIS_URL!, failFastRedisOptions(config.REDIS_COMMAND_TIMEOUT_MS));
  logRedisErrors(redis, logger);
  // The start-up checks wait for Redis on a connection of their own, as patient as before (redis-connection.ts).
  const startup = startupDuplicate(redis);
  logSecondaryErrors(startup, logger, "start-up connection error", "debug");
  try {
    // First: a database Redis does not have leaves the connection in database 0, where everything would go.
    await requireRedisDatabase(startup, logger);
    // Before anything is served: a server whose key differs from the workers' would store tokens they cannot read.
    await requireKeyAgreement(
      new KeyValueFingerprintStore(new RedisKeyValueStore(startup), keyPrefix, redisKeyName),
      config,
      logger,
    );
    await checkEvictionPolicy(startup, logger);
  } finally {
    startup.disconnect();
  }
  // Redis answered the checks: the fail-fast connection is ready now or reconnects within a second.
  if (redis.status !== "ready") await once(redis, "ready");
  // What every read tool call reads (revocation entry, Airtable account, schema), kept in memory while unchanged.
  const cache = createClientSideCache(config, { redis, logger, extraPrefixes: [revokedKeyPrefix(keyPrefix)] });
  const kv = new RedisKeyValueStore(redis, { ...(cache !== undefined && { cache }) });
  const metrics = opts.metrics ?? new Metrics({ logger });
  const { store, clients, airtableOAuth, tokens, operations, ...access } = createAirtableAccess(config, {
    redis,
    logger,
    limiterHooks: metrics.limiterHooks,
    ...(cache !== undefined && { cache }),
  });
  const runner = new QueuedOperationRunner({
    redis,
    keyPrefix,
    store: operations,
    attempts: config.WORKER_ATTEMPTS,
    retentionMs: config.OPERATION_RETENTION_HOURS * 3_600_000,
    logger,
  });
  await runner.ready();
  // A client's cancel of a 2025-era call reaches the instance serving the call, wherever it arrives.
  const cancels = await CallCancels.overRedis({ redis, keyPrefix, logger });
  // Aborted first thing in close(): requests the shutdown cuts off are not cancellations (run-write.ts).
  const shutdown = new AbortController();
  const airtableReachability = new AirtableReachability(config, { logger });
  const app = createServerApp({
    airtableReachability,
    shutdown: shutdown.signal,
    cancels,
    config,
    redis,
    kv,
    keyPrefix,
    store,
    airtableClients: clients,
    airtableOAuth,
    tokens,
    operations,
    runner,
    queue: runner.queue,
    logger,
    metrics,
    schemas: new SchemaCache({ redis, keyPrefix, logger, ...(cache !== undefined && { cache }) }),
  });

  /** What the server built besides its HTTP server, closed after it (or when it cannot listen). */
  const closeParts = async (): Promise<void> => {
    await runner.close().catch((error: unknown) => logger.error({ err: error }, "queue close failed"));
    await access.close().catch((error: unknown) => logger.error({ err: error }, "limiter close failed"));
    await cache?.close();
    await cancels.close();
    redis.disconnect();
  };
  const server = createServer(app);
  keepIdleConnections(server, config.HTTP_KEEP_ALIVE_TIMEOUT_MS);
  try {
    await listenOn(server, config.PORT, "PORT");
  } catch (error) {
    await closeParts();
    throw error;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  logger.info({ port, publicUrl: config.PUBLIC_URL }, "server listening");
  // A warning, never a refusal: Airtable may be briefly unreachable in production too. Pointed at a sandbox that
  // is not running, this line names the setting and the fix before a sign-in fails in someone's browser.
  await airtableReachability.warnAtStart();

  return {
    server,
    port,
    async close() {
      logger.info("server: no new connections, finishing in-flight requests");
      shutdown.abort();
      await closeHttpServer(server, 8_000);
      await closeParts();
    },
  };
}
