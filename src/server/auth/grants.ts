import { allScopes, type Scope } from "../../shared/auth/scopes.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Grant, TokenStore } from "../../shared/tokens/types.ts";
import type { AccessTokens } from "./access-tokens.ts";
import { invalidGrant, OAuthError } from "./oauth-error.ts";
import type { FailureLimit } from "./rate-limit.ts";
import { parseRefreshToken, type ParsedRefreshToken, type RefreshTokens } from "./refresh-tokens.ts";
import type { RevocationList } from "./revocation-list.ts";
import { isOurResource } from "./resource-param.ts";
import { scopeString } from "./scope-param.ts";

/**
 * The scopes a refresh issues (RFC 6749 §6), given the grant's, the `scope` the client sent (our words only;
 * undefined when it sent none of ours) and the scopes it registered (`registered`; undefined when it registered none,
 * or is a metadata-document client):
 * - none sent: the grant's;
 * - a subset of the grant: that subset (a client narrowing its token);
 * - exactly the scopes the client registered, or exactly every scope this server offers (`scopes_supported`), when
 *   that is more than the grant: the grant's. Some clients repeat what they registered, not what was granted —
 *   LibreChat sends its registration's `scope` (our six) on every refresh (danny-avila/LibreChat#13412) — so after
 *   the person unticked a box on the consent page every refresh asked for more than the grant and was refused, and
 *   the client opened a new sign-in each hour. RFC 6749 §3.3 lets the server grant less than requested ("MAY fully
 *   or partially ignore the scope requested"), and the response's `scope` names what was issued. Nothing beyond the
 *   grant is ever issued;
 * - anything else beyond the grant (another superset, such as the grant plus the one scope a 403 asked for, or some
 *   of the grant plus a scope it lacks): OAuthError invalid_scope (RFC 6749 §5.2, "exceeds the scope granted by the
 *   resource owner"), naming the missing scopes. Such a request asks for a different set, typically a step-up that
 *   needs a new sign-in; a 200 with the old scopes would send a client that ignores the answer's `scope` back into
 *   the same 403.
 */
export function refreshScopes(
  granted: readonly Scope[],
  requested: readonly Scope[] | undefined,
  registered?: readonly Scope[],
): Scope[] {
  if (requested === undefined) return [...granted];
  const beyond = requested.filter((s) => !granted.includes(s));
  if (beyond.length === 0) return [...requested];
  if ((registered !== undefined && sameScopes(requested, registered)) || sameScopes(requested, allScopes)) {
    return [...granted];
  }
  throw new OAuthError("invalid_scope", `The grant does not include ${beyond.join(" ")}; sign in again for it`);
}

