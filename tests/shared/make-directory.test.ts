/**
 * makeDirectory (src/shared/make-directory.ts), on the real file system: `mkdir -p` with a mode, and an error
 * instead of Node's endless loop where a parent exists but the child cannot be made (/proc), and one that says a
 * symbolic link to nothing is in the way (mkdir's own EEXIST named the link as if it were there).
 */
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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

it("says which symbolic link points at nothing, whether it is the directory asked for or a parent", () => {
  const missing = path.join(root, "missing");
  const link = path.join(root, "dangling");
  symlinkSync(missing, link);
  const expected = expect.objectContaining({
    name: "DanglingSymlinkError",
    code: "EEXIST",
    path: link,
    target: missing,
    resolvedTarget: missing,
    message: `${link} is a symbolic link to ${missing}, which does not exist`,
  });
  expect(() => makeDirectory(link, 0o700)).toThrow(expected);
  expect(() => makeDirectory(path.join(link, "data", "deeper"), 0o700)).toThrow(expected);
  expect(existsSync(missing)).toBe(false);

  // A relative target is shown as the link holds it, with the directory to create beside it.
  const relative = path.join(root, "dangling-relative");
  symlinkSync("missing-too", relative);
  expect(() => makeDirectory(path.join(relative, "data"), 0o700)).toThrow(
    expect.objectContaining({
      path: relative,
      target: "missing-too",
      resolvedTarget: path.join(root, "missing-too"),
      message: `${relative} is a symbolic link to missing-too (${path.join(root, "missing-too")}), which does not exist`,
    }),
  );
});

it("follows a symbolic link to a directory, and keeps EEXIST for a link to a file", () => {
  const real = path.join(root, "real");
  makeDirectory(real, 0o700);
  const toDir = path.join(root, "link-to-dir");
  symlinkSync(real, toDir);
  makeDirectory(path.join(toDir, "inside"), 0o700);
  expect(statSync(path.join(real, "inside")).isDirectory()).toBe(true);
  const file = path.join(root, "target-file");
  writeFileSync(file, "");
  const toFile = path.join(root, "link-to-file");
  symlinkSync(file, toFile);
  expect(() => makeDirectory(toFile, 0o700)).toThrow(
    expect.objectContaining({ code: "EEXIST", message: expect.stringContaining("file already exists") }),
  );
});

it.skipIf(!existsSync("/proc/self"))("answers ENOENT under /proc (a parent that exists and takes no child)", () => {
  expect(() => makeDirectory("/proc/nope/deeper", 0o700)).toThrow(
    expect.objectContaining({ code: "ENOENT", path: "/proc/nope" }),
  );
});
