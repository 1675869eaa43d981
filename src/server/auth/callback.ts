import type { Request, Response } from "express";
import { scopeCatalog, type Scope } from "../../shared/auth/scopes.ts";
import { AirtableOAuthError } from "../../shared/airtable/oauth.ts";
import { redirectToClient } from "./client-redirect.ts";
import type { AuthContext } from "./context.ts";
import { sendErrorPage } from "./pages.ts";
import { randomToken } from "./pkce.ts";

/**
 * GET /oauth/callback: Airtable sends the user back here. The upstream state is taken atomically (a replay
 * finds nothing); we exchange Airtable's code with our own verifier, learn who the user is, store their
 * Airtable tokens (encrypted by the TokenStore) and send the client our own single-use code.
 */
export function callbackHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = (name: string): string | undefined => {
      const v = req.query[name];
      return typeof v === "string" ? v : undefined;
    };
    const state = q("state");
    const attempt = state === undefined ? undefined : await ctx.transient.takeUpstream(state);
    if (attempt === undefined) {
      return sendErrorPage(res, 400, "This sign-in link was already used or has expired", "Start again from your app.");
    }
    const back = (params: Record<string, string>): void =>
      redirectToClient(res, {
        redirectUri: attempt.redirectUri,
        issuer: ctx.urls.issuer,
        state: attempt.state,
        params,
      });
    const log = ctx.deps.logger.child({ clientId: attempt.clientId });

    const upstreamError = q("error");
    if (upstreamError !== undefined) {
      log.info({ upstreamError }, "Airtable sign-in ended with an error");
      return upstreamError === "access_denied"
        ? back({ error: "access_denied", error_description: "Access was denied at Airtable" })
        : back({ error: "server_error", error_description: `Airtable sign-in failed (${upstreamError})` });
    }
    const upstreamCode = q("code");
    if (upstreamCode === undefined) {
      return back({ error: "server_error", error_description: "Airtable returned neither a code nor an error" });
    }

    let userId: string;
    let grantedScopes: Scope[];
    try {
      const tokens = await ctx.deps.airtableOAuth.exchangeCode({
        code: upstreamCode,
        redirectUri: ctx.urls.callback,
        codeVerifier: attempt.upstreamVerifier,
      });
      const who = await ctx.deps.whoami(tokens.accessToken);
      userId = who.id;
      await ctx.deps.store.putAirtableAccount({
        userId,
        ...(who.email !== undefined ? { email: who.email } : {}),
        tokens,
        updatedAt: Date.now(),
      });
      grantedScopes = coveredScopes(attempt.scopes, tokens.scopes);
    } catch (error) {
      log.error({ err: error }, "completing the Airtable sign-in failed");
      const description =
        error instanceof AirtableOAuthError
          ? `Airtable refused the sign-in (${error.error})`
          : "Completing the Airtable sign-in failed";
      return back({ error: "server_error", error_description: description });
    }
    if (grantedScopes.length === 0) {
      return back({ error: "access_denied", error_description: "Airtable granted none of the requested permissions" });
    }

    const code = randomToken(32);
    await ctx.transient.putCode(code, {
      clientId: attempt.clientId,
      redirectUri: attempt.redirectUri,
      redirectUriGiven: attempt.redirectUriGiven,
      codeChallenge: attempt.codeChallenge,
      scopes: grantedScopes,
      resource: attempt.resource,
      userId,
    });
    log.info({ userId }, "authorization code issued");
    back({ code });
  };
}

/**
 * Our scopes whose Airtable scopes were all granted upstream. When Airtable names no scopes in its answer we
 * trust the request (the API will still refuse what it does not allow).
 */
function coveredScopes(requested: Scope[], airtableGranted: string[]): Scope[] {
  if (airtableGranted.length === 0) return requested;
  const granted = new Set(airtableGranted);
  return requested.filter((s) => scopeCatalog[s].airtable.every((a) => granted.has(a)));
}
