/**
 * Recognises "Redis does not answer" among the errors ioredis (and BullMQ through it) throw while the
 * connection is down, so callers can answer "temporarily unavailable, nothing was changed, try again" instead of
 * an internal error.
 */
const MESSAGES = [
  /Reached the max retries per request limit/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /connect ECONNREFUSED/i,
  /ECONNRESET/i,
  /ETIMEDOUT/i,
  /Connection in subscriber mode/i,
];

export function isRedisUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  if (error.name === "MaxRetriesPerRequestError") return true;
  const code = (error as { code?: unknown }).code;
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT") return true;
  if (MESSAGES.some((m) => m.test(error.message))) return true;
  return isRedisUnavailable(error.cause, depth + 1);
}

export const TEMPORARILY_UNAVAILABLE =
  "The service is temporarily unavailable (its Redis does not answer). Nothing was changed by this call; operations queued earlier are kept and continue when it is back. Try again in a minute.";
