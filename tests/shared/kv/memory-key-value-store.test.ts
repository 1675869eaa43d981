import { describe, expect, it } from "vitest";
import { MemoryKeyValueStore } from "../../../src/shared/kv/memory-key-value-store.ts";
import { keyValueStoreContract } from "../../support/key-value-store.contract.ts";

keyValueStoreContract(
  "memory",
  () => new MemoryKeyValueStore(),
  () => "mem",
);

describe("MemoryKeyValueStore", () => {
  it("sweeps expired entries as it writes, so a long-running process does not keep them", async () => {
    let now = 0;
    const kv = new MemoryKeyValueStore({ now: () => now });
    for (let i = 0; i < 500; i++) await kv.set(`old:${i}`, "x", 10);
    now = 100;
    for (let i = 0; i < 500; i++) await kv.set(`new:${i}`, "x", 10_000);
    // 1,000 writes: the sweep ran and dropped the 500 expired ones without anyone reading them.
    let live = 0;
    for (let i = 0; i < 500; i++) live += (await kv.get(`new:${i}`)) === undefined ? 0 : 1;
    expect(live).toBe(500);
    expect(await kv.get("old:0")).toBeUndefined();
  });
});
