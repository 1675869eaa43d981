/**
 * Recognises "Redis does not answer" among the errors ioredis (and BullMQ through it) throw while the
 * connection is down, so callers can answer "temporarily unavailable, nothing was changed, try again" instead of
 * an internal error.
 */
import type { Logger } from "./logger.ts";

const MESSAGES = [
  // ioredis's commandTimeout (redis-connection.ts): a Redis that stalls without closing the connection.
  /^Command timed out$/,
  // The same during a Redis Software/Cloud maintenance window (ioredis 6.1 CommandTimeoutDuringMaintenanceError,
  // SocketTimeoutDuringMaintenanceError: "Command timed out during server maintenance (relaxed timeout: …ms)").
  /^Command timed out during server maintenance/,
  /^Socket timeout during server maintenance/,
  /Reached the max retries per request limit/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /connect ECONNREFUSED/i,
  /ECONNRESET/i,
  /ETIMEDOUT/i,
  /Connection in subscriber mode/i,
  // Something that is not Redis answers at REDIS_URL (notRedisReply): every command fails until REDIS_URL is fixed.
  /^Unknown RESP type /,
  /^Protocol error, got /,
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

/**
 * ioredis's `reconnectOnError` for every process connection (and, through `duplicate()`, the ones made from it):
 * after a failover a connection still attached to the demoted primary gets READONLY for every write until it
 * reconnects, and it would not by itself. 2: reconnect, then resend the command that failed (ioredis docs,
 * "Reconnect on error"); on the server's fail-fast connection (redis-connection.ts) the resent command is rejected
 * with the closing connection's queue, so the request that met the failover is answered "temporarily unavailable"
 * and the next one goes to the new primary. Only READONLY:
 * OOM and LOADING pass without a new connection.
 */
export function reconnectOnReadonly(error: Error): 2 | false {
  return /^READONLY/.test(error.message) ? 2 : false;
}

/** The refusal in `error` or its causes (see REFUSALS): why, and Redis's own reply. */
function findRefusal(error: unknown, depth = 0): { why: string; reply: string } | undefined {
  if (!(error instanceof Error) || depth > 3) return undefined;
  const found = REFUSALS.find(([pattern]) => pattern.test(error.message));
  return found !== undefined ? { why: found[1], reply: error.message } : findRefusal(error.cause, depth + 1);
}

/** Why Redis refused a command (see REFUSALS), or undefined when the error is not such a refusal. */
export function redisRefusal(error: unknown): string | undefined {
  return findRefusal(error)?.why;
}

/** When the last refusal was logged (performance.now(), monotonic: a wall clock stepping back cannot mute it). */
let lastRefusalLogged = -Infinity;

/**
 * Logs a refusal (redisRefusal) for the operator, at most once per 10 s per process: under load every call fails
 * the same way, and one line says what to fix. `now`: ms on a monotonic clock (tests pass their own).
 */
export function logRedisRefusal(logger: Logger | undefined, error: unknown, now = performance.now()): void {
  const refusal = findRefusal(error);
  if (refusal === undefined || logger === undefined || now - lastRefusalLogged < 10_000) return;
  lastRefusalLogged = now;
  logger.error(
    { redisError: refusal.reply.split(".")[0] },
    `Redis refuses writes: ${refusal.why}. Calls answer "temporarily unavailable" until it accepts them again`,
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

/**
 * True when `error` says Redis does not answer at all (a timeout, a refused or lost connection), as opposed to a
 * Redis that answers but refuses writes (redisRefusal). Code that would carry on without Redis after such an error
 * (a cache miss, a limiter let through) rethrows these instead: the request's next Redis command would wait the
 * whole REDIS_COMMAND_TIMEOUT_MS again before it fails the same way (src/shared/redis-connection.ts).
 */
export function redisDoesNotAnswer(error: unknown): boolean {
  return isRedisUnavailable(error) && redisRefusal(error) === undefined;
}

/**
 * The command got no answer within ioredis's `commandTimeout` (redis-connection.ts): it was written, or waits to be,
 * and Redis may still run it when it answers again — unlike a command whose connection broke, which Redis ran before
 * the break or never will.
 */
export function isCommandTimeout(error: unknown): boolean {
  // ioredis 6.1 names the timeout of a command sent during a maintenance window differently (redis-connection.ts).
  return error instanceof Error && /^Command timed out( during server maintenance|$)/.test(error.message);
}

export const TEMPORARILY_UNAVAILABLE =
  "The service is temporarily unavailable (its Redis does not answer or refuses writes). Nothing was changed by this call; operations queued earlier are kept and continue when it is back. Try again in a minute.";

/** What `logRedisErrors` needs of a connection: ioredis's `error` and `ready` events, and where it connects. */
interface RedisEvents {
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "ready", listener: () => void): unknown;
  readonly options?: { host?: string; port?: number; db?: number };
}

/**
 * The first byte of a reply that is not Redis's protocol (RESP), when `error` is ioredis's fatal parse error, else
 * undefined. A Redis reply starts with one of `+-:$*` (RESP2) or a RESP3 type byte; ioredis 6's decoder throws
 * `Unknown RESP type 72 "H"` at anything else (then appends ". Please report this.", DataHandler.returnFatalError),
 * ioredis 5's parser `Protocol error, got "H" as reply type byte`. Seen when REDIS_URL names a web server (this
 * server's PORT, the sandbox's 8787): it answers Redis's first command with `HTTP/1.1 400 …`.
 */
export function notRedisReply(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^(?:Unknown RESP type \d+ |Protocol error, got )"(.)"/s.exec(error.message);
  return match?.[1];
}

/**
 * Logs a Redis connection's errors for an operator. While Redis cannot be reached (refused, unknown host, timeout:
 * a wrong REDIS_URL, or Redis not started yet) ioredis retries and emits an error every attempt: that is logged
 * once per outage as one sentence naming the address and REDIS_URL, without a stack trace, and "reachable again"
 * when the connection is ready. So is a REDIS_URL where something else answers (notRedisReply): ioredis then
 * reconnects and fails the same way several times a second, each with a stack and "Please report this". A
 * connection closed under it (EPIPE, ECONNRESET: a restart, a TLS Redis given redis://, that web server hanging up)
 * is one sentence per outage too. Other errors are logged each time, as they come.
 */
export function logRedisErrors(redis: RedisEvents, logger: Logger): void {
  let down: false | "closed" | "unreachable" | "not-redis" = false;
  let noDatabaseLogged = false;
  const { host: optionsHost, port: optionsPort } = redis.options ?? {};
  const target = optionsHost === undefined ? "" : `${optionsHost}${optionsPort === undefined ? "" : `:${optionsPort}`}`;
  redis.on("error", (error) => {
    const code = (error as { code?: unknown }).code;
    const firstByte = notRedisReply(error);
    if (firstByte !== undefined) {
      if (down === "not-redis") return;
      down = "not-redis";
      const http = firstByte === "H" ? ": it looks like a web server (HTTP), not Redis" : "";
      logger.error(
        { firstByte },
        `Something other than Redis answers at REDIS_URL${target === "" ? "" : ` (${target})`}${http}. Set ` +
          "REDIS_URL to your Redis (redis://127.0.0.1:6379 for one on this machine, its default port; not the " +
          "server's PORT or the sandbox's 8787); retrying",
      );
      return;
    }
    if (code === "EPIPE" || code === "ECONNRESET") {
      // The connection closed under ioredis: Redis restarting, a TLS Redis given redis://, or the peer of a
      // not-Redis reply hanging up (that one may come first). Once per outage, without a stack; what follows
      // (refused, or the not-Redis reply) is still named.
      if (down !== false) return;
      down = "closed";
      logger.error(
        { code },
        `The Redis connection${target === "" ? "" : ` to ${target}`} was closed (${code}): check REDIS_URL ` +
          "(rediss:// for a Redis that takes TLS) and that Redis is running; retrying",
      );
      return;
    }
    if (isDatabaseOutOfRange(error)) {
      // Each connection's SELECT at connect: one sentence, no stack (requireRedisDatabase ends a start on it).
      // Not an outage: the connection is up (in database 0), so no "reachable again" follows.
      if (noDatabaseLogged) return;
      noDatabaseLogged = true;
      logger.error({ db: redis.options?.db }, databaseOutOfRangeMessage(redis.options?.db ?? "?", undefined));
      return;
    }
    if (!isRedisUnreachable(error)) {
      logger.error({ err: error }, "Redis error");
      return;
    }
    if (down === "unreachable" || down === "not-redis") return;
    down = "unreachable";
    // A refused or timed-out connection names the address; a name that did not resolve names the host.
    const { address, port, hostname } = error as NodeJS.ErrnoException & {
      address?: string;
      port?: number;
      hostname?: string;
    };
    const host = address ?? hostname;
    const where = host === undefined ? "" : ` at ${host}${port === undefined ? "" : `:${port}`}`;
    logger.error(
      { code },
      `Cannot reach Redis${where} (${(code as string | undefined) ?? error.message}): check REDIS_URL and that ` +
        "Redis is running; retrying",
    );
  });
  redis.on("ready", () => {
    if (down === false) return;
    down = false;
    logger.info("Redis is reachable again");
  });
}

/**
 * Logs the errors of one of a process's secondary Redis users — a BullMQ Queue, QueueEvents or Worker, a duplicated
 * connection — as `message` at `level`, but at debug while Redis cannot be reached: those repeat at every reconnect,
 * and the outage itself is logged once by the process's own connection (logRedisErrors) and shown by /readyz. A
 * duplicated connection needs a listener of its own anyway: without one, ioredis prints "[ioredis] Unhandled error
 * event" and a stack to stderr at every failed reconnect, outside the JSON logs (BullMQ does not keep one on a
 * connection it was given for the connection's whole life).
 */
export function logSecondaryErrors(
  emitter: { on(event: "error", listener: (error: Error) => void): unknown },
  logger: Logger,
  message: string,
  level: "debug" | "warn" | "error",
): void {
  emitter.on("error", (error: Error) => logger[isRedisUnavailable(error) ? "debug" : level]({ err: error }, message));
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

/** Redis's answer to a SELECT of a database it does not have (Redis 6 and 7; "invalid DB index" before). */
export function isDatabaseOutOfRange(error: unknown): boolean {
  return error instanceof Error && /DB index is out of range|invalid DB index/i.test(error.message);
}

/** The sentence for a database `db` that this Redis (with `count` databases, when known) does not have. */
export function databaseOutOfRangeMessage(db: number | string, count: number | undefined): string {
  const has = count === undefined ? "" : `: it has ${count} (0 to ${count - 1}; Redis's "databases" setting)`;
  const example = count === undefined ? "" : ` below ${count}`;
  return (
    `REDIS_URL selects Redis database ${db} (the number after the port, /${db}), which this Redis does not have` +
    `${has}. Set REDIS_URL's database to one${example} (redis://127.0.0.1:6379/1), or leave it out for database 0`
  );
}
