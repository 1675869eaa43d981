import { pino, type Logger, type LoggerOptions } from "pino";
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
    formatters: {
      level: (label) => ({ severity: severityByLevel[label] ?? "DEFAULT", level: label }),
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    // requestId / operationId of the request or job being handled, on every line (see log-context.ts).
    mixin: () => ({ ...currentLogContext() }),
  };
  if (settings.pretty) {
    return pino({ ...options, transport: { target: "pino-pretty", options: { messageKey: "message" } } });
  }
  return destination ? pino(options, destination) : pino(options);
}
