/**
 * Ids that belong on every log line written while handling one thing — the HTTP request id on the server, the
 * operation id in a worker — without threading a child logger through every call: the logger's `mixin` reads
 * them from here (AsyncLocalStorage follows the async calls of the request or job).
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface LogContext {
  requestId?: string;
  operationId?: string;
  /** The signed-in user a request acts for (the server, once the caller's token is verified). */
  userId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, fn);
}

/**
 * Adds `fields` to the context of the request or job being handled, for every line written from here on in it
 * (its other async calls share the same context object). Returns false, changing nothing, outside one. Cheaper
 * than a child logger per request: pino builds a child's bindings and runs its redaction over them (~15–20 µs per
 * request in the many-users benchmark, issue 15), while the mixin already merges the context into every line.
 */
export function addToLogContext(fields: LogContext): boolean {
  const store = storage.getStore();
  if (store === undefined) return false;
  Object.assign(store, fields);
  return true;
}

/** The ids of the current request or job ({} outside one). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
