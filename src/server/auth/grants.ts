import type { Scope } from "../../shared/auth/scopes.ts";
import type { Logger } from "../../shared/logger.ts";
import type { Grant, TokenStore } from "../../shared/tokens/types.ts";
import type { AccessTokens } from "./access-tokens.ts";
import { invalidGrant, OAuthError } from "./oauth-error.ts";
import { newRefreshToken, parseRefreshToken } from "./refresh-tokens.ts";
import type { RevocationList } from "./revocation-list.ts";
import { scopeString } from "./scope-param.ts";

export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  /** Absent for a client whose registration lacks the refresh_token grant (see token-endpoint.ts). */
  refresh_token?: string;
  scope: string;
}

/**
 * Grants: one user's consent to one client, which refresh tokens belong to. Creates them, rotates their refresh
 * tokens (a replayed old token revokes the whole grant: RFC 9700 §4.14.2), and revokes them everywhere at
 * once (TokenStore for refresh, RevocationList for access tokens already out).
 */
export class Grants {
  readonly #store: TokenStore;
  readonly #accessTokens: AccessTokens;
  readonly #revoked: RevocationList;
  readonly #refreshTtlMs: number;
  readonly #logger: Logger;

  constructor(opts: {
    store: TokenStore;
    accessTokens: AccessTokens;
    revoked: RevocationList;
    refreshTokenTtlDays: number;
    logger: Logger;
  }) {
    this.#store = opts.store;
    this.#accessTokens = opts.accessTokens;
    this.#revoked = opts.revoked;
    this.#refreshTtlMs = opts.refreshTokenTtlDays * 24 * 3600 * 1000;
    this.#logger = opts.logger;
  }

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
    const refresh = newRefreshToken(init.grantId);
    const now = Date.now();
    const grant: Grant = {
      ...init,
      refreshTokenHash: refresh.hash,
      generation: 0,
      createdAt: now,
      expiresAt: now + this.#refreshTtlMs,
    };
    await this.#store.putGrant(grant);
    this.#logger.info({ grantId: grant.grantId, clientId: grant.clientId, userId: grant.userId }, "grant created");
    const tokens = await this.#respond(grant, grant.scopes, refresh.token);
    if (options.issueRefreshToken !== false) return tokens;
    // The grant keeps the hash of a token nobody holds: it cannot be refreshed, only revoked.
    const { refresh_token: _withheld, ...withoutRefresh } = tokens;
    return withoutRefresh;
  }

  /**
   * The refresh_token grant. The grant is read first so a token presented by another client, or for another
   * resource, is refused without burning it.
   */
  async refresh(opts: {
    clientId: string;
    refreshToken: string;
    scopes: Scope[] | undefined;
    resource: string | undefined;
  }): Promise<TokenResponse> {
    const parsed = parseRefreshToken(opts.refreshToken);
    if (parsed === undefined) throw invalidGrant("The refresh token is malformed");
    const grant = await this.#store.getGrant(parsed.grantId);
    if (grant === undefined || grant.revokedAt !== undefined || grant.expiresAt <= Date.now()) {
      throw invalidGrant("The refresh token is invalid, expired or revoked; sign in again");
    }
    if (grant.clientId !== opts.clientId) throw invalidGrant("The refresh token was issued to another client");
    if (opts.resource !== undefined && opts.resource !== grant.resource) {
      throw new OAuthError("invalid_target", `resource must be ${grant.resource}`);
    }
    const narrowed = opts.scopes ?? grant.scopes;
    const widened = narrowed.filter((s) => !grant.scopes.includes(s));
    if (widened.length > 0) {
      throw new OAuthError("invalid_scope", `The grant does not include ${widened.join(" ")}; sign in again for it`);
    }
    const next = newRefreshToken(grant.grantId);
    const result = await this.#store.rotateRefreshToken(grant.grantId, parsed.hash, next.hash);
    if (!result.ok) {
      if (result.reason === "stale") {
        await this.revoke(grant.grantId, "refresh_token_reuse");
        this.#logger.warn(
          { grantId: grant.grantId, clientId: grant.clientId },
          "refresh token replayed: grant revoked",
        );
        throw invalidGrant("The refresh token was already used; the grant is revoked, sign in again");
      }
      throw invalidGrant("The refresh token is invalid, expired or revoked; sign in again");
    }
    return this.#respond(result.grant, narrowed, next.token);
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

  /** A grant id named by a refresh token, when the token's secret is the grant's current one. */
  async grantOfRefreshToken(refreshToken: string): Promise<Grant | undefined> {
    const parsed = parseRefreshToken(refreshToken);
    if (parsed === undefined) return undefined;
    const grant = await this.#store.getGrant(parsed.grantId);
    return grant?.refreshTokenHash === parsed.hash ? grant : undefined;
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
