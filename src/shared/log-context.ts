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

/**
 * `fn`, bound to the log context current now (the request or job registering it): wherever it is called from later,
 * its lines carry that context's ids and userId. For callbacks that fire from outside the request that registered
 * them: a write call's abort listener fired by its client's cancel (a POST of its own, or a Redis message from
 * another instance), a progress listener fired by the queue's events. Outside a context, `fn` itself.
 */
export function inCurrentLogContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const store = storage.getStore();
  if (store === undefined) return fn;
  return (...args: A) => storage.run(store, fn, ...args);
}

/** The ids of the current request or job ({} outside one). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
