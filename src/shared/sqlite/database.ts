/**
 * The embedded mode's database: one SQLite file under DATA_DIR, opened with Node's built-in `node:sqlite`
 * (DatabaseSync). Built in, so `npm ci && npm start` needs no native addon to compile or download — it works on
 * machines without a compiler or internet access beyond the npm registry (better-sqlite3 would need either a
 * prebuilt binary from GitHub or a C++ toolchain).
 *
 * Every statement is synchronous and short (primary-key reads and writes of small rows): it runs on the event loop
 * in microseconds, and one statement (or one `transaction`) is atomic even against another process using the
 * same file. WAL journaling lets readers run while a write commits; `synchronous=NORMAL` keeps every commit
 * durable against a process crash (a power cut may lose the last commits, never corrupt the file).
 */
import path from "node:path";
import type * as NodeSqlite from "node:sqlite";
import type { DatabaseSync } from "node:sqlite";
import { DanglingSymlinkError, makeDirectory } from "../make-directory.ts";

export type SqliteDatabase = DatabaseSync;

/** The database's file name inside DATA_DIR. */
export const DATABASE_FILE = "airtable-oauth-mcp.sqlite";

/**
 * Whether a warning is the one Node 22 and earlier 24.x releases print when `node:sqlite` loads ("SQLite is an
 * experimental feature and might change at any time"; Node 24.21 no longer does). Nothing is wrong when it
 * appears, so the user should not see it; the API we use (DatabaseSync, prepare, run/get/all, RETURNING) is the
 * same in every Node version we support (≥ 22.18).
 */
export function isSqliteExperimentalWarning(warning: string | Error, typeOrOptions?: unknown): boolean {
  const message = typeof warning === "string" ? warning : warning.message;
  const type =
    typeof typeOrOptions === "string"
      ? typeOrOptions
      : typeof typeOrOptions === "object" && typeOrOptions !== null && "type" in typeOrOptions
        ? String((typeOrOptions as { type: unknown }).type)
        : typeof warning === "string"
          ? undefined
          : warning.name;
  return type === "ExperimentalWarning" && /\bSQLite\b/i.test(message);
}

let sqlite: Promise<typeof NodeSqlite> | undefined;

/**
 * `node:sqlite`, imported on first use with that one warning filtered out (every other warning still prints).
 * Imported lazily, not at the top of a module: a static import is hoisted above any code that could filter it.
 */
export function loadSqlite(): Promise<typeof NodeSqlite> {
  sqlite ??= (async () => {
    const emitWarning = process.emitWarning;
    process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
      if (isSqliteExperimentalWarning(warning, rest[0])) return;
      return (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
    } as typeof process.emitWarning;
    try {
      return await import("node:sqlite");
    } finally {
      process.emitWarning = emitWarning;
    }
  })();
  return sqlite;
}

/**
 * Opens (creating when missing) the SQLite database at `file`; its directory is created with mode 0700 (it holds
 * encrypted tokens and sign-in state: nobody else needs to list it). ":memory:" opens a private in-memory one.
 * Throws an Error naming the file and the cause when it cannot be opened (permissions, a directory in the way).
 */
