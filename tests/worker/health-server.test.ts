/**
 * The worker's health port over real HTTP: /metrics behind the same admin check as the server's, absent when
 * ADMIN_TOKEN is unset, and still answering (without queue_jobs) when Redis does not.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { Metrics } from "../../src/shared/metrics/index.ts";
import { OPERATIONS_QUEUE, bullPrefix } from "../../src/shared/queue/operation-queue.ts";
import { createHealthServer } from "../../src/worker/health-server.ts";

const ADMIN_TOKEN = "worker-admin-token-0123456789";
const prefix = uniquePrefix("health");
const redis = createTestRedis();
const queue = new Queue(OPERATIONS_QUEUE, { connection: redis, prefix: bullPrefix(prefix) });
const servers: Server[] = [];
let guarded: string;
let open: string;

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function metricsFor(source?: Queue, queueTimeoutMs?: number): Metrics {
  const metrics = new Metrics({ ...(queueTimeoutMs !== undefined && { queueTimeoutMs }) });
  if (source !== undefined) metrics.observeQueue(source);
  return metrics;
}

beforeAll(async () => {
  const metrics = metricsFor(queue);
  metrics.onAirtableAttempt({ operation: "createRecords", status: 200, durationMs: 12 });
  guarded = await listen(
    createHealthServer({
      ready: { redis: () => redis.ping() },
      metrics: { adminToken: ADMIN_TOKEN, render: () => metrics.render() },
    }),
  );
  open = await listen(createHealthServer({ ready: { redis: () => redis.ping() } }));
  await queue.add("create_records", {
    operationId: "op_health",
    ownerUserId: "usrHealth",
    baseId: "appHealth",
    kind: "create_records",
    items: 1,
  });
});

afterAll(async () => {
  for (const server of servers) server.close();
  await queue.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const get = (url: string, authorization?: string) =>
  fetch(url, authorization === undefined ? {} : { headers: { authorization } });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("worker health port /metrics", () => {
  it("refuses a missing or wrong token with 401 and the admin challenge", async () => {
    for (const authorization of [undefined, `Bearer ${ADMIN_TOKEN}-wrong`, basic("admin", "nope")]) {
      const res = await get(`${guarded}/metrics`, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="admin", Bearer');
    }
  });

  it("serves the exposition to the token as Bearer or Basic password", async () => {
    for (const authorization of [`Bearer ${ADMIN_TOKEN}`, basic("prometheus", ADMIN_TOKEN)]) {
      const res = await get(`${guarded}/metrics`, authorization);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toContain('airtable_requests_total{operation="createRecords",status="200"} 1');
      expect(text).toContain('queue_jobs{state="waiting"} 1');
    }
  });

  it("has no /metrics without ADMIN_TOKEN; probes need no token either way", async () => {
    expect((await get(`${open}/metrics`, `Bearer ${ADMIN_TOKEN}`)).status).toBe(404);
    for (const url of [guarded, open]) {
      expect((await get(`${url}/healthz`)).status).toBe(200);
      expect((await get(`${url}/readyz`)).status).toBe(200);
    }
  });

  it("still answers when Redis does not: queue_jobs is left out instead of the scrape failing", async () => {
    // Nothing listens on port 1; the worker's connections wait for Redis rather than fail (maxRetriesPerRequest: null).
    const deadRedis = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: null, lazyConnect: true });
    deadRedis.on("error", () => undefined);
    const deadQueue = new Queue(OPERATIONS_QUEUE, { connection: deadRedis, prefix: bullPrefix(prefix) });
    deadQueue.on("error", () => undefined);
    const metrics = metricsFor(deadQueue, 300);
    const url = await listen(
      createHealthServer({
        ready: { redis: () => deadRedis.ping() },
        metrics: { adminToken: ADMIN_TOKEN, render: () => metrics.render() },
      }),
    );
    try {
      const started = performance.now();
      const res = await get(`${url}/metrics`, `Bearer ${ADMIN_TOKEN}`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(text).toContain("# TYPE queue_jobs gauge");
      expect(text).not.toMatch(/^queue_jobs\{/m);
      expect(text).toContain("process_cpu_seconds_total");
    } finally {
      await deadQueue.close().catch(() => undefined);
      deadRedis.disconnect();
    }
  });
});
