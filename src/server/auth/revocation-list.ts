import type { KeyValueStore } from "../../shared/kv/key-value-store.ts";

/** The key prefix of every revocation entry (what the server's client-side cache tracks). */
export function revokedKeyPrefix(keyPrefix: string): string {
  return `${keyPrefix}:oauth:revoked:`;
}

/**
 * Revoked grant ids, checked on every bearer request (one KeyValueStore read: Redis, or SQLite in embedded mode,
 * where the list must survive a restart) so a revoked grant stops working at
 * once even though access tokens are verified locally. In distributed mode the RedisKeyValueStore answers from the
 * process's client-side cache (src/shared/kv/client-side-cache.ts): a revocation by any instance invalidates
 * every instance's copy at once, so the check costs no Redis round trip while nothing changes. An entry only needs to outlive the access tokens
 * already issued under the grant; refresh is refused by the TokenStore's own revoked flag.
 */
export class RevocationList {
  readonly #kv: KeyValueStore;
  readonly #prefix: string;
  readonly #ttlSec: number;

  constructor(opts: { kv: KeyValueStore; keyPrefix: string; accessTokenTtlSec: number }) {
    this.#kv = opts.kv;
    this.#prefix = revokedKeyPrefix(opts.keyPrefix);
    // A minute of slack for clock skew between instances.
    this.#ttlSec = opts.accessTokenTtlSec + 60;
  }

  async add(grantId: string): Promise<void> {
    await this.#kv.set(this.#prefix + grantId, "1", this.#ttlSec * 1000);
  }

  async has(grantId: string): Promise<boolean> {
    return (await this.#kv.get(this.#prefix + grantId)) !== undefined;
  }
}
