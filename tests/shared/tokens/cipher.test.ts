import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKey, keyIdOf, TokenCipher, TokenDecryptError } from "../../../src/shared/tokens/cipher.ts";

const keyA = randomBytes(32);
const keyB = randomBytes(32);

/** Flips one bit of the base64url part `index` of a blob. */
function flip(blob: string, index: number): string {
  const parts = blob.split(".");
  const bytes = Buffer.from(parts[index] as string, "base64url");
  bytes[0] = (bytes[0] as number) ^ 1;
  parts[index] = bytes.toString("base64url");
  return parts.join(".");
}

describe("TokenCipher", () => {
  it("round-trips unicode, never repeats an IV, and keeps the plaintext out of the blob", () => {
    const cipher = TokenCipher.create(keyA);
    const plain = "oaa.secret-token ✓ ünïcode";
    const one = cipher.encrypt(plain);
    const two = cipher.encrypt(plain);
    expect(one).not.toBe(two);
    expect(one).not.toContain("secret-token");
    expect(one.startsWith(`v1.${keyIdOf(keyA)}.`)).toBe(true);
    expect(cipher.decrypt(one)).toBe(plain);
    expect(cipher.decrypt(two)).toBe(plain);
    expect(cipher.decrypt(cipher.encrypt(""))).toBe("");
  });

  it("rotation: old blobs decrypt with the previous key, new blobs use the current key", () => {
    const before = TokenCipher.create(keyA);
    const oldBlob = before.encrypt("written before rotation");
    const after = TokenCipher.create(keyB, keyA);
    expect(after.decrypt(oldBlob)).toBe("written before rotation");
    const newBlob = after.encrypt("written after rotation");
    expect(newBlob.split(".")[1]).toBe(keyIdOf(keyB));
    expect(after.currentKeyId).toBe(keyIdOf(keyB));
    // The old key alone cannot read what the new key wrote; once the previous key is dropped, old blobs fail.
    expect(() => before.decrypt(newBlob)).toThrow(TokenDecryptError);
    expect(() => TokenCipher.create(keyB).decrypt(oldBlob)).toThrow(/TOKEN_ENCRYPTION_KEY_PREVIOUS/);
  });

  it("refuses tampered IVs, tags, ciphertexts, key ids and garbage with a clear error", () => {
    const cipher = TokenCipher.create(keyA, keyB);
    const blob = cipher.encrypt("the token");
    for (const index of [2, 3, 4]) {
      expect(() => cipher.decrypt(flip(blob, index))).toThrow(/tampered/);
    }
    // Relabelling a blob to the other known key fails authentication (the header is AAD).
    const relabelled = blob.replace(keyIdOf(keyA), keyIdOf(keyB));
    expect(() => cipher.decrypt(relabelled)).toThrow(TokenDecryptError);
    expect(() => cipher.decrypt("not a blob")).toThrow(/not a token blob/);
    expect(() => cipher.decrypt(blob.split(".").slice(0, 4).join("."))).toThrow(TokenDecryptError);
    expect(() => cipher.decrypt(`${blob.slice(0, -4)}`)).toThrow(TokenDecryptError);
  });

  it("binds a blob to its context", () => {
    const cipher = TokenCipher.create(keyA);
    const blob = cipher.encrypt("tokens of usrA", "account:usrA");
    expect(cipher.decrypt(blob, "account:usrA")).toBe("tokens of usrA");
    expect(() => cipher.decrypt(blob, "account:usrB")).toThrow(/another record/);
    expect(() => cipher.decrypt(blob)).toThrow(TokenDecryptError);
  });

  it("refuses keys that are not 32 bytes", () => {
    expect(() => TokenCipher.create(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => TokenCipher.create(keyA, randomBytes(31))).toThrow(/TOKEN_ENCRYPTION_KEY_PREVIOUS/);
  });
});

describe("deriveKey", () => {
  it("derives stable, label-separated 32-byte keys (HKDF-SHA256)", () => {
    const jwt = deriveKey(keyA, "jwt-signing");
    expect(jwt).toHaveLength(32);
    expect(deriveKey(keyA, "jwt-signing").equals(jwt)).toBe(true);
    expect(deriveKey(keyA, "cookie").equals(jwt)).toBe(false);
    expect(deriveKey(keyB, "jwt-signing").equals(jwt)).toBe(false);
    expect(jwt.equals(keyA)).toBe(false);
    // Pinned: every process (and every future version) must derive the same keys, or signed tokens and cookies break.
    expect(deriveKey(Buffer.alloc(32, 7), "jwt-signing").toString("hex")).toBe(
      "92bc73575ce87f9382a4e86972238214722473cdd8b67f06725104b2929d2997",
    );
    expect(() => deriveKey(randomBytes(8), "x")).toThrow(/at least 32 bytes/);
    expect(() => deriveKey(keyA, "")).toThrow(/label/);
  });
});
