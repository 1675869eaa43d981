import type { RequestHandler } from "express";
import { JSON_RPC, sendJsonRpcError } from "./json-rpc-error.ts";

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}

/**
 * DNS-rebinding protection (MCP security best practices): a browser page on another origin must not reach /mcp.
 * A present Origin must be allowed; requests without Origin (non-browser clients) pass.
 */
export function originGuard(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins.map(normalizeOrigin));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.has(normalizeOrigin(origin))) return next();
    sendJsonRpcError(res, 403, JSON_RPC.serverError, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed`);
  };
}

/**
 * The Host header must name this server (a rebinding attack keeps the attacker's host name). Entries are
 * `host` or `host:port`; an entry without a port matches any port. No entries: no check.
 */
export function hostGuard(allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase()));
  return (req, res, next) => {
    if (allowed.size === 0) return next();
    const host = (req.headers.host ?? "").toLowerCase();
    const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    if (allowed.has(host) || (hostname !== undefined && allowed.has(hostname))) return next();
    sendJsonRpcError(res, 403, JSON_RPC.serverError, `Forbidden: Host ${JSON.stringify(host)} is not allowed`);
  };
}
