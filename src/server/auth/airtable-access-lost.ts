import type { ErrorRequestHandler } from "express";
import { allScopes } from "../../shared/auth/scopes.ts";
import type { Logger } from "../../shared/logger.ts";
import { airtableAccessLost } from "../../shared/tokens/access-lost.ts";
import type { AirtableAccess } from "../../shared/tokens/airtable-token-provider.ts";
import { bearerChallenge } from "./challenge.ts";
import type { Grants } from "./grants.ts";
import type { AuthUrls } from "./urls.ts";

/**
 * A user's Airtable access token and its sign-in's Airtable scopes (the AirtableTokenProvider's getAccess, or a
 * wrapper of it).
 */
export type AirtableAccessSource = (userId: string, rejected?: string) => Promise<AirtableAccess>;

/**
 * The authorization server's side of a lost Airtable sign-in (what counts as lost is decided once, in
 * shared/tokens/access-lost.ts). When reading the user's Airtable token finds the sign-in ended, every grant of
 * the user ends (Grants.revokeAllForUser), so the MCP client's next request gets 401 and it signs the user in
 * again, instead of refreshing our tokens into the same failure forever. The error is then rethrown unchanged.
 */
export function endGrantsWhenAccessLost(getAccess: AirtableAccessSource, grants: Grants, logger: Logger) {
  return async (userId: string, rejected?: string): Promise<AirtableAccess> => {
    try {
      return await getAccess(userId, rejected);
    } catch (error) {
      if (airtableAccessLost(error)?.kind === "sign_in_ended") {
        const ended = await grants.revokeAllForUser(userId, "airtable_access_lost");
        logger.warn({ userId, grants: ended }, "Airtable access lost: revoked the user's grants");
      }
      throw error;
    }
  };
}

/**
 * Error middleware for the app: a lost Airtable sign-in that escaped a route (read before a tool ran) becomes
 * HTTP 401 with a Bearer challenge (RFC 6750 §3: invalid_token, since the grant behind the token just ended),
 * which sends the MCP client to sign in again. The body is a JSON-RPC error for the MCP endpoint. Other errors
 * pass on.
 */
export function accessLostErrorHandler(urls: AuthUrls): ErrorRequestHandler {
  const challenge = bearerChallenge(urls, allScopes, {
    code: "invalid_token",
    description: "Airtable sign-in ended; sign in again",
  });
  return (error: unknown, _req, res, next) => {
    if (res.headersSent || airtableAccessLost(error)?.kind !== "sign_in_ended") return next(error);
    res.setHeader("WWW-Authenticate", challenge);
    res.status(401).json({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32001, message: "Your Airtable sign-in has ended. Sign in again." },
    });
  };
}
