/**
 * Tests only: a real authorization server (createAuthRouter + requireBearer in an express app on an ephemeral
 * port) against real Redis, the real Redis TokenStore and the Airtable sandbox; plus a headless "browser" that
 * walks the consent and sign-in pages with fetch.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { SignJWT } from "jose";
import type { Redis } from "ioredis";
import { AirtableClient } from "../../src/shared/airtable/client.ts";
import { AirtableOAuth } from "../../src/shared/airtable/oauth.ts";
import { allScopes, type Scope } from "../../src/shared/auth/scopes.ts";
import { configSchema, type Config } from "../../src/shared/config.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import { createLogger, type Logger } from "../../src/shared/logger.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createTokenStore, deriveKey, TokenCipher, type TokenStore } from "../../src/shared/tokens/index.ts";

import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";

import { withSetCookies } from "../helpers/cookie-jar.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { insufficientScope, requireBearer } from "../../src/server/auth/bearer.ts";
import type { AuthDeps } from "../../src/server/auth/context.ts";
import { s256 } from "../../src/server/auth/pkce.ts";
import type { RateLimitSettings } from "../../src/server/auth/rate-limit.ts";
import { createAuthRouter } from "../../src/server/auth/router.ts";

export interface Harness {
  url: string;
  config: Config;
  redis: Redis;
  keyPrefix: string;
  store: TokenStore;
  sandbox: Sandbox;
  /** The sandbox user who signs in (email). */
  user: { id: string; email: string };
  deps: AuthDeps;
  airtableClientId: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  rateLimits?: Partial<RateLimitSettings>;
  /** Reuse a sandbox (several servers, one Airtable). */
  sandbox?: Sandbox;
  keyPrefix?: string;
  /** PUBLIC_URL other than this server's own address: another instance's (a cluster), or an unreachable one. */
  publicUrl?: string;
  /** Use this (already registered) Airtable integration, as every instance of one deployment does. */
  airtableClientId?: string;
  /** The authorization server's logger (default: silent, or LOG_LEVEL), e.g. to read what went to the log. */
  logger?: Logger;
  /** The clock (epoch ms) of the grants and the token store, for tests that move time (see TestClock). */
  now?: () => number;
  /** Pinned client metadata documents instead of the built-in ones (AuthDeps.knownClientDocuments). */
  knownClientDocuments?: AuthDeps["knownClientDocuments"];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ownSandbox = opts.sandbox === undefined;
  const sandbox = opts.sandbox ?? (await startSandbox());
  const email = `user-${randomBytes(3).toString("hex")}@example.com`;
  const user = sandbox.addUser({ email });
  // One sandbox may serve several harnesses: each is its own Airtable integration unless told to share one.
  const airtableClientId = opts.airtableClientId ?? `atmcp-test-${new URL(url).port}`;
  if (opts.airtableClientId === undefined) {
    sandbox.registerOAuthClient({
      clientId: airtableClientId,
      redirectUris: [`${opts.publicUrl ?? url}/oauth/callback`],
    });
  }
  const config = configSchema.parse({
    PUBLIC_URL: opts.publicUrl ?? url,
    TOKEN_ENCRYPTION_KEY: sharedKey,
    AIRTABLE_CLIENT_ID: airtableClientId,
    AIRTABLE_AUTH_URL: sandbox.url,
    AIRTABLE_API_URL: sandbox.url,
    ...opts.env,
  });
  const redis = createTestRedis();
  const keyPrefix = opts.keyPrefix ?? uniquePrefix("auth");
  const cipher = TokenCipher.create(config.TOKEN_ENCRYPTION_KEY as Buffer);
  const store = createTokenStore(config, { redis, cipher, keyPrefix, ...(opts.now ? { now: opts.now } : {}) });
  const limiter = BottleneckAirtableLimiter.local();
  const logger = opts.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? "silent" });
  const deps: AuthDeps = {
    config,
    kv: new RedisKeyValueStore(redis),
    keyPrefix,
    store,
    airtableOAuth: new AirtableOAuth({ authUrl: sandbox.url, clientId: airtableClientId }),
    whoami: (accessToken, userId) =>
      new AirtableClient({
        apiUrl: config.AIRTABLE_API_URL,
        contentUrl: config.AIRTABLE_CONTENT_URL,
        userId: userId ?? "signing-in",
        getAccessToken: () => Promise.resolve(accessToken),
        limiter,
      }).whoami(),
    logger,
    // Tests sign in dozens of times a minute from one address; limits are tested where they are the subject.
    rateLimits: opts.rateLimits ?? { registerPerHour: 10_000, tokenPerMinute: 10_000, authorizePerMinute: 10_000 },
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.knownClientDocuments ? { knownClientDocuments: opts.knownClientDocuments } : {}),
  };
  const app = express();
  app.set("trust proxy", config.TRUST_PROXY);
  app.use(createAuthRouter(deps));
  const bearer = requireBearer(deps);
  app.post("/mcp", bearer, (req, res) => {
    res.json({ auth: { ...req.auth, resource: req.auth?.resource?.href } });
  });
  app.post("/mcp/needs-write", bearer, (req, res) => {
    if (!req.auth?.scopes.includes("records:write")) return insufficientScope(res, ["records:write"]);
    res.json({ ok: true });
  });
  server.on("request", app);
  return {
    url,
    config,
    redis,
    keyPrefix,
    store,
    sandbox,
    user,
    deps,
    airtableClientId,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await limiter.close();
      await deleteKeys(redis, keyPrefix);
      redis.disconnect();
      if (ownSandbox) await sandbox.close();
    },
  };
}

