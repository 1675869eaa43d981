import type { RequestHandler } from "express";
import type { BrowserOrigins } from "../cors.ts";
import { JSON_RPC, sendJsonRpcError } from "./json-rpc-error.ts";

/**
 * DNS-rebinding protection (MCP spec 2025-11-25, basic/transports "Security Warning"): a browser page on another
 * origin must not reach /mcp. A present Origin must be allowed (see ../cors.ts for the list); requests without
 * Origin (non-browser clients) pass. Also refuses a foreign origin's preflight.
 */
export function originGuard(origins: BrowserOrigins): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || origins.allows(origin)) return next();
    sendJsonRpcError(
      res,
      403,
      JSON_RPC.serverError,
      `Forbidden: Origin ${JSON.stringify(origin)} is not allowed; the server's operator can add it to ALLOWED_ORIGINS`,
    );
  };
}

/** The Host values /mcp accepts, and the sentence a refused Host's error adds to explain them. */
export interface HostPolicy {
  hosts: string[];
  hint: string;
}

/**
 * ALLOWED_HOSTS when set; otherwise PUBLIC_URL's host (with its port), the name clients were told to use.
 * The hint names the expected host and the setting that changes it (a proxy or tunnel that rewrites Host, a
 * server reached under a second name, or a PUBLIC_URL that does not match how clients connect).
 */
export function hostPolicy(publicUrl: string, allowedHosts: readonly string[]): HostPolicy {
  if (allowedHosts.length > 0) {
    return {
      hosts: [...allowedHosts],
      hint: `This server accepts Host ${allowedHosts.map((h) => JSON.stringify(h)).join(", ")} (ALLOWED_HOSTS).`,
    };
  }
  const host = new URL(publicUrl).host;
  return {
    hosts: [host],
    hint:
      `This server expects Host ${JSON.stringify(host)}, the host of its PUBLIC_URL (${publicUrl}); connect to ` +
      `${publicUrl}/mcp, or the operator can list other names in ALLOWED_HOSTS (or correct PUBLIC_URL).`,
  };
}

/**
 * The Host header must name this server (a rebinding attack keeps the attacker's host name). Entries are
 * `host` or `host:port`; an entry without a port matches any port. No entries: no check. `hint` is appended to
 * the refusal (see hostPolicy).
 */
export function hostGuard(allowedHosts: readonly string[], hint?: string): RequestHandler {
  const allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase()));
  return (req, res, next) => {
    if (allowed.size === 0) return next();
    const host = (req.headers.host ?? "").toLowerCase();
    const hostname = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0];
    if (allowed.has(host) || (hostname !== undefined && allowed.has(hostname))) return next();
    const refusal = `Forbidden: Host ${JSON.stringify(host)} is not allowed.`;
    sendJsonRpcError(res, 403, JSON_RPC.serverError, hint === undefined ? refusal : `${refusal} ${hint}`);
  };
}
