import type { Config } from "../../shared/config.ts";
import type { KnownClientDocument } from "./known-client-documents.ts";
import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";
import type { Logger } from "../../shared/logger.ts";
import type { AirtableOAuth } from "../../shared/airtable/oauth.ts";
import type { AirtableReachability } from "../../shared/airtable/reachability.ts";
import { deriveKey } from "../../shared/tokens/cipher.ts";
import type { TokenStore } from "../../shared/tokens/types.ts";
import { AccessTokens } from "./access-tokens.ts";
import { ClientMetadataDocuments } from "./cimd.ts";
import { ClientDirectory } from "./clients.ts";
import { BoundCookie } from "./bound-cookie.ts";
import { Grants } from "./grants.ts";
import { defaultRateLimits, FAILURE_WINDOW_MS, FailureLimit, type RateLimitSettings } from "./rate-limit.ts";
import { RefreshTokens } from "./refresh-tokens.ts";
import { RevocationList } from "./revocation-list.ts";
import { PENDING_TTL_SEC, TransientState, UPSTREAM_TTL_SEC } from "./transient-state.ts";
import { authUrls, type AuthUrls } from "./urls.ts";

export interface AuthDeps {
  config: Config;
  /** Transient OAuth state, the revocation list, CIMD cache and rate limits (Redis, or SQLite when embedded). */
  kv: KeyValueStore;
  keyPrefix: string;
  store: TokenStore;
  airtableOAuth: AirtableOAuth;
  /**
   * Whether AIRTABLE_AUTH_URL answers, checked before a browser is sent there (decisionHandler). Absent: not
   * checked (tests of other parts).
   */
  airtableReachability?: Pick<AirtableReachability, "signInProblem">;
  /**
   * `GET /v0/meta/whoami` with `accessToken`: the Airtable user id (our user id) behind it. `userId` names whose
   * Airtable rate limit (50 requests per second per user) the request is charged to: the stored sign-in's user when
   * the token is theirs, so a check made while their agents use the whole second does not become its 51st request
   * (a 429, and 30 s of pause for them). Absent for a fresh token whose user is not known yet: a scope of its own.
   */
  whoami(accessToken: string, userId?: string): Promise<{ id: string; email?: string }>;
  /**
   * A stored account's current Airtable access token, refreshed when needed (AirtableTokenProvider.getAccess).
   * The callback uses it to check that a user's earlier, broader sign-in still works before keeping it
   * (callback.ts); without it, only an unexpired stored token can be checked.
   */
  airtableAccess?(userId: string): Promise<{ accessToken: string }>;
  logger: Logger;
  /** Overrides of the request limits (tests, unusual deployments). */
  rateLimits?: Partial<RateLimitSettings>;
  /** Clock (epoch ms) for grant lifetimes and registration deadlines; tests move it. Default Date.now. */
  now?: () => number;
  /** Pinned copies of clients' metadata documents (default: KNOWN_CLIENT_DOCUMENTS, known-client-documents.ts). */
  knownClientDocuments?: Readonly<Record<string, KnownClientDocument>>;
}

/** What verifying a bearer token needs: no TokenStore, no Airtable. */
export type BearerDeps = Pick<AuthDeps, "config" | "kv" | "keyPrefix" | "logger">;

