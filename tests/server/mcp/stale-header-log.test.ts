/**
 * The MCP-Protocol-Version header exception for Claude's connectors (anthropics/claude-code#93290: 2026-07-28 bodies
 * sent with `MCP-Protocol-Version: 2025-11-25`, served as 2026-07-28 by stale-version-header.ts) is meant to go
 * once the clients are fixed, so the operator must see when it is still used: one info line per client (its
 * clientInfo name and version, else its User-Agent) and process, and a count per client in /metrics. The client's
 * text comes from the request, so the clients named are bounded: a caller sending a new name on every request
 * gets one more line, then "other". The MCP endpoint on real HTTP, the SDK v2 client, real prom-client metrics.
 */
import { Client as ModernClient, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Metrics } from "../../../src/shared/metrics/index.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

const MODERN = "2026-07-28";
const EXCEPTION_LINE = /claude-code#93290/;

let h: McpHarness;
const lines: Record<string, unknown>[] = [];
const metrics = new Metrics({ processMetrics: false });
const clients: ModernClient[] = [];

beforeAll(async () => {
  h = await startMcpHarness({
    logDestination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    onStaleVersionHeader: metrics.onStaleVersionHeader,
  });
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await h?.close();
});

/** The info lines the exception wrote (the once-per-client ones and the one saying the list is full). */
const exceptionLines = () => lines.filter((l) => l.level === "info" && EXCEPTION_LINE.test(String(l.message)));

/** The SDK v2 client pinned to 2026-07-28 whose every request carries `MCP-Protocol-Version: 2025-11-25`. */
async function staleHeaderClient(name: string, version: string): Promise<ModernClient> {
  const client = new ModernClient({ name, version }, { versionNegotiation: { mode: { pin: MODERN } } });
  const transport = new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), {
    requestInit: { headers: { "x-test-user": h.demo.user.id } },
    fetch: (url, init) => {
      const headers = new Headers(init?.headers);
      if (headers.has("mcp-protocol-version")) headers.set("mcp-protocol-version", "2025-11-25");
      return fetch(url, { ...init, headers });
    },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function rawList(clientInfo: Record<string, unknown> | undefined, headers: Record<string, string>): Promise<Response> {
  const meta: Record<string, unknown> = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
    ...(clientInfo !== undefined && { "io.modelcontextprotocol/clientInfo": clientInfo }),
  };
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "x-test-user": h.demo.user.id,
      "mcp-method": "tools/list",
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: meta } }),
  });
}

/** The value of `mcp_stale_protocol_header_requests_total` for `client` in what /metrics serves (0 when absent). */
async function counted(client: string): Promise<number> {
  const { body } = await metrics.render();
  const line = body
    .split("\n")
    .find((l) => l.startsWith(`mcp_stale_protocol_header_requests_total{client="${client}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("requests served under the MCP-Protocol-Version header exception", () => {
  it("are logged once per client at info, naming it, and counted per client in /metrics", async () => {
    const first = await staleHeaderClient("connector-like", "1.0.0");
    await first.listTools();
    expect((await first.callTool({ name: "list_bases", arguments: {} })).isError).not.toBe(true);
    // A second connection of the same client software: no new line.
    await (await staleHeaderClient("connector-like", "1.0.0")).listTools();

    const logged = exceptionLines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      client: "connector-like 1.0.0",
      clientName: "connector-like",
      clientVersion: "1.0.0",
      header: "2025-11-25",
      revision: MODERN,
    });
    // server/discover, tools/list, tools/call, then discover and tools/list again: every request counted.
    expect(await counted("connector-like 1.0.0")).toBeGreaterThanOrEqual(5);

    // Another version of it is another client (the operator watches for the fixed version to replace the old).
    await (await staleHeaderClient("connector-like", "1.1.0")).listTools();
    expect(exceptionLines().map((l) => l.client)).toEqual(["connector-like 1.0.0", "connector-like 1.1.0"]);
  });

  it("names a client that sends no clientInfo by its User-Agent; a request with a matching header is not logged", async () => {
    const before = exceptionLines().length;
    const matching = await rawList({ name: "well-behaved", version: "2" }, { "mcp-protocol-version": MODERN });
    expect(matching.status).toBe(200);
    expect(exceptionLines()).toHaveLength(before);
    expect(await counted("well-behaved 2")).toBe(0);

    const anonymous = await rawList(undefined, { "mcp-protocol-version": "2025-11-25", "user-agent": "SomeAgent/3.1" });
    expect(anonymous.status).toBe(200);
    expect(exceptionLines().at(-1)).toMatchObject({ client: "SomeAgent/3.1", userAgent: "SomeAgent/3.1" });
    expect(await counted("SomeAgent/3.1")).toBe(1);
  });

  it("names at most 32 clients per process: a caller inventing names gets one more line, then 'other'", async () => {
    const before = exceptionLines().length; // 3 clients named so far
    for (let i = 0; i < 40; i++) {
      const res = await rawList(
        { name: `invented-${i}`, version: "x".repeat(500) },
        { "mcp-protocol-version": "2025-11-25" },
      );
      expect(res.status).toBe(200);
    }
    const added = exceptionLines().slice(before);
    // 29 more named (32 in all), then one line saying later clients go unnamed; nothing for the other 10.
    expect(added).toHaveLength(30);
    expect(String(added.at(-1)?.message)).toMatch(/32 clients were named already/);
    // A client's text is cut to 100 characters.
    expect(String(added[0]?.clientVersion)).toHaveLength(100);
    const { body } = await metrics.render();
    const series = body.split("\n").filter((l) => l.startsWith("mcp_stale_protocol_header_requests_total{"));
    expect(series).toHaveLength(33);
    expect(await counted("other")).toBe(11);
  });
});
