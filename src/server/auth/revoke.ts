import type { Request, Response } from "express";
import { InvalidAccessTokenError } from "./access-tokens.ts";
import { authenticateClient } from "./client-auth.ts";
import type { AuthContext } from "./context.ts";
import { invalidRequest, noStore, OAuthError, sendOAuthError, unexpectedOAuthError } from "./oauth-error.ts";

/**
 * POST /revoke (RFC 7009). Revoking either token revokes its whole grant: the refresh token chain and every
 * access token already out (through the revocation list). Unknown, expired or foreign tokens: 200, nothing done.
 */
export function revokeHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      if (!req.is("application/x-www-form-urlencoded")) {
        throw invalidRequest("The revocation endpoint takes application/x-www-form-urlencoded bodies");
      }
      const client = await authenticateClient(req, ctx.clients, ctx.clientAuthFailures);
      const token = (req.body as Record<string, unknown>).token;
      if (typeof token !== "string" || token === "") throw invalidRequest("token is required");
      const grantId = await grantOf(ctx, token);
      if (grantId !== undefined && grantId.clientId === client.clientId) {
        await ctx.grants.revoke(grantId.grantId, "revoked_by_client");
        ctx.deps.logger.info({ grantId: grantId.grantId, clientId: client.clientId }, "grant revoked by client");
      }
      noStore(res);
      res.status(200).end();
    } catch (error) {
      if (error instanceof OAuthError) return sendOAuthError(res, error);
      ctx.deps.logger.error({ err: error }, "revocation failed");
      sendOAuthError(res, unexpectedOAuthError(error, "The revocation could not be completed"));
    }
  };
}

/** The grant behind a token of either kind (the hint is only a hint, RFC 7009 §2.1). */
async function grantOf(ctx: AuthContext, token: string): Promise<{ grantId: string; clientId: string } | undefined> {
  if (token.split(".").length === 3) {
    try {
      const claims = await ctx.accessTokens.verify(token);
      return { grantId: claims.grantId, clientId: claims.clientId };
    } catch (error) {
      if (!(error instanceof InvalidAccessTokenError)) throw error;
      return undefined;
    }
  }
  const grant = await ctx.grants.grantOfRefreshToken(token);
  return grant === undefined ? undefined : { grantId: grant.grantId, clientId: grant.clientId };
}
