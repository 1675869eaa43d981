/**
 * stdio with REDIS_URL when Redis stalls or refuses connections: a spawned `airtable-oauth-mcp stdio`, the MCP SDK's
 * stdio client, the sandbox, and a TCP proxy in front of the test Redis (tests/e2e/helpers/redis-proxy.ts) that goes
 * silent for this process alone (`freeze`: what a SIGSTOPped Redis, a hung host or a partition looks like — the
 * connections stay open and nothing answers) or drops and refuses its connections (`down`).
 *
 * What the user sees: a tool call answers within STALL_ANSWER_BOUND_MS with the HTTP server's "temporarily
 * unavailable" tool error (never a hang until the client's own 60 s timeout), the next call after Redis is back
 * works without a restart, and a write that was running when Redis stalled waits and finishes, every record
 * written once (its log appends and limiter bookings wait for Redis, as a worker's do).
 */
import { spawn } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { TEMPORARILY_UNAVAILABLE } from "../../src/shared/redis-unavailable.ts";
import { startRedisProxy, type RedisProxy } from "../e2e/helpers/redis-proxy.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

/**
 * The bound held (as tests/e2e/redis-stall.test.ts holds the HTTP server to it): REDIS_COMMAND_TIMEOUT_MS (2 s by
 * default) for the command that meets the stall, plus room for a loaded test machine. Far below the MCP SDK clients'
 * 60 s request timeout, which is where a call waited before.
 */
const STALL_ANSWER_BOUND_MS = 5_000;

let sandbox: Sandbox;
let demo: DemoData;
let proxy: RedisProxy;
let client: Client;
let stderr = "";
const redis = createTestRedis();
const prefix = uniquePrefix("stdio-stall");

beforeAll(async () => {
  sandbox = await startSandbox();
  demo = seedDemo(sandbox);
  proxy = await startRedisProxy(testRedisUrl());
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "stdio"],
    env: childEnv({ REDIS_URL: proxy.url, WRITE_WAIT_MS: "200" }),
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  client = new Client({ name: "stdio-stall", version: "1.0.0" });
  await client.connect(transport);
});

afterAll(async () => {
  proxy?.thaw();
  await proxy?.up().catch(() => undefined);
  await client?.close().catch(() => undefined);
  await proxy?.close();
  await sandbox?.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") console.log(`stdio stderr:\n${stderr.slice(-8_000)}`);
});

/** Only what the child should see: the test process's own REDIS_URL must not leak in. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    AIRTABLE_TOKEN: demo.token,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: "info",
    ...extra,
  };
}

interface Answer {
  ms: number;
  isError: boolean;
  text: string;
}

/**
 * A tool call as the user sees it, and how long it took. No answer within the bound plus 10 s (the call hangs, as it
 * did until the client's own timeout) is `no answer`.
 */
async function timedCall(name: string, args: Record<string, unknown>): Promise<Answer> {
  const started = performance.now();
  try {
    const result = await client.callTool({ name, arguments: args }, undefined, {
      timeout: STALL_ANSWER_BOUND_MS + 10_000,
    });
    const content = result.content as { type: string; text?: string }[];
    return {
      ms: performance.now() - started,
      isError: result.isError === true,
      text: content.map((c) => c.text ?? "").join("\n"),
    };
  } catch (error) {
    return { ms: performance.now() - started, isError: true, text: `no answer: ${String(error)}` };
  }
}

const readRecords = () => timedCall("list_records", { baseId: demo.base.id, tableId: "Contacts", pageSize: 2 });

function expectUnavailable(answer: Answer, what: string): void {
  expect(answer.text, what).toBe(TEMPORARILY_UNAVAILABLE);
  expect(answer.isError, what).toBe(true);
  expect(answer.ms, `${what}: answered in ${Math.round(answer.ms)} ms`).toBeLessThan(STALL_ANSWER_BOUND_MS);
}

