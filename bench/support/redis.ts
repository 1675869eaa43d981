import { Redis } from "ioredis";

/** Thrown for a setup problem the person running the benchmark can fix; printed without a stack trace. */
export class BenchSetupError extends Error {}

/**
 * Pings Redis once with a short timeout and no reconnecting, so an unreachable Redis becomes a BenchSetupError
 * that says how to fix it; then returns an ordinary client. (Not the probe itself: its options would be copied by
 * `duplicate()`, which Bottleneck uses, and a lazy, non-retrying copy never connects.)
 */
export async function connectRedis(url: string): Promise<Redis> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  probe.on("error", (error: unknown) => (lastError = error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    // The socket error (ECONNREFUSED, ENOTFOUND…) says more than ioredis's "Connection is closed".
    const cause = lastError ?? error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BenchSetupError(
      `Redis is not reachable at ${url} (${reason}). The benchmark needs a real Redis: start one ` +
        "(e.g. `docker run --rm -p 6379:6379 redis:7`) or point REDIS_URL at one.",
    );
  } finally {
    probe.disconnect();
  }
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

/** Deletes every key that starts with `prefix` (SCAN, never KEYS, so a shared Redis is not blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
