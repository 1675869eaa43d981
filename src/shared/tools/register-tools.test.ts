import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../logger.ts";
import { SchemaCache } from "../schema-cache.ts";
import { createMcpServer } from "./create-mcp-server.ts";
import { defineTool, type AnyToolDefinition } from "./define-tool.ts";
import type { BaseToolContext, ToolRuntime } from "./register-tools.ts";

const logger = createLogger({ level: "silent" });

const writeTool = defineTool({
  name: "test_write",
  title: "Write test",
  description: "A write tool: must never run its handler inline.",
  kind: "write",
  scopes: ["records:write"],
  inputSchema: { value: z.string() },
  outputSchema: { operationId: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async handler() {
    throw new Error("the inline handler ran");
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

// Tools here never touch Airtable; the context only has to exist.
const context = async () =>
  ({ userId: "usrTEST", schemas: new SchemaCache({ keyPrefix: "t" }), logger }) as unknown as BaseToolContext;

async function connect(tools: AnyToolDefinition[], runtime: Partial<ToolRuntime> = {}): Promise<Client> {
  const server = createMcpServer(tools, { context, logger, ...runtime });
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "t", version: "1" });
  await client.connect(clientSide);
  return client;
}

describe("registerTools", () => {
  it("refuses to register a write tool without a write runner", () => {
    expect(() => createMcpServer([writeTool], { context, logger })).toThrow(/test_write is a write tool/);
  });

  it("routes write tools to runWrite with the validated input", async () => {
    const calls: unknown[] = [];
    const client = await connect([writeTool], {
      runWrite: async (tool, input) => {
        calls.push({ tool: tool.name, input });
        return {
          structuredContent: { operationId: "op1" },
          content: [{ type: "text", text: '{"operationId":"op1"}' }],
        };
      },
    });
    const result = await client.callTool({ name: "test_write", arguments: { value: "x" } });
    expect(result.structuredContent).toEqual({ operationId: "op1" });
    expect(calls).toEqual([{ tool: "test_write", input: { value: "x" } }]);
  });

  it("turns an unexpected failure into an error result with a reference, never the error's details", async () => {
    const client = await connect([failingTool]);
    const result = await client.callTool({ name: "test_crash", arguments: {} });
    expect(result.isError).toBe(true);
    const text = (result.content as { text: string }[])[0]?.text ?? "";
    expect(text).toMatch(/^Internal error while running test_crash \(reference [0-9a-f-]{36}\)/);
    expect(text).not.toMatch(/secret|app\.ts/);
  });
});