async function expectWorks(answer: Answer, what: string): Promise<void> {
  expect(answer.isError, `${what}: ${answer.text}`).toBe(false);
  expect(answer.ms, `${what}: answered in ${Math.round(answer.ms)} ms`).toBeLessThan(STALL_ANSWER_BOUND_MS);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const names = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${String(i).padStart(3, "0")}`);
const rowsOf = (tag: string) =>
  sandbox
    .listRecordsDirect(demo.base.id, "Contacts")
    .map((r) => String(r.fields.Name))
    .filter((name) => name.startsWith(`${tag} `));

describe("stdio with REDIS_URL, Redis stalled or refusing connections", () => {
  it("stalled: a read answers 'temporarily unavailable' within the bound, the first and seconds into it; then works", async () => {
    await expectWorks(await readRecords(), "before the stall");
    proxy.freeze();
    let first: Answer;
    let later: Answer;
    let operations: Answer;
    try {
      first = await readRecords();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      [later, operations] = await Promise.all([readRecords(), timedCall("list_operations", {})]);
    } finally {
      proxy.thaw();
    }
    expectUnavailable(first, "list_records as the stall begins");
    expectUnavailable(later, "list_records into the stall");
    expectUnavailable(operations, "list_operations into the stall");
    // The same connection serves again, without a restart: a stalled connection was never closed.
    await expectWorks(await readRecords(), "after the stall");
  }, 60_000);

  it("a write running when Redis stalls waits for it and finishes: every record written once", async () => {
    const tag = "stdio stall write";
    const wanted = names(tag, 150); // 15 batches: 3 s at the sandbox's 5 requests per second
    const started = await timedCall("create_records", {
      baseId: demo.base.id,
      tableId: "Contacts",
      records: wanted.map((Name) => ({ fields: { Name } })),
    });
    expect(started.isError, started.text).toBe(false);
    const { operationId } = JSON.parse(started.text) as { operationId: string };
    await waitFor("the write to be under way", () => (rowsOf(tag).length >= 20 ? true : undefined));
    proxy.freeze();
    let read: Answer;
    let writtenDuringStall: number;
    try {
      read = await readRecords();
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      writtenDuringStall = rowsOf(tag).length;
    } finally {
      proxy.thaw();
    }
    expectUnavailable(read, "a read while the write waits");
    // The in-flight batch may land; nothing more is sent without a booking in the shared limiter.
    expect(writtenDuringStall).toBeLessThan(wanted.length);

    const done = await waitFor("the write to finish", async () => {
      const answer = await timedCall("get_operation", { operationId });
      const op = JSON.parse(answer.text) as { done: boolean; status: string; progress: Record<string, number> };
      return op.done ? op : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ recordsSucceeded: 150, recordsInDoubt: 0, recordsFailed: 0 });
    const rows = rowsOf(tag);
    expect(rows).toHaveLength(150);
    expect(new Set(rows)).toEqual(new Set(wanted));
  }, 90_000);

  it("refusing connections: a read answers 'temporarily unavailable' within the bound; back: the next read works", async () => {
    await proxy.down();
    let answers: Answer[];
    try {
      // Past the first reconnect attempts: the outage is under way, not beginning.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      answers = [await readRecords(), await timedCall("list_operations", {})];
    } finally {
      await proxy.up();
    }
    expectUnavailable(answers[0]!, "list_records while Redis refuses connections");
    expectUnavailable(answers[1]!, "list_operations while Redis refuses connections");
    await expectWorks(await readRecords(), "after Redis is back");
  }, 60_000);

  it("Redis unreachable at start-up: one line naming REDIS_URL on stderr, nothing on stdout, exit 1", async () => {
    const closed = await startRedisProxy(testRedisUrl());
    await closed.close(); // a port nothing listens on
    const child = spawn(process.execPath, [CLI, "stdio"], {
      env: childEnv({ REDIS_URL: closed.url }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      child.on("close", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toContain(
      `Could not reach Redis at ${new URL(closed.url).host} (REDIS_URL; no connection could be made to it)`,
    );
    expect(err).not.toContain("maxRetriesPerRequest");
    expect(err).not.toMatch(/\n\s+at /);
    expect(performance.now() - started).toBeLessThan(STALL_ANSWER_BOUND_MS + 5_000);
  }, 30_000);
});
