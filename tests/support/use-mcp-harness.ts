/**
 * Test-only: the shape the wording and refusal tests share (tests/server/mcp/*-wording.test.ts, percent-hint,
 * write-no-answer): one MCP test harness (mcp-test-harness.ts, every tool) per file, one MCP SDK client connected
 * to it as the demo user, and a sandbox base of the file's own that the demo user owns.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll } from "vitest";
import type { BaseInfo, Sandbox } from "../../src/sandbox/index.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { startMcpHarness, type McpHarness } from "./mcp-test-harness.ts";

/** What {@link useMcpHarness} fills in before the file's first test (undefined until then). */
export interface McpHarnessWithBase {
  /** The harness: its sandbox, demo user, operations. */
  h: McpHarness;
  /** An MCP SDK client of the demo user, with every scope. */
  client: Client;
  /** The file's own base, from the definition given to useMcpHarness. */
  base: BaseInfo;
}

/**
 * Call at a test file's top level (where vitest collects hooks): registers a beforeAll that starts the harness with
 * every tool (`allTools`), connects a client and creates `baseDef` (sandbox.createBase's definition) for the demo
 * user, and an afterAll that closes the harness (and with it the client and the sandbox). Returns the object whose
 * fields that beforeAll fills in: read them inside tests and hooks, never at the top level.
 */
export function useMcpHarness(baseDef: Parameters<Sandbox["createBase"]>[1]): McpHarnessWithBase {
  const t = {} as McpHarnessWithBase;
  beforeAll(async () => {
    t.h = await startMcpHarness({ tools: allTools });
    t.client = await t.h.connect();
    t.base = t.h.sandbox.createBase(t.h.demo.user.id, baseDef);
  });
  afterAll(async () => {
    await t.h?.close();
  });
  return t;
}
