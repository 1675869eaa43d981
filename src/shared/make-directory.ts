import { lstatSync, mkdirSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";

/**
 * makeDirectory's error when `dir` or one of its parents is a symbolic link whose target does not exist (a
 * dangling link: `ln -s /nonexistent /tmp/x`, then `/tmp/x` or `/tmp/x/data`). mkdir answers EEXIST for the link
 * ("file already exists", naming the link), which read as if the directory were there: this says what is. The
 * message is "`<path>` is a symbolic link to `<target>`, which does not exist" (the target as the link holds it,
 * with its absolute form in parentheses when it is relative). `code` stays mkdir's EEXIST.
 */
export class DanglingSymlinkError extends Error {
  readonly code = "EEXIST";
  readonly syscall = "mkdir";
  /** The link, absolute. */
  readonly path: string;
  /** Where it points, as the link holds it (possibly relative to the link's directory). */
  readonly target: string;
  /** `target` made absolute: the directory to create for the link to work. */
  readonly resolvedTarget: string;

  constructor(link: string, target: string, cause: unknown) {
    const resolvedTarget = path.resolve(path.dirname(link), target);
    const shown = resolvedTarget === target ? target : `${target} (${resolvedTarget})`;
    super(`${link} is a symbolic link to ${shown}, which does not exist`, { cause });
    this.name = "DanglingSymlinkError";
    this.path = link;
    this.target = target;
    this.resolvedTarget = resolvedTarget;
  }
}

/**
 * Creates directory `dir` and any missing parents, each with `mode` (e.g. 0o700), like `mkdir -p`; a directory
 * already there is fine. Throws the failing mkdir's own error (ENOENT, EACCES, EROFS, ENOTDIR…, naming the path)
 * when it cannot, EEXIST when a non-directory is in the way, and a {@link DanglingSymlinkError} when that
 * non-directory is a symbolic link to nothing (`dir` itself or a parent; `mkdir -p` says "File exists" there).
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
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    if (isDirectory(dir)) return;
    const target = danglingLinkTarget(dir);
    throw target === undefined ? error : new DanglingSymlinkError(dir, target, error);
  }
}

/** What `file` points at when it is a symbolic link whose target is missing; undefined for anything else. */
function danglingLinkTarget(file: string): string | undefined {
  try {
    if (!lstatSync(file).isSymbolicLink()) return undefined;
    statSync(file);
    return undefined; // the target exists (a file: plain EEXIST says it)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    try {
      return readlinkSync(file);
    } catch {
      return undefined;
    }
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
