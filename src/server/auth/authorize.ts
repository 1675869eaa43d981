import type { Request, Response } from "express";
import { airtableScopesFor, allScopes } from "../../shared/auth/scopes.ts";
import { redirectToClient, refuseBeforeConsent } from "./client-redirect.ts";
import { signInCookieId } from "./bound-cookie.ts";
import { ClientMetadataError } from "./cimd.ts";
import type { AuthContext } from "./context.ts";
import { consentChoice } from "./consent-choice.ts";
import { renderConsentPage, sendErrorPage, sendPage } from "./pages.ts";
import { isS256Challenge, newVerifier, randomToken, s256, safeEqual } from "./pkce.ts";
import { isRegisteredRedirectUri, redirectUriProblem } from "./redirect-uris.ts";
import { UnknownClientError, type ResolvedClient } from "./resolved-client.ts";
import { isOurResource, resourceValues } from "./resource-param.ts";
import { parseScopes } from "./scope-param.ts";
import type { AuthorizationRequest, PendingConsent } from "./transient-state.ts";
import { authPaths } from "./urls.ts";
import { REACHABILITY_FRESH_MS } from "../../shared/airtable/reachability.ts";

/**
 * GET /authorize: validate, then show the consent page. Errors about the client or its redirect URI are a page
 * (redirecting to an unverified URI would make us an open redirector). Every later error is an error response for
 * the client (RFC 6749 §4.1.2.1), sent by refuseBeforeConsent: redirected to at once only when the redirect URI is
 * a loopback one, otherwise a page with a link the person may follow (RFC 9700 §4.11.2: anyone can register a client
 * whose redirect URI is a phishing site and send a broken request to be redirected there).
 *
 * The redirect URI must match a registered one (redirect-uris.ts: exact, or loopback with any port) and still pass
 * today's redirect rules (REDIRECT_URI_SCHEMES may have been narrowed since the client registered). Scope words
 * that are not ours are dropped; with none of ours left the default applies: the client's registered scopes, else
 * all of ours. `resource` may carry a trailing slash.
 */
