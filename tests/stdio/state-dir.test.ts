/**
 * The claim of a stdio account's state directory (src/stdio/state-dir.ts) on real files and real SQLite locks: a
 * holder that lets go within the wait is waited for (a previous copy shutting down), one that does not leaves the
 * claimer in memory saying so, an unusable directory is said as such, and no user id reaches outside the root.
 * (The processes' side of it: tests/stdio/stdio-resume.test.ts.)
 */
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { lockDataDir } from "../../src/shared/sqlite/database.ts";
import { accountStateDir, claimStdioState, stdioStateRoot } from "../../src/stdio/state-dir.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";

afterAll(() => removeStateDirs());

const retentionMs = 3_600_000;

it("waits for a holder that lets go within the wait (a previous copy shutting down), then holds the file", async () => {
  const root = privateStateDir("claim-wait");
  const held = await lockDataDir(accountStateDir(root, "usrWaiting"));
  setTimeout(() => held.release(), 600);
  const state = await claimStdioState({ root, userId: "usrWaiting", retentionMs, waitMs: 5_000 });
  expect(state.kind).toBe("disk");
  if (state.kind !== "disk") return;
  expect(state.waitedMs).toBeGreaterThanOrEqual(500);
  expect(state.file).toBe(path.join(root, "stdio", "usrWaiting", "airtable-oauth-mcp.sqlite"));
  expect(await state.operations.unfinished()).toEqual([]);
  // Held now: the next claimer does without it.
  const second = await claimStdioState({ root, userId: "usrWaiting", retentionMs, waitMs: 200 });
  expect(second).toMatchObject({ kind: "memory", problem: "busy" });
  state.close();
  const third = await claimStdioState({ root, userId: "usrWaiting", retentionMs, waitMs: 0 });
  expect(third).toMatchObject({ kind: "disk", waitedMs: 0 });
  if (third.kind === "disk") third.close();
});

it("a holder that keeps it past the wait leaves the claimer in memory, naming the directory", async () => {
  const root = privateStateDir("claim-busy");
  const dir = accountStateDir(root, "usrBusy");
  const held = await lockDataDir(dir);
  try {
    const started = Date.now();
    const state = await claimStdioState({ root, userId: "usrBusy", retentionMs, waitMs: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(state).toEqual({ kind: "memory", problem: "busy", dir, detail: `another process holds ${dir}` });
  } finally {
    held.release();
  }
});

it("a directory that cannot be created is unusable, with the system's reason, at once", async () => {
  const root = privateStateDir("claim-unusable");
  writeFileSync(path.join(root, "stdio"), "a file where the directory goes");
  const started = Date.now();
  const state = await claimStdioState({ root, userId: "usrNoDir", retentionMs });
  expect(Date.now() - started).toBeLessThan(1_000);
  expect(state).toMatchObject({ kind: "memory", problem: "unusable" });
  if (state.kind === "memory") expect(state.detail).toMatch(/EEXIST|ENOTDIR|not a directory|exists/i);
});

it("a user id that is not a plain file name stays inside the root", () => {
  const root = "/state";
  expect(accountStateDir(root, "usrAbc123DEF456ghi")).toBe("/state/stdio/usrAbc123DEF456ghi");
  const odd = accountStateDir(root, "../../etc");
  expect(path.dirname(odd)).toBe("/state/stdio");
  expect(path.basename(odd)).toMatch(/^[0-9a-f]{32}$/);
  expect(existsSync(odd)).toBe(false);
});

it("DATA_DIR (not blank) is the root; else the platform's per-user data directory (XDG_DATA_HOME on Linux)", () => {
  expect(stdioStateRoot({ DATA_DIR: "/srv/mcp" })).toEqual({ root: "/srv/mcp", fromDataDir: true });
  expect(stdioStateRoot({ DATA_DIR: "rel" })).toEqual({ root: path.resolve("rel"), fromDataDir: true });
  const saved = process.env.XDG_DATA_HOME;
  process.env.XDG_DATA_HOME = "/xdg/data";
  try {
    if (process.platform === "linux") {
      expect(stdioStateRoot({ DATA_DIR: "  " })).toEqual({ root: "/xdg/data/airtable-oauth-mcp", fromDataDir: false });
    }
  } finally {
    if (saved === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = saved;
  }
});
