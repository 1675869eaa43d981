import type { Redis } from "ioredis";
import type { Logger } from "./logger.ts";

/**
 * Logs one ERROR line at start when Redis may evict keys (`maxmemory-policy` other than `noeviction`; a WARNING
 * while `maxmemory` is 0, no limit, so nothing is evicted yet). Everything
 * here lives in Redis: BullMQ's jobs (BullMQ requires noeviction, "Going to production" in its docs), operation
 * logs, the revocation list, the deployment's key fingerprint. Under an eviction policy a full Redis silently
 * drops some of them — a queued write that never runs, a revoked grant that works again — where noeviction only
 * refuses new writes ("temporarily unavailable", redis-unavailable.ts). BullMQ prints its own warning, but as
 * plain text outside the JSON logs, so an alert on severity never sees it.
 *
 * Reads `INFO memory` (allowed where `CONFIG GET` is not, as on Memorystore). Never throws: a Redis that does not
 * answer INFO is left to the other start-up checks. Returns the policy read, or undefined.
 */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  let policy: string | undefined;
  let maxmemory: number | undefined;
  try {
    const info = await redis.info("memory");
    policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    const limit = /^maxmemory:(\d+)/m.exec(info)?.[1];
    maxmemory = limit === undefined ? undefined : Number(limit);
  } catch (error) {
    logger.debug({ err: error }, "could not read Redis's maxmemory-policy (INFO memory)");
    return undefined;
  }
  if (policy !== undefined && policy !== "noeviction") {
    // Without a memory limit (maxmemory 0) nothing is evicted yet: a warning, for the day a limit is set.
    logger[maxmemory === 0 ? "warn" : "error"](
      { maxmemoryPolicy: policy, maxmemory },
      `Redis's maxmemory-policy is ${policy}: when Redis fills up it will drop keys this service needs (queued ` +
        "writes, operation logs, revocations). Set maxmemory-policy to noeviction (Memorystore: " +
        "--redis-config=maxmemory-policy=noeviction; docker compose sets it).",
    );
  }
  return policy;
}
