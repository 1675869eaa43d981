/**
 * Calls `onExit` once when this process's parent exits (it is re-parented: `process.ppid` changes, to 1 or to a
 * subreaper), checking every `intervalMs` (default 1,000 ms; the timer is unref'd, so it never keeps the process
 * alive). Returns a function that stops the watch.
 *
 * Why: `npm start` runs the server as `sh -c "node src/main.ts"`; npm passes a SIGTERM on to that shell, which exits
 * without passing it on, so a process manager (or a person's `kill`) stopping npm left the server running, orphaned,
 * holding its port and DATA_DIR lock (newcomer trial, session 23, npm 11 with Debian's dash). Ctrl-C in a terminal
 * was never affected: it signals the whole foreground process group. Node has no parent-death signal
 * (Linux's PR_SET_PDEATHSIG is not exposed), hence the poll; `process.ppid` asks the OS each time it is read.
 */
export function onParentExit(onExit: () => void, intervalMs = 1_000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Whether npm started this process (`npm start`, `npm run …`, `npx`): npm sets `npm_lifecycle_event` for a script
 * and `npm_command` for every command. Only then is a parent's exit taken as a stop: started from a shell with `&`
 * or `nohup`, or by a supervisor, the server must outlive a parent that goes away.
 */
export function startedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.npm_lifecycle_event !== undefined || env.npm_command !== undefined;
}
