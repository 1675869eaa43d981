/**
 * The contract of a KeyFingerprintStore, as checkKeyFingerprint uses it (src/shared/key-fingerprint.ts), run against
 * each implementation: the Redis one (tests/shared/key-fingerprint.test.ts) and any embedded one. Every test gets a
 * fresh, empty namespace from the factory: a deployment that has recorded nothing yet.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  checkKeyFingerprint,
  FINGERPRINT_RECORD,
  KeyFingerprintMismatchError,
  keyFingerprint,
  rotationRecord,
  type KeyFingerprintStore,
} from "../../src/shared/key-fingerprint.ts";

/** An empty store namespace (one deployment). Called once per test. */
export type KeyFingerprintStoreFactory = () => Promise<KeyFingerprintStore>;

const newKey = (): Buffer => randomBytes(32);

async function refusal(promise: Promise<unknown>): Promise<KeyFingerprintMismatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeyFingerprintMismatchError);
  return error as KeyFingerprintMismatchError;
}

export function keyFingerprintStoreContract(name: string, fresh: KeyFingerprintStoreFactory): void {
  describe(`KeyFingerprintStore contract: ${name}`, () => {
    it("setIfAbsent stores once and answers the stored value afterwards; get reads it", async () => {
      const store = await fresh();
      expect(await store.get("x")).toBeUndefined();
      expect(await store.setIfAbsent("x", "first")).toBe("first");
      expect(await store.setIfAbsent("x", "second")).toBe("first");
      expect(await store.get("x")).toBe("first");
    });

    it("setIfAbsent from many callers at once: exactly one value wins and every caller is told it", async () => {
      const store = await fresh();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent("race", `v${i}`)));
      expect(new Set(answers).size).toBe(1);
      expect(await store.get("race")).toBe(answers[0]);
    });

    it("the first process records its key; the same key matches; another key is refused, naming the variable", async () => {
      const store = await fresh();
      const key = newKey();
      expect(await checkKeyFingerprint(store, { current: key })).toEqual({
        outcome: "recorded",
        fingerprint: keyFingerprint(key),
      });
      expect(await store.get(FINGERPRINT_RECORD)).toBe(keyFingerprint(key));
      expect((await checkKeyFingerprint(store, { current: key })).outcome).toBe("matched");
      const refused = await refusal(checkKeyFingerprint(store, { current: newKey() }));
      expect(refused.variable).toBe("TOKEN_ENCRYPTION_KEY");
      expect(refused.message).toMatch(/^TOKEN_ENCRYPTION_KEY differs from the key this deployment/);
      expect(refused.message).toContain("Give every server and worker the same TOKEN_ENCRYPTION_KEY");
      expect(refused.message).toContain("TOKEN_ENCRYPTION_KEY_PREVIOUS to the old one");
      // A wrong previous key does not help either, and the message says so.
      const both = await refusal(checkKeyFingerprint(store, { current: newKey(), previous: newKey() }));
      expect(both.message).toContain("and so does TOKEN_ENCRYPTION_KEY_PREVIOUS");
    });

    it("two processes starting at once with different keys: one records its key, the other is refused", async () => {
      const store = await fresh();
      const [a, b] = [newKey(), newKey()];
      const results = await Promise.allSettled([
        checkKeyFingerprint(store, { current: a }),
        checkKeyFingerprint(store, { current: b }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const winner = results[0]!.status === "fulfilled" ? a : b;
      expect(await store.get(FINGERPRINT_RECORD)).toBe(keyFingerprint(winner));
    });

    it("rotation: new key + old key as _PREVIOUS records old → new; then only-old is refused, only-new starts", async () => {
      const store = await fresh();
      const [oldKey, newer] = [newKey(), newKey()];
      await checkKeyFingerprint(store, { current: oldKey });

      expect(await checkKeyFingerprint(store, { current: newer, previous: oldKey })).toEqual({
        outcome: "rotated",
        fingerprint: keyFingerprint(newer),
      });
      expect(await store.get(rotationRecord(keyFingerprint(oldKey)))).toBe(keyFingerprint(newer));
      // The first record is never rewritten: the rotation is recorded beside it.
      expect(await store.get(FINGERPRINT_RECORD)).toBe(keyFingerprint(oldKey));

      // Other processes with the same pair, or with the new key alone (after _PREVIOUS is dropped), start.
      expect((await checkKeyFingerprint(store, { current: newer, previous: oldKey })).outcome).toBe("matched");
      expect((await checkKeyFingerprint(store, { current: newer })).outcome).toBe("matched");
      // A process still holding only the old key could not read what the others now write.
      const stale = await refusal(checkKeyFingerprint(store, { current: oldKey }));
      expect(stale.message).toMatch(/^TOKEN_ENCRYPTION_KEY is a key this deployment has rotated away from/);
      // Nor can the old key come back as the current one.
      const back = await refusal(checkKeyFingerprint(store, { current: oldKey, previous: newer }));
      expect(back.message).toContain("A retired key cannot become the current key again");

      // A second rotation follows the first.
      const third = newKey();
      expect((await checkKeyFingerprint(store, { current: third, previous: newer })).outcome).toBe("rotated");
      expect((await checkKeyFingerprint(store, { current: third })).outcome).toBe("matched");
      await refusal(checkKeyFingerprint(store, { current: newer }));
    });

    it("two processes rotating the same old key to different new keys: one rotation wins, the other is refused", async () => {
      const store = await fresh();
      const oldKey = newKey();
      await checkKeyFingerprint(store, { current: oldKey });
      const [x, y] = [newKey(), newKey()];
      const results = await Promise.allSettled([
        checkKeyFingerprint(store, { current: x, previous: oldKey }),
        checkKeyFingerprint(store, { current: y, previous: oldKey }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(String(rejected.reason)).toContain("Give every server and worker the same new TOKEN_ENCRYPTION_KEY");
    });
  });
}
