/**
 * stdio serves both MCP protocol eras (issue 14): the connection's first message picks the era. A spawned
 * `airtable-oauth-mcp stdio` process each time, the SDK's own stdio clients: v2 pinned to 2026-07-28, v2
 * negotiating (auto), and v1 (2025-11-25 initialize).
 */
import { Client as ModernClient, type ClientOptions as ModernClientOptions } from "@modelcontextprotocol/client";
import { StdioClientTransport as ModernStdioTransport } from "@modelcontextprotocol/client/stdio";
import { Client as LegacyClient } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { SERVER_NAME, SERVER_VERSION } from "../../src/shared/tools/create-mcp-server.ts";

import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";

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
function childEnv(): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    AIRTABLE_TOKEN: demo.token,
    LOG_LEVEL: "warn",
    // Each process's write operations in a directory of its own (the platform's default, moved by XDG_DATA_HOME).
    XDG_DATA_HOME: privateStateDir(),
  };
}

const server = () => ({ command: process.execPath, args: [CLI, "stdio"], env: childEnv(), stderr: "pipe" as const });

async function contactNames(client: {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
}): Promise<string[]> {
  const result = (await client.callTool({
    name: "list_records",
    arguments: { baseId: demo.base.id, tableId: "Contacts", fields: ["Name"], pageSize: 3 },
  })) as { isError?: boolean; structuredContent?: { records: { fields: { Name: string } }[] } };
  expect(result.isError).not.toBe(true);
  return (result.structuredContent?.records ?? []).map((r) => r.fields.Name);
}

const expectedNames = () =>
  sandbox
    .listRecordsDirect(demo.base.id, "Contacts")
    .slice(0, 3)
    .map((r) => String(r.fields.Name));

describe("stdio, both protocol eras", () => {
  it.each<[string, ModernClientOptions["versionNegotiation"]]>([
    ["pinned to 2026-07-28", { mode: { pin: "2026-07-28" } }],
    ["negotiating (auto)", { mode: "auto" }],
  ])("a v2 client %s gets 2026-07-28: discover, tools/list, a read", async (_label, versionNegotiation) => {
    const client = new ModernClient({ name: "stdio-modern", version: "1.0.0" }, { versionNegotiation });
    await client.connect(new ModernStdioTransport(server()));
    try {
      expect(client.getProtocolEra()).toBe("modern");
      expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28");
      expect(client.getServerVersion()).toMatchObject({ name: SERVER_NAME, version: SERVER_VERSION });
      expect(client.getDiscoverResult()?.capabilities.tools).toBeDefined();
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());
      expect(await contactNames(client)).toEqual(expectedNames());
    } finally {
      await client.close();
    }
  });

  it("a v1 client (2025-11-25 initialize) gets the same tools and the same read", async () => {
    const client = new LegacyClient({ name: "stdio-legacy", version: "1.0.0" });
    await client.connect(new StdioClientTransport(server()));
    try {
      expect(client.getServerVersion()).toMatchObject({ name: SERVER_NAME, version: SERVER_VERSION });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(allTools.map((t) => t.name).sort());
      expect(await contactNames(client)).toEqual(expectedNames());
    } finally {
      await client.close();
    }
  });

  // MCP "Pagination", Error Handling: "Invalid cursors SHOULD result in an error with code -32602". Every tool is in
  // one page, so no cursor is one this server issued; the SDK alone would answer the whole list again.
  it("tools/list refuses a cursor with -32602 in both eras, saying to omit it", async () => {
    const modern = new ModernClient(
      { name: "stdio-modern", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: "2026-07-28" } } },
    );
    const legacy = new LegacyClient({ name: "stdio-legacy", version: "1.0.0" });
    await modern.connect(new ModernStdioTransport(server()));
    try {
      await legacy.connect(new StdioClientTransport(server()));
      for (const client of [modern, legacy]) {
        const error = await client.listTools({ cursor: "bogus" }).then(
          () => undefined,
          (e: unknown) => e as { code?: number; message?: string },
        );
        expect(error?.code).toBe(-32602);
        expect(error?.message).toMatch(/"bogus".*omit cursor/s);
        // Without one: every tool, as before.
        expect((await client.listTools()).tools).toHaveLength(allTools.length);
      }
    } finally {
      await Promise.allSettled([modern.close(), legacy.close()]);
    }
  });
});
