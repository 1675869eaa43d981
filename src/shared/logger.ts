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
/** What pino writes to: `stdout`, with warn-and-above lines written at once (stdoutDestination). */
let stdoutWriter: (pino.DestinationStream & { flush(cb?: (error?: Error) => void): void }) | undefined;

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

/** pino's level number of `warn`: a line at it or above is written at once, with the lines gathered before it. */
const URGENT_LEVEL = 40;
/** Bytes of JSON lines gathered before one write to stdout (pino's "Asynchronous Logging" page uses 4096). */
const STDOUT_BATCH_BYTES = 4096;
/** The longest (ms) an info or debug line waits for the batch to fill before it is written anyway. */
const STDOUT_FLUSH_MS = 100;

/**
 * fd 1 through sonic-boom 5 (this package's own dependency, so an installed package gets it too; pino 10 would
 * bring sonic-boom 4, whose flushSync retried a broken pipe every 100 ms forever and hung the process on exit).
 *
 * Lines are gathered and written together (`minLength` STDOUT_BATCH_BYTES, at the latest every STDOUT_FLUSH_MS), as
 * pino's "Asynchronous Logging" page (pino/docs/asynchronous.md) recommends for the least overhead: a write per line
 * cost each tool call a write of its own, measured in the many-users benchmark (docs/benchmarks.md, Session 33).
 * Each batch is one synchronous write (`sync`), never one through libuv's thread pool: such a write can wait there
 * behind busy threads (DNS lookups, crypto, fs) while a warn line is written at once, which then came before the
 * batch's older lines, or alone if the process was SIGKILLed (tests/shared/logger-stdout.test.ts). A stdout whose
 * reader stops reading blocks the process once the pipe is full, as pino's synchronous destination does, instead of
 * lines piling up in memory.
 *
 * A line at `warn` or above is written at once, with every line before it: an error reaches the logs even if the
 * process is killed right after it, and on Cloud Run with CPU only during requests (deploy/server-service.yaml) it
 * does not wait for the next request. What may wait there, or be lost to a SIGKILL, is up to STDOUT_FLUSH_MS of info
 * lines; a normal exit (SIGTERM included) writes them first.
 *
 * A broken pipe (EPIPE: whoever read stdout is gone) ends logging for the process, which keeps serving; any other
 * write error is thrown, outside the logging call.
 */
function stdoutDestination(): pino.DestinationStream {
  // One per process, whatever the number of loggers: one buffer for fd 1, one exit listener.
  if (stdoutWriter !== undefined) return stdoutWriter;
  const stream = new SonicBoom({ fd: 1, sync: true, minLength: STDOUT_BATCH_BYTES, periodicFlush: STDOUT_FLUSH_MS });
  stdout = stream;
  let broken = false;
  const brokenPipe = () => {
    broken = true;
    // Later lines go nowhere; nothing is buffered for an exit flush that could only fail.
    stream.write = () => true;
    stream.flushSync = () => {};
    // The periodic flush calls this: it would retry the failed batch every STDOUT_FLUSH_MS for good.
    stream.flush = () => {};
  };
  const failed = (error: NodeJS.ErrnoException): void => {
    if (error.code === "EPIPE") {
      if (!broken) brokenPipe();
      return;
    }
    // Not into the code that logged (a write is synchronous, inside its logger call): uncaught, it ends the process.
    process.nextTick(() => {
      throw error;
    });
  };
  stream.on("error", failed);
  process.once("exit", () => {
    try {
      stream.flushSync();
    } catch {
      // Stdout went away at the last moment: the last lines are lost, the exit is not.
    }
  });
  // The level of the line being written: pino sets `lastLevel` (and lastMsg, lastObj, lastTime, lastLogger, kept
  // nowhere here: lastObj would hold the last logged object alive) on a destination that asks for them, just
  // before each write, for child loggers too (pino/docs/api.md, "pino.metadata"). The level formatter cannot tell:
  // pino calls it once per level when a logger is made, so the last level it saw (fatal) would count for every line.
  let lastLevel = 0;
  const writer = {
    [Symbol.for("pino.metadata")]: true,
    set lastLevel(level: number) {
      lastLevel = level;
    },
    set lastMsg(_: unknown) {},
    set lastObj(_: unknown) {},
    set lastTime(_: unknown) {},
    set lastLogger(_: unknown) {},
    write(line: string) {
      stream.write(line);
      if (lastLevel < URGENT_LEVEL || broken) return;
      try {
        stream.flushSync();
      } catch (error) {
        failed(error as NodeJS.ErrnoException);
      }
    },
    // logger.flush(cb): the gathered lines, written now.
    flush: (cb?: (error?: Error) => void) => stream.flush(cb),
  };
  stdoutWriter = writer;
  return writer;
}
