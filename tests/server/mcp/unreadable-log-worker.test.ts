/**
 * A worker that meets an operation log this version cannot read (unreadable-log.ts): here an event a newer version
 * wrote while the job waited in the queue (a rolling deploy, or a downgrade). The worker's processor throws
 * UnreadableOperationLogError, which the BullMQ worker took for a retryable failure: the job was run again with
 * backoff until its attempts (WORKER_ATTEMPTS, 8 by default) were used up, minutes of the same failure, while the
 * agent's call waited. Now the job ends at once, without retries, the log is left as it is, and the agent's answer
 * (the write call's, get_operation's, list_operations') says what the log is and what to do.
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
    env: { WRITE_WAIT_MS: "20000" },
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

it("a worker meeting a log it cannot read ends the job without retries; the agent is told what to do", async () => {
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
  // The call's answer: the sentence, as soon as the job ended (not after WRITE_WAIT_MS or the attempts' backoff).
  expect(answer.isError).toBe(true);
  expect(resultText(answer)).toMatch(
    new RegExp(
      `^Operation ${operationId} \\(create_records, on base ${baseId}, table tbl\\w+, queued [^)]+\\) has a log this version of the server cannot read`,
    ),
  );
  expect(resultText(answer)).toContain(
    "look them up in the table (search_records or list_records) before writing them again",
  );
  expect(Date.now() - started).toBeLessThan(10_000);

  // The job ended after one run and stays ended: no retry after BullMQ's backoff (2 s, then 4 s, …).
  const job = await server.runner.queue.getJob(operationId);
  expect(await job?.getState()).toBe("failed");
  await sleep(3_000);
  const later = await server.runner.queue.getJob(operationId);
  expect(await later?.getState()).toBe("failed");
  expect(later?.attemptsMade).toBe(1);
  // Nothing was sent to Airtable, and the log is as the newer version left it (no `failed` appended to it).
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

  // The operator's log: one ERROR line saying why the job ended, no "retries it with backoff" line.
  const mine = lines.filter((l) => l.operationId === operationId);
  expect(mine.filter((l) => /retries it with backoff|attempts used up/.test(l.message))).toEqual([]);
  expect(mine.filter((l) => l.severity === "ERROR").map((l) => l.message)).toEqual([
    "operation log unreadable by this version (an event of a newer version, or a damaged entry): job ended without retries, log left as it is",
  ]);
}, 90_000);
