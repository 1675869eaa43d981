/**
 * Small answers earlier sessions left saying too little (h-left32), through the real MCP SDK client over HTTP against
 * the sandbox:
 * - get_record of an id no table of the base has: Airtable's bare "Record not found" (404 MODEL_ID_NOT_FOUND) is
 *   told with the id, the table, why (deleted, mistyped, another base's: a get finds a record of another table of
 *   the base) and what to do (get-record.ts missingRecord);
 * - a batch naming several records the table does not have: Airtable's refusal names the first only, and every
 *   record's error quoted it, so the second's quoted another record's id; the read that settles them finds them all,
 *   and each error now names the request's other missing ids and says Airtable named only the first
 *   (missing-records.ts missingInRequest), under onError "continue" and "stop";
 * - delete_records naming a record of another table of the base said "already deleted, or an id from another table";
 *   a failed delete's ids are now looked up as an update's are (one get-record each, at most 10 per run) and the
 *   table holding it is named, with the tableId to call again with.
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

describe("a batch naming several records the table does not have", () => {
  const A = "recAAAAAAAAAAAAAA";
  const B = "recBBBBBBBBBBBBBB";
  type Item = { index: number; id?: string; error?: { type: string; message: string } };
  const results = (answer: { data: unknown }) => (answer.data as { results: Item[] }).results;

  it("update_records (onError continue): each error names the other missing id and that Airtable named the first", async () => {
    const ada = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Contacts").find((r) => r.fields.Name === "Ada")!;
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [
        { id: ada.id, fields: { Email: "ada@example.org" } },
        { id: A, fields: { Name: "x" } },
        { id: B, fields: { Name: "y" } },
      ],
    });
    const [written, first, second] = results(answer);
    expect(written).toEqual({ index: 0, id: ada.id });
    expect(first!.error!.message).toContain(
      `(Airtable refused the request carrying it and record ${B}, also missing, with 422 ROW_DOES_NOT_EXIST, ` +
        `naming only the first missing record: Record ID ${A} does not exist in this table.`,
    );
    expect(second!.error!.message).toMatch(new RegExp(`^Record ${B} does not exist in table`));
    expect(second!.error!.message).toContain(
      `(Airtable refused the request carrying it and record ${A}, also missing, with 422 ROW_DOES_NOT_EXIST, ` +
        `naming only the first missing record: Record ID ${A} does not exist in this table.`,
    );
  });

  it("delete_records (onError stop): the same for a delete's 404 NOT_FOUND", async () => {
    const answer = await call("delete_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      onError: "stop",
      recordIds: [A, B],
    });
    const [first, second] = results(answer);
    expect(first!.error!.message).toContain(
      `(Airtable refused the request carrying it and record ${B}, also missing, with 404 NOT_FOUND, naming only ` +
        `the first missing record: Could not find a record with ID "${A}".)`,
    );
    expect(second!.error!.message).toMatch(new RegExp(`^Record ${B} no longer exists in table`));
    expect(second!.error!.message).toContain(
      `(Airtable refused the request carrying it and record ${A}, also missing, with 404 NOT_FOUND, naming only ` +
        `the first missing record: Could not find a record with ID "${A}".)`,
    );
  });
});

describe("delete_records naming a record of another table of the base", () => {
  it("names the table that holds it and the tableId to delete it with; deletes nothing", async () => {
    const acme = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Companies")[0]!;
    const answer = await call("delete_records", { baseId: mcp.base.id, tableId: "Contacts", recordIds: [acme.id] });
    const [only] = (answer.data as { results: { error?: { message: string } }[] }).results;
    expect(only!.error!.message).toBe(
      `Record ${acme.id} is not in table "Contacts" (${tableId("Contacts")}): it is a record of table "Companies" ` +
        `(${tableId("Companies")}) (record ids belong to one table). To delete it there, call delete_records again ` +
        `with tableId "${tableId("Companies")}"; to delete a record of "Contacts", find its id with list_records or ` +
        `search_records in that table. (Airtable refused the request carrying it with 404 NOT_FOUND: Could not find ` +
        `a record with ID "${acme.id}".)`,
    );
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Companies").map((r) => r.id)).toContain(acme.id);
  });
});
