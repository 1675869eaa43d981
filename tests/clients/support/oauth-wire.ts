/**
 * The OAuth requests an MCP client sends, one HTTP request each, exactly as written here (no SDK in between):
 * for the client profiles whose own wire behaviour matters (which redirect URIs they register, which scopes and
 * `resource` they send, which headers). Each function answers what the client sees: status, headers, JSON body.
 */
import { createHash, randomBytes } from "node:crypto";
import { approveConsent, openConsentForm } from "../../e2e/helpers/headless-browser.ts";

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export interface Pkce {
  verifier: string;
  challenge: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function newState(): string {
  return randomBytes(16).toString("base64url");
}

async function answer<T>(res: Response): Promise<HttpAnswer<T>> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body: body as T };
}

/** RFC 7591 dynamic client registration: POST /register with the client's metadata as JSON. */
export async function registerClient(
  publicUrl: string,
  metadata: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const res = await fetch(`${publicUrl}/register`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify(metadata),
  });
  return answer(res);
}

/** The URL a client opens in the user's browser (RFC 6749 §4.1.1 + PKCE + RFC 8707 `resource`). */
export function authorizationUrl(
  publicUrl: string,
  params: {
    clientId: string;
    redirectUri: string;
    pkce: Pkce;
    state: string;
    scope?: string;
    resource?: string;
  },
): URL {
  const url = new URL(`${publicUrl}/authorize`);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", params.clientId);
  url.searchParams.set("redirect_uri", params.redirectUri);
  url.searchParams.set("code_challenge", params.pkce.challenge);
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", params.state);
  if (params.scope !== undefined) url.searchParams.set("scope", params.scope);
  if (params.resource !== undefined) url.searchParams.set("resource", params.resource);
  return url;
}

export interface BrowserVisit {
  /** The consent page's HTML, as the user saw it. */
  consentPage: string;
  /** Where the browser was sent in the end: the client's redirect URI with code, state and iss. */
  redirect: URL;
}

/**
 * The user's browser: opens the authorization URL, clicks Allow on our consent page, signs in at the sandbox's
 * Airtable as `sandboxUser` and follows the redirects back until they leave our server (headless, see
 * tests/e2e/helpers/headless-browser.ts). The final redirect is returned, not fetched: a native app's loopback
 * listener or the OS (private-use schemes) takes it from there; see `deliverToLoopback`.
 */
export async function signInWithBrowser(authorizeUrl: URL, sandboxUser: string): Promise<BrowserVisit> {
  const form = await openConsentForm(authorizeUrl.toString());
  const redirect = await approveConsent(form, sandboxUser);
  return { consentPage: form.html, redirect };
}

/** The authorization response's code, after checking it answers our request (state, issuer: RFC 9207). */
export function codeFrom(redirect: URL, expected: { state: string; issuer: string }): string {
  const error = redirect.searchParams.get("error");
  if (error !== null) {
    throw new Error(`sign-in ended with ${error}: ${redirect.searchParams.get("error_description") ?? ""}`);
  }
  if (redirect.searchParams.get("state") !== expected.state) throw new Error(`state mismatch in ${redirect.href}`);
  if (redirect.searchParams.get("iss") !== expected.issuer) throw new Error(`iss mismatch in ${redirect.href}`);
  const code = redirect.searchParams.get("code");
  if (code === null) throw new Error(`no code in ${redirect.href}`);
  return code;
}

/** What /token answers on success (RFC 6749 §5.1). */
export interface TokenSet {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

/**
 * POST /token with a form body (RFC 6749 §3.2) at `baseUrl` (PUBLIC_URL, or one server process's address);
 * `headers` adds e.g. Origin for a browser client.
 */
export async function tokenRequest(
  baseUrl: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const res = await fetch(`${baseUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers },
    body: new URLSearchParams(form),
  });
  return answer(res);
}

/** A client's credentials in a form body: its id, and its secret when it is confidential (client_secret_post). */
export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

function credentialFields(client: ClientCredentials): Record<string, string> {
  return {
    client_id: client.clientId,
    ...(client.clientSecret !== undefined ? { client_secret: client.clientSecret } : {}),
  };
}

/** The authorization_code grant (RFC 6749 §4.1.3); throws with the server's answer unless it is 200. */
export async function exchangeCode(
  baseUrl: string,
  params: ClientCredentials & { code: string; verifier: string; redirectUri: string; resource?: string },
  headers: Record<string, string> = {},
): Promise<TokenSet> {
  const res = await tokenRequest(
    baseUrl,
    {
      grant_type: "authorization_code",
      ...credentialFields(params),
      code: params.code,
      code_verifier: params.verifier,
      redirect_uri: params.redirectUri,
      ...(params.resource !== undefined ? { resource: params.resource } : {}),
    },
    headers,
  );
  return expectTokens(res, "authorization_code");
}

/** The refresh_token grant (RFC 6749 §6); the raw answer (a test may expect a refusal). */
export async function refreshRequest(
  baseUrl: string,
  params: ClientCredentials & { refreshToken: string; resource?: string },
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return tokenRequest(
    baseUrl,
    {
      grant_type: "refresh_token",
      ...credentialFields(params),
      refresh_token: params.refreshToken,
      ...(params.resource !== undefined ? { resource: params.resource } : {}),
    },
    headers,
  );
}

export function expectTokens(res: HttpAnswer, grant: string): TokenSet {
  const body = res.body as Partial<TokenSet>;
  if (res.status !== 200 || typeof body.access_token !== "string") {
    throw new Error(`${grant} grant answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return body as TokenSet;
}
