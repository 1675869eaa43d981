import express, { type Request } from "express";
import helmet from "helmet";
import type { Redis } from "ioredis";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { AirtableClient } from "../shared/airtable/index.ts";
import type { AirtableOAuth } from "../shared/airtable/oauth.ts";
import type { Config } from "../shared/config.ts";
import type { AirtableLimiter } from "../shared/limiter/index.ts";
import type { Logger } from "../shared/logger.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { AirtableReauthRequiredError, type AirtableTokenProvider } from "../shared/tokens/airtable-token-provider.ts";
import type { TokenStore } from "../shared/tokens/index.ts";
import { readTools } from "../shared/tools/catalog.ts";
import { createAuthRouter, insufficientScope, requireBearer, RevocationList } from "./auth/index.ts";
import { createMcpRouter } from "./mcp/mcp-router.ts";

export interface ServerParts {
  config: Config;
  redis: Redis;
  keyPrefix: string;
  store: TokenStore;
  limiter: AirtableLimiter;
  airtableOAuth: AirtableOAuth;
  tokens: AirtableTokenProvider;
  logger: Logger;
}

/** The HTTP application of one server instance. Holds no per-user state: everything lives in Redis or the store. */
export function createServerApp(parts: ServerParts): express.Express {
  const { config, redis, keyPrefix, store, limiter, logger } = parts;
  const publicUrl = config.PUBLIC_URL!;
  const app = express();
  app.disable("x-powered-by");
  // Cloud Run puts one proxy in front; rate limits and absolute URLs need the client's address and scheme.
  app.set("trust proxy", config.TRUST_PROXY);
  app.use(helmet({ contentSecurityPolicy: false, crossOriginResourcePolicy: false }));

  const schemas = new SchemaCache({ redis, keyPrefix, logger });
  const revocations = new RevocationList({ redis, keyPrefix, accessTokenTtlSec: config.ACCESS_TOKEN_TTL_SEC });
  const clientFor = (userId: string) =>
    new AirtableClient({
      apiUrl: config.AIRTABLE_API_URL,
      contentUrl: config.AIRTABLE_CONTENT_URL,
      userId,
      limiter,
      logger,
      getAccessToken: async (rejected) => {
        try {
          return await parts.tokens.getAccessToken(userId, rejected);
        } catch (error) {
          // Airtable access is gone for good: end this user's grants so the MCP client's next request gets
          // 401 and it signs in again, instead of refreshing our token into the same failure forever.
          if (error instanceof AirtableReauthRequiredError) await revokeAllGrants(store, revocations, userId, logger);
          throw error;
        }
      },
    });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    try {
      await redis.ping();
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "unavailable", reason: "Redis does not answer" });
    }
  });

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
        const client = new AirtableClient({
          apiUrl: config.AIRTABLE_API_URL,
          contentUrl: config.AIRTABLE_CONTENT_URL,
          userId: "sign-in",
          limiter,
          logger,
          getAccessToken: async () => accessToken,
        });
        const me = await client.whoami();
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
        return { airtable: clientFor(userId), userId, schemas, logger: logger.child({ userId }) };
      },
      tools: readTools,
      allowedOrigins: config.ALLOWED_ORIGINS,
      allowedHosts: config.ALLOWED_HOSTS.length > 0 ? config.ALLOWED_HOSTS : [new URL(publicUrl).host],
      logger,
      insufficientScope,
    }),
  );
  return app;
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
