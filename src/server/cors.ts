/**
 * CORS for browser-based MCP clients (MCP Inspector in its browser mode, web apps): one module for the MCP
 * endpoint's router and the authorization server's router, built on the `cors` package (expressjs/cors), which
 * answers preflights, reflects allowed origins and keeps `Vary` right.
 *
 * Two policies (Fetch standard, "CORS protocol"; MCP spec 2025-11-25, basic/security_best_practices):
 * - `/mcp` (`mcpCors`): only allowed origins get CORS headers — PUBLIC_URL's origin always, plus ALLOWED_ORIGINS,
 *   or every origin when ALLOWED_ORIGINS has `*`. Their preflight is answered here, before the Host/Origin checks
 *   and authentication (a preflight never carries credentials); their other answers (401, 403, 429, 500 too) carry
 *   `Access-Control-Allow-Origin` so the page can read the status and the challenge. A foreign origin gets no CORS
 *   headers here and is refused with 403 by `originGuard` (DNS-rebinding rule), its preflight included.
 * - the public OAuth endpoints (`publicOAuthCors`: both protected-resource metadata paths, authorization-server
 *   metadata, /register, /token, /revoke) answer every origin with `*`. They use no cookies or other ambient
 *   credentials (the consent cookie lives on /authorize, which is not CORS-enabled), their documents are public
 *   (RFC 8414 §3, RFC 9728 §3), and a page on any origin could reach them through its own backend anyway:
 *   refusing foreign origins there would protect nothing and would break web clients the operator has not listed.
 *
 * No policy sends `Access-Control-Allow-Credentials`: browsers then never attach cookies to these requests.
 */
import cors from "cors";
import type { RequestHandler } from "express";

/**
 * Request headers a browser client may send (beyond the CORS-safelisted ones such as Accept). `Mcp-Method` and
 * `Mcp-Name` are what a 2026-07-28 client sends on every request (SEP-2243, "HTTP Header Standardization"; the
 * 2026-07-28 handler requires them); `Mcp-Param-*` headers are sent only for tool parameters marked
 * `x-mcp-header`, which none of our tools has.
 */
export const ALLOWED_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "Mcp-Protocol-Version",
  "Mcp-Method",
  "Mcp-Name",
  "Mcp-Session-Id",
  "Last-Event-ID",
] as const;

/**
 * Answer headers a browser client's script may read: the challenge (where to sign in), the MCP session and version
 * headers, `Retry-After` on 429/503 and the request id to quote in a bug report.
 */
export const EXPOSED_HEADERS = [
  "WWW-Authenticate",
  "Mcp-Session-Id",
  "Mcp-Protocol-Version",
  "Retry-After",
  "X-Request-Id",
] as const;

/** How long (s) a browser may reuse a preflight answer (Chromium caps it at 7 200). */
const PREFLIGHT_MAX_AGE_SEC = 600;

/**
 * The browser origins allowed on /mcp. Entries are origins as in an `Origin` header, or `*` for all; an
 * `Origin` is compared after lower-casing and dropping a trailing slash.
 */
export class BrowserOrigins {
  /** `*` was given: every origin is allowed. */
  readonly any: boolean;
  readonly #allowed: Set<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes("*");
    this.#allowed = new Set(origins.filter((o) => o !== "*").map(normalizeOrigin));
  }

  allows(origin: string): boolean {
    return this.any || this.#allowed.has(normalizeOrigin(origin));
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, "").toLowerCase();
}

/**
 * The origins allowed on /mcp for a server at `publicUrl`: its own origin (a page the server itself serves, or a
 * client reaching it under its public name), then ALLOWED_ORIGINS (already validated by the config schema).
 */
export function mcpOrigins(publicUrl: string, configured: readonly string[]): string[] {
  return [new URL(publicUrl).origin, ...configured];
}

/**
 * CORS for /mcp. Allowed origins: preflight answered (204), other answers get `Access-Control-Allow-Origin` (the
 * origin itself, or `*` in any-origin mode) and the exposed headers. Foreign origins and requests without Origin
 * pass on untouched, for the Origin guard to decide. `Vary: Origin` on every answer whose headers depend on it.
 */
export function mcpCors(origins: BrowserOrigins, methods: readonly string[]): RequestHandler {
  const options = {
    methods: [...methods],
    allowedHeaders: [...ALLOWED_REQUEST_HEADERS],
    exposedHeaders: [...EXPOSED_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_SEC,
  };
  if (origins.any) return cors({ ...options, origin: "*" });
  const reflect = cors({
    ...options,
    origin: (origin, allow) => allow(null, origin !== undefined && origins.allows(origin)),
  });
  return (req, res, next) => {
    // The `cors` package adds Vary only when it answers; a refused origin's 403 depends on Origin as much.
    res.vary("Origin");
    reflect(req, res, next);
  };
}

/**
 * CORS for the public OAuth endpoints: `Access-Control-Allow-Origin: *` for every origin and answer, preflight
 * answered with 204 (see the module comment for why no origin is refused here).
 */
export function publicOAuthCors(methods: readonly string[]): RequestHandler {
  return cors({
    origin: "*",
    methods: [...methods],
    allowedHeaders: [...ALLOWED_REQUEST_HEADERS],
    exposedHeaders: [...EXPOSED_HEADERS],
    maxAge: PREFLIGHT_MAX_AGE_SEC,
  });
}
