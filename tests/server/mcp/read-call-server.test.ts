import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { mcpServerBuildCount } from "../../../src/shared/tools/create-mcp-server.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

/**
 * Plain 2025-era read calls are served by one McpServer per process (src/server/mcp/read-call-transport.ts), not by
 * a new server and transport per request (issue 15: the SDK's per-request serving was ~1 ms of CPU per call). What
 * must hold: no server is built per read call; every other request still gets the SDK's per-request path and its
 * answers; a read's answer is what the SDK's transport answered (status, Content-Type, length, the client's own id).
 */

let h: McpHarness;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools, writeWaitMs: 5_000 });
});
afterAll(async () => {
  await h?.close();
});

const LEGACY = "2025-11-25";

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": LEGACY,
      "x-test-user": h.demo.user.id,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** A POST /mcp over node:http with the raw header lines `lines` (name, value, name, value…; duplicates kept). */
function postRaw(lines: string[], body: string): Promise<{ status: number; body: string }> {
  const url = new URL(`${h.url}/mcp`);
  const headers = [
    ...["host", url.host, "accept", "application/json, text/event-stream", "mcp-protocol-version", LEGACY],
    ...["x-test-user", h.demo.user.id, "content-length", String(Buffer.byteLength(body)), ...lines],
  ];
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const listRecords = (id: number | string, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "list_records", arguments: { baseId: h.fixtures.id, tableId: "Hostile", maxRecords: 2 }, ...extra },
});

describe("plain 2025-era reads on one server per process", () => {
  it("builds no McpServer per read call; tools/list, a read asking for progress and writes still get their own", async () => {
    const client = await h.connect();
    // Warm: the user's context and the base's schema are read once.
    await client.callTool({ name: "list_records", arguments: { baseId: h.fixtures.id, tableId: "Hostile" } });
    const before = mcpServerBuildCount();
    for (let i = 0; i < 10; i++) {
      const listed = await client.callTool({
        name: "list_records",
        arguments: { baseId: h.fixtures.id, tableId: "Hostile", maxRecords: 3 },
      });
      expect(listed.isError).not.toBe(true);
      const bases = await client.callTool({ name: "list_bases", arguments: {} });
      expect(bases.isError).not.toBe(true);
    }
    expect(mcpServerBuildCount()).toBe(before);

    await client.listTools();
    expect(mcpServerBuildCount()).toBe(before + 1);
    // Progress needs an SSE answer: the SDK's transport serves it, on a server of its own.
    const progress = await post(listRecords(5, { _meta: { progressToken: "p1" } }));
    expect(progress.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await progress.text();
    expect(mcpServerBuildCount()).toBe(before + 2);
    const written = await client.callTool({
      name: "create_records",
      arguments: { baseId: h.fixtures.id, tableId: "Hostile", records: [{ fields: { Name: "one server" } }] },
    });
    expect(written.isError).not.toBe(true);
    expect(mcpServerBuildCount()).toBe(before + 3);
  });

  it("answers as the SDK's transport did: 200, application/json with its length, the client's own id", async () => {
    for (const id of ["call-α", 0, 42]) {
      const response = await post(listRecords(id));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      const text = await response.text();
      expect(Number(response.headers.get("content-length"))).toBe(Buffer.byteLength(text));
      const body = JSON.parse(text) as { jsonrpc: string; id: unknown; result: { structuredContent: unknown } };
      expect(body.jsonrpc).toBe("2.0");
      expect(body.id).toBe(id);
      expect(body.result.structuredContent).toMatchObject({ records: expect.any(Array) });
    }
  });

  it("a call with wrong arguments gets the SDK's validation answer, with its own id", async () => {
    const response = await post({
      jsonrpc: "2.0",
      id: "bad-1",
      method: "tools/call",
      params: { name: "list_records", arguments: { tableId: "Hostile" } },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: unknown; result: { isError: boolean; content: { text: string }[] } };
    expect(body.id).toBe("bad-1");
    expect(body.result.isError).toBe(true);
    expect(body.result.content[0]!.text).toMatch(/baseId/);
  });

  it("what the SDK's transport refuses is still refused by it: an unsupported MCP-Protocol-Version, a non-JSON body type", async () => {
    const version = await post(listRecords(1), { "mcp-protocol-version": "1999-01-01" });
    expect(version.status).toBe(400);
    expect(await version.text()).toMatch(/Unsupported protocol version: 1999-01-01/);

    const type = await post(listRecords(2), { "content-type": "text/plain" });
    expect(type.status).toBe(415);
    expect(await type.text()).toMatch(/Content-Type must be application\/json/);
  });

  it("a Content-Type given twice is refused by the SDK's transport (415) for a read as for any other request", async () => {
    // Node's req.headers keeps the first of duplicated Content-Type lines; the SDK's transport sees them all.
    for (const second of ["application/json", "text/plain"]) {
      for (const body of [listRecords(3), { jsonrpc: "2.0", id: 4, method: "tools/list" }]) {
        const answer = await postRaw(
          ["content-type", "application/json", "content-type", second],
          JSON.stringify(body),
        );
        expect(answer.status).toBe(415);
        expect(answer.body).toMatch(/Content-Type must be application\/json/);
      }
    }
  });
});
