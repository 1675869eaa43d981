/**
 * How a process's composition root ends a start that failed (a port taken, DATA_DIR locked, a key file unreadable):
 * one sentence on stderr for the person who started it, then exit code 1.
 */

import { flushLogsSync } from "./logger.ts";

/**
 * Writes `<name> could not start: <message> (<cause>)` to stderr — the cause's message only when the message does
 * not already say it; never a stack trace — and exits the process with code 1. Never returns.
 */
export function exitOnStartFailure(name: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  const detail = cause !== undefined && !message.includes(cause) ? ` (${cause})` : "";
  // The log lines written before the failure (buffered for stdout) first: the sentence is the last thing on screen.
  flushLogsSync();
  process.stderr.write(`${name} could not start: ${message}${detail}\n`);
  process.exit(1);
}
