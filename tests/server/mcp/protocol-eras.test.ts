/**
 * Both MCP protocol eras on one /mcp (issue 14): the SDK v2 client speaking 2026-07-28 (per-request `_meta`,
 * `server/discover`, no initialize) and the v1 client speaking 2025-11-25 talk to the same URL of the same
 * server, over real HTTP, behind the same CORS/Origin/auth/scope/Accept checks. Raw requests show what a client
 * that gets the 2026-07-28 rules wrong is told.
 */
import { Client as ModernClient } from "@modelcontextprotocol/client";
import { StreamableHTTPClientTransport as ModernHttpTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_NAME, SERVER_VERSION } from "../../../src/shared/tools/create-mcp-server.ts";
import { readTools } from "../../../src/shared/tools/catalog.ts";
import { ALLOWED_ORIGIN, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { progressTool } from "../../support/test-tools.ts";

const MODERN = "2026-07-28";

/** Test-only tool: reports progress the way write tools do. */

let h: McpHarness;
const modernClients: ModernClient[] = [];
beforeAll(async () => {
  h = await startMcpHarness({ extraTools: [progressTool] });
});
afterAll(async () => {
  await Promise.allSettled(modernClients.map((c) => c.close()));
  await h?.close();
});

/** A v2 client pinned to 2026-07-28 (no fallback to initialize), as user A unless told otherwise. */
async function connectModern(headers: Record<string, string> = {}): Promise<ModernClient> {
  const client = new ModernClient(
    { name: "modern-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  const transport = new ModernHttpTransport(new URL(`${h.url}/mcp`), {
    requestInit: { headers: { "x-test-user": h.demo.user.id, ...headers } },
  });
  await client.connect(transport);
  modernClients.push(client);
  return client;
}

/** The per-request envelope a 2026-07-28 request carries in `params._meta`. */
function envelope(version = MODERN): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": version,
    "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
}

