/**
 * TokenStore in the embedded SQLite database (embedded mode, no REDIS_URL): one file under DATA_DIR holds the
 * registered clients, the grants and the encrypted Airtable tokens, so a restart keeps every sign-in.
 *
 * Tables (created when missing):
 *   airtable_accounts  user_id → JSON SealedAirtableAccount (tokens encrypted), expires_at (end of the refresh
 *                      token + grace; NULL = unknown end)
 *   clients            client_id → JSON SealedClient (client_secret encrypted)
 *   grants             one row per grant: the immutable fields as JSON, the refresh token's hash and generation,
 *                      revocation; indexed by user_id (listGrantsForUser)
 *
 * As in the Redis store, an expired grant or account reads as missing but is kept for a grace period, so a late
 * rotation answers "expired" rather than "not_found"; rows past their grace are deleted on the next write.
 * Rotation and revocation are single conditional UPDATEs: two rotations with the same expected hash cannot both
 * succeed, even from two processes.
 */
import type { StatementSync } from "node:sqlite";
import type { SqliteDatabase } from "../sqlite/database.ts";
import type { TokenCipher } from "./cipher.ts";
import {
  GRANT_GRACE_MS,
  openAccount,
  openClient,
  sealedUnderPreviousKey,
  sealAccount,
  sealClient,
  withoutUndefined,
} from "./sealed-records.ts";
import type { SealedAirtableAccount, SealedClient } from "./sealed-records.ts";
import type { AirtableAccount, Grant, RegisteredClient, RotateOptions, RotateResult, TokenStore } from "./types.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS airtable_accounts (
  user_id TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS clients (
  client_id TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  pending_until INTEGER
);
CREATE TABLE IF NOT EXISTS grants (
  grant_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  data TEXT NOT NULL,
  refresh_token_hash TEXT NOT NULL,
  generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  revoked_reason TEXT,
  previous_refresh_token_hash TEXT,
  previous_used_at INTEGER
);
CREATE INDEX IF NOT EXISTS grants_by_user ON grants (user_id, created_at);
`;

/** Immutable grant fields, stored as one JSON column. */
type GrantData = Omit<
  Grant,
  "refreshTokenHash" | "generation" | "revokedAt" | "revokedReason" | "previousRefreshTokenHash" | "previousUsedAt"
>;

interface GrantRow {
  data: string;
  refresh_token_hash: string;
  generation: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  expires_at: number;
  previous_refresh_token_hash: string | null;
  previous_used_at: number | null;
}

export interface SqliteTokenStoreOptions {
  /** The embedded database (openDatabase); the caller owns and closes it. */
  db: SqliteDatabase;
  cipher: TokenCipher;
  now?: () => number;
}

export class SqliteTokenStore implements TokenStore {
  readonly #cipher: TokenCipher;
  readonly #now: () => number;
  readonly #sql: Record<
    | "getAccount"
    | "putAccount"
    | "deleteAccount"
    | "getClient"
    | "resealClient"
    | "putClient"
    | "putPending"
    | "setPendingUntil"
    | "confirmClient"
    | "purgeClients"
    | "getGrant"
    | "putGrant"
    | "rotate"
    | "renew"
    | "revoke"
    | "grantsOfUser"
    | "purgeAccounts"
    | "purgeGrants",
    StatementSync
  >;

  constructor(opts: SqliteTokenStoreOptions) {
    const { db } = opts;
    this.#cipher = opts.cipher;
    this.#now = opts.now ?? Date.now;
    db.exec(SCHEMA);
    this.#sql = {
      getAccount: db.prepare(
        `SELECT sealed FROM airtable_accounts WHERE user_id = ? AND (expires_at IS NULL OR expires_at > ?)`,
      ),
      putAccount: db.prepare(
        `INSERT INTO airtable_accounts (user_id, sealed, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
      ),
      deleteAccount: db.prepare(`DELETE FROM airtable_accounts WHERE user_id = ?`),
      // A pending registration (pending_until set) exists until its deadline unless a sign-in confirms it.
      getClient: db.prepare(
        `SELECT sealed, pending_until FROM clients WHERE client_id = ? AND (pending_until IS NULL OR pending_until > ?)`,
      ),
      putClient: db.prepare(
        `INSERT INTO clients (client_id, sealed, pending_until) VALUES (?, ?, NULL)
         ON CONFLICT (client_id) DO UPDATE SET sealed = excluded.sealed, pending_until = NULL`,
      ),
      putPending: db.prepare(`INSERT OR REPLACE INTO clients (client_id, sealed, pending_until) VALUES (?, ?, ?)`),
      setPendingUntil: db.prepare(
        `UPDATE clients SET pending_until = ? WHERE client_id = ? AND pending_until IS NOT NULL`,
      ),
      confirmClient: db.prepare(`UPDATE clients SET pending_until = NULL WHERE client_id = ?`),
      resealClient: db.prepare(`UPDATE clients SET sealed = ? WHERE client_id = ?`),
      purgeClients: db.prepare(`DELETE FROM clients WHERE pending_until IS NOT NULL AND pending_until <= ?`),
      getGrant: db.prepare(`SELECT * FROM grants WHERE grant_id = ?`),
      putGrant: db.prepare(
        `INSERT OR REPLACE INTO grants (grant_id, user_id, data, refresh_token_hash, generation, created_at,
           expires_at, revoked_at, revoked_reason, previous_refresh_token_hash, previous_used_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rotate: db.prepare(
        `UPDATE grants SET refresh_token_hash = :newHash, generation = generation + 1,
           previous_refresh_token_hash = :expectedHash, previous_used_at = :now,
           expires_at = COALESCE(:expiresAt, expires_at)
         WHERE grant_id = :grantId AND refresh_token_hash = :expectedHash AND revoked_at IS NULL
           AND expires_at > :now
         RETURNING *`,
      ),
      // A reuse within the grace window: only the sliding lifetime moves.
      renew: db.prepare(
        `UPDATE grants SET expires_at = COALESCE(:expiresAt, expires_at) WHERE grant_id = :grantId RETURNING *`,
      ),
      // The first revocation wins: its time and reason stay.
      revoke: db.prepare(
        `UPDATE grants SET revoked_at = ?, revoked_reason = ? WHERE grant_id = ? AND revoked_at IS NULL`,
      ),
      grantsOfUser: db.prepare(
        `SELECT * FROM grants WHERE user_id = ? AND expires_at > ? ORDER BY created_at, grant_id`,
      ),
      purgeAccounts: db.prepare(`DELETE FROM airtable_accounts WHERE expires_at IS NOT NULL AND expires_at <= ?`),
      purgeGrants: db.prepare(`DELETE FROM grants WHERE expires_at <= ?`),
    };
  }

  async getAirtableAccount(userId: string): Promise<AirtableAccount | undefined> {
    const row = this.#sql.getAccount.get(userId, this.#now()) as { sealed: string } | undefined;
    return row === undefined ? undefined : openAccount(this.#cipher, JSON.parse(row.sealed) as SealedAirtableAccount);
  }

  async putAirtableAccount(account: AirtableAccount): Promise<void> {
    const end = account.tokens.refreshTokenExpiresAt;
    const expiresAt = end !== undefined && end > this.#now() ? end + GRANT_GRACE_MS : null;
    this.#sql.putAccount.run(account.userId, JSON.stringify(sealAccount(this.#cipher, account)), expiresAt);
    this.#sql.purgeAccounts.run(this.#now());
  }

  async deleteAirtableAccount(userId: string): Promise<void> {
    this.#sql.deleteAccount.run(userId);
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const row = this.#sql.getClient.get(clientId, this.#now()) as { sealed: string } | undefined;
    if (row === undefined) return undefined;
    const sealed = JSON.parse(row.sealed) as SealedClient;
    const client = openClient(this.#cipher, sealed);
    // Re-sealed under the current key where it stands (its pending deadline unchanged): see sealedUnderPreviousKey.
    if (sealedUnderPreviousKey(this.#cipher, sealed)) {
      this.#sql.resealClient.run(JSON.stringify(sealClient(this.#cipher, client)), clientId);
    }
    return client;
  }

  async putClient(client: RegisteredClient): Promise<void> {
    this.#sql.putClient.run(client.client_id, JSON.stringify(sealClient(this.#cipher, client)));
  }

  /**
   * As TokenStore.putPendingClient: a live record under the id is kept (a pending one gets the new deadline);
   * otherwise the client is stored as pending until `pendingUntil` (epoch ms). Synchronous statements with no
   * await between them: atomic within the one process that owns the embedded database.
   */
  async putPendingClient(
    client: RegisteredClient,
    pendingUntil: number,
  ): Promise<{ client: RegisteredClient; created: boolean }> {
    const now = this.#now();
    this.#sql.purgeClients.run(now);
    const existing = this.#sql.getClient.get(client.client_id, now) as { sealed: string } | undefined;
    if (existing !== undefined) {
      this.#sql.setPendingUntil.run(Math.ceil(pendingUntil), client.client_id);
      return { client: openClient(this.#cipher, JSON.parse(existing.sealed) as SealedClient), created: false };
    }
    this.#sql.putPending.run(
      client.client_id,
      JSON.stringify(sealClient(this.#cipher, client)),
      Math.ceil(pendingUntil),
    );
    return { client, created: true };
  }

  async confirmClient(clientId: string): Promise<void> {
    this.#sql.confirmClient.run(clientId);
  }

  async getGrant(grantId: string): Promise<Grant | undefined> {
    const grant = grantOf(this.#sql.getGrant.get(grantId) as GrantRow | undefined);
    return grant === undefined || grant.expiresAt <= this.#now() ? undefined : grant;
  }

  async putGrant(grant: Grant): Promise<void> {
    const data: GrantData = {
      grantId: grant.grantId,
      userId: grant.userId,
      clientId: grant.clientId,
      scopes: grant.scopes,
      resource: grant.resource,
      createdAt: grant.createdAt,
      expiresAt: grant.expiresAt,
    };
    this.#sql.putGrant.run(
      grant.grantId,
      grant.userId,
      JSON.stringify(data),
      grant.refreshTokenHash,
      grant.generation,
      grant.createdAt,
      grant.expiresAt,
      grant.revokedAt ?? null,
      grant.revokedReason ?? null,
      grant.previousRefreshTokenHash ?? null,
      grant.previousUsedAt ?? null,
    );
    this.#sql.purgeGrants.run(this.#now() - GRANT_GRACE_MS);
  }

  /** As TokenStore.rotateRefreshToken; synchronous statements with no await between them, hence atomic here. */
  async rotateRefreshToken(
    grantId: string,
    expectedHash: string,
    newHash: string,
    options: RotateOptions = {},
  ): Promise<RotateResult> {
    const now = this.#now();
    const expiresAt = options.expiresAt ?? null;
    const rotated = grantOf(
      this.#sql.rotate.get({ grantId, expectedHash, newHash, now, expiresAt }) as GrantRow | undefined,
    );
    if (rotated !== undefined) return { ok: true, grant: rotated, reused: false };
    // Why not: read after the failed UPDATE.
    const current = grantOf(this.#sql.getGrant.get(grantId) as GrantRow | undefined);
    if (current === undefined) return { ok: false, reason: "not_found" };
    if (current.revokedAt !== undefined) return { ok: false, reason: "revoked" };
    if (current.expiresAt <= now) return { ok: false, reason: "expired" };
    const grace = options.reuseGraceMs ?? 0;
    if (
      grace > 0 &&
      current.previousRefreshTokenHash === expectedHash &&
      current.previousUsedAt !== undefined &&
      now - current.previousUsedAt <= grace
    ) {
      const renewed = grantOf(this.#sql.renew.get({ grantId, expiresAt }) as GrantRow | undefined) as Grant;
      return { ok: true, grant: renewed, reused: true };
    }
    return { ok: false, reason: "stale" };
  }

  async revokeGrant(grantId: string, reason: string): Promise<void> {
    this.#sql.revoke.run(this.#now(), reason, grantId);
  }

  async listGrantsForUser(userId: string): Promise<Grant[]> {
    const rows = this.#sql.grantsOfUser.all(userId, this.#now()) as unknown as GrantRow[];
    return rows.map((row) => grantOf(row) as Grant);
  }

  /** The database belongs to the caller: nothing to close here. */
  async close(): Promise<void> {}
}

function grantOf(row: GrantRow | undefined): Grant | undefined {
  if (row === undefined) return undefined;
  const data = JSON.parse(row.data) as GrantData;
  return withoutUndefined({
    ...data,
    refreshTokenHash: row.refresh_token_hash,
    generation: Number(row.generation),
    revokedAt: row.revoked_at === null ? undefined : Number(row.revoked_at),
    revokedReason: row.revoked_reason ?? undefined,
    // The sliding idle lifetime moves expires_at on every refresh; the JSON keeps the first one.
    expiresAt: Number(row.expires_at),
    previousRefreshTokenHash: row.previous_refresh_token_hash ?? undefined,
    previousUsedAt: row.previous_used_at === null ? undefined : Number(row.previous_used_at),
  });
}
