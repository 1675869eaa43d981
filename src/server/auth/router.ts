import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from "express";
import { authorizeHandler, decisionHandler } from "./authorize.ts";
import { callbackHandler } from "./callback.ts";
import { buildAuthContext, type AuthContext, type AuthDeps } from "./context.ts";
import { authorizationServerMetadata, jsonDocument, protectedResourceMetadata, withTrailingSlash } from "./metadata.ts";
import { noStore, sendOAuthError, unexpectedOAuthError } from "./oauth-error.ts";
import { sendErrorPage } from "./pages.ts";
import { ipRateLimit } from "./rate-limit.ts";
import { registerHandler } from "./register.ts";
import { revokeHandler } from "./revoke.ts";
import { tokenHandler } from "./token-endpoint.ts";
import { authPaths } from "./urls.ts";
import { publicOAuthCors } from "../cors.ts";

/**
 * The OAuth 2.1 authorization server for the MCP endpoint: metadata (RFC 9728, RFC 8414), registration
 * (RFC 7591) and Client ID Metadata Documents, consent, the Airtable leg, tokens and revocation. Mount it at
 * the app's root; the app must `set("trust proxy", config.TRUST_PROXY)` so rate limits see client addresses.
 * Every step keeps its state in the KeyValueStore (Redis; SQLite in embedded mode): any instance can serve any request. `ctx`: the parts built from `deps`,
 * when the caller shares them with other users of the same grants (createAuthorizationServer).
 */
export function createAuthRouter(deps: AuthDeps, ctx: AuthContext = buildAuthContext(deps)): Router {
  const limits = ctx.rateLimits;
  const router = express.Router();
  const rl = (name: string, windowMs: number, limit: number, page: boolean): RequestHandler =>
    ipRateLimit({
      kv: deps.kv,
      keyPrefix: deps.keyPrefix,
      name,
      windowMs,
      limit,
      logger: deps.logger,
      onLimit: (_req, res) =>
        page
          ? sendErrorPage(res, 429, "Too many requests", "Wait a minute, then start again from your app.")
          : (noStore(res),
            res.status(429).json({ error: "too_many_requests", error_description: "Slow down and retry later" })),
    });
  const registerLimit = rl("register", 3600_000, limits.registerPerHour, false);
  const tokenLimit = rl("token", 60_000, limits.tokenPerMinute, false);
  const browserLimit = rl("authorize", 60_000, limits.authorizePerMinute, true);
  const form = express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 50 });
  const json = express.json({ limit: "16kb" });

  const allowed: Record<string, string> = {
    [authPaths.protectedResourceMetadataRoot]: "GET",
    [authPaths.protectedResourceMetadata]: "GET",
    [authPaths.authorizationServerMetadata]: "GET",
    [authPaths.register]: "POST",
    [authPaths.authorize]: "GET",
    [authPaths.decision]: "POST",
    [authPaths.callback]: "GET",
    [authPaths.token]: "POST",
    [authPaths.revoke]: "POST",
  };

  // Browser-based clients (MCP Inspector) call these from any origin; none of them uses cookies. First, so that
  // every answer (429 and 500 included) carries the CORS headers. /authorize and the callback are navigations.
  for (const path of [
    authPaths.protectedResourceMetadataRoot,
    authPaths.protectedResourceMetadata,
    authPaths.authorizationServerMetadata,
    authPaths.register,
    authPaths.token,
    authPaths.revoke,
  ]) {
    router.use(path, publicOAuthCors([allowed[path] as string]));
  }

  const prm = jsonDocument(protectedResourceMetadata(ctx.urls));
  // The metadata of `/mcp/`, for a client given the URL with a trailing slash (metadata.ts).
  const prmSlashed = jsonDocument(protectedResourceMetadata(ctx.urls, withTrailingSlash(ctx.urls.resource)));
  router.get(authPaths.protectedResourceMetadataRoot, prm);
  router.get(authPaths.protectedResourceMetadata, (req, res, next) => {
    (req.path.endsWith("/") ? prmSlashed : prm)(req, res, next);
  });
  router.get(authPaths.authorizationServerMetadata, jsonDocument(authorizationServerMetadata(ctx.urls)));

  router.post(authPaths.register, registerLimit, json, registerHandler(ctx));
  router.get(authPaths.authorize, browserLimit, authorizeHandler(ctx));
  router.post(authPaths.decision, browserLimit, form, decisionHandler(ctx));
  router.get(authPaths.callback, browserLimit, callbackHandler(ctx));
  router.post(authPaths.token, tokenLimit, form, tokenHandler(ctx));
  router.post(authPaths.revoke, tokenLimit, form, revokeHandler(ctx));

  for (const [path, method] of Object.entries(allowed)) {
    router.all(path, (_req, res) => {
      res.setHeader("Allow", method);
      res.status(405).json({ error: "invalid_request", error_description: `Use ${method}` });
    });
  }

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: number }).status;
    const browser = req.path.startsWith(authPaths.authorize) || req.path === authPaths.callback;
    if (typeof status === "number" && status >= 400 && status < 500) {
      // Body parser errors: malformed JSON or form, too large.
      if (browser) return sendErrorPage(res, status, "Bad request", "The request could not be read.");
      noStore(res);
      const code = req.path === authPaths.register ? "invalid_client_metadata" : "invalid_request";
      return res.status(status).json({ error: code, error_description: "The request body could not be read" });
    }
    deps.logger.error({ err: error, path: req.path }, "authorization server error");
    const answer = unexpectedOAuthError(error, "Internal error; try again");
    if (browser) {
      if (answer.retryAfterSec !== undefined) {
        res.setHeader("Retry-After", String(answer.retryAfterSec));
        return sendErrorPage(
          res,
          503,
          "Temporarily unavailable",
          "The sign-in service cannot reach its storage right now. Nothing was changed; try again from your app in a minute.",
        );
      }
      return sendErrorPage(res, 500, "Something went wrong", "Please try again from your app.");
    }
    sendOAuthError(res, answer);
  });
  return router;
}
