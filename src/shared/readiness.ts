/**
 * Readiness, the same on the server's /readyz and the worker's: every request or job needs Redis (queue,
 * limiter, logs, sessions) and the token store to answer. A check that does not answer within 2 s fails. Redis is
 * pinged on the process's shared connection; BullMQ's own connections (bullmqConnection) reach the same server.
 * Embedded mode has no Redis: only the token store (the SQLite file) is checked.
 */
import type { Redis } from "ioredis";
import type { TokenStore } from "./tokens/index.ts";

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export function readinessChecks(redis: Redis | undefined, store: TokenStore): ReadinessChecks {
  const tokenStore = () => store.getClient("readiness-probe");
  return redis === undefined ? { tokenStore } : { redis: () => redis.ping(), tokenStore };
}

/** The names of the checks that failed or did not answer within `timeoutMs` ([] = ready). */
export async function failingChecks(checks: ReadinessChecks, timeoutMs = 2_000): Promise<string[]> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(names.map((name) => withTimeout(checks[name]!(), timeoutMs)));
  return names.filter((_, i) => results[i]?.status === "rejected");
}

/** `promise`, or a rejection once `ms` have passed without an answer. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}
