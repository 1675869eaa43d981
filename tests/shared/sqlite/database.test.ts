import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runNodeScript } from "../../helpers/processes.ts";
import {
  isSqliteExperimentalWarning,
  lockDataDir,
  openDatabase,
  transaction,
} from "../../../src/shared/sqlite/database.ts";

const dir = mkdtempSync(path.join(tmpdir(), "sqlite-db-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lockDataDir", () => {
  it("one holder at a time (said as another process), released by release(); other failures said as they are", async () => {
    const dataDir = path.join(dir, "locked");
    const first = await lockDataDir(dataDir);
    await expect(lockDataDir(dataDir)).rejects.toThrow(
      `Another airtable-oauth-mcp is already running with DATA_DIR ${dataDir}`,
    );
    first.release();
    (await lockDataDir(dataDir)).release();

    const foreign = path.join(dir, "foreign");
    await lockDataDir(foreign).then((l) => l.release());
    writeFileSync(path.join(foreign, "instance.lock"), "not a database, but something else's file ".repeat(20));
    const refused = lockDataDir(foreign);
    await expect(refused).rejects.toThrow(/^Cannot lock .*instance\.lock: .*Check DATA_DIR/);
    await expect(refused).rejects.not.toThrow(/Another airtable-oauth-mcp/);
  });
});

describe("openDatabase", () => {
  it("creates DATA_DIR (mode 0700) and the file, in WAL mode", async () => {
    const dataDir = path.join(dir, "nested", "data");
    const db = await openDatabase(path.join(dataDir, "x.sqlite"));
    try {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    } finally {
      db.close();
    }
  });

  it("names the file and DATA_DIR when the database cannot be opened", async () => {
    const notADir = path.join(dir, "a-file");
    writeFileSync(notADir, "");
    await expect(openDatabase(path.join(notADir, "x.sqlite"))).rejects.toThrow(/a-file.*DATA_DIR|DATA_DIR/s);
  });

  it("rolls a transaction back when its function throws", async () => {
    const db = await openDatabase(":memory:");
    db.exec("CREATE TABLE t (v INTEGER)");
    expect(() =>
      transaction(db, () => {
        db.prepare("INSERT INTO t VALUES (1)").run();
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    db.close();
  });
});

describe("the node:sqlite ExperimentalWarning", () => {
  it("is recognised in each form Node emits it, and nothing else is", () => {
    const text = "SQLite is an experimental feature and might change at any time";
    expect(isSqliteExperimentalWarning(text, "ExperimentalWarning")).toBe(true);
    expect(isSqliteExperimentalWarning(text, { type: "ExperimentalWarning" })).toBe(true);
    expect(isSqliteExperimentalWarning(Object.assign(new Error(text), { name: "ExperimentalWarning" }))).toBe(true);
    expect(isSqliteExperimentalWarning("WASI is an experimental feature", "ExperimentalWarning")).toBe(false);
    expect(isSqliteExperimentalWarning(text, "DeprecationWarning")).toBe(false);
  });

  it("is not printed when the database opens, while other warnings still are", async () => {
    // A process that loads node:sqlite through openDatabase while Node would warn about it (emitted by hand, as
    // Node 22 does on load), then emits an unrelated warning: only the unrelated one reaches stderr.
    const script = path.join(dir, "warns.ts");
    const database = path.resolve("src/shared/sqlite/database.ts");
    writeFileSync(
      script,
      `import { loadSqlite } from ${JSON.stringify(database)};
       const real = process.emitWarning;
       const pending = loadSqlite();
       process.emitWarning("SQLite is an experimental feature and might change at any time", "ExperimentalWarning");
       await pending;
       process.emitWarning("something else", "ExperimentalWarning");
       if (process.emitWarning !== real) throw new Error("emitWarning was not restored");
       console.log("ok");`,
    );
    const result = await runNodeScript(script, {});
    expect(result.stdout.trim()).toBe("ok");
    expect(result.stderr).toContain("something else");
    expect(result.stderr).not.toContain("SQLite");
  });
});
