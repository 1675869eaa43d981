/**
 * MCP Tasks over stdio (issue 14 part 4): a spawned `airtable-oauth-mcp stdio` process, the SDK v2 stdio client
 * pinned to 2026-07-28, and ext-tasks' own task session on it. The SDK client cannot carry task wire shapes, so
 * (as ext-tasks documents) the session's tools/call and tasks/* go through a raw dispatcher: JSON-RPC requests
 * written to the same child's stdin, their answers taken off the transport before the SDK client sees them.
 */
import { Client as ModernClient } from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdioTransport } from "@modelcontextprotocol/client/stdio";
import {
  resultFromTaskOutcome,
  type JsonRpcResponse,
  type RawClientDispatch,
} from "@modelcontextprotocol/ext-tasks/client";
import type { JsonValue } from "@modelcontextprotocol/ext-tasks/core";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { modernMeta, MODERN, TASKS, taskSession } from "../support/tasks-client.ts";

import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

let sandbox: Sandbox;
let demo: DemoData;
beforeAll(async () => {
  sandbox = await startSandbox();
  demo = seedDemo(sandbox);
});
afterAll(async () => {
  await sandbox.close();
  removeStateDirs();
});

/** Only what the child should see: the test process's own REDIS_URL must not leak in. */
const server = () => ({
  command: process.execPath,
  args: [CLI, "stdio"],
  env: {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    AIRTABLE_TOKEN: demo.token,
    LOG_LEVEL: "warn",
    // Each process's write operations in a directory of its own (the platform's default, moved by XDG_DATA_HOME).
    XDG_DATA_HOME: privateStateDir(),
  },
  stderr: "pipe" as const,
});

/** A connected 2026-07-28 client and a raw dispatcher over the same child process. */
async function connect(): Promise<{ client: ModernClient; raw: RawClientDispatch }> {
  const transport = new ModernStdioTransport(server());
  const client = new ModernClient(
    { name: "stdio-tasks", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(transport);
  const pending = new Map<string, (message: Record<string, unknown>) => void>();
  const sdkOnMessage = transport.onmessage!;
  transport.onmessage = (message) => {
    const id = (message as { id?: unknown }).id;
    const waiter = typeof id === "string" ? pending.get(id) : undefined;
    if (waiter === undefined) return sdkOnMessage(message);
    pending.delete(id as string);
    waiter(message as unknown as Record<string, unknown>);
  };
  let next = 1;
  const raw: RawClientDispatch = async (request) => {
    const id = `raw-${next++}`;
    const answer = new Promise<Record<string, unknown>>((resolve) => pending.set(id, resolve));
    await transport.send({ jsonrpc: "2.0", id, ...(request as { method: string }) });
    const message = await answer;
    return message.error !== undefined
      ? ({ kind: "error", error: message.error } as JsonRpcResponse)
      : { kind: "result", result: message.result as JsonValue };
  };
  return { client, raw };
}

describe("stdio, MCP Tasks", () => {
  it("a 2026-07-28 client declaring tasks: a write becomes a task, polled to get_operation's answer", async () => {
    const { client, raw } = await connect();
    const session = taskSession(client, raw);
    try {
      expect(client.getDiscoverResult()?.capabilities.extensions).toEqual({ [TASKS]: {} });
      const records = Array.from({ length: 15 }, (_, i) => ({ fields: { Name: `stdio task ${i}` } }));
      const execution = await session.callTool("create_records", {
        baseId: demo.base.id,
        tableId: "Contacts",
        records,
      });
      expect(execution.kind).toBe("task");
      const taskId = execution.handle!.taskId;
      const { outcome } = await execution.settle();
      const result = resultFromTaskOutcome(outcome) as { content?: unknown; structuredContent?: unknown };
      expect(result.structuredContent).toMatchObject({ operationId: taskId, status: "completed", done: true });
      const names = sandbox.listRecordsDirect(demo.base.id, "Contacts").map((r) => String(r.fields.Name));
      expect(names.filter((n) => n.startsWith("stdio task "))).toHaveLength(15);

      const viaTool = await client.callTool({ name: "get_operation", arguments: { operationId: taskId } });
      const json = (r: { content?: unknown; structuredContent?: unknown }) =>
        JSON.parse(JSON.stringify({ content: r.content, structuredContent: r.structuredContent }));
      expect(json(result)).toEqual(json(viaTool));

      const missing = await raw({
        method: "tasks/get",
        params: { taskId: "op_AAAAAAAAAAAAAAAAAAAAAA", _meta: modernMeta(true) },
      } as unknown as JsonValue);
      expect(missing).toMatchObject({ kind: "error", error: { code: -32602 } });
    } finally {
      await session.close();
      await client.close();
    }
  });

  it("a 2025-era client is offered no tasks and its write waits, as before", async () => {
    const client = new LegacyClient({ name: "stdio-legacy", version: "1.0.0" });
    await client.connect(new StdioClientTransport(server()));
    try {
      expect(client.getServerCapabilities()?.extensions).toBeUndefined();
      const result = await client.callTool({
        name: "create_record",
        arguments: { baseId: demo.base.id, tableId: "Contacts", fields: { Name: "stdio legacy write" } },
      });
      expect(result.structuredContent).toMatchObject({ status: "completed", done: true });
    } finally {
      await client.close();
    }
  });
});
