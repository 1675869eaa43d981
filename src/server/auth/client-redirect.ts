import type { Response } from "express";
import { renderRefusedRequestPage, sendPage } from "./pages.ts";
import { redirectTarget } from "./redirect-uris.ts";

/** An authorization response for the client (RFC 6749 §4.1.2 and §4.1.2.1) and the URI it goes to. */
export interface ClientResponse {
  /** A redirect URI already checked against the client's registration and today's rules. */
  redirectUri: string;
  /** Our issuer identifier, sent as `iss` (RFC 9207 §2). */
  issuer: string;
  /** The client's `state`, echoed when it sent one. */
  state: string | undefined;
  /** `code`, or `error` and `error_description`. */
  params: Record<string, string>;
}

/**
 * The client's redirect URI with the response's parameters. `iss` is always added (RFC 9207) so the client can tell
 * which server answered; `state` echoes the client's.
 */
export function clientRedirectUrl(opts: ClientResponse): string {
  const url = new URL(opts.redirectUri);
  for (const [k, v] of Object.entries(opts.params)) url.searchParams.set(k, v);
  if (opts.state !== undefined) url.searchParams.set("state", opts.state);
  url.searchParams.set("iss", opts.issuer);
  return url.toString();
}

/**
 * Sends the browser back to the client's (already validated) redirect URI with an authorization response: the
 * answer once the person has seen the consent page (a code, or an error after Allow or Deny), which names where
 * the browser goes next. `status`: 302 by default; 303 after a POST.
 */
export function redirectToClient(res: Response, opts: ClientResponse & { status?: number }): void {
  res.setHeader("Cache-Control", "no-store");
  res.redirect(opts.status ?? 302, clientRedirectUrl(opts));
}

/**
 * An error found in an authorization request before the person has seen the consent page (RFC 6749 §4.1.2.1:
 * unsupported_response_type, invalid_request, invalid_scope, invalid_target, unauthorized_client), once the client
 * and its redirect URI are known to match its registration.
 *
 * RFC 9700 §4.11.2: anyone can register a client (RFC 7591) and "intentionally send an erroneous authorization
 * request … thus instructing the authorization server to redirect the user agent to its phishing site"; "The
 * authorization server SHOULD only automatically redirect the user agent if it trusts the redirection URI. If the
 * URI is not trusted, the authorization server MAY inform the user and rely on the user to make the correct
 * decision" (the MCP authorization spec's security considerations, Open Redirection, say the same). So:
 *
 * - a loopback redirect URI (`http://127.0.0.1:…`, `localhost`, `[::1]`: a native app, RFC 8252 §7.3) is still
 *   redirected to at once: it can only reach a program on the person's own computer, never a site an attacker
 *   serves, and the app that sent the request is listening there for the answer (without it, Claude Code, VS Code
 *   or mcp-remote would wait until they time out);
 * - any other (an https site, a private-use scheme that opens an app) gets an HTML page, status 400, naming the
 *   error, with a link to the client's redirect URI carrying the error response (`error`, `error_description`,
 *   `state`, `iss`) that the person may follow or not. No automatic redirect.
 */
export function refuseBeforeConsent(res: Response, opts: ClientResponse): void {
  if (redirectTarget(opts.redirectUri).kind === "loopback") return redirectToClient(res, opts);
  sendPage(
    res,
    400,
    renderRefusedRequestPage({
      error: opts.params.error ?? "invalid_request",
      description: opts.params.error_description,
      redirectUri: opts.redirectUri,
      returnUrl: clientRedirectUrl(opts),
    }),
  );
}
