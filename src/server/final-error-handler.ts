import type { ErrorRequestHandler } from "express";
import type { Logger } from "../shared/logger.ts";
import { isRedisUnavailable, TEMPORARILY_UNAVAILABLE } from "../shared/redis-unavailable.ts";
import { AirtableTokenUnavailableError } from "../shared/tokens/airtable-token-provider.ts";

/**
 * The app's last error handler: errors that escaped a route become a JSON-RPC error answer (the MCP endpoint's
 * shape), never an HTML page or a stack trace. A lost Airtable sign-in is answered before this, by the
 * authorization server (auth/airtable-access-lost.ts).
 * - the Airtable token could not be refreshed right now, or Redis is away: 503 with Retry-After 30 (s) and JSON-RPC
 *   -32603 (internal error). Not -32002: MCP 2026-07-28 forbids emitting it ("basic", error codes), and 2025-11-25
 *   gave it to "resource not found";
 * - a 4xx carried by the error (body parser: malformed, too large): that status and its message;
 * - anything else: 500 "Internal error", logged with the path.
 */
export function finalErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    const rpc = (status: number, code: number, message: string) =>
      res.status(status).json({ jsonrpc: "2.0", id: null, error: { code, message } });
    if (error instanceof AirtableTokenUnavailableError) {
      res.setHeader("Retry-After", "30");
      return rpc(503, -32603, "Airtable sign-in could not be refreshed right now; try again in a minute.");
    }
    if (isRedisUnavailable(error)) {
      res.setHeader("Retry-After", "30");
      return rpc(503, -32603, TEMPORARILY_UNAVAILABLE);
    }
    const status = (error as { status?: number; statusCode?: number }).status ?? 500;
    if (status >= 400 && status < 500) return rpc(status, -32600, (error as Error).message ?? "Bad request");
    logger.error({ err: error, path: req.path }, "unhandled error");
    return rpc(500, -32603, "Internal error");
  };
}