/** A clock a test moves by hand: real time plus an offset. Pass `clock.now` as HarnessOptions.now. */
export class TestClock {
  #offsetMs = 0;
  readonly now = (): number => Date.now() + this.#offsetMs;
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

/** One key for every harness in a process, so two harnesses (two "instances") verify each other's tokens. */
const sharedKey = randomBytes(32).toString("base64");

// ---------------------------------------------------------------------------------------------------------------
// Client side

export const REDIRECT_URI = "http://127.0.0.1:9/callback";

/**
 * DCR as MCP clients do it (the SDK-based ones, VS Code, Cursor): a public client asking for both grant types, so
 * it gets refresh tokens. Pass `grant_types: undefined` to send none (RFC 7591 default: authorization_code only).
 */
export async function registerClient(h: Harness, metadata: Record<string, unknown> = {}) {
  const res = await fetch(`${h.url}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Test Client",
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
      ...metadata,
    }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  return {
    status: res.status,
    body,
    headers: res.headers,
    clientId: body.client_id as string,
    secret: body.client_secret as string,
  };
}

export interface AuthorizeParams {
  clientId: string;
  redirectUri?: string | undefined;
  verifier?: string;
  state?: string;
  scope?: string;
  resource?: string;
  /** Replace or drop (undefined) PKCE parameters. */
  extra?: Record<string, string | undefined>;
}

export function authorizeUrl(h: Harness, p: AuthorizeParams): string {
  const url = new URL(`${h.url}/authorize`);
  const params: Record<string, string | undefined> = {
    response_type: "code",
    client_id: p.clientId,
    redirect_uri: "redirectUri" in p ? p.redirectUri : REDIRECT_URI,
    code_challenge: s256(p.verifier ?? DEFAULT_VERIFIER),
    code_challenge_method: "S256",
    state: p.state ?? "client-state-1",
    scope: p.scope,
    resource: p.resource ?? `${h.url}/mcp`,
    ...p.extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export const DEFAULT_VERIFIER = "v".repeat(20) + randomBytes(24).toString("base64url");

export interface ConsentPage {
  status: number;
  html: string;
  cookie: string | undefined;
  requestId: string | undefined;
  csrfToken: string | undefined;
  headers: Headers;
}

export async function openConsent(h: Harness, p: AuthorizeParams): Promise<ConsentPage> {
  return readConsentPage(await fetch(authorizeUrl(h, p), { redirect: "manual" }));
}

/** What a browser keeps from the consent page: its cookie and the form's hidden fields. */
export async function readConsentPage(res: Response): Promise<ConsentPage> {
  const html = await res.text();
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  return {
    status: res.status,
    html,
    cookie: cookie === "" ? undefined : cookie,
    requestId: /name="request_id" value="([^"]+)"/.exec(html)?.[1],
    csrfToken: /name="csrf_token" value="([^"]+)"/.exec(html)?.[1],
    headers: res.headers,
  };
}

/**
 * POSTs the consent form: request id, CSRF token and cookie from `page` (or `override`), the decision, and
 * `override.fields` (e.g. `["scope_choice", "1"], ["scope", "records:read"]`: boxes ticked). Without fields, what a
 * consent page before the scope boxes sent.
 */
export async function decide(
  h: Harness,
  page: ConsentPage,
  decision: "approve" | "deny" | "read_only",
  override: { csrfToken?: string | undefined; cookie?: string | undefined; fields?: [string, string][] } = {},
): Promise<Response> {
  const form = new URLSearchParams([
    ["request_id", page.requestId ?? ""],
    ["decision", decision],
    ...(override.fields ?? []),
  ]);
  const csrf = "csrfToken" in override ? override.csrfToken : page.csrfToken;
  if (csrf !== undefined) form.set("csrf_token", csrf);
  const cookie = "cookie" in override ? override.cookie : page.cookie;
  return fetch(`${h.url}/authorize/decision`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
    body: form,
  });
}

/**
 * The Cookie header the browser that showed `page` sends after the consent decision answered `decision`: the
 * consent cookie gone, the sign-in cookie (bound to the Airtable sign-in's state) that /oauth/callback requires.
 */
export function cookiesAfterDecision(page: ConsentPage, decision: Response): string | undefined {
  return withSetCookies(page.cookie, decision);
}

/** A GET of `url` from a browser whose Cookie header for our server is `cookie`, redirects not followed. */
export function browserGet(url: string | URL, cookie: string | undefined): Promise<Response> {
  return fetch(url, { redirect: "manual", ...(cookie ? { headers: { cookie } } : {}) });
}

/**
 * Approve → sandbox login as the harness user → our callback, from the browser that showed the consent page (its
 * cookies, the sign-in cookie included). Returns the callback URL, its answer, and the browser's cookies after it.
 */
export async function approveThroughAirtable(h: Harness, page: ConsentPage) {
  return throughAirtable(h, page, await decide(h, page, "approve"));
}

/**
 * From the decision's answer (a 303 to Airtable) through the sandbox login to our callback, in the browser that showed
 * `page` (its cookies, and the sign-in cookie the decision set), as approveThroughAirtable.
 */
export async function throughAirtable(h: Harness, page: ConsentPage, decision: Response) {
  if (decision.status !== 303) throw new Error(`decision answered ${decision.status}: ${await decision.text()}`);
  const cookie = cookiesAfterDecision(page, decision);
  const upstream = new URL(decision.headers.get("location") as string);
  upstream.searchParams.set("sandbox_user", h.user.email);
  const atAirtable = await fetch(upstream, { redirect: "manual" });
  const callbackUrl = atAirtable.headers.get("location");
  if (atAirtable.status !== 302 || callbackUrl === null) {
    throw new Error(`sandbox authorize answered ${atAirtable.status}: ${await atAirtable.text()}`);
  }
  const callback = await browserGet(callbackUrl, cookie);
  return { upstream, callbackUrl, callback, cookie: withSetCookies(cookie, callback) };
}

/** From a consent page to the redirect back to the client, parsed. */
export async function finishSignIn(h: Harness, page: ConsentPage): Promise<URL> {
  const { callback } = await approveThroughAirtable(h, page);
  const location = callback.headers.get("location");
  if (callback.status !== 302 || location === null) {
    throw new Error(`callback answered ${callback.status}: ${await callback.text()}`);
  }
  return new URL(location);
}

/** The whole browser part: returns the redirect back to the client, parsed. */
export async function signIn(h: Harness, p: AuthorizeParams) {
  const page = await openConsent(h, p);
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${page.html}`);
  const back = await finishSignIn(h, page);
  return { back, code: back.searchParams.get("code") as string };
}

export async function tokenRequest(
  h: Harness,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${h.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export function exchangeCode(h: Harness, clientId: string, code: string, verifier = DEFAULT_VERIFIER) {
  return tokenRequest(h, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    resource: `${h.url}/mcp`,
  });
}

/** Registration, consent, Airtable and the code exchange: a client holding tokens. */
export async function signedInClient(h: Harness, scope?: string) {
  const { clientId } = await registerClient(h);
  const { code } = await signIn(h, { clientId, ...(scope !== undefined ? { scope } : {}) });
  const tokens = await exchangeCode(h, clientId, code);
  if (tokens.status !== 200) throw new Error(`token exchange failed: ${JSON.stringify(tokens.body)}`);
  return {
    clientId,
    accessToken: tokens.body.access_token as string,
    refreshToken: tokens.body.refresh_token as string,
    body: tokens.body,
  };
}

export function callMcp(h: Harness, token: string | undefined, path = "/mcp") {
  return fetch(`${h.url}${path}`, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

/** A token signed with the server's real key but with chosen claims (expired, other audience, …). */
export async function forgeAccessToken(
  h: Harness,
  claims: { aud?: string; expSecondsFromNow?: number; key?: Uint8Array; scopes?: Scope[] },
): Promise<string> {
  const key = claims.key ?? deriveKey(h.config.TOKEN_ENCRYPTION_KEY as Buffer, "access-token");
  const { createHash } = await import("node:crypto");
  const kid = createHash("sha256").update(deriveKey(h.config.TOKEN_ENCRYPTION_KEY as Buffer, "access-token"));
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: "c", scope: (claims.scopes ?? allScopes).join(" "), gid: "gr_forged" })
    .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: kid.digest("base64url").slice(0, 8) })
    .setIssuer(h.url)
    .setAudience(claims.aud ?? `${h.url}/mcp`)
    .setSubject(h.user.id)
    .setJti("forged")
    .setIssuedAt(now - 7200)
    .setExpirationTime(now + (claims.expSecondsFromNow ?? 600))
    .sign(key);
}
