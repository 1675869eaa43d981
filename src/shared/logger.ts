import { pino, type Logger, type LoggerOptions } from "pino";
import { createRequire } from "node:module";
import type { SonicBoom as SonicBoomStream, SonicBoomOpts } from "sonic-boom";
import { currentLogContext } from "./log-context.ts";

export type { Logger };

/** Cloud Logging reads `severity`; pino's numeric `level` means nothing to it. */
const severityByLevel: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/** Any field with one of these names is replaced before a line is written: tokens never reach the logs. */
export const redactedPaths = [
  "token",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "authorization",
  "password",
  "clientSecret",
  "client_secret",
  "code_verifier",
  "*.token",
  "*.accessToken",
  "*.refreshToken",
  "*.access_token",
  "*.refresh_token",
  "*.authorization",
  "*.clientSecret",
  "*.client_secret",
  "req.headers.authorization",
  "req.headers.cookie",
];

/**
 * pino's error serializer, without the arguments of a failed Redis command: ioredis attaches `command` (name and
 * every argument) to a ReplyError, and those arguments can be a whole operation's input (the records an agent
 * sent: customer data, up to megabytes) or token hashes. An OOM or READONLY reply would write them all into one
 * ERROR line. The command's name and argument count stay.
 */
function serializeError(error: unknown): unknown {
  const out = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  const command = out?.command as { name?: unknown; args?: unknown } | undefined;
  if (typeof command === "object" && command !== null && Array.isArray(command.args)) {
    // A copy: for a value that is not an Error, pino hands back the caller's own object.
    return { ...out, command: { name: command.name, args: `[${command.args.length} arguments omitted]` } };
  }
  return out;
}

export interface LoggerSettings {
  level: string;
  pretty?: boolean;
  name?: string;
}

export function createLogger(settings: LoggerSettings, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level,
    messageKey: "message",
    redact: { paths: redactedPaths, censor: "[redacted]" },
    serializers: { err: serializeError },
    formatters: {
      // Called once per level when a logger is made (pino caches the result), never per line.
      level: (label) => ({ severity: severityByLevel[label] ?? "DEFAULT", level: label }),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    // requestId / operationId of the request or job being handled, on every line (see log-context.ts).
    mixin: () => ({ ...currentLogContext() }),
  };
  if (settings.pretty) {
    // `severity` is Cloud Logging's copy of the level (the JSON lines' own); pretty lines show the level already.
    return pino({
      ...options,
      transport: { target: "pino-pretty", options: { messageKey: "message", ignore: "pid,hostname,severity" } },
    });
  }
  return pino(options, destination ?? stdoutDestination());
}

// sonic-boom is CommonJS (`module.exports = SonicBoom`) while its types declare a named export: loaded by require.
const SonicBoom = createRequire(import.meta.url)("sonic-boom") as new (opts: SonicBoomOpts) => SonicBoomStream;
let stdout: SonicBoomStream | undefined;

/**
 * Writes out the JSON log lines still waiting for stdout, now: none but what a write that met EAGAIN (a full
 * non-blocking pipe) left, since each line is written in its logging call (a no-op before any logger wrote there, or
 * after a broken pipe). For a start that fails: its last log lines then come before the one sentence on stderr, not
 * after it. Pretty logs (LOG_PRETTY, `npm run dev`) go through pino-pretty's worker thread and are not covered.
 */
export function flushLogsSync(): void {
  try {
    stdout?.flushSync();
  } catch {
    // Stdout went away: nothing to keep in order.
  }
}

/**
 * fd 1 through sonic-boom 5 (this package's own dependency, so an installed package gets it too; pino 10 would
 * bring sonic-boom 4, whose flushSync retried a broken pipe every 100 ms forever and hung the process on exit).
 *
 * Each line is one synchronous write (`sync`), in the logging call, as Node writes `console.log` to a pipe on Linux:
 * a line is in the logs as soon as it is logged, in order, even if the process is killed right after, and on Cloud
 * Run with CPU only during requests (deploy/server-service.yaml) no line waits for the next request. pino's default,
 * an asynchronous write through libuv's thread pool per line, let a SIGKILL lose lines still queued there and let
 * lines pile up in memory behind a stalled reader; a stdout whose reader stops reading now holds the process up once
 * the pipe is full. Batching lines (sonic-boom `minLength`) was measured in session 33 and bought no CPU in the
 * many-users benchmark (docs/benchmarks.md, Session 33), so nothing is gathered.
 *
 * A broken pipe (EPIPE: whoever read stdout is gone) ends logging for the process, which keeps serving; any other
 * write error is thrown outside the logging call and ends the process.
 */
function stdoutDestination(): SonicBoomStream {
  // One per process, whatever the number of loggers: one stream for fd 1, one exit listener.
  if (stdout !== undefined) return stdout;
  const stream = new SonicBoom({ fd: 1, sync: true });
  stdout = stream;
  let broken = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") {
      if (broken) return;
      broken = true;
      // Later lines go nowhere; nothing is kept for an exit flush that could only fail.
      stream.write = () => true;
      stream.flushSync = () => {};
      return;
    }
    // Not into the code that logged (the write is synchronous, inside its logger call): uncaught, it ends the process.
    process.nextTick(() => {
      throw error;
    });
  });
  process.once("exit", () => {
    try {
      // What a write that met EAGAIN (a non-blocking pipe that was full) left behind.
      stream.flushSync();
    } catch {
      // Stdout went away at the last moment: the last lines are lost, the exit is not.
    }
  });
  return stream;
}
