/**
 * A user's Airtable access token, refreshed when needed by exactly one process at a time.
 *
 * Airtable refresh tokens are single-use and rotated on every refresh: two processes refreshing with the same
 * refresh token would leave one of them (and then the user) with a dead token. So:
 * - in one process, concurrent callers for a user share one refresh attempt (single-flight);
 * - across processes, a lock in the KeyValueStore (setIfAbsent with a TTL and a random owner token,
 *   deleteIfEquals to release; Redis SET NX PX in distributed mode, memory in the single embedded process) elects the one
 *   that refreshes. It re-reads the account after acquiring (another process may just have refreshed) and
 *   refreshes only if the token is still stale;
 * - the others poll the store until the token is fresh, or the lock is gone (the holder died: its lock expires
 *   after lockTtlMs and the next one takes over), bounded by waitTimeoutMs. They never refresh while the lock
 *   is held.
 *
 * `invalid_grant` means the refresh token is dead (revoked, expired, or already used): the account is deleted
 * (logged) so every later call fails fast with AirtableReauthRequiredError, and the MCP client must sign in
 * again. Any other failure (5xx, network, timeout) keeps the account and throws AirtableTokenUnavailableError.
 */
import { randomBytes } from "node:crypto";
import { AirtableOAuthError, type AirtableOAuth } from "../airtable/oauth.ts";
import type { KeyValueStore } from "../kv/key-value-store.ts";
import type { Logger } from "../logger.ts";
import { redisDoesNotAnswer } from "../redis-unavailable.ts";
import type { AirtableAccount, TokenStore } from "./types.ts";

/** Airtable access for this user is gone: the MCP client must sign in again (the server answers 401). */
export class AirtableReauthRequiredError extends Error {
  override name = "AirtableReauthRequiredError";
  readonly userId: string;
  constructor(userId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.userId = userId;
  }
}

/** The token could not be refreshed right now (Airtable 5xx, network, lock wait timed out): try again later. */
export class AirtableTokenUnavailableError extends Error {
  override name = "AirtableTokenUnavailableError";
  readonly userId: string;
  readonly retryable = true;
  constructor(userId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.userId = userId;
  }
}

export interface AirtableTokenProviderOptions {
  store: TokenStore;
  oauth: AirtableOAuth;
  /** Where the refresh lock lives: shared by every process that may refresh (Redis), or this process's memory. */
  locks: KeyValueStore;
  keyPrefix: string;
  logger?: Logger;
  /** Refresh when the access token expires within this much time. Default 60 s. */
  refreshSkewMs?: number;
  /** Lock lifetime: how long a dead holder blocks the others. Keep it above the OAuth timeout. Default 15 s. */
  lockTtlMs?: number;
  /** How long a caller waits for another process's refresh before giving up. Default 20 s. */
  waitTimeoutMs?: number;
  now?: () => number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A user's current Airtable access token and the Airtable scopes its sign-in was granted. */
export interface AirtableAccess {
  accessToken: string;
  /**
   * The Airtable scopes of the stored sign-in, as Airtable's token answer listed them (`scope`, kept across
   * refreshes); empty when Airtable named none, so that what the sign-in may do is unknown.
   */
  scopes: readonly string[];
}

const accessOf = (tokens: AirtableAccount["tokens"]): AirtableAccess => ({
  accessToken: tokens.accessToken,
  scopes: tokens.scopes,
});

export class AirtableTokenProvider {
  readonly #store: TokenStore;
  readonly #oauth: AirtableOAuth;
  readonly #locks: KeyValueStore;
  readonly #lockPrefix: string;
  readonly #logger: Logger | undefined;
  readonly #skewMs: number;
  readonly #lockTtlMs: number;
  readonly #waitTimeoutMs: number;
  readonly #now: () => number;
  /** userId → the refresh this process is running for that user. */
  readonly #inflight = new Map<string, Promise<AirtableAccess>>();

  constructor(opts: AirtableTokenProviderOptions) {
    this.#store = opts.store;
    this.#oauth = opts.oauth;
    this.#locks = opts.locks;
    this.#lockPrefix = `${opts.keyPrefix}:tokens:refresh-lock:`;
    this.#logger = opts.logger;
    this.#skewMs = opts.refreshSkewMs ?? 60_000;
    this.#lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.#waitTimeoutMs = opts.waitTimeoutMs ?? 20_000;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Plugs into AirtableClient's getAccessToken. `rejected` = a token Airtable just answered 401 to: refresh
   * even if it is not near expiry (unless another caller already replaced it).
   */
  async getAccessToken(userId: string, rejected?: string): Promise<string> {
    return (await this.getAccess(userId, rejected)).accessToken;
  }

  /**
   * Like getAccessToken, with the Airtable scopes the sign-in behind the token was granted: one read of the stored
   * account serves both (a tool call checks the scopes its tool needs before sending anything).
   */
  async getAccess(userId: string, rejected?: string): Promise<AirtableAccess> {
    const account = await this.#load(userId);
    if (!this.#needsRefresh(account, rejected)) return accessOf(account.tokens);
    const joined = this.#inflight.get(userId);
    if (joined !== undefined) {
      const access = await joined;
      // The flight we joined ended with the very token we saw rejected: run one of our own.
      if (rejected === undefined || access.accessToken !== rejected) return access;
    }
    return this.#flight(userId, rejected);
  }

  #flight(userId: string, rejected: string | undefined): Promise<AirtableAccess> {
    const running = this.#inflight.get(userId);
    if (running !== undefined) return running;
    const flight = this.#refreshUnderLock(userId, rejected).finally(() => {
      if (this.#inflight.get(userId) === flight) this.#inflight.delete(userId);
    });
    this.#inflight.set(userId, flight);
    return flight;
  }

