import type { AirtableTokenSet } from "../airtable/oauth.ts";
import type { Scope } from "../auth/scopes.ts";

export type { AirtableTokenSet };

export interface AirtableAccount {
  /** Airtable user id (`usr…`), from /v0/meta/whoami. Our user id. */
  userId: string;
  email?: string;
  tokens: AirtableTokenSet;
  /** Epoch ms of the last write (sign-in or refresh). */
  updatedAt: number;
}

/**
 * An MCP client registered through DCR (RFC 7591). CIMD clients are not stored (fetched and cached). A new
 * registration is pending (`putPendingClient`: it disappears unless a sign-in completes in time) until
 * `confirmClient` makes it permanent.
 */
export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  client_id_issued_at: number;
  client_secret_expires_at?: number;
  redirect_uris: string[];
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  token_endpoint_auth_method: "none" | "client_secret_post" | "client_secret_basic";
  grant_types: string[];
  response_types: string[];
  scope?: string;
}

/**
 * One user's consent to one client: the thing refresh tokens belong to. Revoking it ends every token
 * issued under it.
 */
export interface Grant {
  grantId: string;
  userId: string;
  clientId: string;
  scopes: Scope[];
  /** The resource (our /mcp URL) the tokens are bound to. */
  resource: string;
  /** SHA-256 (hex) of the current refresh token secret. */
  refreshTokenHash: string;
  /** Increments on every rotation. */
  generation: number;
  createdAt: number;
  /**
   * Epoch ms when the grant stops being usable. Renewed by every refresh (a sliding idle lifetime), never past
   * the absolute end the server computes from `createdAt`.
   */
  expiresAt: number;
  /** SHA-256 (hex) of the refresh token secret the current one replaced; absent before the first refresh. */
  previousRefreshTokenHash?: string;
  /** Epoch ms of that previous token's first use (the rotation): its reuse grace window starts here. */
  previousUsedAt?: number;
  revokedAt?: number;
  revokedReason?: string;
}

/** How a refresh token is used up: see TokenStore.rotateRefreshToken. */
export interface RotateOptions {
  /**
   * How long (ms) after its first use the previous refresh token may be presented again and be answered as a
   * reuse instead of `stale`. 0 or absent: never (strict rotation).
   */
  reuseGraceMs?: number;
  /** The grant's new `expiresAt` (epoch ms) when the use succeeds (sliding idle lifetime). Absent: unchanged. */
  expiresAt?: number;
}

/**
 * `reused: false`: the presented hash was current and is now the previous one. `reused: true`: the presented
 * hash is the previous one, within its grace window; nothing rotated (the grant is returned as it stands).
 * `stale`: any other hash — an old refresh token replayed, or one that was never issued.
 */
export type RotateResult =
  { ok: true; grant: Grant; reused: boolean } | { ok: false; reason: "not_found" | "revoked" | "expired" | "stale" };

/**
 * Durable storage: one interface, two implementations (Redis, Firestore), one contract test suite.
 * Implementations store Airtable tokens encrypted (they receive a TokenCipher).
 */
export interface TokenStore {
  getAirtableAccount(userId: string): Promise<AirtableAccount | undefined>;
  putAirtableAccount(account: AirtableAccount): Promise<void>;
  deleteAirtableAccount(userId: string): Promise<void>;

  /** A permanent or still-pending client; undefined once a pending one's deadline passed. */
  getClient(clientId: string): Promise<RegisteredClient | undefined>;
  /** Stores a permanent client (replacing any record of that id). */
  putClient(client: RegisteredClient): Promise<void>;
  /**
   * Stores a client that must complete a sign-in before `pendingUntil` (epoch ms), or disappear. When a live
   * record of that id exists it is kept as stored and returned — a pending one gets the new deadline — so
   * re-registering one client id (identical public registrations, see register.ts) writes nothing new.
   * Returns the client as stored, and whether this call created it.
   */
  putPendingClient(
    client: RegisteredClient,
    pendingUntil: number,
  ): Promise<{ client: RegisteredClient; created: boolean }>;
  /** Makes a pending client permanent (it completed a sign-in). Nothing happens for unknown or permanent ids. */
  confirmClient(clientId: string): Promise<void>;

  getGrant(grantId: string): Promise<Grant | undefined>;
  putGrant(grant: Grant): Promise<void>;
  /**
   * Atomically uses a refresh token: when `expectedHash` is current it becomes the previous hash (first used
   * now) and `newHash` the current one; when it is the previous hash and its first use is at most
   * `options.reuseGraceMs` ago, the grant is left as it is and returned with `reused: true`. On success the
   * grant's expiresAt becomes `options.expiresAt` when given. Any other hash: `stale` (the caller decides
   * whether that is a replay and revokes the grant). Checked and written in one step: of concurrent uses of
   * one current hash exactly one rotates.
   */
  rotateRefreshToken(
    grantId: string,
    expectedHash: string,
    newHash: string,
    options?: RotateOptions,
  ): Promise<RotateResult>;
  revokeGrant(grantId: string, reason: string): Promise<void>;
  /** Grants of a user (for revoking everything when Airtable access is lost). */
  listGrantsForUser(userId: string): Promise<Grant[]>;

  close(): Promise<void>;
}
