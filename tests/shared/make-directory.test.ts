/**
 * makeDirectory (src/shared/make-directory.ts), on the real file system: `mkdir -p` with a mode, and an error
 * instead of Node's endless loop where a parent exists but the child cannot be made (/proc).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { makeDirectory } from "../../src/shared/make-directory.ts";

const root = mkdtempSync(path.join(tmpdir(), "make-directory-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it("makes missing parents, each with the mode, and accepts a directory already there", () => {
  const dir = path.join(root, "a", "b", "c");
  makeDirectory(dir, 0o700);
  for (const made of [path.join(root, "a"), path.join(root, "a", "b"), dir]) {
    expect(statSync(made).isDirectory()).toBe(true);
    expect(statSync(made).mode & 0o777).toBe(0o700);
  }
  expect(() => makeDirectory(dir, 0o700)).not.toThrow();
});

it("refuses a file in the way with EEXIST", () => {
  const file = path.join(root, "file");
  writeFileSync(file, "");
  expect(() => makeDirectory(file, 0o700)).toThrow(expect.objectContaining({ code: "EEXIST" }));
  expect(() => makeDirectory(path.join(file, "below"), 0o700)).toThrow(expect.objectContaining({ code: "ENOTDIR" }));
});

it.skipIf(!existsSync("/proc/self"))("answers ENOENT under /proc (a parent that exists and takes no child)", () => {
  expect(() => makeDirectory("/proc/nope/deeper", 0o700)).toThrow(
    expect.objectContaining({ code: "ENOENT", path: "/proc/nope" }),
  );
});
