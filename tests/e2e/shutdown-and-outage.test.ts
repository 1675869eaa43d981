/**
 * Operating the deployment (issue 5): real server and worker processes, real Redis behind a TCP proxy the test
 * can cut, the sandbox, the MCP SDK client.
 * - SIGTERM to a worker mid-import: it finishes its batch, releases the operation, exits 0; another worker
 *   completes it with no record lost or doubled.
 * - SIGTERM to a server with a slow call in flight: the call completes, the process exits 0.
 * - Redis away: /readyz 503 and tool calls answer "temporarily unavailable"; Redis back: /readyz 200 and the
 *   operation queued before the outage completes, nothing lost.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testRedisUrl } from "../helpers/redis.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, signInAndConnect } from "./helpers/mcp-client.ts";
import type { OperationAnswer } from "./helpers/write-operations.ts";
import { startRedisProxy, type RedisProxy } from "./helpers/redis-proxy.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

let sandbox: Sandbox;
let deployment: Deployment;
let proxy: RedisProxy;
let alice: SeededAccount;
let client: Client;
let provider: TestOAuthProvider;

beforeAll(async () => {
  proxy = await startRedisProxy(testRedisUrl());
  const plan = await planDeployment("lifecycle", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url, { REDIS_URL: proxy.url, WRITE_WAIT_MS: "500" });
  provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  client = (await signInAndConnect(`${deployment.instances[0]!.url}/mcp`, provider)).client;
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await proxy?.up().catch(() => undefined);
  await deployment?.stop();
  await proxy?.close();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

const names = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${String(i).padStart(4, "0")}`);

async function startImport(tag: string, n: number): Promise<OperationAnswer> {
  const result = await callTool(client, "create_records", {
    baseId: alice.base.id,
    tableId: alice.tableName,
    records: names(tag, n).map((Name) => ({ fields: { Name } })),
  });
  expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
  return result.structuredContent as unknown as OperationAnswer;
}

async function operation(operationId: string): Promise<OperationAnswer> {
  return (await callTool(client, "get_operation", { operationId })).structuredContent as unknown as OperationAnswer;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function rowsOf(tag: string): string[] {
  return sandbox
    .listRecordsDirect(alice.base.id, alice.tableName)
    .map((r) => String(r.fields.Name))
    .filter((name) => name.startsWith(`${tag} `));
}

describe("shutdown and outages", () => {
  it("SIGTERM to a worker mid-import: it releases the operation at a batch boundary; another finishes it exactly once", async () => {
    const first = await deployment.addWorker({ LOG_LEVEL: "info" });
    const started = await startImport("sigterm", 250);
    await waitFor("3 batches", async () =>
      (await operation(started.operationId)).progress.batchesDone >= 3 ? true : undefined,
    );
    first.kill("SIGTERM");
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    // The worker's log names the operation and where it went (a person stopping the only worker must see the write
    // was not dropped).
    const released = first
      .fullOutput()
      .split("\n")
      .find((line) => line.includes("released at a batch boundary"));
    expect(released, first.output()).toContain(`"operationId":"${started.operationId}"`);
    expect(released).toContain("back in the queue; another worker, or this one when it starts again, continues it");
    const mid = await operation(started.operationId);
    expect(mid.done).toBe(false);

    await deployment.addWorker();
    const done = await waitFor("the operation to finish", async () => {
      const op = await operation(started.operationId);
      return op.done ? op : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ recordsSucceeded: 250, recordsInDoubt: 0, recordsFailed: 0 });
    const rows = rowsOf("sigterm");
    expect(rows).toHaveLength(250);
    expect(new Set(rows)).toEqual(new Set(names("sigterm", 250)));
  }, 120_000);

  it("SIGTERM to a server finishes the call in flight, then exits", async () => {
    const second = deployment.instances[1]!;
    // Any instance serves a token issued for the deployment's public URL.
    const other = await connectClient(`${second.url}/mcp`, provider);
    sandbox.setFaults({ latencyMs: 1_500 });
    try {
      const call = callTool(other, "list_records", { baseId: alice.base.id, tableId: alice.tableName, pageSize: 3 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      second.kill("SIGTERM");
      const result = await call;
      expect(result.isError).not.toBe(true);
      expect((await second.exited).code).toBe(0);
    } finally {
      sandbox.setFaults({ latencyMs: 0 });
      await other.close().catch(() => undefined);
    }
  }, 60_000);

  it("Redis away: /readyz 503 and calls say temporarily unavailable; Redis back: ready, and the queued import completes", async () => {
    const server = deployment.instances[0]!;
    const started = await startImport("outage", 120);
    await waitFor("2 batches", async () =>
      (await operation(started.operationId)).progress.batchesDone >= 2 ? true : undefined,
    );

    await proxy.down();
    const unready = await waitFor("/readyz 503", async () => {
      const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return res.status === 503 ? ((await res.json()) as { failing: string[] }) : undefined;
    });
    expect(unready.failing).toContain("redis");
    const refused = await callTool(client, "list_operations", {}).then(
      (r) => JSON.stringify(r.content),
      (error: unknown) => String(error),
    );
    expect(refused).toMatch(/temporarily unavailable/i);
    expect(refused).not.toMatch(/at \w+ \(|node_modules/); // no stack trace

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await proxy.up();
    await waitFor("/readyz 200", async () => {
      const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      return res.status === 200 ? true : undefined;
    });
    const done = await waitFor("the import to finish", async () => {
      const op = await operation(started.operationId);
      return op.done ? op : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.progress.recordsSucceeded).toBe(120);
    const rows = rowsOf("outage");
    expect(rows).toHaveLength(120);
    expect(new Set(rows).size).toBe(120);
    // Every line the processes printed through the outage is a JSON log line: no raw ioredis complaint on stderr.
    for (const instance of [...deployment.instances, ...deployment.workers]) {
      expect(instance.fullOutput(), instance.label).not.toContain("Unhandled error event");
    }
  }, 120_000);
});
