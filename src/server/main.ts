/**
 * Composition root of the web tier: read config, build the parts, listen, stop cleanly on SIGTERM.
 * Stateless: run as many instances as you like behind a load balancer.
 */
import { once } from "node:events";
import { Redis } from "ioredis";
import { createAirtableAccess } from "../shared/airtable-access.ts";
import { loadConfigOrExit } from "../shared/config.ts";
import { RedisKeyFingerprintStore, requireKeyAgreement } from "../shared/key-fingerprint.ts";
import { createLogger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { QueuedOperationRunner } from "../shared/queue/queued-runner.ts";
import { createServerApp } from "./app.ts";

const config = loadConfigOrExit("server");

const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: "server" });
const keyPrefix = config.REDIS_KEY_PREFIX;
// The web tier answers people: fail a request fast when Redis is away rather than queue it for minutes.
const redis = new Redis(config.REDIS_URL!, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
redis.on("error", (error) => logger.error({ err: error }, "Redis error"));
// Before anything is served: a server whose key differs from the workers' would store tokens they cannot read.
await requireKeyAgreement(new RedisKeyFingerprintStore(redis, keyPrefix), config, logger);
const metrics = new Metrics({ logger });
const { store, limiter, airtableOAuth, tokens, operations, ...access } = createAirtableAccess(config, {
  redis,
  logger,
  limiterHooks: metrics.limiterHooks,
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
const app = createServerApp({
  config,
  redis,
  keyPrefix,
  store,
  limiter,
  airtableOAuth,
  tokens,
  operations,
  runner,
  logger,
  metrics,
});

const server = app.listen(config.PORT);
await once(server, "listening");
const address = server.address();
logger.info(
  { port: typeof address === "object" && address ? address.port : config.PORT, publicUrl: config.PUBLIC_URL },
  "server listening",
);

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  // Cloud Run sends SIGKILL 10 s after SIGTERM: give in-flight requests 8 s.
  const forced = setTimeout(() => server.closeAllConnections(), 8_000);
  server.close();
  server.closeIdleConnections();
  await once(server, "close").catch(() => undefined);
  clearTimeout(forced);
  await runner.close();
  await access.close();
  redis.disconnect();
  logger.info("stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
