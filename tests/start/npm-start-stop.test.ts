/**
 * `npm start` stopped by a SIGTERM to npm itself (what a process manager, a CI job or a person's `kill <npm pid>`
 * sends): npm passes it to its `sh -c` shell, which exits without passing it on. The server notices its parent is
 * gone (src/shared/parent-exit.ts) and stops cleanly, freeing its port, instead of running on orphaned (newcomer
 * trial, session 23). Real npm, real shell, real server process (embedded, the fake Airtable).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { freePort } from "../e2e/helpers/server-process.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let npm: ChildProcess | undefined;
let serverPid: number | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  npm?.kill("SIGKILL");
  if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, "SIGKILL");
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("a SIGTERM to npm stops the server it started: it shuts down cleanly and frees its port", async () => {
  dataDir = await mkdtemp(join(tmpdir(), "npm-start-stop-"));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
  delete env.REDIS_URL; // embedded mode: the one-command start a newcomer runs
  delete env.AIRTABLE_CLIENT_ID;
  npm = spawn("npm", ["start"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  npm.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const closed = new Promise<void>((resolve) => npm!.stdout!.on("close", () => resolve()));

  await until("the server listens", () => /"message":"server listening"/.test(output), 60_000);
  serverPid = Number(/"pid":(\d+)[^\n]*"message":"server listening"/.exec(output)![1]);
  expect(serverPid).not.toBe(npm.pid);
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

  npm.kill("SIGTERM");
  // The server's clean stop: its own log lines, then the process gone and the port free.
  await until("the server process exits", () => !alive(serverPid!), 20_000);
  await closed; // the server held npm's stdout pipe: closed once it exited
  expect(output).toMatch(/"signal":"npm exited"[^\n]*"message":"shutting down"/);
  expect(output).toMatch(/"message":"stopped"/);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
}, 120_000);
