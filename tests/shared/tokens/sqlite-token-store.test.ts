import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type SqliteDatabase } from "../../../src/shared/sqlite/database.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { GRANT_GRACE_MS } from "../../../src/shared/tokens/sealed-records.ts";
import { SqliteTokenStore } from "../../../src/shared/tokens/sqlite-token-store.ts";
import { tokenStoreContract } from "../../support/token-store.contract.ts";

const dir = mkdtempSync(path.join(tmpdir(), "token-store-sqlite-"));
const file = path.join(dir, "state.sqlite");
let db: SqliteDatabase;
beforeAll(async () => {
  db = await openDatabase(file);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const rawQueries = {
  account: "SELECT * FROM airtable_accounts WHERE user_id = ?",
  client: "SELECT * FROM clients WHERE client_id = ?",
  grant: "SELECT * FROM grants WHERE grant_id = ?",
} as const;

tokenStoreContract(
  "sqlite",
  async (cipher, now) => ({
    store: new SqliteTokenStore({ db, cipher, ...(now && { now }) }),
    async readRaw(kind, id) {
      const row = db.prepare(rawQueries[kind]).get(id);
      return row === undefined ? undefined : JSON.stringify(row);
    },
  }),
  // Every statement runs to its end before the next (one thread, and SQLite's write lock across processes).
  { isolatesTransactions: true },
);

describe("SqliteTokenStore specifics", () => {
  const cipher = TokenCipher.create(randomBytes(32));

  it("keeps grants, clients and accounts across a reopen of the file (a restart)", async () => {
    const now = Date.now();
    const grant = {
      grantId: `grt${randomBytes(6).toString("hex")}`,
      userId: "usrRestart",
      clientId: "cliRestart",
      scopes: ["records:read" as const],
      resource: "http://localhost:8080/mcp",
      refreshTokenHash: "h0",
      generation: 0,
      createdAt: now,
      expiresAt: now + 86_400_000,
    };
    await new SqliteTokenStore({ db, cipher }).putGrant(grant);
    const reopened = await openDatabase(file);
    try {
      const store = new SqliteTokenStore({ db: reopened, cipher });
      expect(await store.getGrant(grant.grantId)).toEqual(grant);
      expect(await store.rotateRefreshToken(grant.grantId, "h0", "h1")).toMatchObject({ ok: true });
    } finally {
      reopened.close();
    }
  });

  it("deletes grants once their grace period after expiry has passed", async () => {
    let now = Date.now();
    const store = new SqliteTokenStore({ db, cipher, now: () => now });
    const base = {
      userId: "usrPurge",
      clientId: "cli",
      scopes: ["records:read" as const],
      resource: "http://localhost:8080/mcp",
      refreshTokenHash: "h",
      generation: 0,
      createdAt: now,
      expiresAt: now + 1_000,
    };
    await store.putGrant({ ...base, grantId: "grtPurgeOld" });
    now += 1_000 + GRANT_GRACE_MS / 2;
    // Expired but within grace: still there to answer "expired".
    expect(await store.rotateRefreshToken("grtPurgeOld", "h", "n")).toEqual({ ok: false, reason: "expired" });
    now += GRANT_GRACE_MS;
    await store.putGrant({ ...base, grantId: "grtPurgeNew", createdAt: now, expiresAt: now + 1_000 });
    expect(await store.rotateRefreshToken("grtPurgeOld", "h", "n")).toEqual({ ok: false, reason: "not_found" });
  });
});
