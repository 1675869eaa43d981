import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Writable } from "node:stream";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { AirtableServerError } from "../../../src/shared/airtable/errors.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { SchemaCache } from "../../../src/shared/schema-cache.ts";
import { createMcpServer } from "../../../src/shared/tools/create-mcp-server.ts";
import { defineTool, defineWriteTool, type AnyToolDefinition } from "../../../src/shared/tools/define-tool.ts";
import { operationResultShape } from "../../../src/shared/tools/operation-result.ts";
import {
  calledToolName,
  toolSuccessResult,
  type BaseToolContext,
  type ToolRuntime,
} from "../../../src/shared/tools/register-tools.ts";

const logger = createLogger({ level: "silent" });

const writeTool = defineWriteTool({
  name: "test_write",
  title: "Write test",
  description: "A write tool: its plan goes to the write runner, never runs inline.",
  kind: "write",
  scopes: ["records:write"],
  inputSchema: { value: z.string() },
  outputSchema: operationResultShape,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async plan(input) {
    return {
      kind: "create_records",
      baseId: "appTEST",
      tableId: "tblTEST",
      input: [{ fields: { Name: input.value } }],
      options: { typecast: true, onError: "continue" },
    };
  },
});

const failingTool = defineTool({
  name: "test_crash",
  title: "Crash test",
  description: "Throws a plain error.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {},
  outputSchema: { ok: z.boolean() },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler() {
    throw new Error("secret internals at /srv/app.ts:12");
  },
});

const answer = {
  operationId: "op_AAAAAAAAAAAAAAAAAAAAAA",
  kind: "create_records" as const,
  baseId: "appTEST",
  status: "queued" as const,
  done: false,
  message: "Queued.",
  progress: {
    batchesDone: 0,
    batchesTotal: 1,
    recordsTotal: 1,
    recordsSucceeded: 0,
    recordsFailed: 0,
    recordsInDoubt: 0,
  },
};

// Tools here never touch Airtable; the context only has to exist (a read tool's call still derives its client's
// deadline-bound copy from `airtable`, read-call.ts).
const limiter = BottleneckAirtableLimiter.local();
afterAll(() => limiter.close());
const airtable = new AirtableClient({
  apiUrl: "http://127.0.0.1:9",
  contentUrl: "http://127.0.0.1:9",
  userId: "usrTEST",
  getAccessToken: async () => "never-sent",
  limiter,
});
const baseContext = {
  airtable,
  userId: "usrTEST",
  schemas: new SchemaCache({ keyPrefix: "t" }),
  logger,
} as unknown as BaseToolContext;
const context = async () => baseContext;
const ownRecordsContext = () => baseContext;

async function connect(
  tools: AnyToolDefinition[],
  runtime: Partial<ToolRuntime> = {},
  onlyTool?: string,
): Promise<Client> {
  const server = createMcpServer(
    tools,
    { context, ownRecordsContext, logger, ...runtime },
    undefined,
    "legacy",
    onlyTool,
  );
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "t", version: "1" });
  await client.connect(clientSide);
  return client;
}

