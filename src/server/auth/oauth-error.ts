import type { Response } from "express";

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
