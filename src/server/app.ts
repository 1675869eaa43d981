import { randomUUID } from "node:crypto";
import express, { type ErrorRequestHandler, type Request } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { AirtableClient } from "../shared/airtable/index.ts";
import type { AirtableOAuth } from "../shared/airtable/oauth.ts";
import type { Config } from "../shared/config.ts";
import type { AirtableLimiter } from "../shared/limiter/index.ts";
import { withLogContext } from "../shared/log-context.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { QueuedOperationRunner } from "../shared/queue/queued-runner.ts";
import { readinessChecks } from "../shared/readiness.ts";
import { WorkerLiveness } from "../shared/queue/worker-heartbeat.ts";
import { isRedisUnavailable, TEMPORARILY_UNAVAILABLE } from "../shared/redis-unavailable.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import {
  AirtableReauthRequiredError,
  AirtableTokenUnavailableError,
  type AirtableTokenProvider,
} from "../shared/tokens/airtable-token-provider.ts";
import type { TokenStore } from "../shared/tokens/index.ts";
import type { OperationRunner } from "../shared/operations/operation-runner.ts";
import type { OperationStore } from "../shared/operations/operation-store.ts";
import { allTools } from "../shared/tools/catalog.ts";
import { createWriteRunner } from "../shared/tools/run-write.ts";
import { createAdminRouter } from "./admin/admin-router.ts";
import { createAuthRouter, insufficientScope, requireBearer, RevocationList } from "./auth/index.ts";
import { createMcpRouter } from "./mcp/mcp-router.ts";
import { readyzHandler } from "./readyz.ts";

export interface ServerParts {
  config: Config;
  redis: Redis;
  keyPrefix: string;
  store: TokenStore;
  limiter: AirtableLimiter;
  airtableOAuth: AirtableOAuth;
  tokens: AirtableTokenProvider;
  /** Write operations: their logs, and the queue that hands them to the worker pool. */
  operations: OperationStore;
  runner: OperationRunner;
  logger: Logger;
  /**
   * This process's metrics (/metrics), shared with the parts built before the app (the limiter's hooks).
   * Absent: the app keeps its own, which then sees tool calls, Airtable requests and the queue only.
   */
  metrics?: Metrics;
}

/** upload_attachment carries up to 5 MB as base64 (≈ 6.7 MB) inside a JSON-RPC message. */
const MAX_MCP_BODY_BYTES = 8 * 1024 * 1024;

