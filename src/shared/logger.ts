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
 * Writes out the JSON log lines still buffered for stdout, now (a no-op before any logger wrote there, or after a
 * broken pipe). For a start that fails: its last log lines then come before the one sentence on stderr, not after
 * it. Pretty logs (LOG_PRETTY, `npm run dev`) go through pino-pretty's worker thread and are not covered.
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
 * Asynchronous like pino's default destination, flushed on exit like it. A broken pipe (EPIPE: whoever read
 * stdout is gone) ends logging for the process, which keeps serving; any other write error is thrown.
 */
function stdoutDestination(): SonicBoomStream {
  // One per process, whatever the number of loggers: one buffer for fd 1, one exit listener.
  if (stdout !== undefined) return stdout;
  const stream = new SonicBoom({ fd: 1 });
  stdout = stream;
  let broken = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (broken) return;
    broken = true;
    // Later lines go nowhere; nothing is buffered for an exit flush that could only fail.
    stream.write = () => true;
    stream.flushSync = () => {};
  });
  process.once("exit", () => {
    try {
      stream.flushSync();
    } catch {
      // Stdout went away at the last moment: the last lines are lost, the exit is not.
    }
  });
  return stream;
}
