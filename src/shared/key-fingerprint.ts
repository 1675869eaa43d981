/**
 * Key agreement across processes: every server and worker of a deployment must hold the same
 * TOKEN_ENCRYPTION_KEY, or the tokens one process stores are unreadable to another (a worker with another key
 * cannot run a single write). So a deployment records a fingerprint of its key in a shared store (Redis, or the
 * embedded store of a one-machine deployment), and a process whose key cannot match it refuses to start, naming
 * the variable and what to do, instead of failing every operation minutes later.
 *
 * The fingerprint is 16 bytes of an HKDF-SHA256 sub-key of the key (`deriveKey(key, "key-fingerprint")`, see
 * cipher.ts): it identifies the key and reveals nothing about it or about the other sub-keys.
 *
 * Records (names relative to the store, e.g. `<REDIS_KEY_PREFIX>:deployment:key-fingerprint` in Redis):
 * - `deployment:key-fingerprint`: the fingerprint of the key of the first process that started;
 * - `deployment:key-fingerprint:rotated-from:<fp>`: the key that replaced key `<fp>`, written once by the first
 *   process that starts with the new key as TOKEN_ENCRYPTION_KEY and the old one as TOKEN_ENCRYPTION_KEY_PREVIOUS.
 * Following the rotations from the first fingerprint gives the deployment's current key. Both records are written
 * with set-if-absent only, never overwritten, so two processes racing to record different keys cannot both win.
 *
 * A process with key K (and previous key P) starts when the deployment's current key is K, or is P (it then
 * records the rotation P → K, after which processes holding only P refuse to start: they could not read tokens
 * written under K). It refuses when K is an earlier key of the deployment (rotated away from) or an unknown key.
 * A retired key cannot become current again (its rotation record already names its successor).
 */
import type { KeyValueStore } from "./kv/key-value-store.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import { isRedisUnavailable, redisRefusal } from "./redis-unavailable.ts";
import { deriveKey } from "./tokens/cipher.ts";

