/**
 * The write worker of the distributed mode, built from the configuration: its Redis connection (waits for Redis,
 * as BullMQ's blocking calls need), the token store, the cluster-wide limiter, per-base fairness and the BullMQ
 * worker that runs operations; optionally /healthz, /readyz and /metrics on HEALTH_PORT. Used by
 * src/worker/main.ts (the Docker image's entrypoint) and by `npm start` with REDIS_URL and ROLE=all|worker.
 */
import type { Server } from "node:http";
import { listenOn } from "../shared/http/listen.ts";
import { Queue } from "bullmq";
import { KeyValueFingerprintStore, redisKeyName, requireKeyAgreement } from "../shared/key-fingerprint.ts";
import { RedisKeyValueStore } from "../shared/kv/redis-key-value-store.ts";
import { Redis } from "ioredis";
import { createAirtableAccess, createClientSideCache } from "../shared/airtable-access.ts";
import { AirtableReachability } from "../shared/airtable/reachability.ts";
import type { Config } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { checkEvictionPolicy } from "../shared/redis-eviction-policy.ts";
import { requireRedisDatabase } from "../shared/redis-database.ts";
import { logRedisErrors, logSecondaryErrors, reconnectOnReadonly } from "../shared/redis-unavailable.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { OPERATIONS_QUEUE, bullPrefix, bullmqConnection } from "../shared/queue/operation-queue.ts";
import { readinessChecks } from "../shared/readiness.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { BaseFairness } from "./base-fairness.ts";
import { createHealthServer } from "./health-server.ts";
import { createOperationWorker } from "./operation-worker.ts";

export interface RunningWorker {
  /** The health server on HEALTH_PORT, when started. */
  health?: Server;
  /**
   * Stops taking jobs; running operations stop after their current batch and are released to other workers
   * (their logs say where they stopped). Then closes the health server, the limiter, the token store and Redis.
   * Never rejects.
   */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  logger: Logger;
  /** Shared with a server in the same process (ROLE=all): one /metrics for both. Default: the worker's own. */
  metrics?: Metrics;
  /**
   * Serve /healthz, /readyz (and /metrics with ADMIN_TOKEN) on HEALTH_PORT. Default true; a worker inside the
   * server's process (ROLE=all) has the server's.
   */
  healthServer?: boolean;
  /**
   * Check at start that the configured Airtable URLs answer, with one warning line per URL that does not
   * (src/shared/airtable/reachability.ts; Airtable's own URLs are never checked). Default true; a worker inside
   * the server's process (ROLE=all) leaves it to the server, which checks the same URLs.
   */
  checkAirtableUrls?: boolean;
}

