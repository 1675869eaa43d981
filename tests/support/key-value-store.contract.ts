/**
 * The one contract every KeyValueStore honours (Redis, SQLite, memory), run by tests/shared/kv/*.test.ts.
 * Each test uses fresh random keys, so the implementations' tests may share a namespace. Expiry is tested on the
 * real clock with short TTLs, the same way for every implementation.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { KeyValueStore } from "../../src/shared/kv/key-value-store.ts";

export function keyValueStoreContract(name: string, store: () => KeyValueStore, keyPrefix: () => string): void {
  const key = (label: string): string => `${keyPrefix()}:${label}:${randomBytes(6).toString("hex")}`;

  describe(`KeyValueStore contract: ${name}`, () => {
    it("sets, gets, replaces and deletes; a missing key reads as undefined", async () => {
      const kv = store();
      const k = key("plain");
      expect(await kv.get(k)).toBeUndefined();
      await kv.set(k, "one");
      expect(await kv.get(k)).toBe("one");
      await kv.set(k, '{"json":true}');
      expect(await kv.get(k)).toBe('{"json":true}');
      await kv.delete(k);
      expect(await kv.get(k)).toBeUndefined();
      await kv.delete(k); // deleting twice is fine
    });

    it("forgets a value once its TTL has passed, and a later set without TTL keeps it", async () => {
      const kv = store();
      const k = key("ttl");
      await kv.set(k, "short", 80);
      expect(await kv.get(k)).toBe("short");
      await sleep(150);
      expect(await kv.get(k)).toBeUndefined();
      expect(await kv.take(k)).toBeUndefined();
      await kv.set(k, "kept", 80);
      await kv.set(k, "kept");
      await sleep(150);
      expect(await kv.get(k)).toBe("kept");
    });

    it("setIfAbsent stores only into a missing or expired key and answers what is stored", async () => {
      const kv = store();
      const k = key("nx");
      expect(await kv.setIfAbsent(k, "first")).toBe("first");
      expect(await kv.setIfAbsent(k, "second")).toBe("first");
      expect(await kv.get(k)).toBe("first");

      const lock = key("lock");
      expect(await kv.setIfAbsent(lock, "owner-a", 80)).toBe("owner-a");
      expect(await kv.setIfAbsent(lock, "owner-b", 80)).toBe("owner-a");
      await sleep(150);
      expect(await kv.setIfAbsent(lock, "owner-b", 5_000)).toBe("owner-b");
    });

    it("lets exactly one of 20 concurrent setIfAbsent calls store its value", async () => {
      const kv = store();
      const k = key("race");
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => kv.setIfAbsent(k, `v${i}`)));
      expect(new Set(answers).size).toBe(1);
      expect(await kv.get(k)).toBe(answers[0]);
    });

    it("take reads and deletes at once: of 20 concurrent takers exactly one gets the value", async () => {
      const kv = store();
      const k = key("take");
      await kv.set(k, "code", 10_000);
      const taken = await Promise.all(Array.from({ length: 20 }, () => kv.take(k)));
      expect(taken.filter((v) => v !== undefined)).toEqual(["code"]);
      expect(await kv.get(k)).toBeUndefined();
    });

    it("deleteIfEquals deletes only the value it names", async () => {
      const kv = store();
      const k = key("cad");
      await kv.set(k, "mine", 10_000);
      expect(await kv.deleteIfEquals(k, "theirs")).toBe(false);
      expect(await kv.get(k)).toBe("mine");
      expect(await kv.deleteIfEquals(k, "mine")).toBe(true);
      expect(await kv.get(k)).toBeUndefined();
      expect(await kv.deleteIfEquals(k, "mine")).toBe(false);
    });

    it("counts hits in a fixed window that starts at the first hit, and starts again after it", async () => {
      const kv = store();
      const k = key("rl");
      const first = await kv.increment(k, 200);
      expect(first.count).toBe(1);
      expect(first.resetInMs).toBeGreaterThan(150);
      expect(first.resetInMs).toBeLessThanOrEqual(200);
      const hits = await Promise.all(Array.from({ length: 9 }, () => kv.increment(k, 200)));
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // The window does not move with later hits.
      for (const hit of hits) expect(hit.resetInMs).toBeLessThanOrEqual(first.resetInMs);
      await kv.decrement(k);
      expect((await kv.increment(k, 200)).count).toBe(10);
      await sleep(260);
      expect(await kv.increment(k, 200)).toMatchObject({ count: 1 });
    });

    it("reads a counter without counting: its count and the ms left, nothing once the window ended", async () => {
      const kv = store();
      const k = key("peek");
      expect(await kv.counter(k)).toBeUndefined();
      await kv.increment(k, 200);
      await kv.increment(k, 200);
      const seen = await kv.counter(k);
      expect(seen?.count).toBe(2);
      expect(seen?.resetInMs).toBeGreaterThan(100);
      expect(seen?.resetInMs).toBeLessThanOrEqual(200);
      expect((await kv.counter(k))?.count).toBe(2);
      await sleep(260);
      expect(await kv.counter(k)).toBeUndefined();
    });

    it("decrement after the window ended leaves nothing behind", async () => {
      const kv = store();
      const k = key("dec");
      await kv.increment(k, 60);
      await sleep(120);
      await kv.decrement(k);
      expect(await kv.get(k)).toBeUndefined();
      expect((await kv.increment(k, 1_000)).count).toBe(1);
    });
  });
}