/** Where the fingerprint records live: KeyValueFingerprintStore over the deployment's key-value store. */
export interface KeyFingerprintStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` unless something is stored there already; answers what is stored afterwards. */
  setIfAbsent(key: string, value: string): Promise<string>;
  /** Where `key` lives, for the operator (e.g. `Redis key "atmcp:deployment:key-fingerprint"`). */
  describe?(key: string): string;
}

export const FINGERPRINT_RECORD = "deployment:key-fingerprint";
export const rotationRecord = (fingerprint: string): string => `${FINGERPRINT_RECORD}:rotated-from:${fingerprint}`;

/** Rotations followed at most (a deployment rotating monthly for eight years stays far below). */
const MAX_ROTATIONS = 100;

/** The fingerprint of a 32-byte key: 32 hex characters. */
export function keyFingerprint(key: Buffer): string {
  return deriveKey(key, "key-fingerprint").subarray(0, 16).toString("hex");
}

/**
 * This process's key cannot work with the deployment's. `variable` is the setting to fix; the message says how.
 */
export class KeyFingerprintMismatchError extends Error {
  override name = "KeyFingerprintMismatchError";
  readonly variable = "TOKEN_ENCRYPTION_KEY";
}

export type KeyCheckOutcome =
  /** Nothing was recorded: this process's key is now the deployment's. */
  | "recorded"
  /** The key is the deployment's current key. */
  | "matched"
  /** TOKEN_ENCRYPTION_KEY_PREVIOUS was the deployment's key: the rotation to TOKEN_ENCRYPTION_KEY is now recorded. */
  | "rotated";

export interface KeyCheckResult {
  outcome: KeyCheckOutcome;
  /** The deployment's current key's fingerprint (this process's TOKEN_ENCRYPTION_KEY's). */
  fingerprint: string;
}

/**
 * Checks `keys` against the deployment's records (creating them on first use); see the top of this file.
 * Throws KeyFingerprintMismatchError when this process must not start; errors of the store pass through.
 */
export async function checkKeyFingerprint(
  store: KeyFingerprintStore,
  keys: { current: Buffer; previous?: Buffer | undefined },
): Promise<KeyCheckResult> {
  const current = keyFingerprint(keys.current);
  const previous = keys.previous === undefined ? undefined : keyFingerprint(keys.previous);
  const where = (record: string) => store.describe?.(record) ?? `the record "${record}"`;

  let first = await store.get(FINGERPRINT_RECORD);
  if (first === undefined) {
    first = await store.setIfAbsent(FINGERPRINT_RECORD, current);
    if (first === current) return { outcome: "recorded", fingerprint: current };
  }
  const chain = [first];
  for (let hops = 0; hops < MAX_ROTATIONS; hops++) {
    const next = await store.get(rotationRecord(chain.at(-1)!));
    if (next === undefined || chain.includes(next)) break;
    chain.push(next);
  }
  const deployment = chain.at(-1)!;
  if (deployment === current) return { outcome: "matched", fingerprint: current };

  const startOver =
    `To start over with this key instead (every stored Airtable sign-in becomes unreadable and its user must sign ` +
    `in again), delete ${where(FINGERPRINT_RECORD)} and the rotation records beside it.`;
  if (chain.includes(current)) {
    throw new KeyFingerprintMismatchError(
      `TOKEN_ENCRYPTION_KEY is a key this deployment has rotated away from: its tokens are now encrypted with a ` +
        `newer key, which this process could not read. Give this process the TOKEN_ENCRYPTION_KEY the other ` +
        `servers and workers have (and this old key as TOKEN_ENCRYPTION_KEY_PREVIOUS, if you like).` +
        (previous === deployment ? " A retired key cannot become the current key again: generate a new one." : ""),
    );
  }
  if (previous !== undefined && previous === deployment) {
    const successor = await store.setIfAbsent(rotationRecord(previous), current);
    if (successor === current) return { outcome: "rotated", fingerprint: current };
    throw new KeyFingerprintMismatchError(
      `TOKEN_ENCRYPTION_KEY differs from the key another process has just rotated this deployment to (both have ` +
        `TOKEN_ENCRYPTION_KEY_PREVIOUS = the old key). Give every server and worker the same new ` +
        `TOKEN_ENCRYPTION_KEY.`,
    );
  }
  throw new KeyFingerprintMismatchError(
    `TOKEN_ENCRYPTION_KEY differs from the key this deployment's Airtable tokens are encrypted with (its ` +
      `fingerprint was recorded in ${where(FINGERPRINT_RECORD)} by the first server or worker that started)` +
      `${previous === undefined ? "" : ", and so does TOKEN_ENCRYPTION_KEY_PREVIOUS"}: tokens this process stored ` +
      `could not be read by the others, nor theirs by it. Give every server and worker the same ` +
      `TOKEN_ENCRYPTION_KEY (generate it once: openssl rand -base64 32). To rotate the key, set ` +
      `TOKEN_ENCRYPTION_KEY to the new key and TOKEN_ENCRYPTION_KEY_PREVIOUS to the old one. ${startOver}`,
  );
}

/** How the distributed mode names a fingerprint key: `the Redis key "…"`. */
export const redisKeyName = (fullKey: string): string => `the Redis key "${fullKey}"`;

/**
 * The fingerprint records in any KeyValueStore (Redis in the distributed mode, the SQLite file in the embedded
 * one), under the deployment's REDIS_KEY_PREFIX. `name` says where a full key lives, for the operator in error
 * messages (`the Redis key "atmcp:deployment:key-fingerprint"`). Records never expire: they are the deployment's memory
 * of its key, as long-lived as the tokens it encrypts.
 */
export class KeyValueFingerprintStore implements KeyFingerprintStore {
  readonly #kv: KeyValueStore;
  readonly #prefix: string;
  readonly #name: (fullKey: string) => string;

