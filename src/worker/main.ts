/**
 * Composition root of the worker tier: read config, build the parts, run the BullMQ worker, serve /healthz and
 * /readyz on HEALTH_PORT, stop cleanly on SIGTERM. Run as many worker processes as you like: limits, fairness
 * slots and operation logs all live in Redis.
 */
import { once } from "node:events";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { createAirtableAccess } from "../shared/airtable-access.ts";
import { loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { OPERATIONS_QUEUE, bullPrefix } from "../shared/queue/operation-queue.ts";
import { readinessChecks } from "../shared/readiness.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { BaseFairness } from "./base-fairness.ts";
import { createHealthServer } from "./health-server.ts";
import { createOperationWorker } from "./operation-worker.ts";

const config = loadConfigOrExit("worker");

const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: "worker" });
const keyPrefix = config.REDIS_KEY_PREFIX;
// Workers wait for Redis rather than fail a batch half-recorded (BullMQ requires this for its blocking calls).
const redis = new Redis(config.REDIS_URL!, { maxRetriesPerRequest: null });
redis.on("error", (error) => logger.error({ err: error }, "Redis error"));
const metrics = new Metrics({ logger });
// queue_jobs only: this Queue never adds jobs. Its counts are read with a timeout at scrape time.
const countsQueue = new Queue(OPERATIONS_QUEUE, { connection: redis, prefix: bullPrefix(keyPrefix) });
countsQueue.on("error", (error) => logger.warn({ err: error }, "queue error"));
metrics.observeQueue(countsQueue);
const { store, clients, tokens, operations, ...access } = createAirtableAccess(config, {
  redis,
  logger,
  limiterHooks: metrics.limiterHooks,
});
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
  schemas: new SchemaCache({ redis, keyPrefix, logger }),
  accessToken: (userId, rejected) => tokens.getAccessToken(userId, rejected),
  rateLimitPenaltyMs: config.AIRTABLE_RATE_LIMIT_PENALTY_MS,
  logger,
  metrics,
});

const health = createHealthServer({
  ready: readinessChecks(redis, store),
  ...(config.ADMIN_TOKEN !== undefined && {
    metrics: { adminToken: config.ADMIN_TOKEN, render: () => metrics.render() },
  }),
});
health.listen(config.HEALTH_PORT);
await once(health, "listening");
await operationWorker.worker.waitUntilReady();
const address = health.address();
logger.info(
  {
    healthPort: typeof address === "object" && address ? address.port : config.HEALTH_PORT,
    concurrency: config.WORKER_CONCURRENCY,
    maxActivePerBase: config.WORKER_MAX_ACTIVE_PER_BASE,
  },
  "worker ready",
);

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, "shutting down: no new jobs; running operations stop after their current batch");
  // Cloud Run sends SIGKILL 10 s after SIGTERM; a batch takes well under a second, so 8 s is ample.
  const forced = setTimeout(() => {
    logger.warn("shutdown took too long; exiting (unfinished jobs stall and another worker resumes them)");
    process.exit(1);
  }, 8_000);
  await operationWorker.close().catch((error: unknown) => logger.error({ err: error }, "worker close failed"));
  health.close();
  await countsQueue.close().catch(() => undefined);
  await access.close();
  redis.disconnect();
  clearTimeout(forced);
  logger.info("stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
