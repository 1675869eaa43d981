/**
 * A real server instance: `node src/server/main.ts` as its own OS process, configured only through its
 * environment, as a deployment would run it. Output is kept so a failing test can show what the server said.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { compileCacheEnv } from "../../helpers/compile-cache.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = "src/server/main.ts";
/** Enough of a process's output to explain a failure without flooding the report. */
const SHOW_CHARS = 20_000;
/** Everything a process printed, up to this much (the log-hygiene test reads whole runs). */
const KEEP_CHARS = 20_000_000;

/**
 * Ports freePort picks from: below Linux's ephemeral range (32768–60999, /proc/sys/net/ipv4/ip_local_port_range),
 * so the number is never one the kernel hands out meanwhile, neither as the local port of an outbound connection
 * (every Redis and HTTP client of the parallel test files makes those) nor to another `listen(0)`. A port the kernel
 * picked with `listen(0)` could be taken that way between the check and the server's own listen: a server of
 * tests/e2e/log-hygiene.test.ts once failed to start with EADDRINUSE on such a port in CI.
 */
const PORT_RANGE = { from: 20_000, to: 32_000 };

/**
 * A port nobody listens on right now, on every address (`::`, as the servers listen), picked at random from
 * PORT_RANGE; the number is handed to the server, which listens on it itself. Throws after 50 ports in use.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    const server = createServer();
    const listening = once(server, "listening").then(() => true);
    const refused = once(server, "error").then(() => false);
    server.listen(port);
    if (!(await Promise.race([listening, refused]))) continue;
    server.close();
    await once(server, "close");
    return port;
  }
  throw new Error(`no free port found in ${PORT_RANGE.from}–${PORT_RANGE.to} after 50 tries`);
}

export interface ServerProcess {
  /** "http://127.0.0.1:PORT": where this instance listens (not necessarily the deployment's PUBLIC_URL). */
  url: string;
  label: string;
  /** The OS process id (the benchmark reads its CPU time and RSS from /proc). */
  pid: number;
  /** Sends a signal (SIGKILL: the process dies mid-work, as on a crashed machine). */
  kill(signal: NodeJS.Signals): void;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The instance's stdout and stderr so far (the tail, when long). */
  output(): string;
  /** Everything the process printed (up to 20 MB), unlabelled. */
  fullOutput(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServerProcess(opts: {
  port: number;
  env: Record<string, string>;
  label: string;
  startTimeoutMs?: number;
  /** Options for Node itself, before the script (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}): Promise<ServerProcess> {
  return startNodeProcess({ ...opts, main: MAIN, env: { ...opts.env, PORT: String(opts.port) } });
}

/** A worker process (`node src/worker/main.ts`); `port` is its HEALTH_PORT, where /healthz answers once it is ready. */
export async function startWorkerProcess(opts: {
  port: number;
  env: Record<string, string>;
  label: string;
  startTimeoutMs?: number;
}): Promise<ServerProcess> {
  return startNodeProcess({
    ...opts,
    main: "src/worker/main.ts",
    env: { ...opts.env, HEALTH_PORT: String(opts.port) },
  });
}

/**
 * Any Node script of this repository as its own process (`main` relative to the repository root), started like
 * the server: ready once GET `url/healthz` answers 2xx on `port`. Rejects, showing the process's output, when it
 * exits during start or has not answered within `startTimeoutMs` (default 60 s; it is then stopped).
 */
export async function startNodeProcess(opts: {
  main: string;
  nodeArgs?: string[];
  port: number;
  env: Record<string, string>;
  label: string;
  startTimeoutMs?: number;
}): Promise<ServerProcess> {
  const url = `http://127.0.0.1:${opts.port}`;
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.main], {
    cwd: repoRoot,
    // Only what a deployment would set, plus PATH/HOME and the compile cache for Node itself: nothing leaks in from
    // the test runner.
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...compileCacheEnv, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-KEEP_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const describe = (): string => `[${opts.label} ${url}] output:\n${output.slice(-SHOW_CHARS) || "(none)"}`;
  const stop = async (graceMs = 3_000): Promise<void> => {
    if (exited !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exit;
    clearTimeout(timer);
  };

  // 60 s: a process loads ~300 TypeScript modules by type stripping; on 2 busy cores that alone took 15–20 s.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited !== undefined) {
      throw new Error(
        `${opts.label} exited during start (code ${exited.code}, signal ${exited.signal}). ${describe()}`,
      );
    }
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (res) => res.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop(500);
      throw new Error(`${opts.label} did not answer /healthz in time. ${describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    label: opts.label,
    pid: child.pid ?? -1,
    output: describe,
    fullOutput: () => output,
    stop,
    kill: (signal) => child.kill(signal),
    exited: exit,
  };
}
