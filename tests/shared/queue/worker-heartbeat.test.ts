/**
 * Workers' heartbeats in real Redis: a started heartbeat counts as alive at once, a stopped one is gone at once, a
 * silent one ages out after the window; absence counts from the first reading that sees no worker, so neither a
 * restart nor an emptied Redis is taken for a deployment without workers; the set stays under the deployment's
 * prefix and expires by itself.
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
    expect(await liveness.status()).toEqual({ alive: 0, absentForMs: 0 });
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

  it("count absence as it is seen: a window of readings without a worker, not a restart nor an emptied Redis", async () => {
    const keyPrefix = `${prefix}:absent`;
    const windowMs = 300;
    const liveness = new WorkerLiveness({ redis, keyPrefix, windowMs });
    const stamp = `${keyPrefix}:workers:absent-since`;
    // The first reading that sees no worker starts the count: a deployment (or a server) just started.
    expect(await liveness.absentForWindow()).toBe(false);
    expect(await redis.pttl(stamp)).toBeGreaterThan(0);
    await sleep(windowMs + 50);
    expect((await liveness.status()).absentForMs).toBeGreaterThanOrEqual(windowMs);
    expect(await liveness.absentForWindow()).toBe(true);

    // A beat ends the absence; a clean stop leaves the set at once but starts the count again (a restart).
    const worker = new WorkerHeartbeat({ redis, keyPrefix, logger, windowMs });
    worker.start();
    await expect.poll(() => liveness.anyAlive()).toBe(true);
    expect(await redis.exists(stamp)).toBe(0);
    expect(await liveness.absentForWindow()).toBe(false);
    await worker.stop();
    const stopped = await liveness.status();
    expect(stopped.alive).toBe(0);
    expect(stopped.absentForMs).toBe(0);
    expect(await liveness.absentForWindow()).toBe(false);
    await sleep(windowMs + 50);
    expect(await liveness.absentForWindow()).toBe(true);

    // Readings more than two windows apart (a quiet deployment; a Redis back from an older snapshot): the stamp
    // has expired, and the count starts again.
    expect(await redis.pttl(stamp)).toBeGreaterThan(windowMs);
    expect(await redis.pttl(stamp)).toBeLessThanOrEqual(2 * windowMs);
    await sleep(2 * windowMs + 100);
    expect(await liveness.absentForWindow()).toBe(false);
    await sleep(windowMs + 50);
    expect(await liveness.absentForWindow()).toBe(true);

    // Redis loses its keys (a restart without persistence, a flush): not an absence of a whole window.
    await deleteKeys(redis, keyPrefix);
    expect(await liveness.absentForWindow()).toBe(false);
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
