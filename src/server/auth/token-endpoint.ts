import type { Request, Response } from "express";
import type { AuthContext } from "./context.ts";
import { authenticateClient } from "./client-auth.ts";
import type { TokenResponse } from "./grants.ts";
import {
  invalidGrant,
  invalidRequest,
  noStore,
  OAuthError,
  sendOAuthError,
  unexpectedOAuthError,
} from "./oauth-error.ts";
import { verifierMatches } from "./pkce.ts";
import { newGrantId } from "./refresh-tokens.ts";
import type { GrantType, ResolvedClient } from "./resolved-client.ts";
import { isOurResource, resourceValues } from "./resource-param.ts";
import { parseScopes } from "./scope-param.ts";

/**
 * POST /token: authorization_code and refresh_token grants (form bodies), answers in RFC 6749 §5 shape.
 * A client may use only the grant types its registration lists (RFC 7591 §2 grant_types, CIMD documents
 * included): a refresh token is issued only to a client with refresh_token there, and one presented by a client
 * without it gets unauthorized_client (RFC 6749 §5.2). Unknown scope words are dropped; `resource` is compared
 * by isOurResource (resource-param.ts: uppercase scheme and host, one trailing slash).
 */
export function tokenHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    try {
      if (!req.is("application/x-www-form-urlencoded")) {
        throw invalidRequest("The token endpoint takes application/x-www-form-urlencoded bodies");
      }
      const client = await authenticateClient(req, ctx.clients, ctx.clientAuthFailures);
      const body = req.body as Record<string, unknown>;
      const field = (name: string): string | undefined => {
        const v = body[name];
        if (v === undefined) return undefined;
        // RFC 8707 §2: `resource` may repeat. Each value must name us; a foreign one is answered for all (it
        // becomes invalid_target), else one of ours stands for them all.
        const resources = name === "resource" && Array.isArray(v) ? resourceValues(v) : undefined;
        if (resources !== undefined) return resources.find((r) => !isOurResource(r, ctx.urls.resource)) ?? resources[0];
        if (typeof v !== "string") throw invalidRequest(`${name} must appear once`);
        return v;
      };
      const grantType = field("grant_type");
      let tokens: TokenResponse;
      if (grantType === "authorization_code") {
        requireGrantType(client, grantType);
        tokens = await exchangeCode(ctx, client, field);
      } else if (grantType === "refresh_token") {
        requireGrantType(client, grantType);
        tokens = await refresh(ctx, client, field);
      } else if (grantType === undefined) throw invalidRequest("grant_type is required");
      else throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
      noStore(res);
      res.status(200).json(tokens);
      // After the answer: the tokens are issued whatever happens to this write (it logs its own failure).
      void ctx.clients.keepLastGood(client);
    } catch (error) {
      if (error instanceof OAuthError) return sendOAuthError(res, error);
      ctx.deps.logger.error({ err: error }, "token endpoint failed");
      sendOAuthError(res, unexpectedOAuthError(error, "The token request could not be completed"));
    }
  };
}

type Field = (name: string) => string | undefined;

/**
 * RFC 6749 §5.2 unauthorized_client: the client's registration does not list this grant type. Since every client
 * with authorization_code also gets refresh_token (registeredGrantTypes), no client /authorize accepts meets it for
 * refresh_token; it stays as the check that the two grant types are each the client's to use.
 */
function requireGrantType(client: ResolvedClient, grantType: GrantType): void {
  if (client.grantTypes.includes(grantType)) return;
  const how =
    client.source === "metadata-document"
      ? "its client metadata document must list it in grant_types"
      : `it must register again with grant_types ["authorization_code", "refresh_token"]`;
  throw new OAuthError(
    "unauthorized_client",
    `This client's registration does not include the ${grantType} grant, so it cannot use it here; ${how}`,
  );
}

async function exchangeCode(ctx: AuthContext, client: ResolvedClient, field: Field): Promise<TokenResponse> {
  const code = field("code");
  const verifier = field("code_verifier");
  if (code === undefined) throw invalidRequest("code is required");
  if (verifier === undefined) throw invalidRequest("code_verifier is required (PKCE)");
  const issued = await ctx.transient.takeCode(code);
  if (issued === undefined) {
    // A replayed code: whatever it produced is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5).
    const grantId = await ctx.transient.grantOfUsedCode(code);
    if (grantId !== undefined) {
      await ctx.grants.revoke(grantId, "authorization_code_reuse");
      ctx.deps.logger.warn({ grantId, clientId: client.clientId }, "authorization code replayed: grant revoked");
    }
    throw invalidGrant("The authorization code is invalid, expired or already used");
  }
  // From here the code is spent, whatever else is wrong with the request.
  const grantId = newGrantId();
  await ctx.transient.markCodeUsed(code, grantId);
  if (issued.clientId !== client.clientId) throw invalidGrant("The authorization code was issued to another client");
  const redirectUri = field("redirect_uri");
  if (issued.redirectUriGiven || redirectUri !== undefined) {
    if (redirectUri !== issued.redirectUri) {
      throw invalidGrant("redirect_uri differs from the one in the authorization request");
    }
  }
  if (!verifierMatches(verifier, issued.codeChallenge)) {
    throw invalidGrant("code_verifier does not match the code_challenge");
  }
  const resource = field("resource");
  if (resource !== undefined && !isOurResource(resource, issued.resource)) {
    throw new OAuthError("invalid_target", `resource must be ${issued.resource}`);
  }
  const tokens = await ctx.grants.create(
    {
      grantId,
      userId: issued.userId,
      clientId: client.clientId,
      scopes: issued.scopes,
      resource: issued.resource,
    },
    { issueRefreshToken: client.grantTypes.includes("refresh_token") },
  );
  // A replay that arrived between markCodeUsed and now revoked this grant before it existed: honour it.
  if (await ctx.grants.isRevoked(grantId)) {
    await ctx.grants.revoke(grantId, "authorization_code_reuse");
    throw invalidGrant("The authorization code was used twice; sign in again");
  }
  return tokens;
}

async function refresh(ctx: AuthContext, client: ResolvedClient, field: Field): Promise<TokenResponse> {
  const refreshToken = field("refresh_token");
  if (refreshToken === undefined) throw invalidRequest("refresh_token is required");
  // Only our scope words narrow the grant; none of ours means the grant's scopes, as without `scope`.
  const scopes = parseScopes(field("scope")).scopes;
  return ctx.grants.refresh({
    clientId: client.clientId,
    refreshToken,
    scopes: scopes.length > 0 ? scopes : undefined,
    registeredScopes: client.scopes,
    resource: field("resource"),
  });
}
