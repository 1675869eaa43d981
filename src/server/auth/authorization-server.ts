import type { ErrorRequestHandler, RequestHandler, Router } from "express";
import { accessLostErrorHandler, endGrantsWhenAccessLost, type AirtableAccessSource } from "./airtable-access-lost.ts";
import { requireBearer } from "./bearer.ts";
import { buildAuthContext, type AuthDeps } from "./context.ts";
import { createAuthRouter } from "./router.ts";

export interface AuthorizationServerDeps extends AuthDeps {
  /**
   * Reads a user's Airtable access token, refreshing it when needed, with its sign-in's Airtable scopes
   * (AirtableTokenProvider.getAccess).
   */
  airtableAccess: AirtableAccessSource;
}

/**
 * The authorization server as the app wires it: one set of parts (one Grants owner) behind everything that
 * issues, checks or ends grants.
 */
export interface AuthorizationServer {
  /** Metadata, registration, consent, the Airtable leg, /token and /revoke (createAuthRouter). */
  router: Router;
  /** Guards /mcp: a valid, unrevoked access token for our resource, or 401 with a challenge. */
  requireBearer: RequestHandler;
  /**
   * A user's Airtable access token and its sign-in's Airtable scopes, for tool calls. When the Airtable sign-in
   * turns out to be lost, every grant of the user ends before the error is rethrown (airtable-access-lost.ts).
   */
  airtableAccess: AirtableAccessSource;
  /** After the routes: a lost Airtable sign-in that escaped one becomes 401 with a challenge; others pass on. */
  accessLostErrorHandler: ErrorRequestHandler;
}

export function createAuthorizationServer(deps: AuthorizationServerDeps): AuthorizationServer {
  const ctx = buildAuthContext(deps);
  return {
    router: createAuthRouter(deps, ctx),
    requireBearer: requireBearer(deps),
    airtableAccess: endGrantsWhenAccessLost(deps.airtableAccess, ctx.grants, deps.logger),
    accessLostErrorHandler: accessLostErrorHandler(ctx.urls),
  };
}
