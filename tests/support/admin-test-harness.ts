/**
 * Tests only: the real server app (createServerApp, as src/server/main.ts wires it: clustered limiter with the
 * metrics hooks, Redis token store, BullMQ queue) on an ephemeral port, and on demand a worker as
 * src/worker/main.ts wires it (BullMQ worker + health server with /metrics), all against real Redis and the
 * Airtable sandbox.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { airtableClientFactory } from "../../src/shared/airtable/client-factory.ts";
import { createAirtableAccess } from "../../src/shared/airtable-access.ts";
import { configSchema, type Config } from "../../src/shared/config.ts";
import { BottleneckAirtableLimiter, limiterSettingsFrom } from "../../src/shared/limiter/index.ts";
import { createLogger, type Logger } from "../../src/shared/logger.ts";
import { Metrics } from "../../src/shared/metrics/index.ts";
import type { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { QueuedOperationRunner } from "../../src/shared/queue/queued-runner.ts";
import { SchemaCache } from "../../src/shared/schema-cache.ts";
import type { TokenStore } from "../../src/shared/tokens/index.ts";
import { BaseFairness } from "../../src/worker/base-fairness.ts";
import { createHealthServer } from "../../src/worker/health-server.ts";
import { createOperationWorker, type OperationWorker } from "../../src/worker/operation-worker.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";

import { createTestRedis } from "../helpers/redis.ts";
import { failFastRedisOptions } from "../../src/shared/redis-connection.ts";
import { logRedisErrors } from "../../src/shared/redis-unavailable.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import { createServerApp } from "../../src/server/app.ts";
import { CallCancels } from "../../src/server/mcp/call-cancels.ts";

/** An ADMIN_TOKEN for tests (≥ 16 characters). */
export const TEST_ADMIN_TOKEN = `admin-${randomBytes(12).toString("hex")}`;

export interface TestWorker {
  worker: OperationWorker;
  metrics: Metrics;
  /** The worker's health port, e.g. http://127.0.0.1:1234 (`/healthz`, `/readyz`, `/metrics`). */
  healthUrl: string;
}

export interface ServerHarness {
  url: string;
  /** The HTTP server the app serves on, e.g. to watch a request as the server sees it (its `request` event). */
  server: Server;
  config: Config;
  keyPrefix: string;
  store: TokenStore;
  runner: QueuedOperationRunner;
  operations: OperationLog;
  metrics: Metrics;
  /** A worker process's parts, in this process; `accessToken` replaces the token store (e.g. a sandbox PAT). */
  startWorker(opts?: { accessToken?: (userId: string) => Promise<string> }): Promise<TestWorker>;
  close(): Promise<void>;
}

export interface ServerHarnessOptions {
  sandbox: Sandbox;
  /** Shared by every harness of a test file (one queue), and deleted by the test file. */
  keyPrefix: string;
  /** Environment on top of the harness's own (ADMIN_TOKEN, ADMIN_READ_ONLY…). */
  env?: Record<string, string>;
  /** The Redis of the server and its workers; default the shared test Redis (a test that stalls one brings its own). */
  redisUrl?: string;
  /** The logger of the server and its workers, e.g. to read what went to the log; default silent (or LOG_LEVEL). */
  logger?: Logger;
  /** Runs of a job before its operation fails (WORKER_ATTEMPTS, default 8 in production); default 1. */
  attempts?: number;
}

const defaultLogger = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });
/** One key per test process, so every server and worker of a test file reads the others' tokens. */
const encryptionKey = randomBytes(32).toString("base64");

