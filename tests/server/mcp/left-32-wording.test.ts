/**
 * Small answers earlier sessions left saying too little (h-left32), through the real MCP SDK client over HTTP against
 * the sandbox:
 * - get_record of an id no table of the base has: Airtable's bare "Record not found" (404 MODEL_ID_NOT_FOUND) is
 *   told with the id, the table, why (deleted, mistyped, another base's: a get finds a record of another table of
 *   the base) and what to do (get-record.ts missingRecord).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Left 32",
  tables: [
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Email", type: "email" },
      ],
      records: [
        { Name: "Ada", Email: "ada@example.com" },
        { Name: "Ben", Email: "ben@example.com" },
      ],
    },
    {
      name: "Companies",
      fields: [{ name: "Name", type: "singleLineText" }],
      records: [{ Name: "Acme" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const tableId = (name: string) => mcp.base.tables.find((t) => t.name === name)!.id;

describe("get_record of a record id the base does not have", () => {
  it("names the id and the table, says why and what to do", async () => {
    const answer = await call("get_record", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      recordId: "recAAAAAAAAAAAAAA",
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      `Airtable found no record recAAAAAAAAAAAAAA in table "Contacts" (${tableId("Contacts")}), nor in any other ` +
        `table of base ${mcp.base.id} (404 MODEL_ID_NOT_FOUND: Record not found): it was deleted, the id is ` +
        "mistyped, or it is a record of another base. Find the record with list_records or search_records (a " +
        "filterByFormula on its primary field), then call get_record with the id they answer.",
    );
  });
});
