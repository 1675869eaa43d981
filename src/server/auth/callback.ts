import { isRedisUnavailable } from "../../shared/redis-unavailable.ts";
import type { Request, Response } from "express";
import { airtableScopesFor, scopeCatalog, type Scope } from "../../shared/auth/scopes.ts";
import { AirtableOAuthError } from "../../shared/airtable/oauth.ts";
import { redirectToClient } from "./client-redirect.ts";
import type { AuthContext } from "./context.ts";
import { sendErrorPage } from "./pages.ts";
import type { Logger } from "../../shared/logger.ts";
import { randomToken } from "./pkce.ts";
import { signInCookieId } from "./bound-cookie.ts";

/**
 * GET /oauth/callback: Airtable sends the user back here. The upstream state is taken atomically (a replay
 * finds nothing); the browser must carry the `signin` cookie the Allow button set for that state (bound-cookie.ts),
 * else a 403 page and nothing else: no Airtable exchange, no code, no redirect (MCP security best practices, OAuth
 * State Parameter Validation: otherwise whoever pressed Allow could send the Airtable link to someone else and get
 * that person's sign-in at their own redirect URI). Then we exchange Airtable's code with our own verifier, learn
 * who the user is, store their Airtable tokens (encrypted by the TokenStore) and send the client our own single-use
 * code. Opened with none of Airtable's parameters (no state, code or error), it answers a page saying what the URL
 * is for and where sign-in starts; a state it does not hold (used, expired or made up), a page saying the link was
 * used or has expired.
 */
export function callbackHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = (name: string): string | undefined => {
      const v = req.query[name];
      return typeof v === "string" ? v : undefined;
    };
    const state = q("state");
    // Nothing Airtable sends: someone opened the callback URL itself (from a log, a config screen, the README's
    // list of URLs). "Already used or expired" would send them hunting for a link they never had.
    if (state === undefined && q("code") === undefined && q("error") === undefined) {
      return sendErrorPage(
        res,
        400,
        "This is the page Airtable returns to after you sign in",
        `There is nothing to do here on its own. To sign in, connect your MCP client (Claude, Cursor, VS Code...) ` +
          `to ${ctx.urls.resource}: it opens the Airtable sign-in for you, and Airtable brings you back here.`,
      );
    }
    const attempt = state === undefined ? undefined : await ctx.transient.takeUpstream(state);
    if (attempt === undefined || state === undefined) {
      return sendErrorPage(res, 400, "This sign-in link was already used or has expired", "Start again from your app.");
    }
    // The state was taken above whatever the cookie says: a refused return cannot be completed later by anyone.
    const cookieId = signInCookieId(state);
    const sameBrowser = ctx.signInCookie.verify(req, cookieId, state);
    ctx.signInCookie.clear(res, cookieId);
    if (!sameBrowser) {
      ctx.deps.logger.warn(
        { clientId: attempt.clientId, redirectUri: attempt.redirectUri },
        "Airtable sign-in came back to a browser without its sign-in cookie: refused, no code issued",
      );
      return sendErrorPage(
        res,
        403,
        "This sign-in was started in another browser",
        "The Airtable sign-in that brought you here was not started in this browser (or this browser blocked or " +
          "cleared this site's cookies), so it was stopped to protect your Airtable account: nothing was shared. " +
          "Start again from your app and finish in the browser it opens. If someone sent you a sign-in link, do " +
          "not use it.",
      );
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
      if (upstreamError === "invalid_scope")
        return back(invalidScopeAnswer(attempt.upstreamScopes ?? attempt.scopes, q("error_description"), log));
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
      if (!(await keptBroaderSignIn(ctx, userId, tokens.scopes, log))) {
        await ctx.deps.store.putAirtableAccount({
          userId,
          ...(who.email !== undefined ? { email: who.email } : {}),
          tokens,
          updatedAt: Date.now(),
        });
      }
      // This grant gets what this sign-in granted, whichever Airtable token serves it.
      grantedScopes = coveredScopes(attempt.scopes, tokens.scopes);
    } catch (error) {
      log.error({ err: error }, "completing the Airtable sign-in failed");
      // Storage out of reach: RFC 6749 §4.1.2.1's temporarily_unavailable, so the client knows a retry may work.
      if (isRedisUnavailable(error)) {
        return back({
          error: "temporarily_unavailable",
          error_description: "The sign-in could not be saved: the service cannot reach its storage. Try again shortly.",
        });
      }
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
 * The server keeps one Airtable token per Airtable user, which serves every grant of that user (each MCP client's
 * own scopes are checked on our side). A later sign-in that granted strictly fewer Airtable scopes (a client asking
 * only for records:read) must not replace a broader token the user's other clients rely on: the stored token is
 * kept while it still works (refreshed if due, then whoami answers as this user). Otherwise (no stored token, a
 * token that is not strictly broader, or one that no longer works) the new sign-in's token replaces it. Answers
 * whether the stored token was kept. Never throws: a failed check means "replace".
 */
async function keptBroaderSignIn(
  ctx: AuthContext,
  userId: string,
  newScopes: readonly string[],
  log: Logger,
): Promise<boolean> {
  try {
    const stored = await ctx.deps.store.getAirtableAccount(userId);
    if (stored === undefined || !strictlyWider(stored.tokens.scopes, newScopes)) return false;
    const accessToken =
      ctx.deps.airtableAccess !== undefined
        ? (await ctx.deps.airtableAccess(userId)).accessToken
        : stored.tokens.accessTokenExpiresAt > Date.now()
          ? stored.tokens.accessToken
          : undefined;
    if (accessToken === undefined || (await ctx.deps.whoami(accessToken, userId)).id !== userId) return false;
    log.info(
      { userId, kept: stored.tokens.scopes, offered: newScopes },
      "kept the user's broader Airtable sign-in: this sign-in granted fewer Airtable scopes",
    );
    return true;
  } catch (error) {
    log.info({ err: error, userId }, "the user's earlier Airtable sign-in no longer works: replaced by this one");
    return false;
  }
}

/** `a` holds every scope of `b` and at least one more. Empty lists (Airtable named none) are never wider. */
function strictlyWider(a: readonly string[], b: readonly string[]): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const have = new Set(a);
  return b.every((s) => have.has(s)) && have.size > new Set(b).size;
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

/**
 * Airtable answered `invalid_scope`: the server asked for a scope its Airtable integration was not given ("All
 * scopes must be valid, Airtable defined scopes that have been selected for your integration in the integration
 * management page", Airtable's OAuth reference, authorize). No user can fix that, and every sign-in asking for it
 * fails the same way, so the operator is told at error level which scopes to select, and the client's error
 * (RFC 6749 §4.1.2.1 `server_error`: the server's own setup) says the same in one line. Logs, and returns the
 * `error`/`error_description` parameters for the redirect to the client.
 */
function invalidScopeAnswer(
  scopes: readonly Scope[],
  airtableDescription: string | undefined,
  log: Logger,
): Record<string, string> {
  const asked = airtableScopesFor(scopes).join(" ");
  log.error(
    { upstreamError: "invalid_scope", airtableDescription, asked },
    `Airtable refused the scopes this server asked for (${asked}): select all six scopes for the integration ` +
      "AIRTABLE_CLIENT_ID names at https://airtable.com/create/oauth (README: Registering the Airtable OAuth integration)",
  );
  return {
    error: "server_error",
    error_description:
      `This server's Airtable integration is not allowed the Airtable scopes it asked for (${asked}); Airtable ` +
      "answered invalid_scope. The server's operator must select them for the integration at " +
      "https://airtable.com/create/oauth.",
  };
}