export async function startServerHarness(opts: ServerHarnessOptions): Promise<ServerHarness> {
  const { sandbox, keyPrefix } = opts;
  const logger = opts.logger ?? defaultLogger;
  const server: Server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = `admin-test-${randomBytes(4).toString("hex")}`;
  sandbox.registerOAuthClient({ clientId, redirectUris: [`${url}/oauth/callback`] });
  const config = configSchema.parse({
    PUBLIC_URL: url,
    TOKEN_ENCRYPTION_KEY: encryptionKey,
    AIRTABLE_CLIENT_ID: clientId,
    AIRTABLE_AUTH_URL: sandbox.url,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    REDIS_KEY_PREFIX: keyPrefix,
    ...opts.env,
  });
  // Wired as src/server/main.ts wires it, its fail-fast connection included.
  const connect = (options: RedisOptions): Redis =>
    opts.redisUrl === undefined
      ? createTestRedis(options)
      : new Redis(opts.redisUrl, { maxRetriesPerRequest: 1, ...options });
  const redis = connect(failFastRedisOptions(config.REDIS_COMMAND_TIMEOUT_MS));
  logRedisErrors(redis, logger);
  if (redis.status !== "ready") await once(redis, "ready"); // no offline queue: wait for the connection
  const metrics = new Metrics({ logger });
  const access = createAirtableAccess(config, { redis, logger, limiterHooks: metrics.limiterHooks });
  const { store, clients, airtableOAuth, tokens, operations } = access;
  const runner = new QueuedOperationRunner({
    redis,
    keyPrefix,
    store: operations,
    attempts: opts.attempts ?? 1,
    retentionMs: 3_600_000,
    logger,
  });
  await runner.ready();
  // As start-server.ts: a client's cancel reaches the harness serving the call, whichever harness it reaches.
  const cancels = await CallCancels.overRedis({ redis, keyPrefix, logger });
  server.on(
    "request",
    createServerApp({
      cancels,
      config,
      redis,
      kv: new RedisKeyValueStore(redis),
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
    }),
  );

  const stops: (() => Promise<void>)[] = [];
  async function startWorker(workerOpts: { accessToken?: (userId: string) => Promise<string> } = {}) {
    const workerRedis = connect({ maxRetriesPerRequest: null });
    const workerMetrics = new Metrics({ logger });
    workerMetrics.observeQueue(runner.queue);
    const workerLimiter = BottleneckAirtableLimiter.clustered({
      redis: workerRedis,
      keyPrefix,
      // As src/worker/start-worker.ts (createAirtableAccess): the limits and the 429 penalty from the environment.
      settings: limiterSettingsFrom(config),
      logger,
      hooks: workerMetrics.limiterHooks,
    });
    const worker = createOperationWorker({
      redis: workerRedis,
      keyPrefix,
      concurrency: 2,
      lockMs: 5_000,
      store: operations,
      fairness: new BaseFairness({ redis: workerRedis, keyPrefix, maxActivePerBase: 3, leaseMs: 10_000 }),
      airtableClients: airtableClientFactory(config, { limiter: workerLimiter, logger }),
      schemas: new SchemaCache({ redis: workerRedis, keyPrefix, logger }),
      accessToken: workerOpts.accessToken ?? ((userId, rejected) => tokens.getAccessToken(userId, rejected)),
      rateLimitPenaltyMs: 1_000,
      logger,
      metrics: workerMetrics,
    });
    const health = createHealthServer({
      ready: { redis: () => workerRedis.ping() },
      ...(config.ADMIN_TOKEN !== undefined && {
        metrics: { adminToken: config.ADMIN_TOKEN, render: () => workerMetrics.render() },
      }),
    });
    health.listen(0, "127.0.0.1");
    await once(health, "listening");
    await worker.worker.waitUntilReady();
    stops.push(async () => {
      await worker.close();
      health.closeAllConnections();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      await workerLimiter.close();
      workerRedis.disconnect();
    });
    return {
      worker,
      metrics: workerMetrics,
      healthUrl: `http://127.0.0.1:${(health.address() as AddressInfo).port}`,
    };
  }

  return {
    url,
    server,
    config,
    keyPrefix,
    store,
    runner,
    operations,
    metrics,
    startWorker,
    async close() {
      await Promise.allSettled(stops.map((stop) => stop()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.close();
      await access.close();
      await cancels.close();
      redis.disconnect();
    },
  };
}

/** `Authorization` header values. */
export const bearer = (token: string) => `Bearer ${token}`;
export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/**
 * The value of one series in a Prometheus text exposition: `name` with exactly these labels (any order), or
 * undefined when the scrape does not have it.
 */
export function sampleValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of exposition.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const got = (match[2] ?? "")
      .split(/,(?=[a-zA-Z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(",");
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}
