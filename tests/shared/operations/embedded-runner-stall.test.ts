/**
 * EmbeddedOperationRunner (stdio with REDIS_URL) when Redis stalls while a write's log is being created: its store
 * on a fail-fast connection (as run-stdio.ts gives it), through a TCP proxy in front of the test Redis that goes
 * silent (a partition; a SIGSTOPped Redis looks the same). The create gets no answer within the command timeout, so
 * submit fails and the call answers "temporarily unavailable, nothing was changed" — but Redis still runs the create
 * when it answers again. The log must not then show a write that never runs as `queued` for good: it ends `failed`,
 * saying nothing was written, and nothing reaches Airtable. Real Redis and the sandbox over HTTP.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { EmbeddedOperationRunner, NOT_RECORDED } from "../../../src/shared/operations/embedded-runner.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { blockingDuplicate, failFastRedisOptions } from "../../../src/shared/redis-connection.ts";
import { isCommandTimeout } from "../../../src/shared/redis-unavailable.ts";
import { startRedisProxy, type RedisProxy } from "../../e2e/helpers/redis-proxy.ts";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { testRedisUrl, useTestRedis } from "../../helpers/redis.ts";

const COMMAND_TIMEOUT_MS = 300;
const logger = createLogger({ level: "silent" });
const { redis: direct, prefix } = useTestRedis("embedded-stall");
let f: Fixture;
let proxy: RedisProxy;
let failFast: Redis;
let waiting: Redis;
let limiter: BottleneckAirtableLimiter;
let runner: EmbeddedOperationRunner;

beforeAll(async () => {
  f = await fixture({ perBaseRps: 5 });
  proxy = await startRedisProxy(testRedisUrl());
  failFast = new Redis(proxy.url, failFastRedisOptions(COMMAND_TIMEOUT_MS));
  waiting = blockingDuplicate(failFast);
  limiter = BottleneckAirtableLimiter.clustered({ redis: waiting, keyPrefix: prefix });
  const airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
  });
  const retentionMs = 600_000;
  runner = new EmbeddedOperationRunner({
    store: new OperationLog({ redis: failFast, keyPrefix: prefix, retentionMs }),
    runStore: new OperationLog({ redis: waiting, keyPrefix: prefix, retentionMs }),
    logger,
    processorDeps: () => ({ airtable }),
  });
});

afterAll(async () => {
  proxy?.thaw();
  await runner?.close();
  await limiter?.close();
  failFast?.disconnect();
  waiting?.disconnect();
  await proxy?.close();
  await f?.sandbox.close();
});

describe("EmbeddedOperationRunner.submit when Redis stalls on the create", () => {
  it("fails with the command timeout; the create Redis runs afterwards ends `failed`, and nothing is sent", async () => {
    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId: f.base.id,
        tableId: "Tasks",
        input: [{ fields: { Name: "told nothing was changed" } }],
        options: { typecast: false, onError: "continue" },
      },
      f.user.id,
    );
    await failFast.ping(); // connected before the stall: the create is written and held, not queued offline
    proxy.freeze();
    let failure: unknown;
    try {
      await runner.submit(op).catch((error: unknown) => (failure = error));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the append behind it is sent meanwhile
    } finally {
      proxy.thaw(); // Redis gets the create now, then what follows it on that connection
    }
    expect(isCommandTimeout(failure), String(failure)).toBe(true);

    const log = new OperationLog({ redis: direct, keyPrefix: prefix, retentionMs: 600_000 });
    let state = await log.state(op.operationId);
    for (let i = 0; i < 50 && state?.status !== "failed"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      state = await log.state(op.operationId);
    }
    expect(state?.status).toBe("failed");
    expect(state?.failure?.reason).toBe(NOT_RECORDED);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((r) => r.fields.Name)).not.toContain(
      "told nothing was changed",
    );
    expect(f.sandbox.requests.filter((r) => r.baseId === f.base.id && r.method === "POST")).toEqual([]);
  });
});
