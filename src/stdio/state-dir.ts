/**
 * Where stdio mode without REDIS_URL keeps its write operations, so that a process its MCP client restarted (a
 * reconnect, an app restart, a config edit) resumes the writes the one before left unfinished and answers
 * get_operation / list_operations about them.
 *
 * The directory: DATA_DIR when set, else the per-user data directory of the platform from `env-paths`
 * (sindresorhus/env-paths, no suffix): Linux `$XDG_DATA_HOME/airtable-oauth-mcp` or
 * `~/.local/share/airtable-oauth-mcp` (XDG Base Directory spec), macOS `~/Library/Application
 * Support/airtable-oauth-mcp`, Windows `%LOCALAPPDATA%\airtable-oauth-mcp\Data`. Not `./data` as `npm start` uses:
 * a desktop client starts the process in a working directory of its choosing. Inside it, one directory per
 * Airtable account, `stdio/<user id from whoami>/` (mode 0700), holding an `instance.lock` and the SQLite file: a
 * process never opens, lists or resumes another account's operations, and a DATA_DIR shared with `npm start`
 * (whose own files sit at its top) is not disturbed.
 *
 * Two live copies for one account (two desktop apps, or a restart overlapping the old process's shutdown): the
 * directory is claimed with lockDataDir (an OS file lock, released however the process ends). A copy that finds it
 * held waits up to STATE_CLAIM_WAIT_MS for a previous copy that is shutting down, then does without: its
 * operations live in memory only (the earlier behaviour), and it says why. One holder per file means one process
 * resumes an operation, never two (a double write is the worst outcome this project has).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import envPaths from "env-paths";
import { SqliteKeyValueStore } from "../shared/kv/sqlite-key-value-store.ts";
import { SqliteOperationLog } from "../shared/operations/sqlite-operation-log.ts";
import { DATABASE_FILE, DataDirBusyError, lockDataDir, openDatabase } from "../shared/sqlite/database.ts";

/**
 * How long a starting copy waits for the account's directory held by another (ms): a previous copy being closed by
 * its client has ended within this (the MCP SDK's stdio client sends SIGTERM 2 s after closing stdin and SIGKILL 2 s
 * later; our close takes at most about 1.5 s plus closing the file).
 */
export const STATE_CLAIM_WAIT_MS = 5_000;
const CLAIM_POLL_MS = 100;

/** The product's name in the platform's data directory (env-paths, without its default "-nodejs" suffix). */
const APP_NAME = "airtable-oauth-mcp";

/**
 * The directory under which stdio keeps its state: DATA_DIR when set to something other than blanks (resolved
 * against the working directory: give an absolute path, a desktop client picks the working directory), else the
 * platform's per-user data directory (env-paths; reads HOME, XDG_DATA_HOME, LOCALAPPDATA of this process).
 */
export function stdioStateRoot(env: NodeJS.ProcessEnv): { root: string; fromDataDir: boolean } {
  const dataDir = env.DATA_DIR?.trim();
  if (dataDir !== undefined && dataDir !== "") return { root: path.resolve(dataDir), fromDataDir: true };
  return { root: envPaths(APP_NAME, { suffix: "" }).data, fromDataDir: false };
}

/**
 * The account's own directory: `<root>/stdio/<userId>`. An id that is not a plain file name (Airtable's are `usr`
 * and 14 letters or digits) is replaced by 32 hex digits of its SHA-256, so no id can reach outside `root`.
 */
export function accountStateDir(root: string, userId: string): string {
  const name = /^[A-Za-z0-9_-]{1,64}$/.test(userId)
    ? userId
    : createHash("sha256").update(userId).digest("hex").slice(0, 32);
  return path.join(root, "stdio", name);
}

/** The account's directory claimed: its operation logs and recent-call claims, in its SQLite file. */
export interface StdioStateOnDisk {
  kind: "disk";
  dir: string;
  file: string;
  operations: SqliteOperationLog;
  /** RecentCalls' claims (recent-calls.ts): they must outlive the process as the operations do. */
  kv: SqliteKeyValueStore;
  /** How long the claim waited for another process to let go (ms; 0 when the directory was free). */
  waitedMs: number;
  /** Closes the file and ends the claim. Call once every run has stopped. */
  close(): void;
}

/** Why this process keeps its operations in memory only. */
export interface StdioStateInMemory {
  kind: "memory";
  /** busy: another copy holds the directory; unusable: it cannot be created, locked or opened. */
  problem: "busy" | "unusable";
  dir: string;
  /** The cause, said plainly (for the stderr line). */
  detail: string;
}

export type StdioState = StdioStateOnDisk | StdioStateInMemory;

export interface ClaimOptions {
  root: string;
  userId: string;
  /** OPERATION_RETENTION_HOURS in ms. */
  retentionMs: number;
  /** How long to wait for another copy to let go (ms). Default STATE_CLAIM_WAIT_MS. */
  waitMs?: number;
}

/**
 * Claims the account's directory and opens its operation log, waiting up to `waitMs` while another process holds
 * it. Never throws: a directory held past the wait, or one that cannot be used, is answered as StdioStateInMemory
 * (the caller decides whether that is fatal).
 */
export async function claimStdioState(opts: ClaimOptions): Promise<StdioState> {
  const dir = accountStateDir(opts.root, opts.userId);
  const startedAt = Date.now();
  const deadline = startedAt + (opts.waitMs ?? STATE_CLAIM_WAIT_MS);
  let waited = false;
  let lock: { release(): void };
  for (;;) {
    try {
      lock = await lockDataDir(dir);
      break;
    } catch (error) {
      if (!(error instanceof DataDirBusyError))
        return { kind: "memory", problem: "unusable", dir, detail: cause(error) };
      if (Date.now() >= deadline) {
        return { kind: "memory", problem: "busy", dir, detail: `another process holds ${dir}` };
      }
      waited = true;
      await sleep(CLAIM_POLL_MS);
    }
  }
  const file = path.join(dir, DATABASE_FILE);
  try {
    const db = await openDatabase(file);
    try {
      const operations = new SqliteOperationLog({ db, retentionMs: opts.retentionMs });
      const kv = new SqliteKeyValueStore(db);
      return {
        kind: "disk",
        dir,
        file,
        operations,
        kv,
        waitedMs: waited ? Date.now() - startedAt : 0,
        close() {
          db.close();
          lock.release();
        },
      };
    } catch (error) {
      db.close();
      throw error;
    }
  } catch (error) {
    lock.release();
    return { kind: "memory", problem: "unusable", dir, detail: `${file}: ${cause(error)}` };
  }
}

/**
 * The innermost message of an error: lockDataDir and openDatabase wrap the system's error in advice written for
 * `npm start` (its ./data default), which would mislead here.
 */
function cause(error: unknown): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}