/** Labels for deriveKey: each purpose gets its own sub-key of TOKEN_ENCRYPTION_KEY. */
const ACCESS_TOKEN_KEY_LABEL = "access-token";
const CONSENT_COOKIE_KEY_LABEL = "consent-cookie";
const SIGN_IN_COOKIE_KEY_LABEL = "signin-cookie";

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is not set; the authorization server cannot start without it`);
  return value;
}

export function accessTokensFor(config: Config): AccessTokens {
  const urls = authUrls(required(config.PUBLIC_URL, "PUBLIC_URL"));
  const current = required(config.TOKEN_ENCRYPTION_KEY, "TOKEN_ENCRYPTION_KEY");
  const keys = [deriveKey(current, ACCESS_TOKEN_KEY_LABEL)];
  if (config.TOKEN_ENCRYPTION_KEY_PREVIOUS !== undefined) {
    keys.push(deriveKey(config.TOKEN_ENCRYPTION_KEY_PREVIOUS, ACCESS_TOKEN_KEY_LABEL));
  }
  return new AccessTokens({
    issuer: urls.issuer,
    audience: urls.resource,
    ttlSec: config.ACCESS_TOKEN_TTL_SEC,
    keys,
  });
}

export function revocationListFor(deps: BearerDeps): RevocationList {
  return new RevocationList({
    kv: deps.kv,
    keyPrefix: deps.keyPrefix,
    accessTokenTtlSec: deps.config.ACCESS_TOKEN_TTL_SEC,
  });
}

/** The authorization server's parts, built once per router from its deps. */
export interface AuthContext {
  deps: AuthDeps;
  urls: AuthUrls;
  clients: ClientDirectory;
  transient: TransientState;
  grants: Grants;
  accessTokens: AccessTokens;
  /** Binds the consent decision to the browser shown the consent page (bound-cookie.ts). */
  consentCookie: BoundCookie;
  /** Binds the return from Airtable (/oauth/callback) to the browser that pressed Allow (bound-cookie.ts). */
  signInCookie: BoundCookie;
  /** The request limits in force: defaults with deps.rateLimits over them. */
  rateLimits: RateLimitSettings;
  /** Wrong client secrets per client_id (see authenticateClient). */
  clientAuthFailures: FailureLimit;
  now: () => number;
}

export function buildAuthContext(deps: AuthDeps): AuthContext {
  const { config } = deps;
  const urls = authUrls(required(config.PUBLIC_URL, "PUBLIC_URL"));
  const accessTokens = accessTokensFor(config);
  const rateLimits = { ...defaultRateLimits, ...deps.rateLimits };
  const now = deps.now ?? Date.now;
  const failureLimit = (name: string, limit: number, what: string): FailureLimit =>
    new FailureLimit({
      kv: deps.kv,
      keyPrefix: deps.keyPrefix,
      name,
      windowMs: FAILURE_WINDOW_MS,
      limit,
      what,
      logger: deps.logger,
    });
  const masterKeys = [required(config.TOKEN_ENCRYPTION_KEY, "TOKEN_ENCRYPTION_KEY")];
  if (config.TOKEN_ENCRYPTION_KEY_PREVIOUS !== undefined) masterKeys.push(config.TOKEN_ENCRYPTION_KEY_PREVIOUS);
  const documents = new ClientMetadataDocuments({
    kv: deps.kv,
    keyPrefix: deps.keyPrefix,
    allowLoopback: config.CIMD_ALLOW_LOOPBACK_HTTP,
    redirectUriSchemes: config.REDIRECT_URI_SCHEMES,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.knownClientDocuments ? { knownDocuments: deps.knownClientDocuments } : {}),
  });
  return {
    deps,
    urls,
    accessTokens,
    clients: new ClientDirectory(deps.store, documents, {
      policy: { privateUseSchemes: config.REDIRECT_URI_SCHEMES },
      pendingTtlMs: config.PENDING_REGISTRATION_TTL_HOURS * 3600_000,
      now,
      logger: deps.logger,
    }),
    transient: new TransientState(deps.kv, deps.keyPrefix),
    grants: new Grants({
      store: deps.store,
      accessTokens,
      revoked: revocationListFor(deps),
      refreshTokens: new RefreshTokens(masterKeys),
      refreshTokenTtlDays: config.REFRESH_TOKEN_TTL_DAYS,
      refreshIdleDays: config.REFRESH_TOKEN_IDLE_DAYS,
      refreshReuseGraceSec: config.REFRESH_REUSE_GRACE_SECONDS,
      refreshFailures: failureLimit("refresh", rateLimits.refreshFailuresPer10Min, "refused refreshes of this grant"),
      now,
      logger: deps.logger,
    }),
    consentCookie: new BoundCookie({
      key: deriveKey(required(config.TOKEN_ENCRYPTION_KEY, "TOKEN_ENCRYPTION_KEY"), CONSENT_COOKIE_KEY_LABEL),
      secure: urls.issuer.startsWith("https:"),
      maxAgeSec: PENDING_TTL_SEC,
      prefix: "consent_",
      purpose: "consent",
    }),
    // Kept as long as the upstream state: the Airtable sign-in's lifetime.
    signInCookie: new BoundCookie({
      key: deriveKey(required(config.TOKEN_ENCRYPTION_KEY, "TOKEN_ENCRYPTION_KEY"), SIGN_IN_COOKIE_KEY_LABEL),
      secure: urls.issuer.startsWith("https:"),
      maxAgeSec: UPSTREAM_TTL_SEC,
      prefix: "signin_",
      purpose: "signin",
    }),
    rateLimits,
    clientAuthFailures: failureLimit(
      "client-auth",
      rateLimits.clientAuthFailuresPer10Min,
      "failed client authentications for this client_id",
    ),
    now,
  };
}
