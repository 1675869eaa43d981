/**
 * Recognises "Redis does not answer" among the errors ioredis (and BullMQ through it) throw while the
 * connection is down, so callers can answer "temporarily unavailable, nothing was changed, try again" instead of
 * an internal error.
 */
import type { Logger } from "./logger.ts";

const MESSAGES = [
  /Reached the max retries per request limit/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /connect ECONNREFUSED/i,
  /ECONNRESET/i,
  /ETIMEDOUT/i,
  /Connection in subscriber mode/i,
];

/**
 * Replies of a Redis that answers but refuses writes for a while: full (`maxmemory` reached under `noeviction`, as
 * BullMQ requires), a replica or a primary demoted by a failover, a Redis still loading its data.
 */
const REFUSALS: [RegExp, string][] = [
  [/^OOM command not allowed/, "it is full: maxmemory reached (raise maxmemory or free memory)"],
  [/^READONLY/, "it is a read-only replica (a failover, or REDIS_URL names a replica)"],
  [/^LOADING/, "it is loading its data set"],
  [/^MASTERDOWN/, "its primary is down"],
];

/** Why Redis refused a command (see REFUSALS), or undefined when the error is not such a refusal. */
export function redisRefusal(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 3) return undefined;
  const found = REFUSALS.find(([pattern]) => pattern.test(error.message));
  return found !== undefined ? found[1] : redisRefusal(error.cause, depth + 1);
}

let lastRefusalLogged = 0;

/**
 * Logs a refusal (redisRefusal) for the operator, at most once per 10 s per process: under load every call fails
 * the same way, and one line says what to fix.
 */
export function logRedisRefusal(logger: Logger | undefined, error: unknown, now = Date.now()): void {
  const why = redisRefusal(error);
  if (why === undefined || logger === undefined || now - lastRefusalLogged < 10_000) return;
  lastRefusalLogged = now;
  logger.error(
    { redisError: error instanceof Error ? error.message.split(".")[0] : String(error) },
    `Redis refuses writes: ${why}. Calls answer "temporarily unavailable" until it accepts them again`,
  );
}

export function isRedisUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  if (depth === 0 && redisRefusal(error) !== undefined) return true;
  if (error.name === "MaxRetriesPerRequestError") return true;
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT") return true;
  if (MESSAGES.some((m) => m.test(error.message))) return true;
  return isRedisUnavailable(error.cause, depth + 1);
}

export const TEMPORARILY_UNAVAILABLE =
  "The service is temporarily unavailable (its Redis does not answer or refuses writes). Nothing was changed by this call; operations queued earlier are kept and continue when it is back. Try again in a minute.";

/** What `logRedisErrors` needs of a connection: ioredis's `error` and `ready` events. */
interface RedisEvents {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
}

/**
 * Logs a Redis connection's errors for an operator. While Redis cannot be reached (refused, unknown host, timeout:
 * a wrong REDIS_URL, or Redis not started yet) ioredis retries and emits an error every attempt: that is logged
 * once per outage as one sentence naming the address and REDIS_URL, without a stack trace, and "reachable again"
 * when the connection is ready. Other errors are logged each time, as they come.
 */
export function logRedisErrors(redis: RedisEvents, logger: Logger): void {
  let down = false;
  redis.on("error", (error) => {
    if (!isRedisUnreachable(error)) {
      logger.error({ err: error }, "Redis error");
      return;
    }
    if (down) return;
    down = true;
    // A refused or timed-out connection names the address; a name that did not resolve names the host.
    const { code, address, port, hostname } = error as NodeJS.ErrnoException & {
      address?: string;
      port?: number;
      hostname?: string;
    };
    const host = address ?? hostname;
    const where = host === undefined ? "" : ` at ${host}${port === undefined ? "" : `:${port}`}`;
    logger.error(
      { code },
      `Cannot reach Redis${where} (${code ?? error.message}): check REDIS_URL and that Redis is running; retrying`,
    );
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info("Redis is reachable again");
  });
}

/** A connection that could not be made (refused, no such host, timed out), as opposed to a command's error. */
function isRedisUnreachable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    code === "ECONNREFUSED" ||
    code === "ENOTFOUND" ||
    code === "EAI_AGAIN" ||
    code === "ETIMEDOUT" ||
    code === "EHOSTUNREACH"
  );
}
