import type { AuthInfo } from "@modelcontextprotocol/server";
import { TEMPORARILY_UNAVAILABLE } from "../../shared/redis-unavailable.ts";
import type { RequestHandler, Response } from "express";
import { allScopes, type Scope } from "../../shared/auth/scopes.ts";
import { InvalidAccessTokenError } from "./access-tokens.ts";
import { bearerChallenge, quoteSafe } from "./challenge.ts";
import { accessTokensFor, revocationListFor, type BearerDeps } from "./context.ts";
import { authUrls } from "./urls.ts";

declare module "express-serve-static-core" {
  interface Request {
    /** Set by requireBearer (same shape the MCP SDK's transports read). */
    auth?: AuthInfo;
  }
}

/** res.locals key under which requireBearer leaves the resource metadata URL for insufficientScope. */
const METADATA_LOCAL = "oauthResourceMetadataUrl";

export interface RequireBearerOptions {
  /** Scopes named in the 401 challenge: what a client should ask for when it signs in. Default: all of ours. */
  challengeScopes?: readonly Scope[];
}

/**
 * Guards the MCP endpoint. The JWT is verified locally (signature, iss, aud = our /mcp URL exactly, exp); the
 * only I/O is one Redis EXISTS on the revocation list, so a revoked grant stops working immediately. Answers
 * follow the MCP authorization spec (2025-11-25) and RFC 6750 §3: no token → 401 with resource_metadata and
 * scope but no error; a bad token → 401 error="invalid_token".
 */
export function requireBearer(deps: BearerDeps, options: RequireBearerOptions = {}): RequestHandler {
  const urls = authUrls(requirePublicUrl(deps));
  const accessTokens = accessTokensFor(deps.config);
  const revoked = revocationListFor(deps);
  const scopes = options.challengeScopes ?? allScopes;
  const challenge = (error?: { code: string; description: string }): string => bearerChallenge(urls, scopes, error);

  return async (req, res, next) => {
    res.locals[METADATA_LOCAL] = urls.protectedResourceMetadata;
    const header = req.headers.authorization;
    if (header === undefined || header === "") {
      res.setHeader("WWW-Authenticate", challenge());
      res.status(401).json({ error: "unauthorized", error_description: "Sign in: this endpoint needs a bearer token" });
      return;
    }
    const invalid = (description: string, status = 401): void => {
      res.setHeader("WWW-Authenticate", challenge({ code: "invalid_token", description }));
      res.status(status).json({ error: "invalid_token", error_description: description });
    };
    const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(header);
    if (match === null) {
      res.setHeader(
        "WWW-Authenticate",
        challenge({ code: "invalid_request", description: "Use Authorization: Bearer <token>" }),
      );
      res.status(400).json({ error: "invalid_request", error_description: "Use Authorization: Bearer <token>" });
      return;
    }
    const token = match[1] as string;
    try {
      const claims = await accessTokens.verify(token);
      if (await revoked.has(claims.grantId)) return invalid("The access token's grant was revoked; sign in again");
      req.auth = {
        token,
        clientId: claims.clientId,
        scopes: claims.scopes,
        expiresAt: claims.expiresAt,
        resource: new URL(claims.resource),
        extra: { userId: claims.userId, grantId: claims.grantId },
      };
      next();
    } catch (error) {
      if (error instanceof InvalidAccessTokenError) return invalid(error.message);
      deps.logger.error({ err: error }, "bearer token check failed");
      res.setHeader("Retry-After", "30");
      res.status(503).json({ error: "temporarily_unavailable", error_description: TEMPORARILY_UNAVAILABLE });
    }
  };
}

/**
 * 403 insufficient_scope (RFC 6750 §3.1, MCP step-up authorization). The challenge names the token's current
 * scopes plus the missing ones: clients re-authorize with exactly what the challenge says, and asking only for
 * the missing scope would lose the others.
 */
export function insufficientScope(res: Response, needed: readonly Scope[]): void {
  const current = (res.req.auth?.scopes ?? []).filter((s): s is Scope => (allScopes as string[]).includes(s));
  const wanted = allScopes.filter((s) => current.includes(s) || needed.includes(s));
  const description = `This needs the ${needed.join(" ")} scope${needed.length === 1 ? "" : "s"}; sign in again to grant ${needed.length === 1 ? "it" : "them"}`;
  const metadata = res.locals[METADATA_LOCAL] as string | undefined;
  const parts = [`error="insufficient_scope"`, `scope="${wanted.join(" ")}"`];
  if (metadata !== undefined) parts.push(`resource_metadata="${metadata}"`);
  parts.push(`error_description="${quoteSafe(description)}"`);
  res.setHeader("WWW-Authenticate", `Bearer ${parts.join(", ")}`);
  res.status(403).json({ error: "insufficient_scope", error_description: description, scope: needed.join(" ") });
}

function requirePublicUrl(deps: BearerDeps): string {
  if (deps.config.PUBLIC_URL === undefined) throw new Error("PUBLIC_URL is not set; requireBearer needs it");
  return deps.config.PUBLIC_URL;
}