function rawPost(body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "x-test-user": h.demo.user.id,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

interface JsonRpcError {
  error: { code: number; message: string; data?: Record<string, unknown> };
}

describe("2026-07-28 on /mcp (SDK v2 client)", () => {
  it("server/discover answers our name, version, tools capability, instructions and the versions we serve", async () => {
    const client = await connectModern();
    expect(client.getProtocolEra()).toBe("modern");
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect(client.getServerVersion()).toMatchObject({ name: SERVER_NAME, version: SERVER_VERSION });
    const discover = client.getDiscoverResult();
    // server/discover is a 2026-07-28 method: it lists the modern revisions; 2025-era ones go through initialize.
    expect(discover?.supportedVersions).toEqual([MODERN]);
    expect(discover?.capabilities.tools).toBeDefined();
    expect(client.getInstructions()).toMatch(/nextCursor/);
  });

  it("lists the same tools as a 2025-era client gets, and calls a read tool against Airtable", async () => {
    const modern = await connectModern();
    const legacy = await h.connect();
    const modernTools = (await modern.listTools()).tools;
    const legacyTools = (await legacy.listTools()).tools;
    expect(modernTools.map((t) => t.name).sort()).toEqual([...readTools.map((t) => t.name), "test_progress"].sort());
    // Same catalog either way: names, titles, descriptions, annotations and schemas.
    const byName = <T extends { name: string }>(tools: T[]) => [...tools].sort((a, b) => a.name.localeCompare(b.name));
    expect(JSON.parse(JSON.stringify(byName(modernTools)))).toEqual(JSON.parse(JSON.stringify(byName(legacyTools))));

    const result = await modern.callTool({
      name: "list_records",
      arguments: { baseId: h.demo.base.id, tableId: "Contacts", fields: ["Name"], pageSize: 3 },
    });
    expect(result.isError).not.toBe(true);
    const records = (result.structuredContent as { records: { id: string; fields: { Name: string } }[] }).records;
    const expected = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").slice(0, 3);
    expect(records.map((r) => r.id)).toEqual(expected.map((r) => r.id));
  });

  it("relays progress notifications to a 2026-07-28 client that asks for them", async () => {
    const client = await connectModern();
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool({ name: "test_progress", arguments: {} }, { onprogress: (p) => seen.push(p) });
    expect(result.structuredContent).toEqual({ progressAvailable: true });
    expect(seen).toEqual([
      { progress: 1, total: 2, message: "half way" },
      { progress: 2, total: 2, message: "done" },
    ]);
  });

  it("answers in the type the client accepts: SSE for a progress-asking call, JSON only to a JSON-only client", async () => {
    const call = (id: number, progressToken?: string) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: {
        name: "test_progress",
        arguments: {},
        _meta: { ...envelope(), ...(progressToken !== undefined && { progressToken }) },
      },
    });
    const headers = { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "test_progress" };

    const plain = await rawPost(call(1), headers);
    expect(plain.headers.get("content-type")).toMatch(/application\/json/);

    const streamed = await rawPost(call(2, "p2"), headers);
    expect(streamed.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = await streamed.text();
    expect(events).toContain('"method":"notifications/progress"');
    expect(events).toContain("half way");

    const jsonOnly = await rawPost(call(3, "p3"), { ...headers, accept: "application/json" });
    expect(jsonOnly.status).toBe(200);
    expect(jsonOnly.headers.get("content-type")).toMatch(/application\/json/);
    const answer = (await jsonOnly.json()) as { result: { structuredContent: unknown } };
    expect(answer.result.structuredContent).toEqual({ progressAvailable: true });

    const sseOnly = await rawPost(call(4), { ...headers, accept: "text/event-stream" });
    expect(sseOnly.headers.get("content-type")).toMatch(/text\/event-stream/);
    expect(await sseOnly.text()).toContain("progressAvailable");

    const neither = await rawPost(call(5), { ...headers, accept: "text/html" });
    expect(neither.status).toBe(406);
  });

  it("keeps our checks in front: no credentials → 401, a missing scope → 403 insufficient_scope, a foreign Origin → 403", async () => {
    const call = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name: "list_records",
        arguments: { baseId: h.demo.base.id, tableId: "Contacts" },
        _meta: envelope(),
      },
    };
    const modernHeaders = { "mcp-protocol-version": MODERN, "mcp-method": "tools/call", "mcp-name": "list_records" };
    const unauthenticated = await fetch(`${h.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...modernHeaders },
      body: JSON.stringify(call),
    });
    expect(unauthenticated.status).toBe(401);
    const narrow = await rawPost(call, { ...modernHeaders, "x-test-scopes": "schema:read" });
    expect(narrow.status).toBe(403);
    expect(narrow.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
    const foreign = await rawPost(call, { ...modernHeaders, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    const allowed = await rawPost(call, { ...modernHeaders, origin: ALLOWED_ORIGIN });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ALLOWED_ORIGIN);
  });

  it("refuses a protocol version it does not serve, naming the versions it does", async () => {
    const res = await rawPost(
      { jsonrpc: "2.0", id: 7, method: "server/discover", params: { _meta: envelope("2099-01-01") } },
      { "mcp-protocol-version": "2099-01-01", "mcp-method": "server/discover" },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as JsonRpcError;
    expect(body.error.code).toBe(-32022); // UnsupportedProtocolVersionError
    expect(body.error.data?.supported).toContain(MODERN);
    expect(body.error.data?.requested).toBe("2099-01-01");
    // The same list as server/discover's supportedVersions, not also the 2025 revisions reached with initialize: the
    // official conformance suite (sep-2575-server-unsupported-version-error) fails a `supported` entry that
    // server/discover does not list, and the SDK keeps that list to the per-request revisions (README, "MCP
    // protocol revisions").
    const client = await connectModern();
    expect(body.error.data?.supported).toEqual(client.getDiscoverResult()?.supportedVersions);
  });

  it("marks tools/list and server/discover cacheable by anyone for 5 minutes: they are the same for every caller", async () => {
    // MCP 2026-07-28 server/utilities/caching, "Choosing a Cache Scope": `public` for lists of tools identical for
    // all users. Ours are: user B with one scope gets the very list user A with all six gets.
    const list = (user: string, scopes?: string) =>
      rawPost(
        { jsonrpc: "2.0", id: 3, method: "tools/list", params: { _meta: envelope() } },
        {
          "mcp-protocol-version": MODERN,
          "mcp-method": "tools/list",
          "x-test-user": user,
          ...(scopes !== undefined && { "x-test-scopes": scopes }),
        },
      );
    type Cacheable = { result: { tools?: unknown[]; ttlMs: number; cacheScope: string } };
    const a = (await (await list(h.demo.user.id)).json()) as Cacheable;
    const b = (await (await list(h.userB.id, "schema:read")).json()) as Cacheable;
    expect(a.result).toMatchObject({ ttlMs: 300_000, cacheScope: "public" });
    expect(b.result.tools).toEqual(a.result.tools);
    const discover = await rawPost(
      { jsonrpc: "2.0", id: 4, method: "server/discover", params: { _meta: envelope() } },
      { "mcp-protocol-version": MODERN, "mcp-method": "server/discover", "x-test-scopes": "schema:read" },
    );
    expect(((await discover.json()) as Cacheable).result).toMatchObject({ ttlMs: 300_000, cacheScope: "public" });

    // The SDK v2 client then answers a second tools/list from its cache, without a request.
    const sent: string[] = [];
    const client = new ModernClient(
      { name: "cache-test", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(
      new ModernHttpTransport(new URL(`${h.url}/mcp`), {
        requestInit: { headers: { "x-test-user": h.demo.user.id } },
        fetch: (url, init) => {
          sent.push(new Headers(init?.headers).get("mcp-method") ?? "");
          return fetch(url, init);
        },
      }),
    );
    modernClients.push(client);
    const first = await client.listTools();
    const second = await client.listTools();
    expect(second.tools.map((t) => t.name)).toEqual(first.tools.map((t) => t.name));
    expect(sent.filter((m) => m === "tools/list")).toHaveLength(1);
  });

  it("refuses a 2026-07-28 request whose headers are missing or disagree with its body, saying why", async () => {
    const list = { jsonrpc: "2.0", id: 8, method: "tools/list", params: { _meta: envelope() } };
    const noHeaders = await rawPost(list, {});
    expect(noHeaders.status).toBe(400);
    const missing = (await noHeaders.json()) as JsonRpcError;
    expect(missing.error.code).toBe(-32020); // HeaderMismatch: a required header is absent
    expect(missing.error.message).toMatch(/MCP-Protocol-Version header is absent/);

    const mismatch = await rawPost(list, { "mcp-protocol-version": MODERN, "mcp-method": "tools/call" });
    expect(mismatch.status).toBe(400);
    const mismatched = (await mismatch.json()) as JsonRpcError;
    expect(mismatched.error.code).toBe(-32020); // HeaderMismatch
    expect(mismatched.error.message).toMatch(/Mcp-Method/i);

    // The header claims 2026-07-28 but the body has no envelope: refused, not served as a 2025-era request.
    const noMeta = await rawPost(
      { jsonrpc: "2.0", id: 9, method: "tools/list", params: {} },
      { "mcp-protocol-version": MODERN, "mcp-method": "tools/list" },
    );
    expect(noMeta.status).toBe(400);
    expect(((await noMeta.json()) as JsonRpcError).error.code).toBe(-32602);
  });
});

describe("a 2026-07-28 body with a 2025-11-25 MCP-Protocol-Version header (Claude's connectors)", () => {
  // anthropics/claude-code#93290: after server/discover, Claude's custom connectors send every request with a
  // 2026-07-28 `_meta` envelope and `MCP-Protocol-Version: 2025-11-25`. Refused with -32020, every call failed.
  const staleHeader = (init?: RequestInit): RequestInit => {
    const headers = new Headers(init?.headers);
    if (headers.has("mcp-protocol-version")) headers.set("mcp-protocol-version", "2025-11-25");
    return { ...init, headers };
  };

  it("the SDK v2 client whose requests carry that header is served: discover, tools/list, a read", async () => {
    const client = new ModernClient(
      { name: "stale-header", version: "1.0.0" },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    const sent: (string | null)[] = [];
    const transport = new ModernHttpTransport(new URL(`${h.url}/mcp`), {
      requestInit: { headers: { "x-test-user": h.demo.user.id } },
      fetch: (url, init) => {
        const rewritten = staleHeader(init);
        sent.push(new Headers(rewritten.headers).get("mcp-protocol-version"));
        return fetch(url, rewritten);
      },
    });
    await client.connect(transport);
    modernClients.push(client);
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("list_bases");
    const result = await client.callTool({ name: "list_bases", arguments: {} });
    expect(result.isError).not.toBe(true);
    const bases = (result.structuredContent as { bases: { id: string }[] }).bases;
    expect(bases.map((b) => b.id)).toContain(h.demo.base.id);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(new Set(sent)).toEqual(new Set(["2025-11-25"]));
  });

  it("answered as 2026-07-28 on the wire; Mcp-Method and Mcp-Name are still checked against the body", async () => {
    const call = {
      jsonrpc: "2.0",
      id: 11,
      method: "tools/call",
      params: { name: "list_bases", arguments: {}, _meta: envelope() },
    };
    const headers = { "mcp-protocol-version": "2025-11-25", "mcp-method": "tools/call", "mcp-name": "list_bases" };
    const served = await rawPost(call, headers);
    expect(served.status).toBe(200);
    const body = (await served.json()) as { result: { resultType: string; _meta: Record<string, unknown> } };
    expect(body.result.resultType).toBe("complete");
    expect(body.result._meta["io.modelcontextprotocol/serverInfo"]).toMatchObject({ name: SERVER_NAME });

    const wrongName = await rawPost(call, { ...headers, "mcp-name": "get_record" });
    expect(wrongName.status).toBe(400);
    expect(((await wrongName.json()) as JsonRpcError).error.code).toBe(-32020);
    // A header naming a revision that is neither ours nor a 2025 one is a mismatch as before.
    const other = await rawPost(call, { ...headers, "mcp-protocol-version": "2099-01-01" });
    expect(other.status).toBe(400);
  });
});

describe("2025-era clients on the same /mcp", () => {
  it("a raw 2025-06-18 initialize is answered with 2025-06-18, without a session", async () => {
    const res = await rawPost(
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
      },
      {},
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("mcp-session-id")).toBeNull();
    const body = (await res.json()) as { result: { protocolVersion: string; serverInfo: { name: string } } };
    expect(body.result.protocolVersion).toBe("2025-06-18");
    expect(body.result.serverInfo.name).toBe(SERVER_NAME);
  });

  it("the v2 client in its default (legacy) mode and the v1 client both initialize and call tools", async () => {
    const v2Legacy = new ModernClient({ name: "legacy-test", version: "1.0.0" });
    await v2Legacy.connect(
      new ModernHttpTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { "x-test-user": h.demo.user.id } } }),
    );
    modernClients.push(v2Legacy);
    expect(v2Legacy.getProtocolEra()).toBe("legacy");
    const v1 = await h.connect();
    for (const client of [v2Legacy, v1]) {
      const result = await client.callTool({ name: "list_bases", arguments: {} });
      const bases = (result.structuredContent as { bases: { id: string }[] }).bases;
      expect(bases.map((b) => b.id)).toContain(h.demo.base.id);
    }
  });

  it("a v2 client that negotiates (auto) picks 2026-07-28 here", async () => {
    const client = new ModernClient({ name: "auto-test", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(
      new ModernHttpTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { "x-test-user": h.demo.user.id } } }),
    );
    modernClients.push(client);
    expect(client.getProtocolEra()).toBe("modern");
    expect((await client.listTools()).tools.length).toBe(readTools.length + 1);
  });
});
