/**
 * An operation log this version cannot read, kept in SQLite (stdio without REDIS_URL; `npm start` keeps its logs in
 * the same SqliteOperationLog): an event written by a newer version (the user went back to an older release) and a
 * damaged row. Since h-review28 the process starts anyway (stdio-resume.test.ts), but while such an operation was
 * kept, list_operations answered "Internal error" for all of the account's operations, and get_operation on it too.
 * Now list_operations lists the others and names the unreadable ones, and get_operation on one answers a tool
 * error saying what to do.
 * Spawned `airtable-oauth-mcp stdio` processes, the MCP SDK's stdio client, the sandbox over HTTP; the file is
 * damaged between two runs (a running process holds it exclusively).
 */
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
let sandbox: Sandbox;
let userId: string;
let token: string;
let baseId: string;
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  userId = sandbox.addUser({ email: "unreadable-stdio@example.com" }).id;
  baseId = sandbox.createBase(userId, {
    name: "Unreadable logs",
    tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
  token = sandbox.createPersonalAccessToken(userId);
});

afterAll(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await sandbox?.close();
  removeStateDirs();
});

async function start(dataDir: string): Promise<Client> {
  // Only what the child should see: the test process's own REDIS_URL must not leak in.
  const env = {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_TOKEN: token,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    DATA_DIR: dataDir,
  };
  const client = new Client({ name: "stdio-unreadable-log-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" }),
  );
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return {
    isError: result.isError === true,
    text: first?.type === "text" ? first.text : "",
    structured: result.structuredContent as Record<string, unknown> | undefined,
  };
}

it("list_operations lists the others and names each unreadable one; get_operation on one says what to do", async () => {
  const dataDir = privateStateDir("unreadable-list");
  const first = await start(dataDir);
  const ids: string[] = [];
  for (const name of ["newer", "damaged", "fine"]) {
    const written = await call(first, "create_records", {
      baseId,
      tableId: "People",
      records: [{ fields: { Name: name } }],
    });
    expect(written.structured?.status, written.text).toBe("completed");
    ids.push(written.structured?.operationId as string);
  }
  const [newer, damaged, fine] = ids as [string, string, string];
  await first.close();

  const db = new DatabaseSync(path.join(dataDir, "stdio", userId, "airtable-oauth-mcp.sqlite"), { timeout: 10_000 });
  // A newer version's event (a type this version does not know) as the last one; the `accepted` row of the other
  // cut short.
  db.prepare(
    "UPDATE operation_events SET event = ? WHERE operation_id = ? AND seq = " +
      "(SELECT MAX(seq) FROM operation_events WHERE operation_id = ?)",
  ).run(JSON.stringify({ seq: 99, at: Date.now(), type: "batch.verified" }), newer, newer);
  db.prepare("UPDATE operation_events SET event = substr(event, 1, 40) WHERE operation_id = ? AND seq = 1").run(
    damaged,
  );
  db.close();

  const next = await start(dataDir);
  const listed = await call(next, "list_operations", {});
  expect(listed.isError, listed.text).toBe(false);
  const operations = listed.structured?.operations as { operationId: string }[];
  const unreadable = listed.structured?.unreadable as { operationId: string; kind?: string; baseId?: string }[];
  expect(operations.map((o) => o.operationId)).toEqual([fine]);
  expect(unreadable.map((o) => o.operationId)).toEqual([damaged, newer]);
  expect(unreadable[1]).toMatchObject({ kind: "create_records", baseId });
  expect(listed.text).toContain("look them up in the table (search_records or list_records) before writing them again");

  for (const id of [newer, damaged]) {
    const got = await call(next, "get_operation", { operationId: id });
    expect(got.isError).toBe(true);
    expect(got.text).toMatch(new RegExp(`^Operation ${id}\\b.* has a log this version of the server cannot read`));
    expect(got.text).toContain("before writing them again");
    expect(got.text).not.toMatch(/Internal error|\bat \S+\.ts:\d+|ZodError|SyntaxError/);
  }
  expect((await call(next, "get_operation", { operationId: fine })).isError).toBe(false);
  const cancelled = await call(next, "cancel_operation", { operationId: newer });
  expect(cancelled.isError).toBe(true);
  expect(cancelled.text).toMatch(
    new RegExp(`^Operation ${newer}\\b.* has a log this version of the server cannot read`),
  );
}, 60_000);
