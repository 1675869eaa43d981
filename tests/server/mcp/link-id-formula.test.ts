/**
 * list_records' filterByFormula on a link field, end to end over MCP on the sandbox's Demo CRM (Contacts.Company
 * links to Companies, primary field "Name"). In an Airtable formula a link field reads as its linked records'
 * primary values, so `{Company} = "rec…"` matches nothing and used to answer `{"records": []}` — an agent concluded
 * the company had no contacts. It is now refused before any request for records, naming the field, the linked table
 * and the fix; comparisons that can match (by name, a text field holding a record id, RECORD_ID()) still run.
 *
 * search_records with a record id as searchTerm fell in the same trap (its formula searches a link by its primary
 * values) and answered no records: it is refused before any request for records, pointing to a search by name and,
 * when the linked table has the link's inverse field, to get_record on the linked record and that field (a one-way
 * link has none: only the search by name is offered). A default search of a table with no link is refused too (a
 * record's id is in none of its cells); fieldIds naming fields that store ids as text, and links whose linked
 * primary field is a RECORD_ID() formula, still search.
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

type Rec = { id: string; fields: Record<string, unknown> };

const call = (args: Record<string, unknown>) =>
  callToolAnswer(client, "list_records", { baseId: h.demo.base.id, tableId: "Contacts", ...args });
const contacts = () => h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts");
const acmeId = () => h.sandbox.listRecordsDirect(h.demo.base.id, "Companies").find((r) => r.fields.Name === "Acme")!.id;
const acmeContactIds = () =>
  contacts()
    .filter((r) => (r.fields.Company as string[] | undefined)?.includes(acmeId()))
    .map((r) => r.id)
    .sort();
/** Requests for this base's records (list, get, listRecords), i.e. anything but the schema. */
const recordRequests = () => h.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${h.demo.base.id}/`)).length;

describe("list_records: a link field compared with a record id", () => {
  it('refuses {Company} = "rec…" before reading, naming the field, the linked table and the fix', async () => {
    // The schema is cached by an earlier call, as in an agent's session (describe_table, then list_records).
    expect((await call({ maxRecords: 1 })).isError).toBe(false);
    expect(acmeContactIds().length).toBeGreaterThan(0);
    const companies = h.demo.base.tables.find((t) => t.name === "Companies")!.id;

    for (const formula of [
      `{Company}="${acmeId()}"`,
      `AND({Subscribed}, "${acmeId()}" != {Company})`,
      `FIND("${acmeId()}", {Company})`,
    ]) {
      const before = recordRequests();
      const trap = await call({ filterByFormula: formula });
      expect(trap.isError, formula).toBe(true);
      expect(trap.text).toContain('the link field "Company"');
      expect(trap.text).toContain(`table "Companies" (${companies})`);
      expect(trap.text).toContain("Nothing was read from the table.");
      expect(trap.text).toContain('{Company} = "Acme"');
      expect(trap.text).toContain(`RECORD_ID() = "${acmeId()}"`);
      // No request for records reached the sandbox: the refusal is not an empty answer.
      expect(recordRequests()).toBe(before);
    }
  });

  it('{Company} = "Acme" lists Acme\'s contacts', async () => {
    const byName = await call({ filterByFormula: '{Company} = "Acme"' });
    expect(byName.isError).toBe(false);
    expect((byName.data.records as Rec[]).map((r) => r.id).sort()).toEqual(acmeContactIds());
  });

  it("runs a text field compared with a record id, and RECORD_ID() = a record id", async () => {
    const [first] = contacts();
    const id = first!.id;
    await h.airtableA.updateRecords(h.demo.base.id, "Contacts", [{ id, fields: { Notes: acmeId() } }]);

    const text = await call({ filterByFormula: `{Notes} = "${acmeId()}"` });
    expect(text.isError).toBe(false);
    expect((text.data.records as Rec[]).map((r) => r.id)).toEqual([id]);

    const byRecordId = await call({ filterByFormula: `RECORD_ID() = "${id}"` });
    expect(byRecordId.isError).toBe(false);
    expect((byRecordId.data.records as Rec[]).map((r) => r.id)).toEqual([id]);
  });
});

describe("search_records: a record id as searchTerm", () => {
  const search = (args: Record<string, unknown>) =>
    callToolAnswer(client, "search_records", { baseId: h.demo.base.id, tableId: "Contacts", ...args });

  it("refuses it before reading when a link field is searched, naming the linked table, its inverse field and the fix", async () => {
    const companies = h.demo.base.tables.find((t) => t.name === "Companies")!.id;
    expect((await search({ searchTerm: "Acme", maxRecords: 1 })).isError).toBe(false);
    for (const args of [{}, { fieldIds: ["Company", "Name"] }, { searchTerm: ` ${acmeId()} ` }]) {
      const before = recordRequests();
      const trap = await search({ searchTerm: acmeId(), ...args });
      expect(trap.isError, JSON.stringify(args)).toBe(true);
      expect(trap.text).toBe(
        `searchTerm "${acmeId()}" is a record id, and the link field "Company" is searched by the linked records' ` +
          `"Name", never their ids, so this would return nothing (not a sign that nothing links to it). To see ` +
          `what links to it: get_record with tableId "${companies}" and recordId "${acmeId()}" and read its field ` +
          `"Contacts". Or search for its "Name".`,
      );
      expect(recordRequests()).toBe(before);
    }

    // Both fixes answer what the agent was after: Acme's contacts.
    const acme = await callToolAnswer(client, "get_record", {
      baseId: h.demo.base.id,
      tableId: companies,
      recordId: acmeId(),
    });
    expect(acme.isError).toBe(false);
    const record = acme.data.record as Rec;
    expect([...(record.fields.Contacts as string[])].sort()).toEqual(acmeContactIds());
    const byName = await search({ searchTerm: "Acme", fieldIds: ["Company"] });
    expect((byName.data.records as Rec[]).map((r) => r.id).sort()).toEqual(acmeContactIds());
  });

  it("with fieldIds naming no link, searches them: a text field storing the id finds its record", async () => {
    const holder = contacts()[1]!.id;
    await h.airtableA.updateRecords(h.demo.base.id, "Contacts", [{ id: holder, fields: { Notes: acmeId() } }]);
    const found = await search({ searchTerm: acmeId(), fieldIds: ["Notes"] });
    expect(found.isError).toBe(false);
    const holders = contacts()
      .filter((r) => r.fields.Notes === acmeId())
      .map((r) => r.id);
    expect(holders).toContain(holder);
    expect((found.data.records as Rec[]).map((r) => r.id).sort()).toEqual(holders.sort());
  });

  it("links to several tables: says its table and the primary field value", async () => {
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "Two links",
      tables: [
        { name: "People", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Ada" }] },
        { name: "Projects", fields: [{ name: "Title", type: "singleLineText" }], records: [{ Title: "Apollo" }] },
        {
          name: "Tasks",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Owner", type: "multipleRecordLinks", options: { linkedTableId: "People" } },
            { name: "Project", type: "multipleRecordLinks", options: { linkedTableId: "Projects" } },
          ],
          records: [{ Name: "Launch", Owner: ["Ada"], Project: ["Apollo"] }],
          typecast: true,
        },
      ],
    });
    const ada = h.sandbox.listRecordsDirect(base.id, "People")[0]!.id;
    const trap = await callToolAnswer(client, "search_records", {
      baseId: base.id,
      tableId: "Tasks",
      searchTerm: ada,
    });
    expect(trap.isError).toBe(true);
    expect(trap.text).toBe(
      `searchTerm "${ada}" is a record id, and the link fields "Owner", "Project" are searched by the linked ` +
        "records' primary values, never their ids, so this would return nothing (not a sign that nothing links to " +
        "it). Search for its primary field value instead.",
    );
    expect(h.sandbox.requests.some((r) => r.path.startsWith(`/v0/${base.id}/`))).toBe(false);
  });

  it("a one-way link (no inverse field): offers only the search by the primary value", async () => {
    // Airtable's field model lists inverseLinkFieldId as optional: a link whose inverse field was deleted, or one
    // to a synced table, has none, and no field of the linked record lists what links to it.
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "One-way link",
      tables: [
        { name: "Vendors", fields: [{ name: "Vendor", type: "singleLineText" }], records: [{ Vendor: "Initech" }] },
        {
          name: "Invoices",
          fields: [
            { name: "Number", type: "singleLineText" },
            {
              name: "Supplier",
              type: "multipleRecordLinks",
              options: { linkedTableId: "Vendors", withoutInverse: true },
            },
          ],
          records: [{ Number: "INV-1", Supplier: ["Initech"] }],
          typecast: true,
        },
      ],
    });
    const vendors = base.tables.find((t) => t.name === "Vendors")!;
    expect(vendors.fields.map((f) => f.name)).toEqual(["Vendor"]);
    const initech = h.sandbox.listRecordsDirect(base.id, "Vendors")[0]!.id;
    const trap = await callToolAnswer(client, "search_records", {
      baseId: base.id,
      tableId: "Invoices",
      searchTerm: initech,
    });
    expect(trap.isError).toBe(true);
    expect(trap.text).toBe(
      `searchTerm "${initech}" is a record id, and the link field "Supplier" is searched by the linked records' ` +
        `"Vendor", never their ids, so this would return nothing (not a sign that nothing links to it). Search for ` +
        `its "Vendor" instead.`,
    );
    expect(h.sandbox.requests.some((r) => r.path.startsWith(`/v0/${base.id}/`))).toBe(false);
    const byName = await callToolAnswer(client, "search_records", {
      baseId: base.id,
      tableId: "Invoices",
      searchTerm: "Initech",
    });
    expect((byName.data.records as Rec[]).map((r) => r.fields.Number)).toEqual(["INV-1"]);
  });

  it("a table with no link: a default search is refused, pointing to get_record; fieldIds searches", async () => {
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "No links",
      tables: [
        {
          name: "Imports",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Source id", type: "singleLineText" },
          ],
          records: [{ Name: "row", "Source id": "recSOURCE00000001" }, { Name: "other" }],
        },
      ],
    });
    const call = (args: Record<string, unknown>) =>
      callToolAnswer(client, "search_records", { baseId: base.id, tableId: "Imports", ...args });
    const refused = await call({ searchTerm: "recSOURCE00000001" });
    expect(refused.isError).toBe(true);
    expect(refused.text).toBe(
      'searchTerm "recSOURCE00000001" is a record id, and a record\'s own id is in none of its cells (no link ' +
        'field of "Imports" is searched), so this would return nothing whether or not it exists. Read it with ' +
        "get_record, or name in fieldIds the fields that store record ids as text.",
    );
    expect(h.sandbox.requests.some((r) => r.path.startsWith(`/v0/${base.id}/`))).toBe(false);
    const found = await call({ searchTerm: "recSOURCE00000001", fieldIds: ["Source id"] });
    expect(found.isError).toBe(false);
    expect((found.data.records as Rec[]).map((r) => r.fields.Name)).toEqual(["row"]);
  });

  it("a link whose linked table's primary field is RECORD_ID(): searched, and finds the records linking to it", async () => {
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "Id primary",
      tables: [
        {
          name: "Accounts",
          fields: [
            { name: "Key", type: "formula", options: { formula: "RECORD_ID()" } },
            { name: "Label", type: "singleLineText" },
          ],
          records: [{ Label: "one" }, { Label: "two" }],
        },
        {
          name: "Orders",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Account", type: "multipleRecordLinks", options: { linkedTableId: "Accounts" } },
          ],
        },
      ],
    });
    const [one, two] = h.sandbox.listRecordsDirect(base.id, "Accounts").map((r) => r.id);
    await h.airtableA.createRecords(base.id, "Orders", [
      { fields: { Name: "first", Account: [one!] } },
      { fields: { Name: "second", Account: [two!] } },
    ]);
    const found = await callToolAnswer(client, "search_records", {
      baseId: base.id,
      tableId: "Orders",
      searchTerm: one!,
    });
    expect(found.isError).toBe(false);
    expect((found.data.records as Rec[]).map((r) => r.fields.Name)).toEqual(["first"]);
  });
});
