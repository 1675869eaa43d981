/**
 * Airtable's OAuth 2.0 authorization server (airtable.com/oauth2/v1/…), served on the sandbox's origin.
 *
 * As Airtable documents it: authorization code grant only, PKCE with S256 required, `state` required and echoed,
 * scopes from Airtable's list; the token endpoint takes form bodies only and authenticates confidential clients
 * with HTTP Basic (public clients send `client_id` in the body); access tokens last 60 minutes, refresh tokens 60
 * days, and every refresh rotates the refresh token (the old one is refused afterwards). Codes are single-use and
 * live 10 minutes.
 *
 * The sandbox has no login page: the signed-in user comes from the `sandbox_user` query parameter or cookie (id or
 * email), else from `signInAs` (the demo's automatic sign-in: `npm run sandbox` and the embedded start set it to the
 * demo user, so a real browser arriving from an MCP client's sign-in goes straight through); consent is automatic,
 * and `sandbox_decision=deny` simulates the user refusing. The bases the user adds on Airtable's consent page ("Add a
 * base") come from the `sandbox_bases` query parameter or cookie (base ids, comma-separated); without it, every base
 * (Airtable's "All current and future bases in all current and future workspaces"). Each authorization keeps its
 * bases, and the user can change them at any time (`setBases`, Airtable's integrations page: "Access to workspaces
 * and bases can be updated at any time", support article "Third-party integrations via OAuth overview"); the change
 * reaches the tokens already issued. Without any of them, the "Not signed in" page offers a
 * link per user that signs in as that user.
 * Errors before the redirect URI is trusted (unknown client, unregistered redirect URI) are a 400 page, never a
 * redirect (RFC 6749 §4.1.2.1); later ones redirect with `error` and `state`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { newSecret } from "./ids.ts";
import type { Reply, RequestCtx, RouteMatch } from "./context.ts";
import { ALL_SCOPES, type Store } from "./store.ts";

export interface OAuthClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
  /**
   * The scopes selected for the integration on Airtable's integration page; default: every scope. Asking for one
   * outside them is refused with `invalid_scope` ("All scopes must be valid, Airtable defined scopes that have been
   * selected for your integration in the integration management page", Airtable's OAuth reference, authorize).
   */
  scopes?: string[];
}

interface CodeGrant {
  clientId: string;
  redirectUri: string;
  userId: string;
  scopes: string[];
  /** The bases picked on the consent page; absent: all of them (Token.bases). */
  bases?: string[];
  challenge: string;
  expiresAt: number;
  used: boolean;
}

/** A refresh token's grant (exported for the sandbox's state file, persistence.ts). */
export interface RefreshGrant {
  clientId: string;
  userId: string;
  scopes: string[];
  expiresAt: number;
  used: boolean;
  /** The access token issued beside it: a refresh ends it (absent in state files written before this was kept). */
  accessToken?: string;
  /** The bases of this authorization (Token.bases); absent: all of them. */
  bases?: string[];
}

const CODE_TTL_MS = 10 * 60_000;
/** Users offered on the "Not signed in" page at most. */
const MAX_SIGN_IN_LINKS = 10;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(status: number, title: string, detail: string): Reply {
  const html = `<!doctype html><title>${title}</title><h1>${title}</h1><p>${escapeHtml(detail)}</p>`;
  return { status, body: Buffer.from(html), headers: { "content-type": "text/html; charset=utf-8" } };
}

function redirect(to: string, params: Record<string, string | undefined>): Reply {
  const url = new URL(to);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return { status: 302, headers: { location: url.toString(), "cache-control": "no-store" } };
}

function oauthError(status: number, error: string, description: string): Reply {
  return {
    status,
    body: { error, error_description: description },
    headers: {
      "cache-control": "no-store",
      ...(status === 401 ? { "www-authenticate": 'Basic realm="airtable"' } : {}),
    },
  };
}