export async function openDatabase(file: string): Promise<SqliteDatabase> {
  const { DatabaseSync } = await loadSqlite();
  let db: DatabaseSync;
  try {
    if (file !== ":memory:") makeDirectory(path.dirname(path.resolve(file)), 0o700);
    db = new DatabaseSync(file);
  } catch (error) {
    throw new Error(
      `Cannot open the database ${file}: ${error instanceof Error ? error.message : String(error)}. ` +
        "Check DATA_DIR: it must be a directory this process can write.",
      { cause: error },
    );
  }
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  // Another connection holding the write lock (this process's others; one process per DATA_DIR: lockDataDir) is
  // waited for, not an error.
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

/**
 * lockDataDir's error when another process holds the directory (and only then): a caller that can wait, or do
 * without the directory (stdio mode: src/stdio/state-dir.ts), tells it from a directory that cannot be used at all.
 */
export class DataDirBusyError extends Error {
  override name = "DataDirBusyError";
}

/** The file in DATA_DIR whose lock says a process is using the directory (see lockDataDir). */
const DATA_DIR_LOCK_FILE = "instance.lock";

/**
 * Claims `dataDir` for this process: one embedded instance per DATA_DIR. Two would each refresh the same Airtable
 * tokens (single-use refresh tokens: the other one's sign-in dies, and with it every grant of the user) and each
 * save its own copy of the fake Airtable's data. The claim is an exclusive SQLite lock on `instance.lock` held
 * for the process's life (`locking_mode = EXCLUSIVE`), so the operating system ends it when the process ends,
 * however it ends: no stale lock after a crash. `release()` ends it earlier (a clean stop).
 * Throws an Error naming DATA_DIR and what to do when it cannot be created (makeDirectory: a path under /proc, a
 * read-only or foreign parent, a symbolic link to nothing on the way) or cannot be locked, and a DataDirBusyError
 * when another process holds it.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): void }> {
  const { DatabaseSync } = await loadSqlite();
  const file = path.join(dataDir, DATA_DIR_LOCK_FILE);
  try {
    makeDirectory(dataDir, 0o700);
  } catch (error) {
    const anotherDirectory = "the default is ./data, under the directory the server is started in";
    // A link to nothing (DATA_DIR or a parent): mkdir's EEXIST named the link as if it were there.
    if (error instanceof DanglingSymlinkError) {
      throw new Error(
        `Cannot create DATA_DIR ${dataDir}: ${error.message}. Create the directory it points to ` +
          `(mkdir -p ${error.resolvedTarget}), point the link at an existing directory (ln -sfn <directory> ` +
          `${error.path}), or set DATA_DIR to another directory (${anotherDirectory}).`,
        { cause: error },
      );
    }
    throw new Error(
      `Cannot create DATA_DIR ${dataDir}: ${error instanceof Error ? error.message : String(error)}. ` +
        `Set DATA_DIR to a directory this process can create and write (${anotherDirectory}).`,
      { cause: error },
    );
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: 0 });
  } catch (error) {
    throw new Error(
      `Cannot open ${file}: ${error instanceof Error ? error.message : String(error)}. ` +
        "Check DATA_DIR: it must be a directory this process can write.",
      { cause: error },
    );
  }
  try {
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    // A write transaction takes the exclusive lock; in EXCLUSIVE locking mode it is kept after COMMIT.
    db.exec("BEGIN EXCLUSIVE");
    db.exec("COMMIT");
  } catch (error) {
    db.close();
    // SQLITE_BUSY (5, or an extended code whose low byte is 5): another connection holds the lock. Anything else
    // (a read-only or foreign file, a file system without locks) is said as it is, not as another process.
    if (((error as { errcode?: number }).errcode ?? 0) % 256 !== 5) {
      throw new Error(
        `Cannot lock ${file}: ${error instanceof Error ? error.message : String(error)}. ` +
          "Check DATA_DIR: it must be a writable directory on a file system with file locks (not a network share).",
        { cause: error },
      );
    }
    // No `cause`: the start failure prints a cause's message after the sentence, and SQLite's "database is locked"
    // there read as a fault of the database file (to be deleted?) rather than the other process named before it.
    throw new DataDirBusyError(
      `Another airtable-oauth-mcp is already running with DATA_DIR ${dataDir} (it holds ${file}). ` +
        "Use that one, stop it first, or give this one a DATA_DIR (and PORT) of its own; " +
        "for several processes on one deployment, set REDIS_URL (the distributed mode).",
    );
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}

/**
 * Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front, so two processes cannot
 * both read-then-write the same row). Commits when `fn` returns, rolls back when it throws. `fn` must be
 * synchronous: nothing else may run on this connection in between.
 */
export function transaction<T>(db: SqliteDatabase, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}
