import { randomUUID } from "node:crypto";
import express, { type Request } from "express";
import helmet from "helmet";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { AuthInfo } from "@modelcontextprotocol/server";
import type { AirtableClientFactory } from "../shared/airtable/client-factory.ts";
import type { KeyValueStore } from "../shared/kv/key-value-store.ts";
import type { AirtableOAuth } from "../shared/airtable/oauth.ts";
import type { Config } from "../shared/config.ts";
import { addToLogContext, withLogContext } from "../shared/log-context.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { waitingOperations, type OperationJobData } from "../shared/queue/operation-queue.ts";
import { readinessChecks } from "../shared/readiness.ts";
import { WorkerLiveness } from "../shared/queue/worker-heartbeat.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import type { AirtableTokenProvider } from "../shared/tokens/airtable-token-provider.ts";
import type { TokenStore } from "../shared/tokens/index.ts";
import type { OperationRunner } from "../shared/operations/operation-runner.ts";
import type { OperationStore } from "../shared/operations/operation-store.ts";
import { RecentCalls } from "../shared/operations/recent-calls.ts";
import { settlingReader } from "../shared/operations/settling-reader.ts";
import { allTools } from "../shared/tools/catalog.ts";
import { createWriteRunner } from "../shared/tools/run-write.ts";
import { OperationTaskStore } from "../shared/tasks/operation-task-store.ts";
import { createAdminRouter } from "./admin/admin-router.ts";
import { createAuthorizationServer, insufficientScope } from "./auth/index.ts";
import { BrowserOrigins, mcpCors, mcpOrigins } from "./cors.ts";
import { finalErrorHandler } from "./final-error-handler.ts";
import type { AirtableReachability } from "../shared/airtable/reachability.ts";
import { CallCancels } from "./mcp/call-cancels.ts";
import { createMcpRouter } from "./mcp/mcp-router.ts";
import { hostPolicy } from "./mcp/request-guards.ts";
import { answerMcpClientsElsewhere, answerWrongMcpEndpoints } from "./mcp/wrong-endpoint.ts";
import { readyzHandler } from "./readyz.ts";

export interface ServerParts {
  config: Config;
  /**
   * Distributed mode: the shared Redis (readiness, the schema cache every instance shares). Absent in embedded
   * mode, where the schema cache is this process's.
   */
  redis?: Redis;
  /** OAuth transient state, revocations, rate-limit counters, the CIMD cache (Redis, or SQLite when embedded). */
  kv: KeyValueStore;
  keyPrefix: string;
  store: TokenStore;
  /** Builds the Airtable client for a user (createAirtableAccess's `clients`, behind the shared limiter). */
  airtableClients: AirtableClientFactory;
  airtableOAuth: AirtableOAuth;
  tokens: AirtableTokenProvider;
  /** Write operations: their logs, and the queue that hands them to the worker pool. */
  operations: OperationStore;
  runner: OperationRunner;
  /**
   * The BullMQ queue `runner` hands operations to, when it is one (distributed mode): Bull Board shows it and
   * /metrics counts its jobs. Absent when operations run in-process: no board, no queue_jobs.
   */
  queue?: Queue<OperationJobData>;
  logger: Logger;
  /**
   * The schema cache, when the process's operation runner uses it too (embedded mode: a schema change a write
   * makes is then seen by the next read at once). Absent: the app builds its own (shared in Redis when given).
   */
  schemas?: SchemaCache;
  /**
   * This process's metrics (/metrics), shared with the parts built before the app (the limiter's hooks).
   * Absent: the app keeps its own, which then sees tool calls, Airtable requests and the queue only.
   */
  metrics?: Metrics;
  /**
   * Aborted when this process begins to shut down (its composition root's `close`): a write call whose connection
   * the shutdown closes has not been cancelled by its client, and its operation goes on (run-write.ts).
   */
  shutdown?: AbortSignal;
  /**
   * The 2025-era tool calls in flight, stopped by their clients' `notifications/cancelled` (mcp/call-cancels.ts),
   * relayed to every instance over Redis by the composition root. Absent: the app keeps its own, which stops the
   * calls of this process only (one instance, or embedded mode).
   */
  cancels?: CallCancels;
  /**
   * Whether the Airtable URLs answer (the composition root's, whose start-up check seeded it): the sign-in checks
   * AIRTABLE_AUTH_URL with it before sending a browser there. Absent: not checked (the embedded demo's in-process
   * sandbox, test harnesses whose sandbox runs).
   */
  airtableReachability?: AirtableReachability;
}

/** upload_attachment carries up to 5 MB as base64 (≈ 6.7 MB) inside a JSON-RPC message. */
const MAX_MCP_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The HTTP application of one server instance. Holds no per-user state: everything lives in the KeyValueStore, the
 * token store and the operation store (Redis/Firestore when distributed, SQLite when embedded).
 */
