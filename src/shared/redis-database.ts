import type { Redis } from "ioredis";
import type { Logger } from "./logger.ts";
import { databaseOutOfRangeMessage, isDatabaseOutOfRange, isRedisUnavailable } from "./redis-unavailable.ts";

/**
 * REDIS_URL's database number (its path, `redis://host:6379/3`) checked before anything is read or written.
 *
 * ioredis sends `SELECT <db>` when it connects and, when Redis refuses it (a number at or above Redis's
 * `databases` setting, 16 by default: `/99`, a typo for `/9`), only emits an `error` event and goes on with the
 * connection in database 0. The process then started as if nothing were wrong, logged stack traces, and recorded
 * its key fingerprint, queue and operations in database 0 — another deployment's database, perhaps. Now the start
 * ends with one sentence naming REDIS_URL, the databases this Redis has and the fix.
 */

/** Thrown by requireRedisDatabase: the start must end with its message (exitOnStartFailure prints it). */
export class RedisDatabaseError extends Error {
  override name = "RedisDatabaseError";
}

/** The database count Redis is configured with (`CONFIG GET databases`), or undefined where CONFIG is not allowed. */
async function databaseCount(redis: Redis): Promise<number | undefined> {
  try {
    const reply = (await redis.call("config", "get", "databases")) as unknown;
    const value = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Selects REDIS_URL's database on `redis` and throws RedisDatabaseError when Redis has no such database. Database 0
 * (no path) needs no check. While Redis does not answer, retries every `retryMs` (the key check after it says so
 * once Redis answers; the connection's own log names the outage).
 */
export async function requireRedisDatabase(redis: Redis, logger: Logger, retryMs = 2_000): Promise<void> {
  const db = Number(redis.options.db ?? 0);
  if (db === 0) return;
  for (;;) {
    try {
      await redis.select(db);
      return;
    } catch (error) {
      if (isDatabaseOutOfRange(error)) {
        throw new RedisDatabaseError(databaseOutOfRangeMessage(db, await databaseCount(redis)));
      }
      if (!isRedisUnavailable(error)) throw error;
      logger.warn(
        { db },
        `waiting for Redis (REDIS_URL) to select database ${db}: nothing is served until Redis answers; check ` +
          `REDIS_URL and that Redis is running. Trying again in ${retryMs} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}
