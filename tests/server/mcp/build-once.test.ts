/**
 * Issue 15 / issue 14: /mcp builds a fresh McpServer for every request (stateless, both eras), but the tool
 * catalog (zod objects, validators, JSON Schemas) is compiled once per process. Counted over real HTTP requests
 * of both protocol eras, through the router the server uses.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTools } from "../../../src/shared/tools/catalog.ts";
import { toolCompilationCount } from "../../../src/shared/tools/compile-tools.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let before = 0;
beforeAll(async () => {
  before = toolCompilationCount();
  // A catalog array of its own (the harness concatenates), compiled by this harness: when its router is built (the
  // one server per process that serves plain 2025-era reads registers it then) or at its first request.
  h = await startMcpHarness({ tools: [...readTools] });
});
afterAll(async () => {
  await h?.close();
});

describe("tool catalog construction", () => {
  it("compiles the catalog once for the process, then never again across 2025-era and 2026-07-28 requests", async () => {
    const legacy = await h.connect();
    const modern = new ModernClient(
      { name: "count-test", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    await modern.connect(
      new ModernHttpTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { "x-test-user": h.demo.user.id } } }),
    );
    expect(toolCompilationCount()).toBe(before + 1);
    try {
      for (let i = 0; i < 10; i++) {
        for (const client of [legacy, modern]) {
          const { tools } = await client.listTools();
          expect(tools).toHaveLength(readTools.length);
          const result = await client.callTool({ name: "list_bases", arguments: {} });
          expect(result.isError).not.toBe(true);
        }
      }
      // 40 requests (plus the connects), each on a fresh McpServer: still the one compilation.
      expect(toolCompilationCount()).toBe(before + 1);
    } finally {
      await modern.close();
    }
  });
});