  constructor(kv: KeyValueStore, keyPrefix: string, name: (fullKey: string) => string) {
    this.#kv = kv;
    this.#prefix = keyPrefix;
    this.#name = name;
  }

  get(key: string): Promise<string | undefined> {
    return this.#kv.get(this.#key(key));
  }

  setIfAbsent(key: string, value: string): Promise<string> {
    return this.#kv.setIfAbsent(this.#key(key), value);
  }

  describe(key: string): string {
    return this.#name(this.#key(key));
  }

  #key(key: string): string {
    return `${this.#prefix}:${key}`;
  }
}

/**
 * For a process's composition root, before it serves anything: checks TOKEN_ENCRYPTION_KEY (and _PREVIOUS) against
 * the deployment's fingerprint. A mismatch prints the reason on stderr (no stack trace) and exits 1. A store that
 * does not answer (Redis starting up) is retried every few seconds, logged, until it answers.
 */
export async function requireKeyAgreement(
  store: KeyFingerprintStore,
  config: Pick<Config, "TOKEN_ENCRYPTION_KEY" | "TOKEN_ENCRYPTION_KEY_PREVIOUS">,
  logger: Logger,
  retryMs = 2_000,
): Promise<KeyCheckResult> {
  if (config.TOKEN_ENCRYPTION_KEY === undefined) throw new Error("TOKEN_ENCRYPTION_KEY is not set");
  const keys = { current: config.TOKEN_ENCRYPTION_KEY, previous: config.TOKEN_ENCRYPTION_KEY_PREVIOUS };
  const startedAt = performance.now();
  for (;;) {
    try {
      const result = await checkKeyFingerprint(store, keys);
      const fields = { keyFingerprint: result.fingerprint, outcome: result.outcome };
      if (result.outcome === "rotated") {
        // Worth a warning: from now on, processes holding only the old key refuse to start.
        logger.warn(
          fields,
          "TOKEN_ENCRYPTION_KEY: recorded the rotation from TOKEN_ENCRYPTION_KEY_PREVIOUS; processes with only the old key will not start",
        );
      } else {
        logger.info(
          fields,
          result.outcome === "recorded"
            ? "TOKEN_ENCRYPTION_KEY: recorded as this deployment's key"
            : "TOKEN_ENCRYPTION_KEY: matches this deployment's key",
        );
      }
      return result;
    } catch (error) {
      if (error instanceof KeyFingerprintMismatchError) {
        process.stderr.write(`Refusing to start: ${error.message}\n`);
        process.exit(1);
      }
      const refusal = redisRefusal(error);
      if (refusal !== undefined) {
        // Redis answers but refuses the write (full, a replica, loading): say so, not "is it running?".
        logger.warn(
          { redisError: error instanceof Error ? error.message : String(error) },
          `Redis refuses the write that checks TOKEN_ENCRYPTION_KEY: ${refusal}. Nothing is served until it ` +
            `accepts writes. Trying again in ${retryMs} ms`,
        );
      } else if (isRedisUnavailable(error)) {
        // The connection's own log said why once per outage (logRedisErrors); each try repeats what to check, how
        // long it has been, and that nothing is served meanwhile, for a person watching a terminal. A try itself
        // lasts as long as the connection's own retries (seconds), so the time waited is counted, not the tries.
        const waitedSec = Math.round((performance.now() - startedAt) / 1000);
        logger.warn(
          { waitedSec },
          `waiting for Redis (REDIS_URL) to check TOKEN_ENCRYPTION_KEY against the deployment's (${waitedSec} s so ` +
            "far): nothing is served until Redis answers; check REDIS_URL and that Redis is running. Trying again " +
            `in ${retryMs} ms`,
        );
      } else {
        logger.warn({ err: error }, `could not check TOKEN_ENCRYPTION_KEY against the deployment's; retrying`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
