/**
 * Workers' heartbeats in real Redis: a started heartbeat counts as alive at once, a stopped one is gone at once, a
 * silent one ages out after the window; a stop is stamped, so a restart is not taken for a deployment without
 * workers; the set stays under the deployment's prefix and expires by itself.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import {
  HEARTBEAT_INTERVAL_MS,
  WORKER_ALIVE_WINDOW_MS,
  WorkerHeartbeat,
  WorkerLiveness,
} from "../../../src/shared/queue/worker-heartbeat.ts";

const redis = createTestRedis();
const prefix = uniquePrefix("heartbeat");
const logger = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe("worker heartbeats", () => {
  it("beat every 10 s and count a worker as alive for 30 s (three missed beats)", () => {
    expect(HEARTBEAT_INTERVAL_MS).toBe(10_000);
    expect(WORKER_ALIVE_WINDOW_MS).toBe(30_000);
  });

  it("count started workers at once and forget a stopped one at once", async () => {
    const keyPrefix = `${prefix}:count`;
    const liveness = new WorkerLiveness({ redis, keyPrefix });
    expect(await liveness.status()).toEqual({ alive: 0 });
    const a = new WorkerHeartbeat({ redis, keyPrefix, logger });
    const b = new WorkerHeartbeat({ redis, keyPrefix, logger });
    a.start();
    b.start();
    await expect.poll(() => liveness.status().then((s) => s.alive)).toBe(2);
    expect(a.workerId).not.toBe(b.workerId);
    const key = `${keyPrefix}:workers:heartbeats`;
    expect(await redis.zrange(key, "0", "-1")).toEqual(expect.arrayContaining([a.workerId, b.workerId]));
    expect(await redis.pttl(key)).toBeGreaterThan(2 * WORKER_ALIVE_WINDOW_MS - 5_000);
    await a.stop();
    expect(await liveness.status()).toMatchObject({ alive: 1 });
    await b.stop();
    expect(await liveness.anyAlive()).toBe(false);
  });

  it("ages out a worker that stopped beating without saying so (a crash), and reports when it was last seen", async () => {
    const keyPrefix = `${prefix}:silent`;
    // A window of 300 ms and beats every minute: after its first beat, the worker falls silent.
    const silent = new WorkerHeartbeat({ redis, keyPrefix, logger, intervalMs: 60_000, windowMs: 300 });
    const liveness = new WorkerLiveness({ redis, keyPrefix, windowMs: 300 });
    silent.start();
    await expect.poll(() => liveness.anyAlive()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const status = await liveness.status();
    expect(status.alive).toBe(0);
    expect(status.lastBeatAgoMs).toBeGreaterThanOrEqual(300);
    expect(status.lastBeatAgoMs).toBeLessThan(5_000);
    await silent.stop();
  });

  it("tell a deployment with no worker for a whole window from a worker restarting (a stop is stamped)", async () => {
    const keyPrefix = `${prefix}:absent`;
    const windowMs = 300;
    const liveness = new WorkerLiveness({ redis, keyPrefix, windowMs });
    // A reader that has not watched for a whole window cannot know: a server starting beside its workers.
    expect(await liveness.absentForWindow()).toBe(false);
    await sleep(windowMs + 50);
    expect(await liveness.absentForWindow()).toBe(true);

    const worker = new WorkerHeartbeat({ redis, keyPrefix, logger, windowMs });
    worker.start();
    await expect.poll(() => liveness.anyAlive()).toBe(true);
    expect(await liveness.absentForWindow()).toBe(false);
    // A clean stop leaves the set at once (not alive), but it is not an absence until a window has passed.
    await worker.stop();
    const stopped = await liveness.status();
    expect(stopped.alive).toBe(0);
    expect(stopped.lastStopAgoMs).toBeLessThan(windowMs);
    expect(await liveness.absentForWindow()).toBe(false);
    await sleep(windowMs + 50);
    expect(await liveness.absentForWindow()).toBe(true);
    expect(await redis.pttl(`${keyPrefix}:workers:last-stop`)).toBeLessThanOrEqual(2 * windowMs);
  });

  it("beats again on its interval", async () => {
    const keyPrefix = `${prefix}:interval`;
    const heartbeat = new WorkerHeartbeat({ redis, keyPrefix, logger, intervalMs: 100 });
    const key = `${keyPrefix}:workers:heartbeats`;
    heartbeat.start();
    await expect.poll(() => redis.zscore(key, heartbeat.workerId)).not.toBeNull();
    const first = Number(await redis.zscore(key, heartbeat.workerId));
    await expect.poll(async () => Number(await redis.zscore(key, heartbeat.workerId))).toBeGreaterThan(first);
    await heartbeat.stop();
  });
});
