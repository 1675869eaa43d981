/**
 * logRedisErrors with a real ioredis connection to an address where no Redis listens: while it retries, the log
 * says once, as a sentence, which address could not be reached and to check REDIS_URL; no stack trace, and not once
 * per retry.
 */
import { once } from "node:events";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.ts";
import { logRedisErrors } from "../../src/shared/redis-unavailable.ts";

it("an unreachable Redis is logged once per outage, naming the address and REDIS_URL, without a stack", async () => {
  // A port nobody listens on: taken from the OS, then released.
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  const port = (probe.address() as { port: number }).port;
  probe.close();
  await once(probe, "close");

  const lines: string[] = [];
  const logger = createLogger({ level: "info", pretty: false, name: "test" }, { write: (l: string) => lines.push(l) });
  let attempts = 0;
  const redis = new Redis(port, "127.0.0.1", {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => (++attempts < 5 ? 20 : null),
  });
  logRedisErrors(redis, logger);
  await redis.connect().catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300));
  redis.disconnect();

  expect(attempts).toBeGreaterThanOrEqual(3);
  const entries = lines.map((l) => JSON.parse(l) as { message: string; stack?: string; err?: unknown });
  expect(entries.map((e) => e.message)).toEqual([
    `Cannot reach Redis at 127.0.0.1:${port} (ECONNREFUSED): check REDIS_URL and that Redis is running; retrying`,
  ]);
  expect(lines.join("\n")).not.toContain("stack");
});

it("a Redis that refuses writes (maxmemory reached, a read-only replica) is 'temporarily unavailable', logged once with the cause", async () => {
  const { isRedisUnavailable, logRedisRefusal, redisRefusal } = await import("../../src/shared/redis-unavailable.ts");
  const { unexpectedOAuthError } = await import("../../src/server/auth/oauth-error.ts");
  // The reply text a full Redis (noeviction) gave a script in the operator audit, and a replica's.
  const oom = new Error(
    "OOM command not allowed when used memory > 'maxmemory'. script: 9316084d, on @user_script:31.",
  );
  const readonly = new Error("READONLY You can't write against a read only replica.");
  expect(isRedisUnavailable(oom)).toBe(true);
  expect(isRedisUnavailable(new Error("wrapped", { cause: readonly }))).toBe(true);
  expect(redisRefusal(oom)).toMatch(/maxmemory/);
  expect(isRedisUnavailable(new Error("ERR wrong number of arguments for 'hset' command"))).toBe(false);
  // /token answers 503 temporarily_unavailable (the client keeps its sign-in), not 500 server_error.
  const oauth = unexpectedOAuthError(oom, "The token request could not be completed");
  expect([oauth.error, oauth.status]).toEqual(["temporarily_unavailable", 503]);

  const lines: string[] = [];
  const logger = createLogger({ level: "info", pretty: false, name: "test" }, { write: (l: string) => lines.push(l) });
  logRedisRefusal(logger, oom, 1_000_000);
  logRedisRefusal(logger, oom, 1_005_000);
  logRedisRefusal(logger, oom, 1_011_000);
  expect(lines).toHaveLength(2);
  expect(JSON.parse(lines[0]!)).toMatchObject({ severity: "ERROR" });
  expect(JSON.parse(lines[0]!).message).toMatch(/Redis refuses writes: it is full: maxmemory reached/);
});
