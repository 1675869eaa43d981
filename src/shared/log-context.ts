/**
 * Ids that belong on every log line written while handling one thing — the HTTP request id on the server, the
 * operation id in a worker — without threading a child logger through every call: the logger's `mixin` reads
 * them from here (AsyncLocalStorage follows the async calls of the request or job).
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface LogContext {
  requestId?: string;
  operationId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

/** The ids of the current request or job ({} outside one). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
