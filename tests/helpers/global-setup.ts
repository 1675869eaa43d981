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
    const container = await new RedisContainer("redis:7-alpine")
      .withCommand(["redis-server", "--maxmemory-policy", "noeviction"])
      .start();
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
