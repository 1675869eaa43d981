/**
 * Real MCP clients from npm, run as child processes the way users run them: mcp-remote (the stdio bridge for
 * clients that only speak stdio) and the MCP Inspector CLI. Each gets a private temp directory for its state and
 * a headless browser (headless-opener.ts) for the step where it opens the user's browser.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const OPENER = fileURLToPath(new URL("./headless-opener.ts", import.meta.url));

/** A scratch directory (HOME, MCP_REMOTE_CONFIG_DIR, the opener's log), removed by `remove()`. */
export interface Scratch {
  dir: string;
  file(name: string): string;
  remove(): void;
}

export function scratchDir(label: string): Scratch {
  const dir = mkdtempSync(path.join(tmpdir(), `${label}-`));
  return { dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A program to put in BROWSER: xdg-open runs `$BROWSER <url>` when there is no desktop session. It runs the
 * headless opener with this test's Node (BROWSER cannot carry arguments safely, hence the wrapper script).
 */
export function browserCommand(scratch: Scratch): string {
  const wrapper = scratch.file("headless-browser");
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${OPENER}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

export interface OpenerVisit {
  opened: string;
  redirect?: string;
  callbackStatus?: number;
  error?: string;
}

/** What the headless browser was asked to open, and where each visit ended. */
export function openerVisits(logFile: string): OpenerVisit[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as OpenerVisit);
}

/** The environment of a real client's process: only what a user's shell would have, plus `extra`. */
export function clientEnv(scratch: Scratch, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: `${path.dirname(process.execPath)}:${path.join(repoRoot, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    HOME: scratch.dir,
    // No desktop session: xdg-open falls back to $BROWSER.
    ...extra,
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`), feeding `input` on stdin. */
export function runCommand(
  command: string,
  args: string[],
  opts: { env: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd ?? repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}
