/**
 * Table and field descriptions within Airtable's documented limits: "If present, must be a string no longer than
 * 20,000 characters" (update table, update field) and "a non-empty string no longer than 20,000 characters" (create
 * table). The sandbox took any description, so a longer one was queued and written here, while Airtable refuses it
 * after the call has answered "queued". Now refused before anything is queued, saying what to do. Real MCP client
 * over HTTP, the sandbox, writes on the embedded runner.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);
/** Schema writes that reached the sandbox (meta API, other than reads). */
const schemaWrites = () => h.sandbox.requests.filter((r) => r.path.startsWith("/v0/meta/") && r.method !== "GET");

describe("table and field descriptions", () => {
  it("over 20,000 characters: update_table and update_field refuse before queueing; 20,000 emoji pass", async () => {
    const baseId = h.demo.base.id;
    const tooLong = "d".repeat(20_001);
    h.sandbox.clearRequests();
    const table = await call("update_table", { baseId, tableId: "Contacts", description: tooLong });
    expect(table.isError).toBe(true);
    expect(table.text).toContain(
      "description is 20,001 characters long: Airtable takes a table description of up to 20,000 characters. " +
        "Shorten it and call again",
    );
    const field = await call("update_field", { baseId, tableId: "Contacts", fieldId: "Name", description: tooLong });
    expect(field.isError).toBe(true);
    expect(field.text).toContain("Airtable takes a field description of up to 20,000 characters");
    expect(schemaWrites()).toEqual([]);

    // Characters, not UTF-16 units: 20,000 emoji are 40,000 units and within the limit.
    const emoji = await call("update_field", {
      baseId,
      tableId: "Contacts",
      fieldId: "Name",
      description: "😀".repeat(20_000),
    });
    expect(emoji.isError).toBe(false);
    expect(emoji.data.status).toBe("completed");
  });

  it("create_table with an empty description creates the table without one (a new table's must have text)", async () => {
    // Airtable's create-table takes "a non-empty string" (the sandbox refuses "", meta.test.ts); clients that fill
    // every optional argument send "", which means no description: it is left out rather than refused.
    h.sandbox.clearRequests();
    const answer = await call("create_table", {
      baseId: h.demo.base.id,
      name: "Described",
      description: "",
      fields: [{ name: "Name", type: "singleLineText" }],
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data.status).toBe("completed");
    expect(schemaWrites().map((r) => r.status)).toEqual([200]);
    const tables = await call("list_tables", { baseId: h.demo.base.id });
    const made = (tables.data.tables as { name: string; description?: string }[]).find((t) => t.name === "Described");
    expect(made).toBeDefined();
    expect(made!.description).toBeUndefined();
  });
});