/** Whether `a` and `b` name the same scopes (order and repeats aside). */
function sameScopes(a: readonly Scope[], b: readonly Scope[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((s) => set.has(s));
}

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  /** Absent for a client whose registration lacks the refresh_token grant (see token-endpoint.ts). */
  refresh_token?: string;
  scope: string;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Grants: one user's consent to one client, which refresh tokens belong to. Creates them, rotates their refresh
 * tokens, and revokes them everywhere at once (TokenStore for refresh, RevocationList for access tokens out).
 *
 * Refresh, as real clients need it:
 * - Rotation with a grace window. Every refresh replaces the refresh token. The replaced one presented again
 *   by the same client within `refreshReuseGraceSec` of its FIRST use (Claude.ai refreshing from two egress
 *   nodes, two Claude Code sessions sharing one stored token, a retry after a lost answer, a host's parallel tool
 *   calls each refreshing) is answered with the same grant's tokens: a fresh access token and the very refresh
 *   token the first caller got, because a successor is derived from the token it replaces (see RefreshTokens).
 *   Nothing is rotated a second time, so the first caller's tokens stay valid. The grant keeps only the previous
 *   token's hash and first-use time. Hosts retry well after the first use: comet-ml/opik#8287 saw Claude.ai and
 *   Codex retries 33–76 s after it and moved its window to 2 minutes, hence REFRESH_REUSE_GRACE_SECONDS' 120 by
 *   default.
 * - No cap on the number of reuses within the window. One was tried (REFRESH_REUSE_LIMIT, refusing with
 *   invalid_grant past 10) and removed: the MCP SDK clients answer invalid_grant on a refresh by dropping their
 *   tokens and opening a new browser sign-in, so a host's burst of parallel refreshes larger than the cap signed the
 *   user out, which the window exists to prevent; and it protected nothing, since whoever holds the replaced token
 *   got the current one with its first reuse.
 * - Replay detection (RFC 9700 §4.14.2): a token this server issued for the grant, presented after its window
 *   (or older than the previous one), revokes the whole grant, access tokens included. A made-up token is
 *   refused and changes nothing.
 * - Lifetime: each refresh renews the grant for `refreshIdleDays` (a sliding idle lifetime: a connector left
 *   alone for a week still works), never past `refreshTokenTtlDays` after sign-in (the absolute cap).
 * - Concurrency: the TokenStore decides atomically; of two processes refreshing one token at once one rotates
 *   and the other is answered as a reuse, both with the same refresh token.
 * - With `refreshFailures`, refused refreshes of a live grant are counted per grant; past the limit, every
 *   refresh of it is answered 429 with Retry-After until the window closes.
 */
export class Grants {
  readonly #store: TokenStore;
  readonly #accessTokens: AccessTokens;
  readonly #revoked: RevocationList;
  readonly #refreshTokens: RefreshTokens;
  readonly #absoluteMs: number;
  readonly #idleMs: number;
  readonly #reuseGraceMs: number;
  readonly #failures: FailureLimit | undefined;
  readonly #now: () => number;
  readonly #logger: Logger;

  constructor(opts: {
    store: TokenStore;
    accessTokens: AccessTokens;
    revoked: RevocationList;
    refreshTokens: RefreshTokens;
    /** Absolute lifetime of a grant from its sign-in, days (REFRESH_TOKEN_TTL_DAYS). */
    refreshTokenTtlDays: number;
    /** Idle lifetime, days, renewed by every refresh (REFRESH_TOKEN_IDLE_DAYS). Default: the absolute one. */
    refreshIdleDays?: number;
    /** How long after its first use a replaced refresh token is still honoured, s (REFRESH_REUSE_GRACE_SECONDS). */
    refreshReuseGraceSec?: number;
    refreshFailures?: FailureLimit;
    /** Clock (epoch ms), for tests. Default Date.now. */
    now?: () => number;
    logger: Logger;
  }) {
    this.#store = opts.store;
    this.#accessTokens = opts.accessTokens;
    this.#revoked = opts.revoked;
    this.#refreshTokens = opts.refreshTokens;
    this.#absoluteMs = opts.refreshTokenTtlDays * DAY_MS;
    this.#idleMs = (opts.refreshIdleDays ?? opts.refreshTokenTtlDays) * DAY_MS;
    this.#reuseGraceMs = (opts.refreshReuseGraceSec ?? 0) * 1000;
    this.#failures = opts.refreshFailures;
    this.#now = opts.now ?? Date.now;
    this.#logger = opts.logger;
  }

  /**
   * A new grant and its first tokens. The client's registration, if it is a pending DCR one, becomes permanent:
   * it completed a sign-in. `issueRefreshToken: false` (a client whose registration lacks the refresh_token grant
   * type) withholds the refresh token.
   */
  async create(
    init: {
      grantId: string;
      userId: string;
      clientId: string;
      scopes: Scope[];
      resource: string;
    },
    options: { issueRefreshToken?: boolean } = {},
  ): Promise<TokenResponse> {
    const refresh = this.#refreshTokens.first(init.grantId);
    const now = this.#now();
    const grant: Grant = {
      ...init,
      refreshTokenHash: refresh.hash,
      generation: 0,
      createdAt: now,
      expiresAt: now + Math.min(this.#idleMs, this.#absoluteMs),
    };
    await this.#store.putGrant(grant);
    await this.#store.confirmClient(init.clientId);
    this.#logger.info({ grantId: grant.grantId, clientId: grant.clientId, userId: grant.userId }, "grant created");
    const tokens = await this.#respond(grant, grant.scopes, refresh.token);
    if (options.issueRefreshToken !== false) return tokens;
    // The grant keeps the hash of a token nobody holds: it cannot be refreshed, only revoked.
    const { refresh_token: _withheld, ...withoutRefresh } = tokens;
    return withoutRefresh;
  }

  /**
   * The refresh_token grant (RFC 6749 §6), as described on the class. The grant is read first so a token
   * presented by another client, or for another resource (`resource` as the client sent it, compared by
   * isOurResource), is refused without burning it. Throws OAuthError:
   * invalid_grant, invalid_scope, invalid_target, or 429 (too many refused refreshes of this grant).
   */
  async refresh(opts: {
    clientId: string;
    refreshToken: string;
    scopes: Scope[] | undefined;
    /** The scopes the client registered (ResolvedClient.scopes), if any: refreshScopes. */
    registeredScopes?: readonly Scope[] | undefined;
    resource: string | undefined;
  }): Promise<TokenResponse> {
    const parsed = parseRefreshToken(opts.refreshToken);
    if (parsed === undefined) throw invalidGrant("The refresh token is malformed");
    await this.#failures?.check(parsed.grantId);
    const now = this.#now();
    const grant = await this.#store.getGrant(parsed.grantId);
    if (grant === undefined || grant.revokedAt !== undefined || grant.expiresAt <= now) {
      // Not counted: a grant that is gone has nothing left to guess at (and counting made-up ids would store one
      // counter per guess).
      throw invalidGrant("The refresh token is invalid, expired or revoked; sign in again");
    }
    try {
      return await this.#refresh(parsed, grant, now, opts);
    } catch (error) {
      if (error instanceof OAuthError && error.error === "invalid_grant") await this.#failures?.fail(parsed.grantId);
      throw error;
    }
  }

  async #refresh(
    parsed: ParsedRefreshToken,
    grant: Grant,
    now: number,
    opts: {
      clientId: string;
      scopes: Scope[] | undefined;
      registeredScopes?: readonly Scope[] | undefined;
      resource: string | undefined;
    },
  ): Promise<TokenResponse> {
    if (grant.clientId !== opts.clientId) throw invalidGrant("The refresh token was issued to another client");
    if (opts.resource !== undefined && !isOurResource(opts.resource, grant.resource)) {
      throw new OAuthError("invalid_target", `resource must be ${grant.resource}`);
    }
    const narrowed = refreshScopes(grant.scopes, opts.scopes, opts.registeredScopes);
    const origin = this.#refreshTokens.origin(parsed);
    if (origin === "forged") throw invalidGrant("The refresh token is invalid, expired or revoked; sign in again");

    const next = this.#refreshTokens.successor(grant.grantId, parsed.secret);
    const result = await this.#store.rotateRefreshToken(grant.grantId, parsed.hash, next.hash, {
      reuseGraceMs: this.#reuseGraceMs,
      expiresAt: Math.min(grant.createdAt + this.#absoluteMs, now + this.#idleMs),
    });
    if (!result.ok) {
      if (result.reason === "stale" && origin === "issued") {
        await this.revoke(grant.grantId, "refresh_token_reuse");
        this.#logger.warn(
          { grantId: grant.grantId, clientId: grant.clientId },
          "refresh token replayed after its grace window: grant revoked",
        );
        throw invalidGrant("The refresh token was already used; the grant is revoked, sign in again");
      }
      throw invalidGrant("The refresh token is invalid, expired or revoked; sign in again");
    }
    if (!result.reused) return this.#respond(result.grant, narrowed, next.token);

    // A replay within the grace window: answer with the refresh token its first use got (derived under the key
    // that was current then, which a key rotation in between may have made the previous one).
    const same = this.#refreshTokens
      .successors(grant.grantId, parsed.secret)
      .find((candidate) => candidate.hash === result.grant.refreshTokenHash);
    if (same === undefined) {
      // The chain moved on with a token we cannot re-derive (keys rotated twice within the window).
      this.#logger.warn({ grantId: grant.grantId }, "refresh token reused within its window, successor unknown");
      throw invalidGrant("The refresh token was just replaced; use the refresh token from that answer");
    }
    this.#logger.info(
      { grantId: grant.grantId, clientId: grant.clientId, generation: result.grant.generation },
      "refresh token reused within its grace window: same tokens answered",
    );
    return this.#respond(result.grant, narrowed, same.token);
  }

  async revoke(grantId: string, reason: string): Promise<void> {
    await this.#revoked.add(grantId);
    const grant = await this.#store.getGrant(grantId);
    if (grant !== undefined && grant.revokedAt === undefined) await this.#store.revokeGrant(grantId, reason);
  }

  /** Whether the grant is on the revocation list (cheap: one Redis EXISTS). */
  isRevoked(grantId: string): Promise<boolean> {
    return this.#revoked.has(grantId);
  }

  /**
   * The grant a refresh token belongs to, when it is the grant's current token or the one it replaced (RFC 7009
   * revocation may come with either after a double refresh); made-up tokens name no grant.
   */
  async grantOfRefreshToken(refreshToken: string): Promise<Grant | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    if (parsed === undefined || this.#refreshTokens.origin(parsed) === "forged") return undefined;
    const grant = await this.#store.getGrant(parsed.grantId);
    if (grant === undefined) return undefined;
    return grant.refreshTokenHash === parsed.hash || grant.previousRefreshTokenHash === parsed.hash ? grant : undefined;
  }

  async #respond(grant: Grant, scopes: Scope[], refreshToken: string): Promise<TokenResponse> {
    const accessToken = await this.#accessTokens.issue({
      userId: grant.userId,
      clientId: grant.clientId,
      scopes,
      grantId: grant.grantId,
    });
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: this.#accessTokens.ttlSec,
      refresh_token: refreshToken,
      scope: scopeString(scopes),
    };
  }

  /**
   * Ends every live grant of one user (their Airtable sign-in is gone: see server/auth/airtable-access-lost.ts),
   * each as `revoke` ends one: on the revocation list first, so access tokens already out stop at once, then in the
   * store, so its refresh token is refused. Returns how many grants it ended.
   */
  async revokeAllForUser(userId: string, reason: string): Promise<number> {
    const live = (await this.#store.listGrantsForUser(userId)).filter((g) => g.revokedAt === undefined);
    await Promise.all(live.map((g) => this.revoke(g.grantId, reason)));
    return live.length;
  }
}