/** The HTTP application of one server instance. Holds no per-user state: everything lives in Redis or the store. */
export function createServerApp(parts: ServerParts): express.Express {
  const { config, redis, keyPrefix, store, limiter, logger } = parts;
  const publicUrl = config.PUBLIC_URL!;
  const metrics = parts.metrics ?? new Metrics({ logger });
  // The queue the board shows and queue_jobs counts: the one write tools hand operations to.
  const queue = parts.runner instanceof QueuedOperationRunner ? parts.runner.queue : undefined;
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

  const schemas = new SchemaCache({ redis, keyPrefix, logger });
  const revocations = new RevocationList({ redis, keyPrefix, accessTokenTtlSec: config.ACCESS_TOKEN_TTL_SEC });
  const airtableClient = (userId: string, getAccessToken: (rejected?: string) => Promise<string>) =>
    new AirtableClient({
      apiUrl: config.AIRTABLE_API_URL,
      contentUrl: config.AIRTABLE_CONTENT_URL,
      userId,
      limiter,
      logger,
      getAccessToken,
      onAttempt: metrics.onAirtableAttempt,
    });
  const airtableToken = async (userId: string, rejected?: string) => {
    try {
      return await parts.tokens.getAccessToken(userId, rejected);
    } catch (error) {
      // Airtable access is gone for good: end this user's grants so the MCP client's next request gets
      // 401 and it signs in again, instead of refreshing our token into the same failure forever.
      if (error instanceof AirtableReauthRequiredError) await revokeAllGrants(store, revocations, userId, logger);
      throw error;
    }
  };
  /** `checkedToken`: the token just read before the tool ran, used for the first request instead of a second read. */
  const clientFor = (userId: string, checkedToken: string) => {
    let unused: string | undefined = checkedToken;
    return airtableClient(userId, (rejected) => {
      const token = rejected === undefined ? unused : undefined;
      unused = undefined;
      return token !== undefined ? Promise.resolve(token) : airtableToken(userId, rejected);
    });
  };

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // Workers' heartbeats: watched only when writes go to the worker pool (not when they run in this process).
  const workers = queue === undefined ? undefined : new WorkerLiveness({ redis, keyPrefix });
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
        ...(queue !== undefined && { queue }),
      }),
    );
  }

  app.use(
    createAuthRouter({
      config,
      redis,
      keyPrefix,
      store,
      airtableOAuth: parts.airtableOAuth,
      logger,
      whoami: async (accessToken) => {
        // The new user's id is not known yet: charge the call to a placeholder user scope.
        const me = await airtableClient("sign-in", async () => accessToken).whoami();
        return { id: me.id, ...(me.email ? { email: me.email } : {}) };
      },
    }),
  );

  app.use(
    createMcpRouter({
      authenticate: requireBearer({ config, redis, keyPrefix, logger }),
      buildContext: async (req: Request) => {
        const auth = (req as Request & { auth?: AuthInfo }).auth!;
        const userId = String(auth.extra?.userId);
        // Checked before the tool runs (refreshing ahead of expiry): a lost Airtable sign-in becomes an
        // HTTP 401 with a challenge (see the error handler below), which makes the client sign in again.
        const token = await airtableToken(userId);
        return {
          airtable: clientFor(userId, token),
          userId,
          schemas,
          logger: logger.child({ userId }),
          operations: parts.operations,
          maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
        };
      },
      tools: allTools,
      runWrite: createWriteRunner({
        runner: parts.runner,
        operations: parts.operations,
        waitMs: config.WRITE_WAIT_MS,
        ...(workers !== undefined && { workers }),
      }),
      maxBodyBytes: MAX_MCP_BODY_BYTES,
      onToolCall: metrics.onToolCall,
      instructionSettings: {
        maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
        writeWaitMs: config.WRITE_WAIT_MS,
      },
      allowedOrigins: config.ALLOWED_ORIGINS,
      allowedHosts: config.ALLOWED_HOSTS.length > 0 ? config.ALLOWED_HOSTS : [new URL(publicUrl).host],
      logger,
      insufficientScope,
    }),
  );
  app.use(finalErrorHandler(publicUrl, logger));
  return app;
}

/** Errors that escaped a route: never an HTML page or a stack trace. */
function finalErrorHandler(publicUrl: string, logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const rpc = (status: number, code: number, message: string) =>
      res.status(status).json({ jsonrpc: "2.0", id: null, error: { code, message } });
    if (error instanceof AirtableReauthRequiredError) {
      res.setHeader(
        "WWW-Authenticate",
        `Bearer error="invalid_token", error_description="Airtable sign-in ended; sign in again", resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp"`,
      );
      return rpc(401, -32001, "Your Airtable sign-in has ended. Sign in again.");
    }
    if (error instanceof AirtableTokenUnavailableError) {
      res.setHeader("Retry-After", "30");
      return rpc(503, -32002, "Airtable sign-in could not be refreshed right now; try again in a minute.");
    }
    if (isRedisUnavailable(error)) {
      res.setHeader("Retry-After", "30");
      return rpc(503, -32002, TEMPORARILY_UNAVAILABLE);
    }
    const status = (error as { status?: number; statusCode?: number }).status ?? 500;
    if (status >= 400 && status < 500) return rpc(status, -32600, (error as Error).message ?? "Bad request");
    logger.error({ err: error, path: req.path }, "unhandled error");
    return rpc(500, -32603, "Internal error");
  };
}

async function revokeAllGrants(store: TokenStore, revocations: RevocationList, userId: string, logger: Logger) {
  const grants = await store.listGrantsForUser(userId);
  await Promise.all(
    grants
      .filter((g) => !g.revokedAt)
      .map(async (g) => {
        await store.revokeGrant(g.grantId, "airtable_access_lost");
        await revocations.add(g.grantId);
      }),
  );
  logger.warn({ userId, grants: grants.length }, "Airtable access lost: revoked the user's grants");
}