export function createServerApp(parts: ServerParts): express.Express {
  const { config, redis, kv, keyPrefix, store, logger } = parts;
  const publicUrl = config.PUBLIC_URL!;
  const metrics = parts.metrics ?? new Metrics({ logger });
  const { queue } = parts;
  if (queue !== undefined) metrics.observeQueue(queue);
  const app = express();
  app.disable("x-powered-by");
  // Cloud Run puts one proxy in front; rate limits and absolute URLs need the client's address and scheme.
  app.set("trust proxy", config.TRUST_PROXY);
  app.use(helmet({ contentSecurityPolicy: false, crossOriginResourcePolicy: false }));
  // A request id on every log line of the request (and in the answer, to quote in a bug report). A caller's
  // X-Request-Id is kept when it looks like an id; Cloud Run's trace id otherwise; else a fresh one.
  app.use((req, res, next) => {
    const given = req.get("x-request-id") ?? req.get("x-cloud-trace-context")?.split("/")[0];
    const requestId = given !== undefined && /^[\w.:-]{8,128}$/.test(given) ? given : randomUUID();
    res.setHeader("X-Request-Id", requestId);
    withLogContext({ requestId }, next);
  });

  const schemas = parts.schemas ?? new SchemaCache({ ...(redis && { redis }), keyPrefix, logger });
  const airtableClient = (userId: string, getAccessToken: (rejected?: string) => Promise<string>) =>
    parts.airtableClients({ userId, getAccessToken, onAttempt: metrics.onAirtableAttempt });
  const auth = createAuthorizationServer({
    config,
    kv,
    keyPrefix,
    store,
    airtableOAuth: parts.airtableOAuth,
    ...(parts.airtableReachability !== undefined && { airtableReachability: parts.airtableReachability }),
    airtableAccess: (userId, rejected) => parts.tokens.getAccess(userId, rejected),
    logger,
    whoami: async (accessToken, userId) => {
      // A fresh sign-in's user is not known yet: its call gets a scope of its own, so that a 429 on it (were
      // Airtable to count the user's other tokens) pauses this sign-in only, not everyone's.
      const me = await airtableClient(userId ?? `sign-in:${randomUUID()}`, async () => accessToken).whoami();
      return { id: me.id, ...(me.email ? { email: me.email } : {}) };
    },
  });
  // Ends the user's grants when their Airtable sign-in turns out to be lost (the auth server's policy).
  const airtableAccess = auth.airtableAccess;
  /** `checkedToken`: the token just read before the tool ran, used for the first request instead of a second read. */
  const clientFor = (userId: string, checkedToken: string) => {
    let unused: string | undefined = checkedToken;
    return airtableClient(userId, (rejected) => {
      const token = rejected === undefined ? unused : undefined;
      unused = undefined;
      return token !== undefined
        ? Promise.resolve(token)
        : airtableAccess(userId, rejected).then((access) => access.accessToken);
    });
  };

  // Someone who opens the server's address in a browser (a newcomer checking it runs) reads where clients go,
  // not express's "Cannot GET /". Plain text: nothing of the request is echoed.
  app.get("/", (_req, res) => {
    res
      .type("text/plain")
      .send(
        `airtable-oauth-mcp: an MCP server for Airtable.\n\nAdd ${publicUrl}/mcp to your MCP client (Claude, ` +
          `Cursor, VS Code, the MCP Inspector...) as a remote (Streamable HTTP) server: it signs you in with ` +
          `Airtable when it first connects.\n`,
      );
  });
  // The browser origins allowed on /mcp: one set, for /mcp's router and for the hints below (which have its CORS).
  const mcpBrowserOrigins = new BrowserOrigins(mcpOrigins(publicUrl, config.ALLOWED_ORIGINS));
  // An MCP client given the address without /mcp (or trying the old SSE transport's /sse or /messages) is told the
  // endpoint, in a JSON-RPC error it can show, instead of express's HTML "Cannot POST /".
  answerWrongMcpEndpoints(app, publicUrl, mcpCors(mcpBrowserOrigins, ["GET", "POST"]));
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // Workers' heartbeats: watched only when writes go to the worker pool (not when they run in this process).
  const workers = queue === undefined || redis === undefined ? undefined : new WorkerLiveness({ redis, keyPrefix });
  app.get(
    "/readyz",
    readyzHandler({
      checks: readinessChecks(redis, store),
      ...(queue !== undefined && workers !== undefined && { workers: { liveness: workers, queue } }),
    }),
  );

  // Operator surfaces: only with ADMIN_TOKEN set (otherwise these paths do not exist).
  if (config.ADMIN_TOKEN !== undefined) {
    app.use(
      createAdminRouter({
        adminToken: config.ADMIN_TOKEN,
        readOnly: config.ADMIN_READ_ONLY,
        metrics,
        ...(queue !== undefined && { queue, cancel: { runner: parts.runner, store: parts.operations } }),
      }),
    );
  }

  app.use(auth.router);

  // What agents read of their operations (get_operation, list_operations, tasks, a write call's answer): an
  // operation left `queued` with no job by a server process that exited is ended when read (settling-reader.ts).
  const operations = settlingReader(parts.operations, parts.runner, logger);
  // MCP Tasks are views of the operation logs (any instance answers any task); tasks/cancel is the runner's cancel.
  const tasks = new OperationTaskStore({
    operations,
    cancel: (id, owner) => parts.runner.cancel(id, owner, { source: "tasks/cancel" }),
    retentionMs: config.OPERATION_RETENTION_HOURS * 3_600_000,
    baseRps: config.AIRTABLE_BASE_RPS,
    ...(queue !== undefined && { queueDepth: () => waitingOperations(queue) }),
  });
  const userIdOf = (req: Request) => String((req as Request & { auth?: AuthInfo }).auth?.extra?.userId);
  /**
   * What every tool call's context holds about its caller besides their Airtable client and scopes. Its logger puts
   * `userId` on every line: through the request's log context (the request-id middleware above opened it), or a
   * child logger where there is none.
   */
  const callerContext = (userId: string) => ({
    userId,
    schemas,
    logger: addToLogContext({ userId }) ? logger : logger.child({ userId }),
    operations,
    operationRunner: parts.runner,
    maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
  });

  const hosts = hostPolicy(publicUrl, config.ALLOWED_HOSTS);
  app.use(
    createMcpRouter({
      authenticate: auth.requireBearer,
      buildContext: async (req: Request) => {
        const userId = userIdOf(req);
        // Checked before the tool runs (refreshing ahead of expiry): a lost Airtable sign-in becomes an
        // HTTP 401 with a challenge (auth.accessLostErrorHandler), which makes the client sign in again.
        const access = await airtableAccess(userId);
        return {
          ...callerContext(userId),
          airtable: clientFor(userId, access.accessToken),
          // What the sign-in may do upstream: a tool needing an Airtable scope it lacks is refused before sending.
          airtableScopes: access.scopes,
        };
      },
      // get_operation, list_operations, cancel_operation: the user's Airtable token is not read (nor refreshed), so
      // these answer whatever Airtable's token endpoint does, and while the user's Airtable sign-in has ended (their
      // MCP token is ours and still valid; the next tool that asks Airtable finds the loss and ends their grants).
      buildOwnRecordsContext: (req: Request) => {
        const userId = userIdOf(req);
        // Unused by these tools; were a request ever sent with it, it would get the token then.
        const airtable = airtableClient(userId, (rejected) =>
          airtableAccess(userId, rejected).then((access) => access.accessToken),
        );
        return { ...callerContext(userId), airtable };
      },
      tools: allTools,
      callerUserId: userIdOf,
      operations: parts.operations,
      tasks: { store: tasks },
      runWrite: createWriteRunner({
        runner: parts.runner,
        operations,
        waitMs: config.WRITE_WAIT_MS,
        // Claims of recent creates in the deployment's store (Redis, or SQLite when embedded: kept across the
        // restart that makes agents retry), read against the operations as their owners see them.
        recentCalls: new RecentCalls({ kv, keyPrefix, operations }),
        ...(workers !== undefined && { workers }),
        ...(parts.shutdown !== undefined && { shutdown: parts.shutdown }),
      }),
      maxBodyBytes: MAX_MCP_BODY_BYTES,
      cancels: parts.cancels ?? new CallCancels({ logger }),
      onToolCall: metrics.onToolCall,
      onStaleVersionHeader: metrics.onStaleVersionHeader,
      readCallDeadlineMs: config.READ_CALL_DEADLINE_MS,
      instructionSettings: {
        maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
        writeWaitMs: config.WRITE_WAIT_MS,
      },
      allowedOrigins: mcpBrowserOrigins,
      allowedHosts: hosts.hosts,
      hostHint: hosts.hint,
      logger,
      insufficientScope,
    }),
  );
  // An MCP client at a path nothing above answers (/api/mcp, /mcp/sse…) is told the endpoint, as on / and /sse.
  answerMcpClientsElsewhere(app, publicUrl, mcpCors(mcpBrowserOrigins, ["GET", "POST"]));
  app.use(auth.accessLostErrorHandler);
  app.use(finalErrorHandler(logger));
  return app;
}
