/**
 * Airtable's OAuth endpoints (`{AIRTABLE_AUTH_URL}/oauth2/v1/authorize` and `/token`): the only code that talks
 * to them. Airtable's rules: authorization code grant with PKCE S256; the token endpoint takes form bodies;
 * integrations with a client secret authenticate with HTTP Basic, public ones send `client_id` in the body
 * (never `client_secret` in the body). Every refresh rotates the refresh token: the old one is dead after it.
 *
 * Nothing here retries: a code and a refresh token are single-use, so a request that may have reached Airtable
 * must not be sent twice. The token provider decides what to do with each error.
 */
import { z } from "zod";
import { timeoutSignal } from "../timeout-signal.ts";

/** Airtable's tokens for one Airtable user. Stored only encrypted (AES-256-GCM); never sent to MCP clients. */
export interface AirtableTokenSet {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  /** Epoch ms; Airtable refresh tokens last ~60 days and are single-use. */
  refreshTokenExpiresAt?: number;
  /** Airtable scopes granted upstream. */
  scopes: string[];
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  token_type: z.string().optional(),
  /** Seconds. */
  expires_in: z.number().positive(),
  /** Seconds. */
  refresh_expires_in: z.number().positive().optional(),
  scope: z.string().default(""),
});

const errorResponseSchema = z.object({ error: z.string().min(1), error_description: z.string().optional() });

/**
 * A failed token request. `error` is the OAuth error code Airtable sent (`invalid_grant`, `invalid_client`,
 * `invalid_request`, …) or one of ours: `network_error` / `timeout` (status 0: no answer; the request may or
 * may not have reached Airtable), `server_error` (5xx without an OAuth body), `invalid_response` (2xx we
 * cannot read).
 */
export class AirtableOAuthError extends Error {
  override name = "AirtableOAuthError";
  readonly error: string;
  readonly status: number;
  constructor(error: string, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.error = error;
    this.status = status;
  }
}

export interface AirtableOAuthOptions {
  /** AIRTABLE_AUTH_URL, e.g. https://airtable.com (no trailing slash needed). */
  authUrl: string;
  clientId: string;
  clientSecret?: string;
  fetch?: typeof fetch;
  /** Per request; default 10 s (shorter than the token provider's lock TTL, on purpose). */
  timeoutMs?: number;
  now?: () => number;
}

export class AirtableOAuth {
  readonly #authUrl: string;
  readonly #clientId: string;
  readonly #clientSecret: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(opts: AirtableOAuthOptions) {
    this.#authUrl = opts.authUrl.replace(/\/+$/, "");
    this.#clientId = opts.clientId;
    this.#clientSecret = opts.clientSecret;
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Where to send the user's browser. `codeChallenge` is the S256 challenge of our own verifier. */
  authorizationUrl(p: { redirectUri: string; state: string; codeChallenge: string; scopes: string[] }): string {
    const url = new URL(`${this.#authUrl}/oauth2/v1/authorize`);
    url.searchParams.set("client_id", this.#clientId);
    url.searchParams.set("redirect_uri", p.redirectUri);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", p.scopes.join(" "));
    url.searchParams.set("state", p.state);
    url.searchParams.set("code_challenge", p.codeChallenge);
    url.searchParams.set("code_challenge_method", "S256");
    return url.toString();
  }

  exchangeCode(p: { code: string; redirectUri: string; codeVerifier: string }): Promise<AirtableTokenSet> {
    return this.#tokenRequest({
      grant_type: "authorization_code",
      code: p.code,
      redirect_uri: p.redirectUri,
      code_verifier: p.codeVerifier,
    });
  }

  refresh(refreshToken: string): Promise<AirtableTokenSet> {
    return this.#tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken });
  }

  async #tokenRequest(params: Record<string, string>): Promise<AirtableTokenSet> {
    const headers: Record<string, string> = {
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    };
    const form = new URLSearchParams(params);
    if (this.#clientSecret === undefined) form.set("client_id", this.#clientId);
    else headers.authorization = basicAuth(this.#clientId, this.#clientSecret);

    const sentAt = this.#now();
    let response: Response;
    let text: string;
    // Cleared once the answer is read (timeout-signal.ts: AbortSignal.timeout's timer would outlive it).
    const timeout = timeoutSignal(this.#timeoutMs);
    try {
      response = await this.#fetch(`${this.#authUrl}/oauth2/v1/token`, {
        method: "POST",
        headers,
        body: form.toString(),
        signal: timeout.signal,
        redirect: "error",
      });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new AirtableOAuthError(
        timedOut ? "timeout" : "network_error",
        0,
        timedOut
          ? `Airtable's token endpoint did not answer within ${this.#timeoutMs} ms`
          : `Could not reach Airtable's token endpoint (${this.#authUrl}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      timeout.clear();
    }
    const json = parseJson(text);
    if (!response.ok) throw errorFromResponse(response.status, json, text);
    const parsed = tokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new AirtableOAuthError(
        "invalid_response",
        response.status,
        `Airtable's token endpoint answered ${response.status} without a valid token response: ${z.prettifyError(parsed.error)}`,
      );
    }
    const body = parsed.data;
    // Expiries count from when we sent the request: never later than Airtable's own clock would say.
    const tokens: AirtableTokenSet = {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      accessTokenExpiresAt: sentAt + body.expires_in * 1000,
      scopes: body.scope.split(" ").filter((s) => s !== ""),
    };
    if (body.refresh_expires_in !== undefined) tokens.refreshTokenExpiresAt = sentAt + body.refresh_expires_in * 1000;
    return tokens;
  }
}

/** RFC 6749 §2.3.1: id and secret are percent-encoded before being joined and base64-encoded. */
function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;
}

function parseJson(text: string): unknown {
  try {
    return text.trim() === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorFromResponse(status: number, json: unknown, text: string): AirtableOAuthError {
  const parsed = errorResponseSchema.safeParse(json);
  if (parsed.success) {
    const { error, error_description: description } = parsed.data;
    return new AirtableOAuthError(
      error,
      status,
      `Airtable refused the token request (${status} ${error})${description === undefined ? "" : `: ${description}`}`,
    );
  }
  const excerpt = text.replace(/\s+/g, " ").trim().slice(0, 200);
  return new AirtableOAuthError(
    status >= 500 ? "server_error" : "invalid_response",
    status,
    `Airtable's token endpoint answered HTTP ${status}${excerpt === "" ? "" : `: ${excerpt}`}`,
  );
}
