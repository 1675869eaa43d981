import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const made: string[] = [];

/**
 * A new empty directory under the system's temporary directory, for one spawned stdio process's state (as DATA_DIR
 * or XDG_DATA_HOME). Without REDIS_URL a stdio process keeps its write operations in the platform's per-user data
 * directory (src/stdio/state-dir.ts), one per Airtable account: test files running at once with the same demo user
 * would otherwise share the tester's own one, and a second copy waits for the first to let go. Removed by
 * removeStateDirs.
 */
export function privateStateDir(label = "stdio"): string {
  const dir = mkdtempSync(path.join(tmpdir(), `amcp-${label}-`));
  made.push(dir);
  return dir;
}

/** Removes every directory privateStateDir made in this file (call in afterAll, once its processes have ended). */
export function removeStateDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