  #needsRefresh(account: AirtableAccount, rejected: string | undefined): boolean {
    if (rejected !== undefined && account.tokens.accessToken === rejected) return true;
    return account.tokens.accessTokenExpiresAt - this.#skewMs <= this.#now();
  }

  async #load(userId: string): Promise<AirtableAccount> {
    const account = await this.#store.getAirtableAccount(userId);
    if (account === undefined) {
      throw new AirtableReauthRequiredError(userId, "No Airtable sign-in is stored for this user: sign in again");
    }
    return account;
  }

  async #refreshUnderLock(userId: string, rejected: string | undefined): Promise<AirtableAccess> {
    const lockKey = `${this.#lockPrefix}${userId}`;
    const deadline = this.#now() + this.#waitTimeoutMs;
    let pollMs = 25;
    for (;;) {
      const owner = randomBytes(16).toString("hex");
      if ((await this.#locks.setIfAbsent(lockKey, owner, this.#lockTtlMs)) === owner) {
        const lockedAt = this.#now();
        try {
          return await this.#refreshHoldingLock(userId, rejected, lockedAt);
        } finally {
          // Only if we still own it: it may have expired and been taken by another process meanwhile.
          await this.#locks.deleteIfEquals(lockKey, owner).catch((error: unknown) => {
            // The lock expires on its own after lockTtlMs.
            this.#logger?.warn({ userId, err: error }, "could not release the Airtable refresh lock");
          });
        }
      }
      // Another process is refreshing: wait for its result rather than racing it.
      await sleep(pollMs);
      pollMs = Math.min(pollMs * 2, 200);
      const account = await this.#load(userId);
      if (!this.#needsRefresh(account, rejected)) return accessOf(account.tokens);
      if (this.#now() >= deadline) {
        throw new AirtableTokenUnavailableError(
          userId,
          `Timed out after ${this.#waitTimeoutMs} ms waiting for another process to refresh the Airtable token; try again`,
        );
      }
    }
  }

  async #refreshHoldingLock(userId: string, rejected: string | undefined, lockedAt: number): Promise<AirtableAccess> {
    const account = await this.#load(userId);
    if (!this.#needsRefresh(account, rejected)) return accessOf(account.tokens); // someone else just did it
    const { refreshTokenExpiresAt } = account.tokens;
    if (refreshTokenExpiresAt !== undefined && refreshTokenExpiresAt <= this.#now()) {
      return this.#lost(userId, "the Airtable refresh token has expired");
    }
    let tokens;
    try {
      tokens = await this.#oauth.refresh(account.tokens.refreshToken);
    } catch (error) {
      if (error instanceof AirtableOAuthError && error.error === "invalid_grant") {
        // Our lock may have expired during a slow refresh and another process rotated the token meanwhile:
        // then its result stands and nothing is lost.
        const current = await this.#store.getAirtableAccount(userId);
        if (current !== undefined && current.tokens.refreshToken !== account.tokens.refreshToken) {
          return accessOf(current.tokens);
        }
        return this.#lost(userId, `Airtable refused the refresh token (${error.message})`, error);
      }
      this.#logger?.warn({ userId, err: error }, "Airtable token refresh failed; the account is kept");
      throw new AirtableTokenUnavailableError(
        userId,
        `Could not refresh the Airtable token right now: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const rotated: AirtableAccount = {
      ...account,
      tokens: {
        ...tokens,
        // Airtable always sends both today; keep what we knew if a field is ever missing.
        scopes: tokens.scopes.length > 0 ? tokens.scopes : account.tokens.scopes,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt ?? account.tokens.refreshTokenExpiresAt,
      },
      updatedAt: this.#now(),
    };
    await this.#storeRotated(rotated, lockedAt);
    this.#logger?.info({ userId }, "refreshed the Airtable access token");
    return accessOf(rotated.tokens);
  }

  /**
   * Stores tokens Airtable just rotated. Its refresh tokens are single-use, so the one stored before is already
   * dead: losing this write would sign the user out at the next refresh. A write Redis did not answer (a restart or
   * failover drops the connection, and the server's fail-fast connection neither waits nor resends:
   * src/shared/redis-connection.ts) is tried again, 100 ms apart and growing to 1 s, for as long as this process
   * surely still holds the refresh lock (half of lockTtlMs from taking it), so it can never overwrite a newer token
   * another process stored after the lock expired. Writing the same value twice is harmless. Throws the last error.
   */
  async #storeRotated(account: AirtableAccount, lockedAt: number): Promise<void> {
    for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 1_000)) {
      try {
        await this.#store.putAirtableAccount(account);
        return;
      } catch (error) {
        if (!redisDoesNotAnswer(error) || this.#now() + delayMs >= lockedAt + this.#lockTtlMs / 2) {
          this.#logger?.error(
            { userId: account.userId, err: error },
            "Airtable tokens were rotated but could not be stored: the user will have to sign in again",
          );
          throw error;
        }
        this.#logger?.warn({ userId: account.userId, err: error }, "storing rotated Airtable tokens: trying again");
        await sleep(delayMs);
      }
    }
  }

  async #lost(userId: string, why: string, cause?: unknown): Promise<never> {
    await this.#store.deleteAirtableAccount(userId);
    this.#logger?.warn({ userId }, `Airtable access lost, the user must sign in again: ${why}`);
    throw new AirtableReauthRequiredError(userId, `Airtable access was lost (${why}): sign in again`, { cause });
  }
}
