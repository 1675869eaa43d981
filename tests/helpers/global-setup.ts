import type { TestProject } from "vitest/node";

/**
 * Tests talk to a real Redis: REDIS_URL when set (CI, development machines without Docker), otherwise a
 * throwaway Redis container from testcontainers. The URL reaches test files through `inject("redisUrl")`.
 */
let stop: (() => Promise<unknown>) | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    const { RedisContainer } = await import("@testcontainers/redis");
    let container;
    try {
      container = await new RedisContainer("redis:7-alpine")
        .withCommand(["redis-server", "--maxmemory-policy", "noeviction"])
        .start();
    } catch (error) {
      // Without Docker, testcontainers' own words ("Could not find a working container runtime strategy") and a
      // stack trace were all a newcomer got, with a Redis perhaps running on this machine all along.
      throw new Error(
        "The tests need Redis 7, and REDIS_URL is not set, so they tried a throwaway Redis container, which " +
          `failed: ${error instanceof Error ? error.message : String(error)}. Set REDIS_URL to a Redis you run ` +
          "(e.g. REDIS_URL=redis://127.0.0.1:6379 npm test; the tests touch only keys of their own), or " +
          "start a Docker engine.",
        { cause: error },
      );
    }
    url = container.getConnectionUrl();
    stop = () => container.stop();
  }
  project.provide("redisUrl", url);
}

export async function teardown(): Promise<void> {
  await stop?.();
}

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
