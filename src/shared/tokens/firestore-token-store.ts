/**
 * TokenStore on Firestore (TOKEN_STORE=firestore): the durable store for production.
 *
 * Collections (names start with `collectionPrefix`, so deployments and tests sharing a project stay apart):
 *   {prefix}airtable_accounts/{userId}  SealedAirtableAccount (tokens encrypted) + ttlAt
 *   {prefix}clients/{clientId}          SealedClient (client_secret encrypted) + pendingUntil, ttlAt
 *   {prefix}grants/{grantId}            Grant (refresh token hash only) + ttlAt
 *
 * `ttlAt` (a Timestamp, GRANT_GRACE_MS after the record stops being usable; for clients, their pending
 * deadline) is for a Firestore TTL policy on the accounts, clients and grants collection groups: configure one
 * on field `ttlAt` to have Firestore delete them. Reads never depend on it: expired grants are filtered by
 * `expiresAt`, lapsed pending clients by `pendingUntil` (null once confirmed).
 *
 * Optional fields that are absent are written as null (and read back as absent), so that replacing a record
 * clears them even on emulators whose set() merges instead of replacing.
 *
 * Rotation and revocation run in transactions (Firestore retries a transaction on contention, so of two
 * rotations with the same expected hash only one commits; the other re-reads and sees `stale`).
 */
import { Timestamp, type DocumentData, type Firestore } from "@google-cloud/firestore";
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

export interface FirestoreTokenStoreOptions {
  /** Create it with `ignoreUndefinedProperties: true` or leave it to createTokenStore. */
  firestore: Firestore;
  cipher: TokenCipher;
  /** Prepended to every collection name, e.g. `atmcp_`. */
  collectionPrefix: string;
  /** Whether close() terminates the Firestore client (true when the store created it). Default true. */
  ownsClient?: boolean;
  now?: () => number;
}

/** Firestore document ids may not contain `/` and may not be `.` or `..`. */
function docId(id: string): string {
  if (id === "" || id === "." || id === "..") throw new Error(`Invalid id for a Firestore document: ${id}`);
  return encodeURIComponent(id);
}

export class FirestoreTokenStore implements TokenStore {
  readonly #db: Firestore;
  readonly #cipher: TokenCipher;
  readonly #ownsClient: boolean;
  readonly #now: () => number;
  readonly #names: { accounts: string; clients: string; grants: string };

  constructor(opts: FirestoreTokenStoreOptions) {
    this.#db = opts.firestore;
    this.#cipher = opts.cipher;
    this.#ownsClient = opts.ownsClient ?? true;
    this.#now = opts.now ?? Date.now;
    const p = opts.collectionPrefix;
    this.#names = { accounts: `${p}airtable_accounts`, clients: `${p}clients`, grants: `${p}grants` };
  }

  /** Where a record lives, e.g. for tests that read what is stored at rest. */
  docPath(kind: "accounts" | "clients" | "grants", id: string): string {
    return `${this.#names[kind]}/${docId(id)}`;
  }

