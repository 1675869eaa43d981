import type { Redis } from "ioredis";

/**
 * Revoked grant ids, checked on every bearer request (one Redis EXISTS) so a revoked grant stops working at
 * once even though access tokens are verified locally. An entry only needs to outlive the access tokens
 * already issued under the grant; refresh is refused by the TokenStore's own revoked flag.
 */
export class RevocationList {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSec: number;

  constructor(opts: { redis: Redis; keyPrefix: string; accessTokenTtlSec: number }) {
    this.#redis = opts.redis;
    this.#prefix = `${opts.keyPrefix}:oauth:revoked:`;
    // A minute of slack for clock skew between instances.
    this.#ttlSec = opts.accessTokenTtlSec + 60;
  }

  async add(grantId: string): Promise<void> {
    await this.#redis.set(this.#prefix + grantId, "1", "EX", this.#ttlSec);
  }

  async has(grantId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#prefix + grantId)) === 1;
  }
}