/** `config` must satisfy loadConfig(…, "worker") (REDIS_URL, AIRTABLE_CLIENT_ID, TOKEN_ENCRYPTION_KEY). */
export async function startWorker(config: Config, opts: StartWorkerOptions): Promise<RunningWorker> {
  const { logger } = opts;
  const keyPrefix = config.REDIS_KEY_PREFIX;
  // A warning, never a refusal (Airtable may be briefly unreachable in production too), and never awaited: it runs
  // beside Redis's checks below (≤ 2 s, never rejects), so it neither delays the worker taking jobs nor its
  // shutdown handlers, which its caller sets once this resolves. Pointed at a sandbox that is not running, the
  // line names the setting and the fix before the first operation fails on it.
  if (opts.checkAirtableUrls !== false) void new AirtableReachability(config, { logger, role: "worker" }).warnAtStart();
  // Workers wait for Redis rather than fail a batch half-recorded (BullMQ requires this for its blocking calls).
  const redis = new Redis(config.REDIS_URL!, { maxRetriesPerRequest: null, reconnectOnError: reconnectOnReadonly });
  logRedisErrors(redis, logger);
  // First: a database Redis does not have leaves the connection in database 0, where everything would go.
  await requireRedisDatabase(redis, logger);
  // Before taking jobs: a worker whose key differs from the servers' could not read a single stored token.
  await requireKeyAgreement(
    new KeyValueFingerprintStore(new RedisKeyValueStore(redis), keyPrefix, redisKeyName),
    config,
    logger,
  );
  await checkEvictionPolicy(redis, logger);
  // The Airtable accounts and schemas each batch reads, kept in memory while unchanged (ROLE=all: the server's
  // process has a second one over the worker's own connection).
  const cache = createClientSideCache(config, { redis, logger });
  const metrics = opts.metrics ?? new Metrics({ logger });
  // queue_jobs only: this Queue never adds jobs. Its counts are read with a timeout at scrape time. A server in
  // the same process observes its own queue already.
  const countsRedis = opts.metrics === undefined ? bullmqConnection(redis) : undefined;
  const countsQueue =
    countsRedis === undefined
      ? undefined
      : new Queue(OPERATIONS_QUEUE, { connection: countsRedis, prefix: bullPrefix(keyPrefix) });
  if (countsQueue !== undefined) logSecondaryErrors(countsQueue, logger, "queue error", "warn");
  if (countsRedis !== undefined) logSecondaryErrors(countsRedis, logger, "queue counts connection error", "debug");
  if (countsQueue !== undefined) metrics.observeQueue(countsQueue);
  const { store, clients, tokens, operations, ...access } = createAirtableAccess(config, {
    redis,
    logger,
    limiterHooks: metrics.limiterHooks,
    ...(cache !== undefined && { cache }),
  });
  // Listening first: a HEALTH_PORT that is taken ends the start before the BullMQ worker could take a job (and
  // before its heartbeat would tell the servers a worker is alive).
  let health: Server | undefined;
  if (opts.healthServer !== false) {
    health = createHealthServer({
      ready: readinessChecks(redis, store),
      ...(config.ADMIN_TOKEN !== undefined && {
        metrics: { adminToken: config.ADMIN_TOKEN, render: () => metrics.render() },
      }),
    });
    await listenOn(health, config.HEALTH_PORT, "HEALTH_PORT");
  }
  const operationWorker = createOperationWorker({
    redis,
    keyPrefix,
    concurrency: config.WORKER_CONCURRENCY,
    lockMs: config.WORKER_LOCK_MS,
    reconcileSettleMs: config.RECONCILE_SETTLE_MS,
    store: operations,
    fairness: new BaseFairness({
      redis,
      keyPrefix,
      maxActivePerBase: config.WORKER_MAX_ACTIVE_PER_BASE,
      leaseMs: config.WORKER_LOCK_MS * 2,
    }),
    airtableClients: clients,
    schemas: new SchemaCache({ redis, keyPrefix, logger, ...(cache !== undefined && { cache }) }),
    accessToken: (userId, rejected) => tokens.getAccessToken(userId, rejected),
    rateLimitPenaltyMs: config.AIRTABLE_RATE_LIMIT_PENALTY_MS,
    logger,
    metrics,
  });

  await operationWorker.worker.waitUntilReady();
  const address = health?.address();
  logger.info(
    {
      ...(health !== undefined && {
        healthPort: typeof address === "object" && address ? address.port : config.HEALTH_PORT,
      }),
      concurrency: config.WORKER_CONCURRENCY,
      maxActivePerBase: config.WORKER_MAX_ACTIVE_PER_BASE,
    },
    "worker ready",
  );

  return {
    ...(health !== undefined && { health }),
    async close() {
      logger.info("worker: no new jobs; running operations stop after their current batch");
      await operationWorker.close().catch((error: unknown) => logger.error({ err: error }, "worker close failed"));
      health?.close();
      await countsQueue?.close().catch(() => undefined);
      countsRedis?.disconnect();
      await access.close().catch((error: unknown) => logger.error({ err: error }, "limiter close failed"));
      await cache?.close();
      redis.disconnect();
    },
  };
}
