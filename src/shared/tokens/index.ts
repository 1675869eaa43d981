import type { Redis } from "ioredis";
import type { RedisClientSideCache } from "../kv/client-side-cache.ts";
import type { Config } from "../config.ts";
import type { SqliteDatabase } from "../sqlite/database.ts";
import { TokenCipher } from "./cipher.ts";
import { DeferredTokenStore } from "./deferred-token-store.ts";
import { RedisTokenStore } from "./redis-token-store.ts";
import { SqliteTokenStore } from "./sqlite-token-store.ts";
import type { TokenStore } from "./types.ts";

export * from "./types.ts";
export { deriveKey, keyIdOf, TokenCipher, TokenDecryptError } from "./cipher.ts";
export { accountKeyPrefix, RedisTokenStore, type RedisTokenStoreOptions } from "./redis-token-store.ts";
export type { FirestoreTokenStoreOptions } from "./firestore-token-store.ts";
export { DeferredTokenStore } from "./deferred-token-store.ts";
export { SqliteTokenStore, type SqliteTokenStoreOptions } from "./sqlite-token-store.ts";
export {
  AirtableReauthRequiredError,
  AirtableTokenProvider,
  AirtableTokenUnavailableError,
  type AirtableTokenProviderOptions,
} from "./airtable-token-provider.ts";

/** The cipher for TOKEN_ENCRYPTION_KEY (and TOKEN_ENCRYPTION_KEY_PREVIOUS, which only decrypts). */
export function tokenCipherFromConfig(config: Pick<Config, "TOKEN_ENCRYPTION_KEY" | "TOKEN_ENCRYPTION_KEY_PREVIOUS">) {
  if (config.TOKEN_ENCRYPTION_KEY === undefined) {
    throw new Error("TOKEN_ENCRYPTION_KEY is not set: generate one with `openssl rand -base64 32`");
  }
  return TokenCipher.create(config.TOKEN_ENCRYPTION_KEY, config.TOKEN_ENCRYPTION_KEY_PREVIOUS);
}

/** Firestore collection names allow more, but a plain prefix keeps them readable in the console. */
function collectionPrefixOf(keyPrefix: string): string {
  return `${keyPrefix.replace(/[^A-Za-z0-9_-]/g, "_")}_`;
}

/**
 * The TokenStore chosen by TOKEN_STORE; unset, the one of the mode: redis when given a Redis connection
 * (distributed), else sqlite in the embedded database. Firestore reads FIRESTORE_PROJECT_ID and
 * FIRESTORE_DATABASE; the @google-cloud/firestore library itself honours FIRESTORE_EMULATOR_HOST (and
 * Application Default Credentials). The Firestore SDK (~45 MB of RSS once loaded) is imported only when
 * TOKEN_STORE=firestore, on the store's first use (DeferredTokenStore), so redis and sqlite deployments never
 * load it. Throws when the chosen store's connection is not given. `deps.now` (epoch
 * ms; default Date.now) is the store's clock for expiry decisions, for tests that move time.
 */
export function createTokenStore(
  config: Pick<Config, "TOKEN_STORE" | "FIRESTORE_PROJECT_ID" | "FIRESTORE_DATABASE">,
  deps: {
    redis?: Redis;
    db?: SqliteDatabase;
    cipher: TokenCipher;
    keyPrefix: string;
    now?: () => number;
    /** The process's client-side cache over `redis` (used by the redis store only). */
    cache?: RedisClientSideCache;
  },
): TokenStore {
  const clock = deps.now === undefined ? {} : { now: deps.now };
  if (config.TOKEN_STORE === "firestore") {
    if (config.FIRESTORE_PROJECT_ID === undefined) {
      throw new Error("FIRESTORE_PROJECT_ID is required when TOKEN_STORE=firestore");
    }
    const { FIRESTORE_PROJECT_ID: projectId, FIRESTORE_DATABASE: databaseId } = config;
    return new DeferredTokenStore(async () => {
      const [{ Firestore }, { FirestoreTokenStore }] = await Promise.all([
        import("@google-cloud/firestore"),
        import("./firestore-token-store.ts"),
      ]);
      const firestore = new Firestore({ projectId, databaseId, ignoreUndefinedProperties: true });
      return new FirestoreTokenStore({
        firestore,
        cipher: deps.cipher,
        collectionPrefix: collectionPrefixOf(deps.keyPrefix),
        ...clock,
      });
    });
  }
  if (config.TOKEN_STORE === "sqlite" || (config.TOKEN_STORE === undefined && deps.redis === undefined)) {
    if (deps.db === undefined) throw new Error("TOKEN_STORE=sqlite needs the embedded database (no REDIS_URL)");
    return new SqliteTokenStore({ db: deps.db, cipher: deps.cipher, ...clock });
  }
  if (deps.redis === undefined) throw new Error("TOKEN_STORE=redis needs REDIS_URL");
  return new RedisTokenStore({
    redis: deps.redis,
    cipher: deps.cipher,
    keyPrefix: deps.keyPrefix,
    ...clock,
    ...(deps.cache !== undefined && { cache: deps.cache }),
  });
}
