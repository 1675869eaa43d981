import type { AuthInfo } from "@modelcontextprotocol/server";
import { TEMPORARILY_UNAVAILABLE } from "../../shared/redis-unavailable.ts";
import type { RequestHandler, Response } from "express";
import { allScopes, type Scope } from "../../shared/auth/scopes.ts";
import { InvalidAccessTokenError } from "./access-tokens.ts";
import { bearerChallenge, quoteSafe } from "./challenge.ts";
import { accessTokensFor, revocationListFor, type BearerDeps } from "./context.ts";
import { withTrailingSlash } from "./metadata.ts";
import { authPaths, authUrls } from "./urls.ts";

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
 * follow the MCP authorization spec (2025-11-25, "Token Handling": invalid or expired tokens MUST receive 401) and
 * RFC 6750 §3 / §3.1, by what the `Authorization` header holds (see readAuthorization):
 * - nothing usable — no header, an empty one, `Bearer` with no token, or another scheme (`Basic …`, `token …`) →
 *   401 with the plain challenge (resource_metadata and scope, no `error`): RFC 6750 §3.1 says a request without
 *   authentication information, or using an unsupported method, SHOULD NOT carry an error code, and MCP clients
 *   start their sign-in on exactly this 401. Clients do send these: MCP Inspector 0.16.8 sent a bare `Bearer`
 *   (modelcontextprotocol/inspector#826), Open WebUI and VS Code an empty one (IBM/mcp-context-forge#3993).
 * - a bearer token that is bad (malformed, expired, another audience, revoked grant) → 401 error="invalid_token".
 * - two or more `Authorization` field lines → 400 error="invalid_request" (RFC 6750 §3.1: more than one way of
 *   sending the token). HTTP forbids repeating it (RFC 9110 §5.3) and no client does; Node keeps only the first
 *   line, while a proxy in front may have judged the request by another, so it is refused rather than guessed at.
 */
export function requireBearer(deps: BearerDeps, options: RequireBearerOptions = {}): RequestHandler {
  const urls = authUrls(requirePublicUrl(deps));
  const accessTokens = accessTokensFor(deps.config);
  const revoked = revocationListFor(deps);
  const scopes = options.challengeScopes ?? allScopes;
  const slashedMetadata = withTrailingSlash(urls.protectedResourceMetadata);

  return async (req, res, next) => {
    // `/mcp/` (Express serves /mcp there too) is named with its own metadata, whose `resource` is that URL.
    const metadataUrl =
      requestPath(req.originalUrl) === `${authPaths.resource}/` ? slashedMetadata : urls.protectedResourceMetadata;
    const challenge = (error?: { code: string; description: string }): string =>
      bearerChallenge(urls, scopes, error, metadataUrl);
    res.locals[METADATA_LOCAL] = metadataUrl;
    const invalid = (description: string, status = 401): void => {
      res.setHeader("WWW-Authenticate", challenge({ code: "invalid_token", description }));
      res.status(status).json({ error: "invalid_token", error_description: description });
    };
    const presented = readAuthorization(req.rawHeaders);
    if (presented.kind === "repeated") {
      const description = "Send one Authorization header: Authorization: Bearer <token>";
      res.setHeader("WWW-Authenticate", challenge({ code: "invalid_request", description }));
      res.status(400).json({ error: "invalid_request", error_description: description });
      return;
    }
    if (presented.kind === "none") {
      res.setHeader("WWW-Authenticate", challenge());
      res.status(401).json({ error: "unauthorized", error_description: presented.description });
      return;
    }
    if (presented.kind === "malformed") return invalid("The bearer token is malformed; sign in again");
    const token = presented.token;
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

/** What an `Authorization` header brought, as requireBearer answers it. */
export type PresentedAuthorization =
  | { kind: "token"; token: string }
  /** No bearer token at all; `description` tells the person reading the body what to send instead. */
  | { kind: "none"; description: string }
  /** `Bearer` followed by something that is not a b64token (RFC 6750 §2.1). */
  | { kind: "malformed" }
  /** More than one `Authorization` field line. */
  | { kind: "repeated" };

const SIGN_IN = "Sign in: this endpoint needs a bearer token";

/**
 * Reads the request's `Authorization` field lines from Node's rawHeaders (name, value, name, value, …), which,
 * unlike req.headers, still shows a repeated one. Node has trimmed each value's surrounding whitespace, so
 * `Bearer ` arrives as `Bearer`. The scheme is matched case-insensitively (RFC 9110 §11.1); the token is RFC 6750
 * §2.1's b64token, separated from the scheme by one or more spaces.
 */
export function readAuthorization(rawHeaders: readonly string[]): PresentedAuthorization {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === "authorization") values.push(rawHeaders[i + 1] as string);
  }
  if (values.length > 1) return { kind: "repeated" };
  const header = (values[0] ?? "").trim();
  if (header === "") return { kind: "none", description: SIGN_IN };
  const scheme = /^[^\s]+/.exec(header)?.[0] ?? "";
  if (scheme.toLowerCase() !== "bearer") {
    // A person trying curl with another scheme learns which one to use; the challenge stays the plain one. Only a
    // word that looks like a scheme name (Basic, Digest, token, DPoP) is repeated back, never what may be a bare
    // token sent without one.
    const named = /^[A-Za-z][A-Za-z-]{1,15}$/.test(scheme) ? `, not ${scheme}` : "";
    return { kind: "none", description: `${SIGN_IN}: send Authorization: Bearer <token>${named}` };
  }
  const rest = header.slice(scheme.length).replace(/^ +/, "");
  if (rest === "")
    return { kind: "none", description: `${SIGN_IN}: the Authorization header says Bearer but holds none` };
  const match = /^([A-Za-z0-9\-._~+/]+=*)$/.exec(rest);
  return match === null ? { kind: "malformed" } : { kind: "token", token: match[1] as string };
}

/** The path of a request target (`/mcp/?x=1` → `/mcp/`). */
function requestPath(target: string): string {
  const query = target.indexOf("?");
  return query < 0 ? target : target.slice(0, query);
}

function requirePublicUrl(deps: BearerDeps): string {
  if (deps.config.PUBLIC_URL === undefined) throw new Error("PUBLIC_URL is not set; requireBearer needs it");
  return deps.config.PUBLIC_URL;
}
