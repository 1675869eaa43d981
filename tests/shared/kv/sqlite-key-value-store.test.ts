import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteKeyValueStore } from "../../../src/shared/kv/sqlite-key-value-store.ts";
import { openDatabase, type SqliteDatabase } from "../../../src/shared/sqlite/database.ts";
import { keyValueStoreContract } from "../../support/key-value-store.contract.ts";

const dir = mkdtempSync(path.join(tmpdir(), "kv-sqlite-"));
const file = path.join(dir, "state.sqlite");
let db: SqliteDatabase;
beforeAll(async () => {
  db = await openDatabase(file);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

keyValueStoreContract(
  "sqlite",
  () => new SqliteKeyValueStore(db),
  () => "sql",
);

describe("SqliteKeyValueStore", () => {
  it("keeps values across a reopen of the file (a process restart), expiry included", async () => {
    await new SqliteKeyValueStore(db).set("restart:kept", "revoked");
    await new SqliteKeyValueStore(db).set("restart:gone", "short", 1);
    const reopened = await openDatabase(file);
    try {
      const kv = new SqliteKeyValueStore(reopened);
      expect(await kv.get("restart:kept")).toBe("revoked");
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await kv.get("restart:gone")).toBeUndefined();
    } finally {
      reopened.close();
    }
  });

  it("sweeps expired rows as it writes", async () => {
    let now = 1_000;
    const kv = new SqliteKeyValueStore(db, { now: () => now });
    for (let i = 0; i < 999; i++) await kv.set(`sweep:${i}`, "x", 10);
    now = 2_000;
    await kv.set("sweep:last", "x");
    const left = db.prepare("SELECT count(*) AS n FROM kv WHERE key LIKE 'sweep:%'").get() as { n: number };
    expect(left.n).toBe(1);
  });
});