function cookie(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? "").split(";")) {
    const [k, ...rest] = part.trim().split("=");
    if (k === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function copyGrant(grant: RefreshGrant): RefreshGrant {
  return {
    ...grant,
    scopes: [...grant.scopes],
    ...(grant.bases !== undefined && { bases: [...grant.bases] }),
  };
}

export class OAuthServer {
  readonly clients = new Map<string, OAuthClient>();
  readonly #codes = new Map<string, CodeGrant>();
  readonly #refresh = new Map<string, RefreshGrant>();
  readonly #store: Store;
  /**
   * Who signs in when an authorization request names no user (id or email): the demo's automatic sign-in.
   * Undefined: such a request gets the "Not signed in" page.
   */
  signInAs: string | undefined;
  accessTtlSec: number;
  refreshTtlSec: number;
  refreshCount = 0;
  exchangeCount = 0;

  constructor(store: Store, accessTtlSec: number, refreshTtlSec: number) {
    this.#store = store;
    this.accessTtlSec = accessTtlSec;
    this.refreshTtlSec = refreshTtlSec;
  }

  /** Every refresh token ever issued (used or not), for tests that check no secret leaks into logs. */
  issuedRefreshTokens(): string[] {
    return [...this.#refresh.keys()];
  }

  /** Every refresh token with its grant, used ones included (they must stay refused after a restart). */
  refreshGrants(): [string, RefreshGrant][] {
    return [...this.#refresh.entries()].map(([token, grant]) => [token, copyGrant(grant)]);
  }

  restoreRefreshGrants(entries: readonly [string, RefreshGrant][]): void {
    for (const [token, grant] of entries) this.#refresh.set(token, copyGrant(grant));
  }

  /**
   * What the user does on Airtable's integrations page for `clientId`: sets the bases its authorizations reach
   * (`undefined`: all of them), for the access tokens already issued and for what their refresh tokens will give.
   */
  setBases(userId: string, clientId: string, bases: readonly string[] | undefined): void {
    const apply = (holder: { bases?: string[] }): void => {
      if (bases === undefined) delete holder.bases;
      else holder.bases = [...bases];
    };
    for (const grant of this.#refresh.values()) {
      if (grant.userId === userId && grant.clientId === clientId && !grant.used) apply(grant);
    }
    for (const token of this.#store.tokens.values()) {
      if (token.kind === "oauth" && token.userId === userId && token.clientId === clientId) apply(token);
    }
  }

  /**
   * The user removing the integration `clientId` on Airtable's integrations page (account, Integrations,
   * Third-party integrations, Revoke access): every refresh token of it for that user is refused from now on with
   * `invalid_grant` (the token endpoint's answer to a revoked refresh token, RFC 6749 §5.2), and its access tokens
   * answer 401 AUTHENTICATION_REQUIRED. Signing in again through the authorize page gives new tokens. Returns how
   * many refresh tokens and access tokens it ended.
   */
  revoke(userId: string, clientId: string): { refreshTokens: number; accessTokens: number } {
    let refreshTokens = 0;
    let accessTokens = 0;
    for (const grant of this.#refresh.values()) {
      if (grant.userId === userId && grant.clientId === clientId && !grant.used) {
        grant.used = true;
        refreshTokens++;
      }
    }
    for (const [value, token] of this.#store.tokens) {
      if (token.kind === "oauth" && token.userId === userId && token.clientId === clientId) {
        this.#store.tokens.delete(value);
        accessTokens++;
      }
    }
    return { refreshTokens, accessTokens };
  }

  register(client: OAuthClient): void {
    this.clients.set(client.clientId, {
      ...client,
      redirectUris: [...client.redirectUris],
      ...(client.scopes !== undefined && { scopes: [...client.scopes] }),
    });
  }

  match(method: string, segs: string[]): RouteMatch | undefined {
    if (segs.length !== 3 || segs[0] !== "oauth2" || segs[1] !== "v1") return undefined;
    if (segs[2] === "authorize" && method === "GET") return { kind: "oauth", run: (ctx) => this.#authorize(ctx) };
    if (segs[2] === "token" && method === "POST") return { kind: "oauth", run: (ctx) => this.#token(ctx) };
    return undefined;
  }

  #authorize(ctx: RequestCtx): Reply {
    const q = ctx.query;
    const client = this.clients.get(q.get("client_id") ?? "");
    if (client === undefined) return page(400, "Invalid client", "client_id is missing or not registered");
    const redirectUri = q.get("redirect_uri") ?? "";
    if (!client.redirectUris.includes(redirectUri)) {
      // Airtable's page says only the first sentence; the sandbox, a development tool, also says what it got, what
      // it has, and where that list comes from (`npm run sandbox` registers SANDBOX_REDIRECT_URIS).
      return page(
        400,
        "Invalid redirect_uri",
        `redirect_uri does not exactly match a registered redirect URI. Received: ${JSON.stringify(redirectUri)}; ` +
          `registered for ${client.clientId}: ${client.redirectUris.map((u) => JSON.stringify(u)).join(", ")}. ` +
          "With npm run sandbox, set SANDBOX_REDIRECT_URIS to the MCP server's PUBLIC_URL + /oauth/callback.",
      );
    }
    const state = q.get("state") ?? undefined;
    const fail = (error: string, description: string): Reply =>
      redirect(redirectUri, { error, error_description: description, state });
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
    if (state === undefined || state === "") return fail("invalid_request", "state is required");
    const challenge = q.get("code_challenge") ?? "";
    if (q.get("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge))
      return fail("invalid_request", "code_challenge must be a S256 challenge");
    const scopes = (q.get("scope") ?? "").split(" ").filter((s) => s !== "");
    if (scopes.length === 0 || scopes.some((s) => !(ALL_SCOPES as readonly string[]).includes(s))) {
      return fail("invalid_scope", "scope must list Airtable scopes");
    }
    const notSelected = scopes.filter((s) => client.scopes !== undefined && !client.scopes.includes(s));
    if (notSelected.length > 0) {
      return fail(
        "invalid_scope",
        `Scopes not selected for this integration in the integration management page: ${notSelected.join(" ")}`,
      );
    }
    const who = q.get("sandbox_user") ?? cookie(ctx.headers, "sandbox_user") ?? this.signInAs;
    const user = who === undefined ? undefined : this.#store.userByIdOrEmail(who);
    if (user === undefined) return this.#notSignedIn(q, who);
    ctx.entry.userId = user.id;
    if (q.get("sandbox_decision") === "deny") return fail("access_denied", "The user denied access");
    const picked = q.get("sandbox_bases") ?? cookie(ctx.headers, "sandbox_bases");
    const bases = picked === undefined ? undefined : picked.split(",").filter((b) => b !== "");
    const unknown = (bases ?? []).filter((b) => this.#store.bases.get(b)?.access.has(user.id) !== true);
    if (unknown.length > 0) {
      // Airtable's consent page offers only the user's own bases; a test asking for another is a mistake in the test.
      return page(400, "Unknown base", `sandbox_bases names bases ${user.email} cannot see: ${unknown.join(", ")}`);
    }
    const code = newSecret("", 32);
    this.#codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      userId: user.id,
      scopes: [...new Set(scopes)],
      ...(bases !== undefined && { bases }),
      challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
      used: false,
    });
    return redirect(redirectUri, { code, state });
  }

  /**
   * The sandbox's stand-in for Airtable's login page: no user could be found, so each user of the sandbox gets a
   * link to this same authorization request signed in as them (one click instead of a dead end).
   */
  #notSignedIn(query: URLSearchParams, who: string | undefined): Reply {
    const users = [...this.#store.users.values()].slice(0, MAX_SIGN_IN_LINKS);
    const links = users.map((user) => {
      const params = new URLSearchParams(query);
      params.set("sandbox_user", user.email);
      const href = `/oauth2/v1/authorize?${params.toString()}`;
      return `<li><a href="${escapeHtml(href)}">Sign in as ${escapeHtml(user.name)} (${escapeHtml(user.email)})</a></li>`;
    });
    const why =
      who === undefined
        ? "No sandbox user is signed in (no sandbox_user query parameter or cookie, and no automatic sign-in)."
        : `There is no sandbox user ${escapeHtml(who)}.`;
    const html =
      `<!doctype html><meta charset="utf-8"><title>Not signed in</title><h1>Not signed in</h1>` +
      `<p>This is the Airtable sandbox, a fake Airtable. ${why}</p>` +
      (links.length > 0
        ? `<ul>${links.join("")}</ul>`
        : "<p>The sandbox has no users yet: add one (the demo data adds demo@example.com).</p>");
    return { status: 400, body: Buffer.from(html), headers: { "content-type": "text/html; charset=utf-8" } };
  }

  /** The client, authenticated as Airtable does: Basic for clients with a secret, `client_id` in the body otherwise. */
  #client(ctx: RequestCtx, form: URLSearchParams): OAuthClient | Reply {
    const header = ctx.headers.authorization;
    let basicId: string | undefined;
    let basicSecret: string | undefined;
    if (header !== undefined) {
      const m = /^Basic\s+(.+)$/i.exec(header);
      if (m === null) return oauthError(401, "invalid_client", "Unsupported client authentication");
      const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) return oauthError(401, "invalid_client", "Malformed Basic credentials");
      basicId = decodeURIComponent(decoded.slice(0, colon));
      basicSecret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const bodyId = form.get("client_id") ?? undefined;
    if (basicId !== undefined && bodyId !== undefined && bodyId !== basicId) {
      return oauthError(400, "invalid_request", "client_id does not match the Authorization header");
    }
    const client = this.clients.get(basicId ?? bodyId ?? "");
    if (client === undefined) return oauthError(401, "invalid_client", "Unknown client");
    if (form.has("client_secret")) {
      return oauthError(400, "invalid_request", "Send the client secret with HTTP Basic authentication");
    }
    if (client.clientSecret !== undefined) {
      if (basicSecret === undefined || !safeEqual(basicSecret, client.clientSecret)) {
        return oauthError(401, "invalid_client", "Client authentication failed");
      }
    } else if (basicSecret !== undefined && basicSecret !== "") {
      return oauthError(401, "invalid_client", "This client has no secret");
    }
    return client;
  }

  #token(ctx: RequestCtx): Reply {
    if (!/^application\/x-www-form-urlencoded\b/i.test(ctx.headers["content-type"] ?? "")) {
      return oauthError(400, "invalid_request", "The token endpoint takes application/x-www-form-urlencoded bodies");
    }
    const form = new URLSearchParams(ctx.rawBody.toString("utf8"));
    const client = this.#client(ctx, form);
    if ("status" in client) return client;
    const grantType = form.get("grant_type");
    if (grantType === "authorization_code") return this.#exchange(ctx, client, form);
    if (grantType === "refresh_token") return this.#refreshGrant(ctx, client, form);
    if (grantType === null) return oauthError(400, "invalid_request", "grant_type is required");
    return oauthError(400, "unsupported_grant_type", `Unsupported grant_type ${grantType}`);
  }

  #exchange(ctx: RequestCtx, client: OAuthClient, form: URLSearchParams): Reply {
    const code = form.get("code");
    const redirectUri = form.get("redirect_uri");
    const verifier = form.get("code_verifier");
    if (code === null || redirectUri === null || verifier === null) {
      return oauthError(400, "invalid_request", "code, redirect_uri and code_verifier are required");
    }
    const grant = this.#codes.get(code);
    if (grant === undefined || grant.used || grant.expiresAt < Date.now() || grant.clientId !== client.clientId) {
      return oauthError(400, "invalid_grant", "The authorization code is invalid, expired or already used");
    }
    grant.used = true; // single use, even when the rest of the request is wrong
    if (grant.redirectUri !== redirectUri) return oauthError(400, "invalid_grant", "redirect_uri does not match");
    const computed = createHash("sha256").update(verifier).digest("base64url");
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || computed !== grant.challenge) {
      return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge");
    }
    this.exchangeCount++;
    ctx.entry.userId = grant.userId;
    return this.#issue(client.clientId, grant.userId, grant.scopes, grant.bases);
  }

  #refreshGrant(ctx: RequestCtx, client: OAuthClient, form: URLSearchParams): Reply {
    const token = form.get("refresh_token");
    if (token === null) return oauthError(400, "invalid_request", "refresh_token is required");
    const grant = this.#refresh.get(token);
    if (grant === undefined || grant.used || grant.expiresAt < Date.now() || grant.clientId !== client.clientId) {
      return oauthError(400, "invalid_grant", "The refresh token is invalid, expired, revoked or already used");
    }
    grant.used = true; // rotated: single use
    // "When a refresh token is exchanged for an access token, the previous access and refresh tokens are
    // invalidated" (https://airtable.com/developers/web/api/oauth-reference, Token expiry & refresh tokens): a
    // process still holding the old access token gets 401 from now on.
    if (grant.accessToken !== undefined) this.#store.tokens.delete(grant.accessToken);
    this.refreshCount++;
    ctx.entry.userId = grant.userId;
    return this.#issue(client.clientId, grant.userId, grant.scopes, grant.bases);
  }

  #issue(clientId: string, userId: string, scopes: string[], bases: string[] | undefined): Reply {
    const access = newSecret("oaa", 32);
    const refresh = newSecret("oar", 32);
    const now = Date.now();
    this.#store.tokens.set(access, {
      value: access,
      userId,
      scopes: [...scopes],
      kind: "oauth",
      expiresAt: now + this.accessTtlSec * 1000,
      clientId,
      ...(bases !== undefined && { bases: [...bases] }),
    });
    this.#refresh.set(refresh, {
      clientId,
      userId,
      scopes: [...scopes],
      expiresAt: now + this.refreshTtlSec * 1000,
      used: false,
      accessToken: access,
      ...(bases !== undefined && { bases: [...bases] }),
    });
    return {
      status: 200,
      headers: { "cache-control": "no-store" },
      body: {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        scope: scopes.join(" "),
        expires_in: this.accessTtlSec,
        refresh_expires_in: this.refreshTtlSec,
      },
    };
  }
}
