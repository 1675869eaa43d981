/**
 * The start-up check of Redis's maxmemory-policy (src/shared/redis-eviction-policy.ts), against real Redis servers:
 * the shared test Redis (noeviction, as every deployment must run) and a redis-server of this test's own started
 * with allkeys-lru (the binary is on every machine of this project's kind: Debian's redis-server package).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/shared/logger.ts";
import { checkEvictionPolicy } from "../../src/shared/redis-eviction-policy.ts";
import { createTestRedis } from "../helpers/redis.ts";

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: "debug" }, sink), lines };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let evicting: ChildProcess;
let evictingRedis: Redis;
const shared = createTestRedis();

beforeAll(async () => {
  const port = await freePort();
  evicting = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "allkeys-lru",
      "--maxmemory",
      "64mb",
    ],
    { stdio: "ignore" },
  );
  evictingRedis = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 20, retryStrategy: () => 100 });
  evictingRedis.on("error", () => undefined); // until its server listens
  await evictingRedis.ping();
});
afterAll(async () => {
  evictingRedis?.disconnect();
  evicting?.kill("SIGTERM");
  shared.disconnect();
});

describe("checkEvictionPolicy", () => {
  it("says nothing for noeviction", async () => {
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(shared, logger)).toBe("noeviction");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("logs one ERROR line naming the policy and the fix for a Redis that may evict keys", async () => {
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(evictingRedis, logger)).toBe("allkeys-lru");
    const errors = lines.filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ severity: "ERROR", maxmemoryPolicy: "allkeys-lru" });
    expect(String(errors[0]!.message)).toContain("Set maxmemory-policy to noeviction");
  });

  it("only warns while that Redis has no memory limit (maxmemory 0: nothing is evicted yet)", async () => {
    await evictingRedis.config("SET", "maxmemory", "0"); // this test's own redis-server, nobody else's
    const { logger, lines } = capturingLogger();
    expect(await checkEvictionPolicy(evictingRedis, logger)).toBe("allkeys-lru");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  });
});
