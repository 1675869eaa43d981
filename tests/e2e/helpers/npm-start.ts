/**
 * `npm start` (or any npm command) as a user runs it in a terminal: its own process group (npm, the shell and
 * node), an environment given whole, stdout and stderr kept. Stopping signals the group, as Ctrl-C in a terminal
 * does.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface NpmProcess {
  label: string;
  /** Resolves with the first match of `pattern` in stdout+stderr (checked as output arrives), or rejects. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Everything printed so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once npm has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startNpm(opts: {
  cwd: string;
  args: string[];
  env: Record<string, string>;
  label: string;
}): NpmProcess {
  const child: ChildProcess = spawn("npm", opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<() => void>();
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      ended = { code, signal };
      for (const check of waiters) check();
      resolve(ended);
    });
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      // already gone
    }
  };
  const groupAlive = (): boolean => {
    try {
      process.kill(-(child.pid as number), 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    label: opts.label,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${opts.label}: no ${pattern} within ${timeoutMs} ms. Output:\n${output.slice(-8_000)}`));
        }, timeoutMs);
        function check(): void {
          const match = pattern.exec(output);
          if (match === null && ended === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          if (match !== null) resolve(match);
          else
            reject(
              new Error(`${opts.label} exited (${JSON.stringify(ended)}) before ${pattern}:\n${output.slice(-8_000)}`),
            );
        }
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 15_000) {
      const deadline = Date.now() + graceMs;
      signalGroup("SIGTERM");
      // npm exits when its child does; then wait for the rest of the group (node finishing its clean stop).
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs))]);
      while (groupAlive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      if (groupAlive()) signalGroup("SIGKILL");
      return exited;
    },
  };
}
