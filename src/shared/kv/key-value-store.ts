/**
 * Small shared state with expiry: what the web tier keeps between requests (OAuth pending authorizations,
 * codes, consent, the access-token revocation list, per-IP rate-limit counters, the CIMD cache), the Airtable
 * token refresh lock, and deployment-wide markers such as the encryption key's fingerprint.
 *
 * One interface, three implementations, one contract suite (tests/support/key-value-store.contract.ts):
 * - RedisKeyValueStore: distributed mode, shared by every server and worker process;
 * - SqliteKeyValueStore: embedded mode, for what must survive a restart (sign-in state, revocations);
 * - MemoryKeyValueStore: embedded mode, for what may be lost on restart (the refresh lock), and tests.
 *
 * Keys are used as given: callers put REDIS_KEY_PREFIX in them, so Redis keys stay what they were before this
 * interface existed. Values are strings (callers JSON-encode). TTLs are in milliseconds; a key without a TTL
 * lives until deleted. Every method is atomic on its own: of two concurrent `take`s exactly one gets the value,
 * of two concurrent `setIfAbsent`s exactly one stores its value.
 */
export interface KeyValueStore {
  /** The value, or undefined when the key is missing or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value`, replacing any previous one (and its TTL). */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /**
   * Stores `value` only when the key is missing (or expired), and returns the value stored under the key
   * afterwards: `value` itself when this call stored it, the existing value otherwise. A lock is taken when the
   * answer equals the caller's unique token.
   */
  setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string>;
  /** Reads and deletes in one step (single-use values: codes, pending consent). */
  take(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
  /** Deletes the key only while it holds `value` (releasing a lock one still owns). True when it deleted. */
  deleteIfEquals(key: string, value: string): Promise<boolean>;
  /**
   * Counts one hit in a fixed window that starts at the key's first hit and lasts `windowMs`: the count so far
   * in the window (1 for the first) and the ms until the window ends and the count starts again.
   */
  increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /**
   * A fixed-window counter's state without counting: its count and the ms until its window ends, or undefined when
   * no window is open (used to refuse before counting, e.g. the authorization server's per-client failure limits).
   */
  counter(key: string): Promise<{ count: number; resetInMs: number } | undefined>;
  /** Takes one hit back (a request the rate limiter decided not to count); nothing when the window has ended. */
  decrement(key: string): Promise<void>;
}