describe("registerTools", () => {
  it("refuses to register a write tool without a write runner", () => {
    expect(() => createMcpServer([writeTool], { context, ownRecordsContext, logger })).toThrow(
      /test_write is a write tool/,
    );
  });

  it("routes write tools' plans to runWrite", async () => {
    const calls: unknown[] = [];
    const client = await connect([writeTool], {
      runWrite: async (tool, plan) => {
        calls.push({ tool: tool.name, input: plan.input });
        return toolSuccessResult(answer);
      },
    });
    const result = await client.callTool({ name: "test_write", arguments: { value: "x" } });
    expect(result.structuredContent).toEqual(answer);
    expect(calls).toEqual([{ tool: "test_write", input: [{ fields: { Name: "x" } }] }]);
  });

  it("does not run a tool that reads only this server's records when its call was cancelled before it reached it", async () => {
    // refuseCancelledCall: what stops a cancel_operation the client already withdrew (its context waits on nothing).
    let ran = 0;
    const ownRecordsTool = defineTool({
      name: "test_own_records",
      title: "Own records test",
      description: "Reads only this server's records.",
      kind: "read",
      scopes: [],
      noAirtableRequest: true,
      inputSchema: {},
      outputSchema: { ok: z.boolean() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      async handler() {
        ran += 1;
        return { ok: true };
      },
    });
    const outcomes: string[] = [];
    const onToolCall = (_tool: string, _ms: number, outcome: string) => void outcomes.push(outcome);
    const live = await connect([ownRecordsTool], { onToolCall });
    expect((await live.callTool({ name: "test_own_records", arguments: {} })).structuredContent).toEqual({ ok: true });
    const client = await connect([ownRecordsTool], { cancelled: AbortSignal.abort(), onToolCall });
    const result = await client.callTool({ name: "test_own_records", arguments: {} });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toContain(
      "test_own_records was cancelled by the MCP client (or its connection closed) before it ended. Nothing was changed.",
    );
    expect(ran).toBe(1);
    expect(outcomes).toEqual(["ok", "cancelled"]);
  });

  it("turns an unexpected failure into an error result with a reference, never the error's details", async () => {
    const client = await connect([failingTool]);
    const result = await client.callTool({ name: "test_crash", arguments: {} });
    expect(result.isError).toBe(true);
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    expect(text).toMatch(/^Internal error while running test_crash \(reference [0-9a-f-]{36}\)/);
    expect(text).not.toMatch(/secret|app\.ts/);
  });

  it("logs why a call failed (Airtable's status and type) on the caller's line, for the operator", async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const callerLogger = createLogger({ level: "info" }, sink).child({ userId: "usrTEST" });
    const outage = defineTool({
      ...failingTool,
      name: "test_outage",
      async handler() {
        throw new AirtableServerError({
          status: 503,
          type: "SERVICE_UNAVAILABLE",
          message: "Airtable answered HTTP 503",
          request: { method: "GET", path: "/v0/appTEST/tblTEST", operation: "listRecords", baseId: "appTEST" },
        });
      },
    });
    const client = await connect([outage], {
      context: async () =>
        ({ airtable, userId: "usrTEST", schemas: new SchemaCache({ keyPrefix: "t" }), logger: callerLogger }) as never,
    });
    const result = await client.callTool({ name: "test_outage", arguments: {} });
    expect(result.isError).toBe(true);
    expect(lines.find((l) => l.message === "tool call")).toMatchObject({
      tool: "test_outage",
      isError: true,
      userId: "usrTEST",
      errorType: "SERVICE_UNAVAILABLE",
      status: 503,
      baseId: "appTEST",
    });
  });

  it("binds only the called tool when built for one tools/call, and still runs it", async () => {
    const runWrite = async () => toolSuccessResult(answer);
    const client = await connect([writeTool, failingTool], { runWrite }, "test_write");
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).toEqual(["test_write"]);
    const result = await client.callTool({ name: "test_write", arguments: { value: "x" } });
    expect(result.structuredContent).toEqual(answer);
  });

  it("binds the whole catalog when the called name is not in it", async () => {
    const client = await connect([writeTool, failingTool], { runWrite: async () => toolSuccessResult(answer) }, "nope");
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(["test_crash", "test_write"]);
  });

  it("checks every write tool for a runner even when binding only a read tool", () => {
    expect(() =>
      createMcpServer(
        [writeTool, failingTool],
        { context, ownRecordsContext, logger },
        undefined,
        "legacy",
        "test_crash",
      ),
    ).toThrow(/test_write is a write tool/);
  });
});

describe("calledToolName", () => {
  it("names the tool of a single tools/call request and nothing else", () => {
    expect(calledToolName({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_records" } })).toBe(
      "list_records",
    );
    expect(calledToolName({ jsonrpc: "2.0", id: 1, method: "tools/list" })).toBeUndefined();
    expect(calledToolName([{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "x" } }])).toBeUndefined();
    expect(calledToolName({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: 7 } })).toBeUndefined();
    expect(calledToolName({ jsonrpc: "2.0", id: 1, method: "tools/call" })).toBeUndefined();
    expect(calledToolName(null)).toBeUndefined();
  });
});
