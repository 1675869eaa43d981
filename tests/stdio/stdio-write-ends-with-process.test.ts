/**
 * A write still running when its MCP client ends the stdio process (closes stdin: the Inspector CLI does after each
 * call, any client on exit). Nothing resumes a stdio process's writes, so with REDIS_URL its log used to say
 * `running` to every later get_operation, forever, and an agent told to poll it polled forever. Now the process
 * stops the write at a batch boundary and ends it `failed`, saying so, with each record's outcome: a later process
 * (the same user's next client) reads exactly what was written. Spawned `airtable-oauth-mcp stdio` processes, the
 * MCP SDK's stdio client, the sandbox, the test Redis. A client that sends SIGTERM instead of closing stdin gets the
 * same (Node's default on SIGTERM was to exit at once, mid-write).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { STOPPED_WITH_PROCESS } from "../../src/stdio/run-stdio.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

let sandbox: Sandbox;
let demo: DemoData;
const redis = createTestRedis();
const prefix = uniquePrefix("stdio-ends");
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  demo = seedDemo(sandbox);
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await sandbox?.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

/** A stdio process of the demo user's, with REDIS_URL (its operation logs outlive it), and a client connected to it. */
async function connect(): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "stdio"],
    env: {
      ...getDefaultEnvironment(),
      ...compileCacheEnv,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
      AIRTABLE_TOKEN: demo.token,
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: prefix,
      WRITE_WAIT_MS: "200",
    },
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-ends", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

const text = (result: unknown) =>
  ((result as { content: { text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("\n");

const rowsOf = (tag: string) =>
  sandbox
    .listRecordsDirect(demo.base.id, "Contacts")
    .map((r) => String(r.fields.Name))
    .filter((name) => name.startsWith(`${tag} `));

it("a write running when its client ends the process ends failed, saying so, with what was written", async () => {
  const tag = "stdio ends";
  const wanted = Array.from({ length: 200 }, (_, i) => `${tag} ${String(i).padStart(3, "0")}`); // 20 batches: ~4 s
  const { client: first } = await connect();
  const { operationId } = await startWrite(first, wanted);
  for (let i = 0; i < 100 && rowsOf(tag).length < 20; i++) await new Promise((r) => setTimeout(r, 50));
  expect(rowsOf(tag).length).toBeGreaterThanOrEqual(20);

  await first.close(); // closes the process's stdin, then waits for it to exit
  const written = rowsOf(tag).length;
  expect(written).toBeLessThan(wanted.length);
  // Nothing more is sent once the process has gone.
  await new Promise((r) => setTimeout(r, 600));
  expect(rowsOf(tag)).toHaveLength(written);

  await expectEndedWith(operationId, written);
}, 60_000);

it("the same when the client stops the process with SIGTERM without closing stdin", async () => {
  const tag = "stdio sigterm";
  const wanted = Array.from({ length: 200 }, (_, i) => `${tag} ${String(i).padStart(3, "0")}`);
  const { client: first, transport } = await connect();
  const { operationId } = await startWrite(first, wanted);
  for (let i = 0; i < 100 && rowsOf(tag).length < 20; i++) await new Promise((r) => setTimeout(r, 50));
  const exited = new Promise<void>((resolve) => (first.onclose = () => resolve()));
  process.kill(transport.pid!, "SIGTERM"); // Node's default: exit at once, in the middle of the write
  await exited;
  const written = rowsOf(tag).length;
  expect(written).toBeGreaterThanOrEqual(20);
  expect(written).toBeLessThan(wanted.length);
  await new Promise((r) => setTimeout(r, 600));
  expect(rowsOf(tag)).toHaveLength(written);
  await expectEndedWith(operationId, written);
}, 60_000);

async function startWrite(client: Client, names: string[]): Promise<{ operationId: string }> {
  const started = await client.callTool({
    name: "create_records",
    arguments: { baseId: demo.base.id, tableId: "Contacts", records: names.map((Name) => ({ fields: { Name } })) },
  });
  expect(started.isError, text(started)).not.toBe(true);
  return JSON.parse(text(started)) as { operationId: string };
}

/** What the user's next process reads of the operation: ended, saying why, with exactly the records written. */
async function expectEndedWith(operationId: string, written: number): Promise<void> {
  const { client: next } = await connect();
  const answer = await next.callTool({ name: "get_operation", arguments: { operationId } });
  const op = JSON.parse(text(answer)) as {
    done: boolean;
    status: string;
    progress: Record<string, number>;
    failure?: { reason: string; errorType?: string };
  };
  expect(op.done, text(answer)).toBe(true);
  expect(op.status).toBe("failed");
  expect(op.failure).toEqual({ reason: STOPPED_WITH_PROCESS, errorType: "PROCESS_ENDED" });
  // Exactly what reached Airtable is listed as written; nothing was in flight when it stopped.
  expect(op.progress).toMatchObject({ recordsSucceeded: written, recordsInDoubt: 0, recordsFailed: 0 });
}
