/**
 * Refusals an agent's trial (h-agent31) read as saying too little or pointing the wrong way, through the real MCP
 * SDK client over HTTP against the sandbox:
 * - a write's `fields` given as text that is no JSON (`"Name: Ada"`), null or a list: zod's "Invalid input: expected
 *   record, received string" said "record" for a JSON object, where an agent writing Airtable records reads an
 *   Airtable record; now it says an object of cell values keyed by field name or id, with an example and what it
 *   was given (write-inputs.ts cellsObjectMessage);
 * - a list of names given as one comma-separated text (`fields: "Name, Email"`): the example was `["Name, Email"]`,
 *   one field the table does not have, so the call it suggested failed again; now `["Name", "Email"]`, one item per
 *   field (list-argument.ts commaParts);
 * - the one-item writes' descriptions (create_record, create_field, create_comment, …) said they were queued
 *   "behind other writes to this base", which reads as waiting for an import on the base to end; such a write runs
 *   beside it (its own lane of small writes) and answered in under a second in the trial. The description now says
 *   so (write-inputs.ts QUEUED_ITEM_NOTE).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments as invalid } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Agent trial 31",
  tables: [
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Email", type: "email" },
      ],
      records: [{ Name: "Ada", Email: "ada@example.com" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

const CELLS = 'an object of cell values keyed by field name or id is needed, e.g. {"Name": "Ada", "Stage": "Lead"}';

describe("a write's fields given as something other than an object", () => {
  it("create_record with fields as plain text: what fields takes, an example, and the text given", async () => {
    const answer = await call("create_record", { baseId: mcp.base.id, tableId: "Contacts", fields: "Name: Ada" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(`${invalid("create_record")}fields: ${CELLS}; it was given the text "Name: Ada"`);
  });

  it("update_records with a record's fields null, create_records with a list: the same words at their path", async () => {
    const ada = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Contacts")[0]!;
    const update = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [{ id: ada.id, fields: null }],
    });
    expect(update.isError).toBe(true);
    expect(update.text).toBe(`${invalid("update_records")}records.0.fields: ${CELLS}; it was given null`);
    const create = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [{ fields: [{ Name: "Bo" }] }],
    });
    expect(create.isError).toBe(true);
    expect(create.text).toBe(
      `${invalid("create_records")}records.0.fields: ${CELLS}; it was given a list, [{"Name":"Bo"}]`,
    );
  });
});

describe("a list of names given as one comma-separated text", () => {
  it("list_records fields: the example lists the names one item each", async () => {
    const answer = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: "Name, Email" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      `${invalid("list_records")}fields takes a list of field names or ids, e.g. ["Name", "Email"] (one item per ` +
        'field; it was given the text "Name, Email")',
    );
  });

  it("delete_records recordIds: the same for record ids; one name alone keeps its words", async () => {
    const answer = await call("delete_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      recordIds: "recAAAAAAAAAAAAAA,recBBBBBBBBBBBBBB",
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      `${invalid("delete_records")}recordIds takes a list of record ids, e.g. ["recAAAAAAAAAAAAAA", ` +
        '"recBBBBBBBBBBBBBB"] (one item per record; it was given the text "recAAAAAAAAAAAAAA,recBBBBBBBBBBBBBB")',
    );
    const one = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: "Name" });
    expect(one.text).toBe(
      `${invalid("list_records")}fields takes a list of field names or ids, e.g. ["Name"] (a list even for one ` +
        'field; it was given the text "Name")',
    );
  });
});

describe("a one-item write beside a long import on the same base", () => {
  it("create_record's description does not say it waits behind other writes, and it does not", async () => {
    const { tools } = await mcp.client.listTools();
    const description = tools.find((t) => t.name === "create_record")!.description!;
    expect(description).not.toContain("behind other writes");
    expect(description).toContain("beside other writes to this base, not after a long import");
    const done: string[] = [];
    const records = Array.from({ length: 600 }, (_, i) => ({ fields: { Name: `Bulk ${i}` } }));
    const importing = call("create_records", { baseId: mcp.base.id, tableId: "Contacts", records }).then((a) => {
      done.push("import");
      return a;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const one = await call("create_record", { baseId: mcp.base.id, tableId: "Contacts", fields: { Name: "Quick" } });
    done.push("create_record");
    expect(one.data).toMatchObject({ status: "completed" });
    const bulk = await importing;
    expect(bulk.data).toMatchObject({ status: "completed" });
    expect(done).toEqual(["create_record", "import"]);
  });
});
