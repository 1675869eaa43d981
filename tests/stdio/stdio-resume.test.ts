/**
 * stdio without REDIS_URL keeps its write operations in a SQLite file per Airtable account (DATA_DIR, else the
 * platform's per-user data directory: src/stdio/state-dir.ts), so the process an MCP client starts after killing
 * the last one resumes its unfinished writes, exactly once. Before, they lived in memory and died with the process:
 * a create stopped mid-way was simply gone, and the agent had to find out by hand which records existed.
 *
 * Spawned `airtable-oauth-mcp stdio` processes, the MCP SDK's stdio client, the sandbox over HTTP. A write is
 * stopped the way an abrupt client stops it (SIGKILL mid-write, a batch possibly in flight), then:
 * - the next process resumes it; every record ends in the table exactly once, and get_operation says `completed`; the
 *   same create sent again meanwhile is answered with that operation;
 * - a client that closes stdin mid-write and starts the next process at once (a restart): the old one pauses the
 *   write, the new one waits for the file and resumes it;
 * - two processes started at once against that directory: one resumes it, the other says why it keeps its own
 *   writes in memory (stderr, and list_operations' note), and no record is written twice;
 * - another account's process, with the same directory, neither lists nor resumes it;
 * - a log the next process cannot read (a newer version's event, a damaged row) is named on stderr and left alone,
 *   and the process starts all the same.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
/** Records per write, and how many are in the table when the process is killed (at 5 requests a second: ~2 s). */
const TOTAL = 300;
const KILL_AFTER = 100;
/**
 * Airtable's 429 penalty, in the sandbox and in the children's limiter (AIRTABLE_RATE_LIMIT_PENALTY_MS), shortened
 * from 30 s: these tests are about resuming exactly once, not the rate limits (stdio-rate-limit-pause.test.ts). On a
 * loaded machine a 429 can happen (the limiter's jitter margin is sized for a network's jitter, not for processes
 * waiting for a CPU), and 30 s of it outlasted the waits below: a test failed at ~23 s, a write still short of
 * KILL_AFTER records (session 28). With 2 s the write goes on, and each record is still checked once.
 */
const PENALTY_MS = 2_000;

/**
 * One test's fake Airtable (its own sandbox and demo data) and the copies it started. The tests run at once, each
 * with a base's 5 requests a second to itself: one after another they spent ~50 s mostly waiting on that rate.
 */
interface World {
  sandbox: Sandbox;
  demo: DemoData;
  /** Every copy the test started, for the diagnosis a timed-out wait gives (their stderr). */
  copies: Copy[];
}

const sandboxes: Sandbox[] = [];
const clients: Client[] = [];

async function startWorld(): Promise<World> {
  const sandbox = await startSandbox({ penaltyMs: PENALTY_MS });
  sandboxes.push(sandbox);
  return { sandbox, demo: seedDemo(sandbox), copies: [] };
}

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await Promise.all(sandboxes.map((sandbox) => sandbox.close()));
  removeStateDirs();
});

interface Copy {
  client: Client;
  transport: StdioClientTransport;
  stderr(): string;
}

/** Only what the child should see (the test process's own REDIS_URL must not leak in), plus `extra`. */
function childEnv({ sandbox, demo }: World, extra: Record<string, string>): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    AIRTABLE_TOKEN: demo.token,
    // A write call answers with its operation id at once; the tests poll.
    WRITE_WAIT_MS: "0",
    // The batch in flight at the kill is read back after this (reconcile.ts), not re-sent blindly.
    RECONCILE_SETTLE_MS: "100",
    AIRTABLE_RATE_LIMIT_PENALTY_MS: String(PENALTY_MS),
    LOG_LEVEL: "info",
    ...extra,
  };
}

async function start(w: World, env: Record<string, string>): Promise<Copy> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "stdio-resume-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  const copy = { client, transport, stderr: () => stderr };
  w.copies.push(copy);
  return copy;
}

