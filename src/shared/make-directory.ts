import { mkdirSync, statSync } from "node:fs";
import path from "node:path";

/**
 * Creates directory `dir` and any missing parents, each with `mode` (e.g. 0o700), like `mkdir -p`; a directory
 * already there is fine. Throws the failing mkdir's own error (ENOENT, EACCES, EROFS, ENOTDIR…, naming the path)
 * when it cannot, and EEXIST when a non-directory is in the way.
 *
 * Why not `mkdirSync(dir, { recursive: true })`: on Linux, Node (24.21 at least) loops forever when a parent
 * exists but the child still cannot be made with ENOENT, as under /proc (`mkdir /proc/nope` answers ENOENT while
 * `/proc` exists): its walk steps back to the parent on ENOENT and forward on EEXIST, for ever, on the event
 * loop's thread, so `DATA_DIR=/proc/nope npm start` hung with no output. Here each directory is tried at most
 * twice: once, and once more after its parent was made; a second ENOENT is final.
 */
export function makeDirectory(dir: string, mode: number): void {
  const target = path.resolve(dir);
  try {
    mkdirOnce(target, mode);
  } catch (error) {
    const parent = path.dirname(target);
    // The root cannot be missing: its ENOENT is the answer.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || parent === target) throw error;
    makeDirectory(parent, mode);
    // The parent is there now: whatever this one answers (ENOENT included) is final.
    mkdirOnce(target, mode);
  }
}

/** Makes `dir`, whose parent must exist; returns when it is made or is already a directory, else throws. */
function mkdirOnce(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST" && isDirectory(dir)) return;
    throw error;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
