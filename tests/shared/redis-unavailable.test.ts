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
