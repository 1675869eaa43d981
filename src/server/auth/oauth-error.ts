import type { Response } from "express";
import { isRedisUnavailable } from "../../shared/redis-unavailable.ts";

/**
 * An OAuth error answer in RFC 6749 §5.2 shape. Thrown by the endpoint code and turned into JSON by
 * `sendOAuthError`, or into a redirect by the authorization endpoint.
 */
export class OAuthError extends Error {
  override name = "OAuthError";
  readonly error: string;
  readonly status: number;
  /** Set for invalid_client answers to a client that tried HTTP Basic (RFC 6749 §5.2). */
  readonly basicChallenge: boolean;
  /** Seconds to wait before trying again: sent as Retry-After (RFC 9110 §10.2.3), e.g. with 429. */
  retryAfterSec?: number;

  constructor(error: string, description: string, status = 400, basicChallenge = false) {
    super(description);
    this.error = error;
    this.status = status;
    this.basicChallenge = basicChallenge;
  }
}

export const invalidRequest = (description: string): OAuthError => new OAuthError("invalid_request", description);
export const invalidGrant = (description: string): OAuthError => new OAuthError("invalid_grant", description);
export const invalidClient = (description: string, basic = false): OAuthError =>
  new OAuthError("invalid_client", description, 401, basic);

/** Tokens and errors from the token endpoints must never be cached (RFC 6749 §5.1). */
export function noStore(res: Response): void {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Pragma", "no-cache");
}

export function sendOAuthError(res: Response, error: OAuthError): void {
  noStore(res);
  if (error.basicChallenge) res.setHeader("WWW-Authenticate", 'Basic realm="oauth", charset="UTF-8"');
  if (error.retryAfterSec !== undefined) res.setHeader("Retry-After", String(error.retryAfterSec));
  res.status(error.status).json({ error: error.error, error_description: error.message });
}

/** Seconds a client is told to wait (Retry-After) when the endpoint's storage does not answer. */
const UNAVAILABLE_RETRY_AFTER_SEC = 30;

/**
 * What an endpoint that hit an unexpected error answers: 503 `temporarily_unavailable` with Retry-After when
 * Redis does not answer, else 500 `server_error`. The difference matters to MCP clients: the MCP SDKs (v1 and v2)
 * answer a refresh that failed with `server_error` (or an error they cannot parse) by dropping it and opening the
 * browser for a new sign-in, which during an outage leads the user to an error page; any other OAuth error leaves
 * the stored tokens alone, so the client retries later and stays signed in. A retry with the same refresh token
 * is safe even if the rotation was written before the failure: within REFRESH_REUSE_GRACE_SECONDS (120 by default,
 * above Retry-After's 30) it is answered as a reuse. `temporarily_unavailable` is registered for the
 * authorization endpoint only (RFC 6749 §4.1.2.1); at the token endpoint it is an unregistered extension code
 * (RFC 6749 §5.2 lists the codes, §8.5 their registry), chosen because clients treat any code but server_error
 * as "keep the tokens", and the 503 with Retry-After says the rest (RFC 9110 §15.6.4).
 */
export function unexpectedOAuthError(error: unknown, description: string): OAuthError {
  if (!isRedisUnavailable(error)) return new OAuthError("server_error", description, 500);
  const unavailable = new OAuthError(
    "temporarily_unavailable",
    `The service cannot reach its storage right now. Try again in ${UNAVAILABLE_RETRY_AFTER_SEC} seconds.`,
    503,
  );
  unavailable.retryAfterSec = UNAVAILABLE_RETRY_AFTER_SEC;
  return unavailable;
}
