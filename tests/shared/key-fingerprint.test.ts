/**
 * src/shared/key-fingerprint.ts: the fingerprint itself, the store contract on Redis (the records sit under the
 * deployment's REDIS_KEY_PREFIX), and requireKeyAgreement's waiting for a store that does not answer yet. Refusing
 * to start across real processes: tests/e2e/startup-checks.test.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { createLogger } from "../../src/shared/logger.ts";
import {
  FINGERPRINT_RECORD,
  keyFingerprint,
  KeyValueFingerprintStore,
  redisKeyName,
  requireKeyAgreement,
  type KeyFingerprintStore,
} from "../../src/shared/key-fingerprint.ts";
import { keyIdOf } from "../../src/shared/tokens/cipher.ts";
import { RedisKeyValueStore } from "../../src/shared/kv/redis-key-value-store.ts";
import { SqliteKeyValueStore } from "../../src/shared/kv/sqlite-key-value-store.ts";
import { openDatabase } from "../../src/shared/sqlite/database.ts";
import { keyFingerprintStoreContract } from "../support/key-fingerprint-store.contract.ts";

const redis = createTestRedis();
const prefix = uniquePrefix("key-fingerprint");
let namespaces = 0;
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

keyFingerprintStoreContract(
  "Redis",
  async () => new KeyValueFingerprintStore(new RedisKeyValueStore(redis), `${prefix}:${namespaces++}`, redisKeyName),
);
// The embedded mode keeps the same records in its SQLite file.
keyFingerprintStoreContract("SQLite", async () => {
  const db = await openDatabase(path.join(mkdtempSync(path.join(tmpdir(), "atmcp-fingerprint-")), "state.sqlite"));
  return new KeyValueFingerprintStore(new SqliteKeyValueStore(db), "atmcp", (key) => `the key "${key}" of the file`);
});

describe("keyFingerprint", () => {
  it("is 32 hex characters, the same for the same key, different for another, and no part of the key or its key id", () => {
    const key = randomBytes(32);
    const fingerprint = keyFingerprint(key);
    expect(fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(keyFingerprint(Buffer.from(key))).toBe(fingerprint);
    expect(keyFingerprint(randomBytes(32))).not.toBe(fingerprint);
    for (const form of [key.toString("hex"), key.toString("base64"), keyIdOf(key)]) {
      expect(form).not.toContain(fingerprint.slice(0, 8));
      expect(fingerprint).not.toContain(form.slice(0, 8));
    }
  });
});

describe("KeyValueFingerprintStore", () => {
  it("keeps the records under the deployment's prefix, without expiry, and names the key for the operator", async () => {
    const keyPrefix = `${prefix}:layout`;
    const store = new KeyValueFingerprintStore(new RedisKeyValueStore(redis), keyPrefix, redisKeyName);
    await store.setIfAbsent(FINGERPRINT_RECORD, "abc");
    expect(await redis.get(`${keyPrefix}:deployment:key-fingerprint`)).toBe("abc");
    expect(await redis.ttl(`${keyPrefix}:deployment:key-fingerprint`)).toBe(-1);
    expect(store.describe(FINGERPRINT_RECORD)).toBe(`the Redis key "${keyPrefix}:deployment:key-fingerprint"`);
  });
});

describe("requireKeyAgreement", () => {
  it("waits for a store that does not answer yet, logging a warning, then checks", async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { level: "info", pretty: false, name: "test" },
      { write: (l: string) => lines.push(l) },
    );
    const inner = new KeyValueFingerprintStore(new RedisKeyValueStore(redis), `${prefix}:flaky`, redisKeyName);
    let failures = 2;
    const flaky: KeyFingerprintStore = {
      get: (key) => (failures-- > 0 ? Promise.reject(new Error("Connection is closed.")) : inner.get(key)),
      setIfAbsent: (key, value) => inner.setIfAbsent(key, value),
    };
    const key = randomBytes(32);
    const result = await requireKeyAgreement(flaky, { TOKEN_ENCRYPTION_KEY: key }, logger, 10);
    expect(result).toEqual({ outcome: "recorded", fingerprint: keyFingerprint(key) });
    const messages = lines.map((l) => (JSON.parse(l) as { message: string }).message);
    // Redis not answering is said as waiting for REDIS_URL, without the error's stack (the connection logs why).
    expect(
      messages.filter((m) => /waiting for Redis \(REDIS_URL\) to check TOKEN_ENCRYPTION_KEY/.test(m)),
    ).toHaveLength(2);
    // Each line says what to check and that nothing is served meanwhile, with the time waited so far.
    for (const m of messages.filter((m) => m.startsWith("waiting for Redis"))) {
      expect(m).toMatch(
        /\(\d+ s so far\): nothing is served until Redis answers; check REDIS_URL and that Redis is running/,
      );
    }
    expect(lines.join("\n")).not.toContain('"stack"');
    expect(messages.at(-1)).toBe("TOKEN_ENCRYPTION_KEY: recorded as this deployment's key");
  });
});
