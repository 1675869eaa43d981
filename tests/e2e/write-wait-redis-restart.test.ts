/**
 * A write call that is waiting for its operation when Redis goes away still answers, with the operation's id, by
 * WRITE_WAIT_MS + WRITE_ANSWER_GRACE_MS (issue 13 §2): never a hung call. Real server process, Redis behind a TCP
 * proxy the test cuts (tests/e2e/helpers/redis-proxy.ts), no worker taking jobs (so the call is still waiting at the
 * cut), but one beating (as a busy worker does), so the call waits rather than answering at once that none runs.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, testRedisUrl } from "../helpers/redis.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { WorkerHeartbeat } from "../../src/shared/queue/worker-heartbeat.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { WRITE_ANSWER_GRACE_MS } from "../../src/shared/tools/run-write.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, signInAndConnect } from "./helpers/mcp-client.ts";
import { startRedisProxy, type RedisProxy } from "./helpers/redis-proxy.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

const WRITE_WAIT_MS = 4_000;

let sandbox: Sandbox;
let deployment: Deployment;
let proxy: RedisProxy;
let alice: SeededAccount;
let client: Client;
const heartbeatRedis = createTestRedis();
let beating: WorkerHeartbeat | undefined;

beforeAll(async () => {
  proxy = await startRedisProxy(testRedisUrl());
  const plan = await planDeployment("write-wait-redis", 1);
  // Straight to Redis, not through the proxy: the heartbeat of a worker that takes no jobs.
  beating = new WorkerHeartbeat({
    redis: heartbeatRedis,
    keyPrefix: plan.keyPrefix,
    logger: createLogger({ level: "silent" }),
  });
  beating.start();
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url, { REDIS_URL: proxy.url, WRITE_WAIT_MS: String(WRITE_WAIT_MS) });
  const provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  client = (await signInAndConnect(`${deployment.instances[0]!.url}/mcp`, provider)).client;
}, 60_000);

afterAll(async () => {
  await beating?.stop();
  heartbeatRedis.disconnect();
  await client?.close().catch(() => undefined);
  await proxy?.up().catch(() => undefined);
  await deployment?.stop();
  await proxy?.close();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

describe("Redis restarts while a write call waits", () => {
  it("the call answers with its operation id in bounded time, and the operation is there once Redis is back", async () => {
    const started = Date.now();
    const call = callTool(client, "create_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      records: [{ fields: { Name: "waiting through a Redis restart" } }],
    });
    // The call is queued and waiting (no worker runs it); then Redis goes away and stays away past the wait.
    let answered = false;
    void call.finally(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(answered).toBe(false);
    await proxy.down();
    const result = await call;
    const elapsed = Date.now() - started;
    expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
    const answer = result.structuredContent as { operationId?: string; status?: string; done?: boolean };
    expect(answer.operationId).toMatch(/^op_/);
    expect(answer.done).toBe(false);
    expect(elapsed).toBeLessThan(WRITE_WAIT_MS + WRITE_ANSWER_GRACE_MS + 3_000);

    await proxy.up();
    // The id it gave is real: once Redis is back, get_operation finds the (still queued) operation.
    const deadline = Date.now() + 30_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      const read = await callTool(client, "get_operation", { operationId: answer.operationId });
      if (read.isError !== true) {
        status = (read.structuredContent as { status?: string }).status;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(status).toBe("queued");
  }, 90_000);
});
