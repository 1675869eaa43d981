/**
 * A worker that meets an operation log this version cannot read (unreadable-log.ts): here an event a newer version
 * wrote while the job waited in the queue (a rolling deploy, or a downgrade). The job is retried with backoff like any
 * other failed run, so that a newer worker (a rolling deploy's) can take it, and each run leaves the log as it is and
 * sends nothing; the agent's call, which waited, answers what the log is and what to do (it said "Queued, and it will
 * run"), as get_operation and list_operations do.
 * The real server app and a worker (in this process), real Redis under this file's key prefix, BullMQ with the
 * production number of attempts, the Airtable sandbox over HTTP, the MCP SDK's client signed in through OAuth.
 */
import { Writable } from "node:stream";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { answerOf } from "../../e2e/helpers/write-operations.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("unreadable-log-worker");
const redis = createTestRedis();
const lines: { severity: string; message: string; operationId?: string }[] = [];
const logger = createLogger(
  { level: "info" },
  new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  }),
);
let sandbox: Sandbox;
let server: ServerHarness;
let client: Client;
let baseId: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  server = await startServerHarness({
    sandbox,
    keyPrefix,
    logger,
    attempts: 8,
    env: { WRITE_WAIT_MS: "3000" },
  });
  const userId = sandbox.addUser({ email: "unreadable-worker@example.com", name: "Una" }).id;
  baseId = sandbox.createBase(userId, {
    name: "Unreadable log, worker",
    tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
  ({ client } = await signInAndConnect(`${server.url}/mcp`, new TestOAuthProvider({ sandboxUser: userId })));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("a worker meeting a log it cannot read leaves it as it is and retries the job; the agent is told what to do", async () => {
  // The call is accepted and queued while no worker runs; a newer version's event lands in its log meanwhile.
  const call = callTool(client, "create_records", {
    baseId,
    tableId: "People",
    records: [{ fields: { Name: "Ada" } }],
  });
  const pattern = server.operations.keyOf("op", "*");
  let key: string | undefined;
  for (const deadline = Date.now() + 10_000; key === undefined && Date.now() < deadline;) {
    key = (await redis.keys(pattern))[0];
    if (key === undefined) await sleep(50);
  }
  expect(key).toBeDefined();
  const operationId = key!.slice(pattern.length - 1);
  const newerEvent = { seq: (await redis.xlen(key!)) + 1, at: Date.now(), type: "batch.verified", batch: 0 };
  await redis.xadd(key!, "*", "event", JSON.stringify(newerEvent));
  const writesBefore = sandbox.requests.filter((r) => r.method !== "GET" && r.baseId === baseId).length;

  const started = Date.now();
  await server.startWorker();
  const answer = await call;
  // The call's answer after its wait (WRITE_WAIT_MS): the sentence, not "Queued, and it will run".
  expect(answer.isError).toBe(true);
  expect(resultText(answer)).toMatch(
    new RegExp(
      `^Operation ${operationId} \\(create_records, on base ${baseId}, table tbl\\w+, queued [^)]+\\) has a log this version of the server cannot read`,
    ),
  );
  expect(resultText(answer)).toContain(
    "look them up in the table (search_records or list_records) before writing them again",
  );
  expect(Date.now() - started).toBeLessThan(15_000);

  // The job was run once and waits for its retry (BullMQ's backoff: 2 s, then 4 s, …), for a worker that can read
  // the log; it is not ended.
  const job = await server.runner.queue.getJob(operationId);
  await expect
    .poll(async () => (await server.runner.queue.getJob(operationId))?.attemptsMade)
    .toBeGreaterThanOrEqual(1);
  expect(["delayed", "waiting", "active"]).toContain(await job?.getState());
  // Nothing was sent to Airtable, and the log is as the newer version left it.
  expect(sandbox.requests.filter((r) => r.method !== "GET" && r.baseId === baseId)).toHaveLength(writesBefore);
  expect(await redis.xlen(key!)).toBe(newerEvent.seq);

  // get_operation and list_operations say the same.
  const got = await callTool(client, "get_operation", { operationId });
  expect(got.isError).toBe(true);
  expect(resultText(got)).toBe(resultText(answer));
  const list = answerOf<{ operations: unknown[]; unreadable?: { operationId: string }[] }>(
    "list_operations",
    await callTool(client, "list_operations", {}),
  );
  expect(list.unreadable?.map((o) => o.operationId)).toEqual([operationId]);

  // The operator's log: each run says it failed and is retried (no ERROR until the attempts are used up).
  const mine = lines.filter((l) => l.operationId === operationId);
  expect(mine.map((l) => l.message)).toContain("operation run failed; BullMQ retries it with backoff");
  expect(mine.filter((l) => l.severity === "ERROR")).toEqual([]);
}, 90_000);