export function authorizeHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const q = (name: string): string | undefined => {
      const v = req.query[name];
      return typeof v === "string" ? v : undefined;
    };
    // RFC 6749 §3.1: the parameters we read must not be repeated (unknown ones are ignored, repeated or not;
    // `resource` may repeat, RFC 8707 §2). A repeated client_id or redirect_uri leaves no address we may send an
    // error to (§4.1.2.1): a page. Any other is refused below, once the redirect URI is known.
    const repeated = repeatedParameters(req.query).filter((name) => SINGLE_VALUED.has(name));
    const unsafe = repeated.filter((name) => name === "client_id" || name === "redirect_uri");
    if (unsafe.length > 0) {
      return sendErrorPage(
        res,
        400,
        "Invalid sign-in request",
        `The app sent ${unsafe.join(" and ")} more than once; each parameter may appear only once. ` +
          "Sign-in stopped here to protect you.",
      );
    }
    const clientId = q("client_id") ?? "";
    let client: ResolvedClient;
    try {
      // A lapsed public registration is renewed here, where a sign-in starts (ClientDirectory.get).
      client = await ctx.clients.get(clientId, { renew: true });
    } catch (error) {
      if (!(error instanceof UnknownClientError)) throw error;
      // A client that checks its registration before opening the browser (mcp-remote does, with Accept:
      // application/json) gets JSON in words it recognises, and registers again instead of showing this page.
      if (!(error instanceof ClientMetadataError) && req.accepts(["html", "json"]) === "json") {
        res.setHeader("Cache-Control", "no-store");
        res.status(400).json({
          error: "invalid_client",
          error_description: `Client ${JSON.stringify(clientId)} is not registered; register again`,
          registration_endpoint: ctx.urls.register,
        });
        return;
      }
      return sendErrorPage(res, 400, "Unknown application", error.message);
    }
    const requested = q("redirect_uri");
    const policy = { privateUseSchemes: ctx.deps.config.REDIRECT_URI_SCHEMES };
    let redirectUri: string;
    if (requested !== undefined) {
      if (!isRegisteredRedirectUri(client.redirectUris, requested)) {
        // One this server would have left out of the client's list (acceptedRedirectUris: a scheme not allowed
        // here) is named with the reason and the setting, for the operator; any other is simply not the client's.
        // Whether the client did list it is not known here (a registration keeps only what was accepted), hence
        // "if". A registration keeps what was allowed when it was made: after the setting changes, the app must
        // register again; a metadata document is read again by itself.
        const notAllowed = redirectUriProblem(requested, policy, { publicClient: client.authMethod === "none" });
        return sendErrorPage(
          res,
          400,
          notAllowed === undefined ? "Redirect URI mismatch" : "Redirect URI not allowed",
          notAllowed === undefined
            ? `The app asked to return to ${requested}, which is not one of the redirect URIs it registered. ` +
                "Sign-in stopped here to protect you."
            : `Sign-in stopped here: ${requested} is not one of this app's redirect URIs here; if the app listed ` +
                `it, it was left out: ${notAllowed}` +
                (client.source === "registration"
                  ? " The app's registration keeps the redirect URIs allowed when it registered: once the setting " +
                    "allows this one, the app must register again (remove this server from the app and add it back)."
                  : ""),
        );
      }
      redirectUri = requested;
    } else if (client.redirectUris.length === 1) {
      redirectUri = client.redirectUris[0] as string;
    } else {
      return sendErrorPage(
        res,
        400,
        "Missing redirect URI",
        "The app registered several redirect URIs; it must name one.",
      );
    }
    const redirectProblem = redirectUriProblem(redirectUri, policy, { publicClient: client.authMethod === "none" });
    if (redirectProblem !== undefined) {
      ctx.deps.logger.info({ clientId: client.clientId, redirectUri }, "redirect URI refused by today's rules");
      return sendErrorPage(res, 400, "Redirect URI not allowed", `Sign-in stopped here: ${redirectProblem}`);
    }

    const state = q("state");
    const fail = (error: string, description: string): void => {
      ctx.deps.logger.info({ clientId: client.clientId, error }, "authorization request refused before consent");
      refuseBeforeConsent(res, {
        redirectUri,
        issuer: ctx.urls.issuer,
        state,
        params: { error, error_description: description },
      });
    };

    if (repeated.length > 0) {
      return fail(
        "invalid_request",
        `${repeated.join(", ")} given more than once (RFC 6749 §3.1: no parameter may repeat)`,
      );
    }
    if (q("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
    // Only a client stored before registration required it can lack the grant (RFC 6749 §4.1.2.1).
    if (!client.grantTypes.includes("authorization_code")) {
      return fail("unauthorized_client", "This client did not register the authorization_code grant; register again");
    }
    const challenge = q("code_challenge");
    const method = q("code_challenge_method");
    if (challenge === undefined) return fail("invalid_request", "PKCE is required: send code_challenge (S256)");
    // OAuth 2.1: an absent method means "plain", which we refuse like an explicit one.
    if (method !== "S256") return fail("invalid_request", "code_challenge_method must be S256 (plain is not allowed)");
    if (!isS256Challenge(challenge)) return fail("invalid_request", "code_challenge is not a S256 challenge");
    // Several resources are allowed (RFC 8707 §2); each must be ours, the one resource this server protects.
    const resources = resourceValues(req.query.resource);
    if (resources === undefined || resources.some((r) => !isOurResource(r, ctx.urls.resource))) {
      return fail("invalid_target", `resource must be ${ctx.urls.resource}`);
    }
    const scopeParse = parseScopes(q("scope"));
    if (scopeParse.dropped.length > 0) {
      ctx.deps.logger.debug({ clientId: client.clientId, dropped: scopeParse.dropped }, "unknown scopes dropped");
    }
    let scopes = scopeParse.scopes;
    if (scopes.length === 0) scopes = client.scopes ?? [...allScopes];
    const beyond = client.scopes === undefined ? [] : scopes.filter((s) => !client.scopes?.includes(s));
    if (beyond.length > 0) return fail("invalid_scope", `The client did not register for ${beyond.join(" ")}`);

    const request: AuthorizationRequest = {
      clientId: client.clientId,
      ...(client.name !== undefined ? { clientName: client.name } : {}),
      redirectUri,
      redirectUriGiven: requested !== undefined,
      codeChallenge: challenge,
      ...(state !== undefined ? { state } : {}),
      scopes,
      resource: ctx.urls.resource,
    };
    const requestId = randomToken(18);
    const pending: PendingConsent = {
      ...request,
      csrfToken: randomToken(32),
      metadataDocument: client.source === "metadata-document",
    };
    await ctx.transient.putPending(requestId, pending);
    ctx.consentCookie.set(res, requestId, client.clientId);
    sendPage(
      res,
      200,
      renderConsentPage({
        clientName: client.name,
        clientId: client.clientId,
        metadataDocument: pending.metadataDocument === true,
        redirectUri,
        scopes,
        requestId,
        csrfToken: pending.csrfToken,
        decisionPath: authPaths.decision,
      }),
    );
  };
}

