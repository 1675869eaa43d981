/**
 * tools/list with a `cursor` this server never issued (it lists every tool in one page, so it issues none): MCP
 * "Pagination", Error Handling (2025-11-25 and 2026-07-28): "Invalid cursors SHOULD result in an error with code
 * -32602 (Invalid params)". Both protocol eras on /mcp over real HTTP: the SDK's own clients (v1 at 2025-11-25, v2
 * pinned to 2026-07-28) and raw POSTs, which show the whole JSON-RPC answer.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernHttpTransport,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTools } from "../../../src/shared/tools/catalog.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { MODERN, modernMeta } from "../../support/tasks-client.ts";

let h: McpHarness;
const modernClients: ModernClient[] = [];
beforeAll(async () => {
  h = await startMcpHarness();
});
afterAll(async () => {
  await Promise.allSettled(modernClients.map((c) => c.close()));
  await h?.close();
});

async function connectModern(): Promise<ModernClient> {
  const client = new ModernClient(
    { name: "cursor-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(
    new ModernHttpTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: { "x-test-user": h.demo.user.id } } }),
  );
  modernClients.push(client);
  return client;
}

/** One raw tools/list POST as `era` sends it (2025-11-25: the version header only; 2026-07-28: envelope and headers). */
async function rawList(era: "2025-11-25" | typeof MODERN, params: Record<string, unknown>): Promise<Response> {
  return fetch(`${h.url}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "x-test-user": h.demo.user.id,
      "mcp-protocol-version": era,
      ...(era === MODERN && { "mcp-method": "tools/list" }),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 7,
      method: "tools/list",
      params: { ...params, ...(era === MODERN && { _meta: modernMeta(false) }) },
    }),
  });
}

const NO_CURSOR = /omit cursor/i;
const toolNames = readTools.map((t) => t.name).sort();

describe("tools/list refuses a cursor it never issued, -32602 (MCP Pagination, Error Handling)", () => {
  it("2025-11-25 (SDK v1 client): a made-up cursor is refused; without one, every tool in one page", async () => {
    const client = await h.connect();
    const error = await client.listTools({ cursor: "bogus" }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; message?: string },
    );
    expect(error?.code).toBe(-32602);
    expect(error?.message).toContain('"bogus"');
    expect(error?.message).toMatch(NO_CURSOR);
    expect(error?.message).toMatch(/one page/);

    const page = await client.listTools();
    expect(page.tools.map((t) => t.name).sort()).toEqual(toolNames);
    expect(page.nextCursor).toBeUndefined();
  });

  it("2026-07-28 (SDK v2 client): the same refusal; without a cursor, every tool", async () => {
    const client = await connectModern();
    const error = await client.listTools({ cursor: "eyJwYWdlIjogMn0=" }).then(
      () => undefined,
      (e: unknown) => e as { code?: number; message?: string },
    );
    expect(error?.code).toBe(-32602);
    expect(error?.message).toMatch(NO_CURSOR);

    const page = await client.listTools();
    expect(page.tools.map((t) => t.name).sort()).toEqual(toolNames);
    expect(page.nextCursor).toBeUndefined();
    // 2026-07-28 "Tools", Capabilities: tools SHOULD come in a deterministic order (the catalog's).
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(readTools.map((t) => t.name));
  });

  it.each(["2025-11-25", MODERN] as const)(
    "%s raw POST: the JSON-RPC error echoes the id; a cursor that is not a string is refused the same way; an empty or null cursor lists from the start",
    async (era) => {
      for (const cursor of ["bogus", 5, { page: 2 }]) {
        const res = await rawList(era, { cursor });
        const body = (await res.json()) as {
          id?: unknown;
          result?: unknown;
          error?: { code: number; message: string };
        };
        expect({ cursor, body }).toMatchObject({ cursor, body: { id: 7, error: { code: -32602 } } });
        expect(body.result).toBeUndefined();
        expect(body.error?.message).toMatch(NO_CURSOR);
      }
      // No cursor at all (and no params at all for 2025-11-25), or one a client sends to mean "from the start": the
      // list, as before.
      for (const params of [{}, { cursor: "" }, { cursor: null }]) {
        const ok = (await (await rawList(era, params)).json()) as {
          result?: { tools: { name: string }[]; nextCursor?: string };
        };
        expect({ params, tools: ok.result?.tools.map((t) => t.name).sort() }).toEqual({ params, tools: toolNames });
        expect(ok.result?.nextCursor).toBeUndefined();
      }
    },
  );

  it("a long cursor is quoted cut short, not echoed whole", async () => {
    const cursor = "x".repeat(5_000);
    const body = (await (await rawList("2025-11-25", { cursor })).json()) as {
      error: { code: number; message: string };
    };
    expect(body.error.code).toBe(-32602);
    expect(body.error.message.length).toBeLessThan(600);
    expect(body.error.message).toContain("…");
  });
});
