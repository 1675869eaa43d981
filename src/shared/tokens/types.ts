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

/** An MCP client registered through DCR (RFC 7591). CIMD clients are not stored (fetched and cached). */
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
  /** Epoch ms when the refresh token chain ends (absolute lifetime). */
  expiresAt: number;
  revokedAt?: number;
  revokedReason?: string;
}

export type RotateResult =
  { ok: true; grant: Grant } | { ok: false; reason: "not_found" | "revoked" | "expired" | "stale" };

/**
 * Durable storage: one interface, two implementations (Redis, Firestore), one contract test suite.
 * Implementations store Airtable tokens encrypted (they receive a TokenCipher).
 */
export interface TokenStore {
  getAirtableAccount(userId: string): Promise<AirtableAccount | undefined>;
  putAirtableAccount(account: AirtableAccount): Promise<void>;
  deleteAirtableAccount(userId: string): Promise<void>;

  getClient(clientId: string): Promise<RegisteredClient | undefined>;
  putClient(client: RegisteredClient): Promise<void>;

  getGrant(grantId: string): Promise<Grant | undefined>;
  putGrant(grant: Grant): Promise<void>;
  /**
   * Atomically replaces the refresh token hash when `expectedHash` is still current. A presented hash that is
   * not current means an old refresh token was replayed: the caller revokes the grant.
   */
  rotateRefreshToken(grantId: string, expectedHash: string, newHash: string): Promise<RotateResult>;
  revokeGrant(grantId: string, reason: string): Promise<void>;
  /** Grants of a user (for revoking everything when Airtable access is lost). */
  listGrantsForUser(userId: string): Promise<Grant[]>;

  close(): Promise<void>;
}
