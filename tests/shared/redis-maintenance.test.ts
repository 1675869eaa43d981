/**
 * A Redis Software/Cloud maintenance window, as ioredis 6.1 sees it: the server pushes a RESP3 MIGRATING
 * notification, and ioredis relaxes its command timeouts (maintNotifications "auto"). The server's fail-fast
 * connection (failFastRedisOptions, real ioredis, real Redis behind a proxy that injects the push and then holds the
 * commands back like a migrating shard) must still answer within REDIS_COMMAND_TIMEOUT_MS, with an error the server
 * knows as "Redis does not answer": /token then says 503 temporarily_unavailable, not 500 after 10 s.
 */
import { once } from "node:events";
import { createConnection, createServer, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, expect, it } from "vitest";
import { unexpectedOAuthError } from "../../src/server/auth/oauth-error.ts";
import { failFastRedisOptions } from "../../src/shared/redis-connection.ts";
import { isCommandTimeout, isRedisUnavailable } from "../../src/shared/redis-unavailable.ts";
import { testRedisUrl } from "../helpers/redis.ts";

/** RESP3 push `MIGRATING <seq> <seconds>` (ioredis maintNotifications/parser.js reads this shape). */
const MIGRATING = ">3\r\n$9\r\nMIGRATING\r\n:1\r\n:30\r\n";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A TCP proxy to the test Redis; `migrate()` pushes MIGRATING to every client and then drops what they send. */
async function startMaintenanceProxy(): Promise<{ port: number; migrate(): void }> {
  const target = new URL(testRedisUrl());
  const clients = new Set<Socket>();
  let migrating = false;
  const server = createServer((client) => {
    clients.add(client);
    const upstream = createConnection(Number(target.port || 6379), target.hostname);
    client.on("data", (chunk) => {
      if (!migrating) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => client.write(chunk));
    const close = () => {
      clients.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", close).on("error", close);
    upstream.on("close", close).on("error", close);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  cleanups.push(async () => {
    for (const client of clients) client.destroy();
    server.close();
    await once(server, "close");
  });
  return {
    port: (server.address() as { port: number }).port,
    migrate() {
      migrating = true;
      for (const client of clients) client.write(MIGRATING);
    },
  };
}

it("a command during a maintenance window fails within REDIS_COMMAND_TIMEOUT_MS as 'Redis does not answer'", async () => {
  const proxy = await startMaintenanceProxy();
  const commandTimeoutMs = 400;
  const redis = new Redis(proxy.port, "127.0.0.1", { ...failFastRedisOptions(commandTimeoutMs), lazyConnect: true });
  redis.on("error", () => undefined);
  cleanups.push(() => redis.disconnect());
  await redis.connect();
  expect(await redis.ping()).toBe("PONG");

  proxy.migrate();
  // Let the push arrive before the command, as it would from a Redis that announces the window ahead.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = performance.now();
  const error = await redis.get("maintenance-window-key").then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsedMs = performance.now() - started;

  expect(error).toBeInstanceOf(Error);
  // ioredis 6.1 names it the maintenance timeout: the window was seen, and relaxed timeouts were in force.
  expect((error as Error).message).toMatch(/^Command timed out during server maintenance/);
  expect(elapsedMs).toBeLessThan(commandTimeoutMs + 1_000);
  expect(isRedisUnavailable(error)).toBe(true);
  // Written, and Redis may still run it: a submit must not report "nothing was changed" as certain.
  expect(isCommandTimeout(error)).toBe(true);
  const oauth = unexpectedOAuthError(error, "The token request could not be completed");
  expect([oauth.error, oauth.status]).toEqual(["temporarily_unavailable", 503]);
});
