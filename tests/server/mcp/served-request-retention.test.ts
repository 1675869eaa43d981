/**
 * A served /mcp request leaves nothing of itself behind on the connection it came on (issue 15: RSS and GC per
 * call). Since Node 24 a timer or socket keeps the async context it was armed in, with every AsyncLocalStorage
 * store of that moment: Node's HTTP server arms a keep-alive connection's idle timer as the answer finishes, so
 * the router's per-request store (the tool runtime, and through it the request, the SDK's McpServer and the user's
 * Airtable client) stayed reachable until that client's next request. Many clients with open connections (real
 * HTTP, the real MCP SDK client) call a read tool at once; once every answer is in and the connections are idle,
 * none of their calls' Airtable clients may still be alive (`queryObjects` counts live instances after a full collection).
 */
import { setImmediate as tick } from "node:timers/promises";
import { queryObjects } from "node:v8";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

const CLIENTS = 30;
let h: McpHarness;
let clients: Client[] = [];

beforeAll(async () => {
  h = await startMcpHarness({ tasks: true }); // as the server runs (MCP Tasks served)
  clients = await Promise.all(Array.from({ length: CLIENTS }, () => h.connect()));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await h?.close();
});

/** Each call builds the user's Airtable client into its runtime; the harness keeps one of its own (airtableA). */
const liveAirtableClients = (): number => queryObjects(AirtableClient, { format: "count" }) as number;

describe("a served /mcp request", () => {
  it("is not kept alive by its idle keep-alive connection (no Airtable client of a call outlives its answer)", async () => {
    const before = liveAirtableClients();
    // At once, so the clients' requests travel on many connections, each left idle after its answer.
    const answers = await Promise.all(clients.map((c) => c.callTool({ name: "list_bases", arguments: {} })));
    expect(answers.every((a) => a.isError !== true)).toBe(true);
    await tick();
    // The old router kept one per connection (~CLIENTS); none needs to outlive the answer it served.
    expect(liveAirtableClients() - before).toBeLessThan(3);
  });
});