const names = (label: string) => Array.from({ length: TOTAL }, (_, i) => `${label} ${i}`);

/** How many times each name of the write is in the sandbox's Contacts table. */
function counts({ sandbox, demo }: World, label: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const record of sandbox.listRecordsDirect(demo.base.id, "Contacts")) {
    const name = String(record.fields.Name);
    if (name.startsWith(`${label} `)) seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return seen;
}
const written = (w: World, label: string) => [...counts(w, label).values()].reduce((a, b) => a + b, 0);

async function until(
  w: World,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      // What a failure on a loaded machine needs to be understood: the sandbox's 429s and what the copies said.
      const said = w.copies
        .map((c, i) => `--- copy ${i + 1} (pid ${c.transport.pid}) stderr:\n${c.stderr()}`)
        .join("\n");
      throw new Error(
        `timed out waiting for ${typeof what === "string" ? what : what()} (sandbox 429s: ${w.sandbox.count429()})\n${said}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends create_records of TOTAL records labelled `label` to Contacts (the same call each time: same records). */
async function createAll({ demo }: World, client: Client, label: string) {
  return client.callTool({
    name: "create_records",
    arguments: {
      baseId: demo.base.id,
      tableId: "Contacts",
      records: names(label).map((Name) => ({ fields: { Name } })),
    },
  });
}

/** Polls get_operation until the operation ends (40 s at most) and answers its last status. */
async function untilEnded(w: World, client: Client, operationId: string): Promise<string> {
  let last = "";
  await until(
    w,
    async () => ["completed", "failed", "cancelled"].includes((last = await status(client, operationId))),
    40_000,
    () => `operation ${operationId} to end (last status: ${last})`,
  );
  return last;
}

/**
 * The stderr line `pattern` of `copy`, waited for: the copy writes it before it answers `initialize`, but the line
 * and the answer travel on two pipes, and the test may read the answer first.
 */
async function said(w: World, copy: Copy, pattern: RegExp): Promise<void> {
  await until(w, () => pattern.test(copy.stderr()), 5_000, `stderr matching ${pattern}`);
}

/**
 * Starts a create of TOTAL records labelled `label` in a process with `env`, and SIGKILLs that process once
 * KILL_AFTER of them are in the table. Returns the operation's id (the call answered at once: WRITE_WAIT_MS=0).
 */
async function writeAndKill(w: World, env: Record<string, string>, label: string): Promise<string> {
  const copy = await start(w, env);
  const result = await createAll(w, copy.client, label);
  expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
  const { operationId } = result.structuredContent as { operationId: string };
  await until(w, () => written(w, label) >= KILL_AFTER, 20_000, `${KILL_AFTER} records written`);
  const pid = copy.transport.pid;
  expect(pid).toBeTypeOf("number");
  process.kill(pid as number, "SIGKILL");
  await until(w, () => copy.transport.pid === null || !isAlive(pid as number), 5_000, "the killed process to end");
  await copy.client.close().catch(() => undefined);
  expect(written(w, label), "killed in the middle of the write").toBeLessThan(TOTAL);
  return operationId;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function status(client: Client, operationId: string): Promise<string> {
  const polled = await client.callTool({ name: "get_operation", arguments: { operationId } });
  if (polled.isError) return `error: ${(polled.content as { text: string }[])[0]?.text}`;
  return (polled.structuredContent as { status: string }).status;
}

/** Every record of the write is in the table, each exactly once. */
function expectEachOnce(w: World, label: string): void {
  const seen = counts(w, label);
  const twice = [...seen].filter(([, n]) => n > 1).map(([name]) => name);
  expect(twice, "records written twice").toEqual([]);
  expect([...seen.keys()].sort()).toEqual(names(label).sort());
}

it.concurrent(
  "a write stopped by killing the process is resumed by the next one: each record once, get_operation completed",
  async () => {
    const w = await startWorld();
    const env = childEnv(w, { DATA_DIR: privateStateDir("resume") });
    const label = "resumed after kill";
    const operationId = await writeAndKill(w, env, label);

    const next = await start(w, env);
    await said(w, next, /resuming 1 write operation an earlier run left unfinished/);
    // The agent got no answer it kept (its client restarted) and sends the same create again while it runs: the
    // claim of the first call is in the file too (recent-calls.ts), so it is that operation, not a second write.
    const again = await createAll(w, next.client, label);
    expect((again.structuredContent as { operationId: string }).operationId).toBe(operationId);
    expect(await untilEnded(w, next.client, operationId)).toBe("completed");
    expectEachOnce(w, label);

    const listed = await next.client.callTool({ name: "list_operations", arguments: {} });
    const out = listed.structuredContent as { operations: { operationId: string; status: string }[]; note?: string };
    expect(out.operations).toEqual([expect.objectContaining({ operationId, status: "completed" })]);
    expect(out.note).toBeUndefined();
    const polled = await next.client.callTool({ name: "get_operation", arguments: { operationId } });
    const { progress } = polled.structuredContent as { progress: Record<string, number> };
    expect(progress).toMatchObject({
      recordsTotal: TOTAL,
      recordsSucceeded: TOTAL,
      recordsFailed: 0,
      recordsInDoubt: 0,
    });
  },
  90_000,
);

it.concurrent(
  "a client restart (stdin closed mid-write, the next process started at once): paused, resumed, each record once",
  async () => {
    const w = await startWorld();
    // What a desktop client does on a reconnect or a config edit: it closes the old process's stdin and starts a new
    // one without waiting for the old to exit. The old one stops after the batch in flight and leaves the write
    // unfinished in the file; the new one waits for the file (not memory) and resumes it.
    const env = childEnv(w, { DATA_DIR: privateStateDir("restart") });
    const label = "client restart";
    const first = await start(w, env);
    const result = await createAll(w, first.client, label);
    const { operationId } = result.structuredContent as { operationId: string };
    await until(w, () => written(w, label) >= KILL_AFTER, 20_000, `${KILL_AFTER} records written`);
    const [, next] = await Promise.all([first.client.close(), start(w, env)]);
    expect(first.stderr()).toMatch(/1 write operation paused: resumed when this stdio server next starts/);
    expect(written(w, label), "stopped in the middle of the write").toBeLessThan(TOTAL);
    await said(w, next, /resuming 1 write operation/);
    expect(next.stderr()).not.toMatch(/another copy/);
    expect(await untilEnded(w, next.client, operationId)).toBe("completed");
    expectEachOnce(w, label);
  },
  90_000,
);

it.concurrent(
  "two processes started together on one directory: one resumes the write, the other says why, no record twice",
  async () => {
    const w = await startWorld();
    const env = childEnv(w, { DATA_DIR: privateStateDir("two-copies") });
    const label = "two copies";
    const operationId = await writeAndKill(w, env, label);

    const pair = await Promise.all([start(w, env), start(w, env)]);
    const busy = /another copy of this stdio server is running for the same Airtable account/;
    await until(
      w,
      () => pair.some((copy) => busy.test(copy.stderr())),
      5_000,
      "a copy to say another holds the directory",
    );
    const [holder, other] = busy.test(pair[0].stderr()) ? [pair[1], pair[0]] : [pair[0], pair[1]];
    expect(other.stderr(), "the copy that could not claim the directory says so on stderr").toMatch(busy);
    expect(holder.stderr()).not.toMatch(busy);
    await said(w, holder, /resuming 1 write operation/);
    expect(other.stderr()).not.toMatch(/resuming/);

    // The other copy keeps its writes in memory and says so where the agent looks.
    const listed = await other.client.callTool({ name: "list_operations", arguments: {} });
    const out = listed.structuredContent as { operations: unknown[]; note?: string };
    expect(out.operations).toEqual([]);
    expect(out.note).toMatch(/in its memory only, since it started at \d{4}-\d\d-\d\dT/);
    expect(out.note).toMatch(/look them up in the table \(search_records or list_records\) before writing them again/);
    expect(out.note).toMatch(/Another copy of this stdio server for the same Airtable account/);
    expect(out.note).toMatch(/give each client a DATA_DIR of its own/);

    expect(await untilEnded(w, holder.client, operationId)).toBe("completed");
    // Time for a second runner, had there been one, to send what it would.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expectEachOnce(w, label);
  },
  90_000,
);

it.concurrent(
  "another account's process, with the same directory, neither lists nor resumes the first account's write",
  async () => {
    const w = await startWorld();
    const { sandbox, demo } = w;
    // The platform's default directory this time, moved by XDG_DATA_HOME as a user's own would be.
    const xdg = privateStateDir("accounts");
    const env = childEnv(w, { XDG_DATA_HOME: xdg });
    const label = "first account";
    const operationId = await writeAndKill(w, env, label);
    const before = written(w, label);

    const otherUser = sandbox.addUser({ email: "other-account@example.com", name: "Other Account" });
    const otherToken = sandbox.createPersonalAccessToken(otherUser.id);
    const other = await start(w, { ...env, AIRTABLE_TOKEN: otherToken });
    const listed = await other.client.callTool({ name: "list_operations", arguments: {} });
    const out = listed.structuredContent as { operations: unknown[]; note?: string };
    expect(out.operations).toEqual([]);
    // Its own operations are kept (its own file): no note, and it started at once (no other copy of its account).
    expect(out.note).toBeUndefined();
    expect(other.stderr()).not.toMatch(/another copy/);
    expect(await status(other.client, operationId)).toMatch(/^error: There is no operation/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(written(w, label), "not resumed under the other account's token").toBe(before);

    // One directory per account, mode 0700, in the platform's data directory.
    const root = path.join(xdg, "airtable-oauth-mcp", "stdio");
    expect(readdirSync(root).sort()).toEqual([demo.user.id, otherUser.id].sort());
    for (const dir of readdirSync(root)) expect(statSync(path.join(root, dir)).mode & 0o777).toBe(0o700);

    // The first account's next process resumes it.
    const next = await start(w, env);
    expect(await untilEnded(w, next.client, operationId)).toBe("completed");
    expectEachOnce(w, label);
  },
  90_000,
);

it.concurrent(
  "an unfinished write whose log this version cannot read: the next process starts anyway and names it",
  async () => {
    const w = await startWorld();
    const { demo } = w;
    // A newer version's event (a downgrade), or a damaged row: the process used to die at every start with a stack
    // trace, and the MCP client could not connect at all.
    const dataDir = privateStateDir("unreadable");
    const env = childEnv(w, { DATA_DIR: dataDir });
    const label = "unreadable log";
    const operationId = await writeAndKill(w, env, label);
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path.join(dataDir, "stdio", demo.user.id, "airtable-oauth-mcp.sqlite"));
    db.prepare(
      "UPDATE operation_events SET event = ? WHERE operation_id = ? AND seq = " +
        "(SELECT MAX(seq) FROM operation_events WHERE operation_id = ?)",
    ).run(JSON.stringify({ seq: 99, at: Date.now(), type: "from-a-newer-version" }), operationId, operationId);
    db.close();
    const before = written(w, label);

    const next = await start(w, env);
    await said(w, next, /cannot be read by this version, so it is not resumed/);
    expect(next.stderr()).toContain(operationId);
    const listed = await next.client.callTool({
      name: "list_records",
      arguments: { baseId: demo.base.id, tableId: "Contacts", maxRecords: 1 },
    });
    expect(listed.isError, JSON.stringify(listed.content)).not.toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(written(w, label), "not resumed").toBe(before);
  },
  90_000,
);
