/**
 * Encryption at rest for secrets we must be able to read back (Airtable tokens, DCR client secrets):
 * AES-256-GCM with a random 12-byte IV per blob and a 16-byte auth tag.
 *
 * Blob format (one ASCII string, safe in Redis values and Firestore fields):
 *   `v1.<keyId>.<iv>.<tag>.<ciphertext>`   (each part base64url; keyId = first 8 bytes of SHA-256(key), hex)
 * The header (`v1.<keyId>`) and the caller's optional context are authenticated as AAD, so a blob cannot be
 * re-labelled to another key, nor moved to another record when a context (e.g. the user id) is given.
 *
 * Key rotation: new blobs always use the current key; blobs written under the previous key still decrypt.
 * Re-writing a record (any sign-in or token refresh) re-encrypts it under the current key.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** HKDF salt: fixed, so the same master key always derives the same sub-keys in every process. */
const HKDF_SALT = Buffer.from("airtable-oauth-mcp/hkdf/v1");

/** A blob that cannot be decrypted: tampered, truncated, or written under a key we no longer have. */
export class TokenDecryptError extends Error {
  override name = "TokenDecryptError";
}

/** The key id written into each blob: lets decrypt pick the right key without trying them all. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256").update(key).digest().subarray(0, 8).toString("hex");
}

/** A 32-byte sub-key of `master` for one purpose (HKDF-SHA256), e.g. `deriveKey(master, "jwt-signing")`. */
export function deriveKey(master: Buffer, label: string): Buffer {
  if (master.length < KEY_BYTES) throw new Error(`deriveKey: the master key must be at least ${KEY_BYTES} bytes`);
  if (label === "") throw new Error("deriveKey: the label must name the key's purpose");
  return Buffer.from(hkdfSync("sha256", master, HKDF_SALT, Buffer.from(label, "utf8"), KEY_BYTES));
}

function checkKey(key: Buffer, name: string): void {
  if (key.length !== KEY_BYTES) {
    throw new Error(`TokenCipher: ${name} must be ${KEY_BYTES} bytes (openssl rand -base64 32), got ${key.length}`);
  }
}

/** At most this many decrypted blobs are remembered per TokenCipher (each ~1 kB with its blob: ≤ ~5 MB). */
export const DECRYPTED_BLOBS_MAX = 5_000;
/** A decrypted blob is remembered this long (ms) at most: a signed-out user's plaintext tokens do not linger. */
export const DECRYPTED_BLOB_TTL_MS = 10 * 60_000;

export class TokenCipher {
  readonly #currentId: string;
  readonly #keys: Map<string, Buffer>;
  /**
   * Blobs decrypted lately, keyed by context and blob, with their plaintext (issue 13: every tool call reads
   * the caller's sealed Airtable account and decrypted the same blob again). Safe because a blob decrypts to one
   * plaintext forever: each encryption has a fresh random IV, so a refreshed (rotated) Airtable token is a new
   * blob and misses; the store is still read on every call, so the current blob is always the one decrypted; a
   * tampered blob is a different key and fails as before; and the keys are fixed for the process. Bounded: the
   * oldest entry goes first, and each decrypt drops the entries older than DECRYPTED_BLOB_TTL_MS, read again or
   * not (the plaintexts are tokens this process holds anyway while it uses them, but a signed-out user's should not
   * stay in memory for hours; an instance with no traffic at all keeps them until its next call).
   */
  readonly #decrypted = new Map<string, { plain: string; until: number }>();
  private constructor(current: Buffer, previous?: Buffer) {
    this.#currentId = keyIdOf(current);
    this.#keys = new Map([[this.#currentId, Buffer.from(current)]]);
    if (previous !== undefined) {
      const previousId = keyIdOf(previous);
      if (!this.#keys.has(previousId)) this.#keys.set(previousId, Buffer.from(previous));
    }
  }

  /** `current` encrypts and decrypts; `previous` (the key before the last rotation) only decrypts. */
  static create(current: Buffer, previous?: Buffer): TokenCipher {
    checkKey(current, "the current key (TOKEN_ENCRYPTION_KEY)");
    if (previous !== undefined) checkKey(previous, "the previous key (TOKEN_ENCRYPTION_KEY_PREVIOUS)");
    return new TokenCipher(current, previous);
  }

  /** The id of the key new blobs are written with. */
  get currentKeyId(): string {
    return this.#currentId;
  }

  /** Whether `blob` was written with the current key (false: the previous key, or not a blob of this cipher). */
  isCurrent(blob: string): boolean {
    return blob.startsWith(`${VERSION}.${this.#currentId}.`);
  }

  /**
   * `context` (optional) is bound to the blob: decrypting needs the same context. Stores pass the record's
   * id so that a blob copied onto another record does not decrypt.
   */
  encrypt(plain: string, context = ""): string {
    const key = this.#keys.get(this.#currentId) as Buffer;
    const header = `${VERSION}.${this.#currentId}`;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(header, context));
    const ciphertext = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [header, iv.toString("base64url"), tag.toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  /** How many decrypted blobs are remembered right now (≤ DECRYPTED_BLOBS_MAX). */
  get decryptedCount(): number {
    return this.#decrypted.size;
  }

  /** The plaintext of `blob`; throws TokenDecryptError. Answers a blob decrypted lately from memory (#decrypted). */
  decrypt(blob: string, context = ""): string {
    const cacheKey = `${context}\n${blob}`;
    const now = performance.now();
    // Expired entries go at every decrypt, not only when their own blob is read again: a signed-out user's blob is
    // never read again. The Map holds entries in the order they were stored, which is the order they expire in.
    for (const [key, entry] of this.#decrypted) {
      if (entry.until > now) break;
      this.#decrypted.delete(key);
    }
    // What is left after the sweep has not expired.
    const known = this.#decrypted.get(cacheKey);
    if (known !== undefined) return known.plain;
    const plain = this.#decryptOnce(blob, context);
    if (this.#decrypted.size >= DECRYPTED_BLOBS_MAX) {
      this.#decrypted.delete(this.#decrypted.keys().next().value as string);
    }
    this.#decrypted.set(cacheKey, { plain, until: now + DECRYPTED_BLOB_TTL_MS });
    return plain;
  }

  #decryptOnce(blob: string, context: string): string {
    const parts = blob.split(".");
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new TokenDecryptError("Cannot decrypt: the value is not a token blob (v1.<keyId>.<iv>.<tag>.<data>)");
    }
    const [version, keyId, ivText, tagText, dataText] = parts as [string, string, string, string, string];
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new TokenDecryptError(
        `Cannot decrypt: the value was encrypted with key ${keyId}, which is neither TOKEN_ENCRYPTION_KEY nor ` +
          "TOKEN_ENCRYPTION_KEY_PREVIOUS. After rotating the key, set TOKEN_ENCRYPTION_KEY_PREVIOUS to the old one.",
      );
    }
    const iv = Buffer.from(ivText, "base64url");
    const tag = Buffer.from(tagText, "base64url");
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new TokenDecryptError("Cannot decrypt: the value is truncated or tampered with");
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(`${version}.${keyId}`, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(dataText, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new TokenDecryptError("Cannot decrypt: the value was tampered with or belongs to another record");
    }
  }
}

function aad(header: string, context: string): Buffer {
  return Buffer.from(`${header}\n${context}`, "utf8");
}
