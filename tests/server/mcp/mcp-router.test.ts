import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTools } from "../../../src/shared/tools/catalog.ts";
import { ALLOWED_ORIGIN, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { progressTool } from "../../support/test-tools.ts";

/** Test-only tool: reports progress the way write tools will. */

let h: McpHarness;
beforeAll(async () => {
  h = await startMcpHarness({ maxBodyBytes: 64 * 1024, extraTools: [progressTool] });
});
afterAll(async () => {
  await h?.close();
});

const mcpHeaders = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-11-25",
};

function post(body: string, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: { ...mcpHeaders, "x-test-user": h.demo.user.id, ...headers },
    body,
  });
}

const toolsList = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
const callListBases = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "list_bases", arguments: {} },
});

describe("POST /mcp (stateless Streamable HTTP)", () => {
  it("lists every read tool with annotations and output schemas, with no Mcp-Session-Id", async () => {
    const client = await h.connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...readTools.map((t) => t.name), "test_progress"].sort());
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      });
      expect(tool.outputSchema?.type).toBe("object");
      expect(tool.title).toBeTruthy();
      expect(tool.description).toBeTruthy();
    }
    const listRecords = tools.find((t) => t.name === "list_records");
    expect(Object.keys(listRecords?.inputSchema.properties ?? {})).toEqual(
      expect.arrayContaining([
        "baseId",
        "tableId",
        "view",
        "fields",
        "sort",
        "filterByFormula",
        "maxRecords",
        "cursor",
      ]),
    );
    expect(client.getInstructions()).toMatch(/nextCursor/);

    const res = await post(toolsList);
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as { result: { tools: unknown[] } };
    expect(body.result.tools).toHaveLength(readTools.length + 1);
  });

  it("answers a tool call without initialize (any instance, no session)", async () => {
    const res = await post(callListBases);
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    const body = (await res.json()) as { result: { structuredContent: { bases: { id: string }[] } } };
    expect(body.result.structuredContent.bases.map((b) => b.id)).toContain(h.demo.base.id);
  });

  it("streams progress-capable answers as SSE when the call carries a progressToken", async () => {
    const res = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "list_bases", arguments: {}, _meta: { progressToken: "p1" } },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(await res.text()).toContain(h.demo.base.id);
  });

  it("relays a tool's progress as notifications/progress when the client asks for it", async () => {
    const client = await h.connect();
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool({ name: "test_progress", arguments: {} }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    expect(result.structuredContent).toEqual({ progressAvailable: true });
    expect(seen).toEqual([
      { progress: 1, total: 2, message: "half way" },
      { progress: 2, total: 2, message: "done" },
    ]);
    const without = await client.callTool({ name: "test_progress", arguments: {} });
    expect(without.structuredContent).toEqual({ progressAvailable: false });
  });

  it.each(["GET", "DELETE"])("%s /mcp → 405 with Allow: POST", async (method) => {
    const res = await fetch(`${h.url}/mcp`, { method, headers: { "x-test-user": h.demo.user.id } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  // What Chromium and Firefox send when a person opens a URL (navigation), and what MCP clients send on GET.
  const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
  const stateless = {
    jsonrpc: "2.0",
    error: { code: -32000, message: "Method not allowed: this server is stateless; use POST /mcp" },
    id: null,
  };

  it("GET /mcp from a browser → a page saying this is the MCP endpoint (still 405, Allow: POST)", async () => {
    const res = await fetch(`${h.url}/mcp`, { headers: { accept: browserAccept } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("vary")).toMatch(/\bAccept\b/);
    expect(res.headers.get("content-security-policy")).toBe("default-src 'none'");
    const page = await res.text();
    expect(page).toContain("This is an MCP endpoint");
    expect(page).toContain('<a href="./">');
  });

  it.each([
    ["an MCP client (Accept: text/event-stream)", { accept: "text/event-stream" }],
    ["no Accept (curl)", {}],
    ["Accept: */*", { accept: "*/*" }],
  ])("GET /mcp from %s → the JSON-RPC 405", async (_who, headers: Record<string, string>) => {
    const res = await fetch(`${h.url}/mcp`, { headers });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(stateless);
  });

  it("DELETE /mcp with a browser's Accept → the JSON-RPC 405 (only a GET is a page opened)", async () => {
    const res = await fetch(`${h.url}/mcp`, { method: "DELETE", headers: { accept: browserAccept } });
    expect(res.status).toBe(405);
    expect(await res.json()).toEqual(stateless);
  });

  it("refuses a browser Origin that is not allowed (403, JSON-RPC error) and accepts an allowed one", async () => {
    const bad = await post(toolsList, { origin: "https://evil.example" });
    expect(bad.status).toBe(403);
    expect(await bad.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 }, id: null });
    const good = await post(toolsList, { origin: ALLOWED_ORIGIN });
    expect(good.status).toBe(200);
  });

  it("refuses an oversized body with 413 and a JSON-RPC error", async () => {
    const big = JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/list", params: { pad: "x".repeat(100_000) } });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32000 } });
  });

  it("answers malformed JSON with a parse error (-32700, HTTP 400)", async () => {
    const res = await post('{"jsonrpc":"2.0","id":5,"method":');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 }, id: null });
  });

  it("answers a tool call lacking the tool's scope with 403 insufficient_scope naming the scope", async () => {
    const res = await post(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 6,
        method: "tools/call",
        params: { name: "list_records", arguments: { baseId: h.demo.base.id, tableId: "Contacts" } },
      }),
      { "x-test-scopes": "schema:read" },
    );
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="records:read"');
    // tools/list still works with the narrower token, and so do the tools it covers.
    expect((await post(toolsList, { "x-test-scopes": "schema:read" })).status).toBe(200);
    expect((await post(callListBases, { "x-test-scopes": "schema:read" })).status).toBe(200);
  });

  it("leaves authentication to the given middleware (401 without credentials)", async () => {
    const res = await fetch(`${h.url}/mcp`, { method: "POST", headers: mcpHeaders, body: toolsList });
    expect(res.status).toBe(401);
  });
});

describe("Host validation", () => {
  let strict: McpHarness;
  beforeAll(async () => {
    strict = await startMcpHarness({ allowedHosts: ["mcp.example.com"] });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it("refuses a Host not in allowedHosts (DNS rebinding) and accepts an allowed one", async () => {
    // fetch may not set Host (a forbidden header), node:http can.
    const send = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${strict.url}/mcp`,
          { method: "POST", headers: { ...mcpHeaders, "x-test-user": strict.demo.user.id, host } },
          (res) => {
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end(toolsList);
      });
    const bad = await send("attacker.example");
    expect(bad.status).toBe(403);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: -32000 } });
    expect((await send("mcp.example.com")).status).toBe(200);
    expect((await send("mcp.example.com:8443")).status).toBe(200);
  });
});