  async getAirtableAccount(userId: string): Promise<AirtableAccount | undefined> {
    const snap = await this.#db.doc(this.docPath("accounts", userId)).get();
    const data = snap.data();
    if (data === undefined) return undefined;
    const { ttlAt: _ttlAt, ...sealed } = withoutNulls(data);
    return openAccount(this.#cipher, sealed as SealedAirtableAccount);
  }

  async putAirtableAccount(account: AirtableAccount): Promise<void> {
    const sealed: DocumentData = { email: null, ...sealAccount(this.#cipher, account), ttlAt: null };
    const end = account.tokens.refreshTokenExpiresAt;
    if (end !== undefined) sealed.ttlAt = Timestamp.fromMillis(end + GRANT_GRACE_MS);
    await this.#db.doc(this.docPath("accounts", account.userId)).set(sealed);
  }

  async deleteAirtableAccount(userId: string): Promise<void> {
    await this.#db.doc(this.docPath("accounts", userId)).delete();
  }

  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    const ref = this.#db.doc(this.docPath("clients", clientId));
    const data = (await ref.get()).data();
    if (data === undefined || this.#lapsed(data)) return undefined;
    const client = this.#openClient(data);
    if (sealedUnderPreviousKey(this.#cipher, data as SealedClient)) {
      // Re-sealed under the current key where it stands (update: never recreates a deleted registration; the
      // pending deadline is untouched): see sealedUnderPreviousKey. Best effort: the next read tries again.
      const secret = sealClient(this.#cipher, client).client_secret;
      await ref.update({ client_secret: secret }).catch(() => undefined);
    }
    return client;
  }

  async putClient(client: RegisteredClient): Promise<void> {
    await this.#db
      .doc(this.docPath("clients", client.client_id))
      .set({ ...clientOptionalFields, ...withoutUndefined(sealClient(this.#cipher, client)) });
  }

  async putPendingClient(
    client: RegisteredClient,
    pendingUntil: number,
  ): Promise<{ client: RegisteredClient; created: boolean }> {
    const ref = this.#db.doc(this.docPath("clients", client.client_id));
    return this.#db.runTransaction(async (tx) => {
      const data = (await tx.get(ref)).data();
      const deadline = { pendingUntil, ttlAt: Timestamp.fromMillis(pendingUntil) };
      if (data === undefined || this.#lapsed(data)) {
        tx.set(ref, { ...clientOptionalFields, ...withoutUndefined(sealClient(this.#cipher, client)), ...deadline });
        return { client, created: true };
      }
      if ((data.pendingUntil ?? null) !== null) tx.update(ref, deadline);
      return { client: this.#openClient(data), created: false };
    });
  }

  async confirmClient(clientId: string): Promise<void> {
    const ref = this.#db.doc(this.docPath("clients", clientId));
    await this.#db.runTransaction(async (tx) => {
      const data = (await tx.get(ref)).data();
      // Unknown (a metadata-document client), lapsed (gone for good) or already permanent: nothing to do.
      if (data === undefined || this.#lapsed(data) || (data.pendingUntil ?? null) === null) return;
      tx.update(ref, { pendingUntil: null, ttlAt: null });
    });
  }

  /** A pending client whose deadline passed (Firestore's TTL deletes it some time later). */
  #lapsed(data: DocumentData): boolean {
    const pendingUntil = data.pendingUntil as number | null | undefined;
    return pendingUntil !== undefined && pendingUntil !== null && pendingUntil <= this.#now();
  }

  #openClient(data: DocumentData): RegisteredClient {
    const { pendingUntil: _pendingUntil, ttlAt: _ttlAt, ...sealed } = withoutNulls(data);
    return openClient(this.#cipher, sealed as SealedClient);
  }

  async getGrant(grantId: string): Promise<Grant | undefined> {
    const data = (await this.#db.doc(this.docPath("grants", grantId)).get()).data();
    const grant = data === undefined ? undefined : toGrant(data);
    return grant === undefined || grant.expiresAt <= this.#now() ? undefined : grant;
  }

  async putGrant(grant: Grant): Promise<void> {
    await this.#db.doc(this.docPath("grants", grant.grantId)).set(toDoc(grant));
  }

  async rotateRefreshToken(
    grantId: string,
    expectedHash: string,
    newHash: string,
    options: RotateOptions = {},
  ): Promise<RotateResult> {
    const ref = this.#db.doc(this.docPath("grants", grantId));
    return this.#db.runTransaction(async (tx): Promise<RotateResult> => {
      const data = (await tx.get(ref)).data();
      if (data === undefined) return { ok: false, reason: "not_found" };
      const grant = toGrant(data);
      const now = this.#now();
      if (grant.revokedAt !== undefined) return { ok: false, reason: "revoked" };
      if (grant.expiresAt <= now) return { ok: false, reason: "expired" };
      const grace = options.reuseGraceMs ?? 0;
      let next: Grant;
      let reused: boolean;
      if (grant.refreshTokenHash === expectedHash) {
        next = {
          ...grant,
          refreshTokenHash: newHash,
          generation: grant.generation + 1,
          previousRefreshTokenHash: expectedHash,
          previousUsedAt: now,
        };
        reused = false;
      } else if (
        grant.previousRefreshTokenHash === expectedHash &&
        grant.previousUsedAt !== undefined &&
        grace > 0 &&
        now - grant.previousUsedAt <= grace
      ) {
        next = { ...grant };
        reused = true;
      } else {
        return { ok: false, reason: "stale" };
      }
      if (options.expiresAt !== undefined) next.expiresAt = options.expiresAt;
      if (!reused || options.expiresAt !== undefined) {
        tx.update(ref, {
          refreshTokenHash: next.refreshTokenHash,
          generation: next.generation,
          previousRefreshTokenHash: next.previousRefreshTokenHash ?? null,
          previousUsedAt: next.previousUsedAt ?? null,
          expiresAt: next.expiresAt,
          ttlAt: Timestamp.fromMillis(next.expiresAt + GRANT_GRACE_MS),
        });
      }
      return { ok: true, grant: next, reused };
    });
  }

  async revokeGrant(grantId: string, reason: string): Promise<void> {
    const ref = this.#db.doc(this.docPath("grants", grantId));
    await this.#db.runTransaction(async (tx) => {
      const data = (await tx.get(ref)).data();
      // The first revocation wins; a missing grant stays missing.
      if (data === undefined || (data.revokedAt ?? null) !== null) return;
      tx.update(ref, { revokedAt: this.#now(), revokedReason: reason });
    });
  }

  async listGrantsForUser(userId: string): Promise<Grant[]> {
    const snap = await this.#db.collection(this.#names.grants).where("userId", "==", userId).get();
    const now = this.#now();
    return snap.docs
      .map((d) => toGrant(d.data()))
      .filter((g) => g.expiresAt > now)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async close(): Promise<void> {
    if (this.#ownsClient) await this.#db.terminate();
  }
}

/** RegisteredClient's optional fields (and the pending deadline), cleared when a client is replaced without them. */
const clientOptionalFields: DocumentData = {
  pendingUntil: null,
  ttlAt: null,
  client_secret: null,
  client_secret_expires_at: null,
  client_name: null,
  client_uri: null,
  logo_uri: null,
  scope: null,
};

function toDoc(grant: Grant): DocumentData {
  return {
    previousRefreshTokenHash: null,
    previousUsedAt: null,
    revokedAt: null,
    revokedReason: null,
    ...withoutUndefined(grant),
    ttlAt: Timestamp.fromMillis(grant.expiresAt + GRANT_GRACE_MS),
  };
}

function toGrant(data: DocumentData): Grant {
  const { ttlAt: _ttlAt, ...grant } = withoutNulls(data);
  return grant as Grant;
}

function withoutNulls(data: DocumentData): DocumentData {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));
}
