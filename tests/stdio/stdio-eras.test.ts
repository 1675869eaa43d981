/**
 * stdio serves both MCP protocol eras (issue 14): the connection's first message picks the era. A spawned
 * `airtable-oauth-mcp stdio` process each time, the SDK's own stdio clients: v2 pinned to 2026-07-28, v2
 * negotiating (auto), and v1 (2025-11-25 initialize); raw lines for what a 2026-07-28 request naming a revision
 * this server does not serve is answered.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
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
function childEnv(): Record<string, string> {
  return {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
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

  // MCP 2026-07-28 "Versioning", Protocol Version Negotiation: a request whose `_meta` names a version the server
  // does not implement MUST get UnsupportedProtocolVersionError (-32022) listing the versions it does; stdio
  // "Backward Compatibility": a dual-era client whose probe gets it stays modern and retries with a listed version
  // (it does not fall back to initialize). Raw lines, so the exact answers are what is checked.
  it("a request naming a revision not served gets -32022 listing 2026-07-28 (as server/discover does); the retry is served", async () => {
    const child = spawn(process.execPath, [CLI, "stdio"], { env: childEnv() });
    const lines: Record<string, unknown>[] = [];
    const waiters = new Map<number, (message: Record<string, unknown>) => void>();
    createInterface({ input: child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      lines.push(message);
      if (typeof message.id === "number") waiters.get(message.id)?.(message);
    });
    const answerTo = (id: number) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const known = lines.find((m) => m.id === id);
        if (known !== undefined) resolve(known);
        else waiters.set(id, resolve);
      });
    const meta = (version: string) => ({
      "io.modelcontextprotocol/protocolVersion": version,
      "io.modelcontextprotocol/clientInfo": { name: "stdio-raw", version: "1.0.0" },
      "io.modelcontextprotocol/clientCapabilities": {},
    });
    const send = (message: Record<string, unknown>) => child.stdin.write(`${JSON.stringify(message)}\n`);
    type Refusal = { error?: { code: number; message: string; data?: { supported?: string[]; requested?: string } } };
    try {
      // The probe of a client preferring a later revision than ours.
      send({ jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: meta("2027-01-01") } });
      // A notification gets no answer whatever its version (JSON-RPC 2.0 §4.1).
      send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1, _meta: meta("2027-01-01") } });
      send({ jsonrpc: "2.0", id: 2, method: "server/discover", params: { _meta: meta("2026-07-28") } });
      // A 2025 revision in the envelope: those are reached with initialize, not per request.
      send({ jsonrpc: "2.0", id: 3, method: "tools/list", params: { _meta: meta("2025-11-25") } });
      send({ jsonrpc: "2.0", id: 4, method: "tools/list", params: { _meta: meta("2026-07-28") } });

      const refused = (await answerTo(1)) as Refusal;
      expect(refused.error?.code, JSON.stringify(refused)).toBe(-32022);
      expect(refused.error?.message).toMatch(/unsupported protocol version/i);
      expect(refused.error?.data).toEqual({ supported: ["2026-07-28"], requested: "2027-01-01" });

      const discovered = (await answerTo(2)) as { result?: { supportedVersions: string[] } };
      expect(discovered.result?.supportedVersions, JSON.stringify(discovered)).toEqual(refused.error?.data?.supported);

      const legacyInEnvelope = (await answerTo(3)) as Refusal;
      expect(legacyInEnvelope.error?.code, JSON.stringify(legacyInEnvelope)).toBe(-32022);
      expect(legacyInEnvelope.error?.data).toEqual({ supported: ["2026-07-28"], requested: "2025-11-25" });

      const listed = (await answerTo(4)) as { result?: { tools: unknown[] } };
      expect(listed.result?.tools, JSON.stringify(listed)).toHaveLength(allTools.length);
      // Four requests, four answers: nothing was written for the notification.
      expect(lines.map((m) => m.id).sort()).toEqual([1, 2, 3, 4]);
    } finally {
      child.kill();
    }
  });
});
