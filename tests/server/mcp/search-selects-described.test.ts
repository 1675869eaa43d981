/**
 * search_records' description against what it does, through the real MCP client over HTTP against the sandbox: a
 * default search reads select fields too (search-formula.ts, SEARCHABLE_FIELD_TYPES), and its description now says so;
 * a Session 29 trial saw "Status" in searchedFields though the description listed text fields, AI text, people,
 * barcodes, lookups, rollups, formulas and links only, and an agent reading it would filter selects by formula instead.
 */
import { expect, it } from "vitest";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Tracker",
  tables: [
    {
      name: "Tasks",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Status", type: "singleSelect", options: { choices: [{ name: "Blocked" }, { name: "Done" }] } },
      ],
      records: [
        { Title: "Export data", Status: "Blocked" },
        { Title: "Write copy", Status: "Done" },
      ],
    },
  ],
});

it("search_records' description names selects among the fields a default search reads, as it does", async () => {
  const { tools } = await mcp.client.listTools();
  const description = tools.find((t) => t.name === "search_records")?.description ?? "";
  expect(description).toContain("By default searches what the user sees as text: text fields, selects, AI text,");
  const found = await mcp.client.callTool({
    name: "search_records",
    arguments: { baseId: mcp.base.id, tableId: "Tasks", searchTerm: "blocked" },
  });
  const answer = found.structuredContent as { records: { fields: Record<string, unknown> }[]; searchedFields: unknown };
  expect(answer.records.map((r) => r.fields.Title)).toEqual(["Export data"]);
  expect(answer.searchedFields).toContainEqual(expect.objectContaining({ name: "Status", type: "singleSelect" }));
});