/**
 * POST /authorize/decision: the consent form. The CSRF token must match the pending request's, and the
 * consent cookie must show this is the browser that was shown the page. Approve (or Read only) → Airtable, asked
 * for the Airtable scopes of what the client requested, with a `signin` cookie bound to our upstream state that
 * /oauth/callback requires (bound-cookie.ts); deny → back to the client with access_denied (a redirect: the person
 * saw where it goes on the consent page). What the person ticked (consent-choice.ts: never more than the client
 * requested; a value it did not request refuses the form, nothing ticked shows the page again with a note) narrows
 * only our own grant, code and tokens (callback.ts, grants.ts), not the Airtable token: see the comment at the
 * redirect below.
 */
export function decisionHandler(ctx: AuthContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string): string | undefined => (typeof body[name] === "string" ? body[name] : undefined);
    const requestId = field("request_id");
    const csrfToken = field("csrf_token");
    const decision = field("decision");
    const expired = (): void =>
      sendErrorPage(
        res,
        400,
        "This sign-in request has expired",
        "It was already answered or is older than 10 minutes. Start again from your app.",
      );
    if (requestId === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(requestId)) return expired();
    const pending = await ctx.transient.getPending(requestId);
    if (pending === undefined) return expired();
    if (csrfToken === undefined || !safeEqual(csrfToken, pending.csrfToken)) {
      return sendErrorPage(
        res,
        403,
        "Request refused",
        "The form's security token is missing or wrong. Start again from your app.",
      );
    }
    if (!ctx.consentCookie.verify(req, requestId, pending.clientId)) {
      return sendErrorPage(
        res,
        403,
        "Request refused",
        "This consent form was not opened in this browser (or cookies are blocked). Start again from your app.",
      );
    }
    if (decision !== "approve" && decision !== "deny" && decision !== "read_only") {
      return sendErrorPage(res, 400, "No decision", "Choose Allow or Deny.");
    }
    let scopes = pending.scopes;
    if (decision !== "deny") {
      // Only after the CSRF and cookie checks: the page shown again below carries the CSRF token.
      const choice = consentChoice(body, pending.scopes, { readOnly: decision === "read_only" });
      if (!choice.ok && choice.reason === "not_requested") {
        ctx.deps.logger.warn(
          {
            clientId: pending.clientId,
            requested: pending.scopes,
            notRequested: choice.values.slice(0, 10).map((v) => v.slice(0, 60)),
          },
          "consent form named scopes the client did not request: refused",
        );
        return sendErrorPage(
          res,
          400,
          "Request refused",
          `The form asked for ${describeValues(choice.values)}, which the app did not request; a consent form can only ` +
            "narrow what the app asked for. Nothing was granted. Start again from your app.",
        );
      }
      if (!choice.ok) {
        return sendPage(
          res,
          400,
          renderConsentPage({
            clientName: pending.clientName,
            clientId: pending.clientId,
            metadataDocument: pending.metadataDocument === true,
            redirectUri: pending.redirectUri,
            scopes: pending.scopes,
            checked: choice.ticked,
            problem:
              decision === "read_only"
                ? "Read only allows the ticked “See …” permissions, and none of them is ticked. Tick at least one " +
                  "and press Read only or Allow, or press Deny."
                : "Nothing is ticked. Tick at least one permission and press Allow, or press Deny.",
            requestId,
            csrfToken: pending.csrfToken,
            decisionPath: authPaths.decision,
          }),
        );
      }
      scopes = choice.scopes;
      // Checked before the request is taken: pressing Allow again once Airtable answers (the sandbox started) works.
      const unreachable = await ctx.deps.airtableReachability?.signInProblem();
      if (unreachable !== undefined) {
        // The cause is logged by signInProblem; a browser may retry after the check's freshness (RFC 9110 §10.2.3).
        res.setHeader("Retry-After", String(Math.ceil(REACHABILITY_FRESH_MS / 1000)));
        return sendErrorPage(res, 503, "Airtable's sign-in page cannot be reached", unreachable);
      }
    }
    // Single use: of two concurrent submissions only one proceeds.
    const taken = await ctx.transient.takePending(requestId);
    if (taken === undefined) return expired();
    ctx.consentCookie.clear(res, requestId);
    const { csrfToken: _csrf, metadataDocument: _shown, ...asked } = taken;
    const request = { ...asked, scopes };

    if (decision === "deny") {
      ctx.deps.logger.info({ clientId: request.clientId }, "consent denied");
      return redirectToClient(res, {
        redirectUri: request.redirectUri,
        issuer: ctx.urls.issuer,
        state: request.state,
        params: { error: "access_denied", error_description: "The user denied access" },
        status: 303,
      });
    }
    if (scopes.length < asked.scopes.length) {
      ctx.deps.logger.info(
        { clientId: request.clientId, requested: asked.scopes, granted: scopes },
        "consent granted fewer scopes than requested",
      );
    }
    // Our own leg to Airtable: our state, our PKCE, our redirect URI. Nothing of the client's goes upstream.
    // Airtable is asked for what the client REQUESTED, not for what the person ticked: the server keeps one Airtable
    // token per user, serving all of that user's clients (callback.ts, keptBroaderSignIn), so a token narrowed to
    // one client's choice would replace the user's broader one and take writes away from their other clients (their
    // own tokens still saying records:write, Airtable refusing them). The person's choice is enforced by our tokens.
    const upstreamScopes = asked.scopes;
    const upstreamState = randomToken(32);
    const upstreamVerifier = newVerifier();
    await ctx.transient.putUpstream(upstreamState, { ...request, upstreamScopes, upstreamVerifier });
    // Only now, after Allow and right before the redirect (MCP security best practices, OAuth State Parameter
    // Validation): the browser that comes back to the callback must be this one.
    ctx.signInCookie.set(res, signInCookieId(upstreamState), upstreamState);
    const location = ctx.deps.airtableOAuth.authorizationUrl({
      redirectUri: ctx.urls.callback,
      state: upstreamState,
      codeChallenge: s256(upstreamVerifier),
      scopes: airtableScopesFor(upstreamScopes),
    });
    res.setHeader("Cache-Control", "no-store");
    res.redirect(303, location);
  };
}

/** Form values named in a refusal: at most 5, each cut to 40 characters, quoted (the page escapes them). */
function describeValues(values: readonly string[]): string {
  const shown = values.slice(0, 5).map((v) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v));
  const more = values.length > 5 ? ` and ${values.length - 5} more` : "";
  return `${shown.join(", ")}${more}`;
}

/** The parameters /authorize reads that may appear only once (RFC 6749 §4.1.1, RFC 7636 §4.3). */
const SINGLE_VALUED: ReadonlySet<string> = new Set([
  "client_id",
  "redirect_uri",
  "response_type",
  "state",
  "scope",
  "code_challenge",
  "code_challenge_method",
]);

/** The query parameters given more than once (Express's query parser makes them arrays). */
function repeatedParameters(query: Request["query"]): string[] {
  return Object.entries(query)
    .filter(([, value]) => Array.isArray(value))
    .map(([name]) => name);
}
