import type { AirtableAccount, Grant, RegisteredClient, RotateOptions, RotateResult, TokenStore } from "./types.ts";

/**
 * A TokenStore built on first use: `load` runs once, when the first method is called, and every call waits for
 * it. It exists so that a store whose library is heavy (the Firestore SDK: ~45 MB of RSS and ~0.5 s of module
 * loading) is only imported by deployments that chose it (TOKEN_STORE=firestore). A failed load is not cached:
 * the next call tries again (e.g. after a transient credentials error), and the error reaches the caller.
 */
export class DeferredTokenStore implements TokenStore {
  readonly #load: () => Promise<TokenStore>;
  #store: Promise<TokenStore> | undefined;

  constructor(load: () => Promise<TokenStore>) {
    this.#load = load;
  }

  /** The underlying store, loading it if no call has yet. */
  loaded(): Promise<TokenStore> {
    this.#store ??= this.#load().catch((error: unknown) => {
      this.#store = undefined;
      throw error;
    });
    return this.#store;
  }

  async getAirtableAccount(userId: string): Promise<AirtableAccount | undefined> {
    return (await this.loaded()).getAirtableAccount(userId);
  }
  async putAirtableAccount(account: AirtableAccount): Promise<void> {
    return (await this.loaded()).putAirtableAccount(account);
  }
  async deleteAirtableAccount(userId: string): Promise<void> {
    return (await this.loaded()).deleteAirtableAccount(userId);
  }
  async getClient(clientId: string): Promise<RegisteredClient | undefined> {
    return (await this.loaded()).getClient(clientId);
  }
  async putClient(client: RegisteredClient): Promise<void> {
    return (await this.loaded()).putClient(client);
  }
  async putPendingClient(
    client: RegisteredClient,
    pendingUntil: number,
  ): Promise<{ client: RegisteredClient; created: boolean }> {
    return (await this.loaded()).putPendingClient(client, pendingUntil);
  }
  async confirmClient(clientId: string): Promise<void> {
    return (await this.loaded()).confirmClient(clientId);
  }
  async getGrant(grantId: string): Promise<Grant | undefined> {
    return (await this.loaded()).getGrant(grantId);
  }
  async putGrant(grant: Grant): Promise<void> {
    return (await this.loaded()).putGrant(grant);
  }
  async rotateRefreshToken(
    grantId: string,
    expectedHash: string,
    newHash: string,
    options?: RotateOptions,
  ): Promise<RotateResult> {
    return (await this.loaded()).rotateRefreshToken(grantId, expectedHash, newHash, options);
  }
  async revokeGrant(grantId: string, reason: string): Promise<void> {
    return (await this.loaded()).revokeGrant(grantId, reason);
  }
  async listGrantsForUser(userId: string): Promise<Grant[]> {
    return (await this.loaded()).listGrantsForUser(userId);
  }
  /** Closes the underlying store if it was ever loaded; never loads it just to close it. */
  async close(): Promise<void> {
    const store = await this.#store?.catch(() => undefined);
    await store?.close();
  }
}
