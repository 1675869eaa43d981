/**
 * Link fields (multipleRecordLinks) as Airtable's field model documents them:
 * https://airtable.com/developers/web/api/field-model#foreignkey — a cell is an array of record ids of the linked
 * table; the linked table has the inverse field (`inverseLinkFieldId`); `prefersSingleRecordLink` is a UI
 * preference the API does not enforce; creating a link field through the meta API
 * (https://airtable.com/developers/web/api/create-field) creates the inverse field.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let crm: BaseInfo;
let companies: string;
let contacts: string;

/** A small linked base: Contacts.Company links to Companies (inverse: Companies.Contacts). */
function createCrm(): BaseInfo {
  return f.sandbox.createBase(f.user.id, {
    name: "Links",
    tables: [
      {
        name: "Companies",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Size", type: "number", options: { precision: 0 } },
        ],
        records: [
          { Name: "Acme", Size: 10 },
          { Name: "Globex", Size: 20 },
          { Name: "Acme", Size: 30 },
        ],
      },
      {
        name: "Contacts",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
          {
            name: "Main company",
            type: "multipleRecordLinks",
            options: { linkedTableId: "Companies", prefersSingleRecordLink: true },
          },
          { name: "Manager", type: "multipleRecordLinks", options: { linkedTableId: "Contacts" } },
        ],
      },
    ],
  });
}

function companyIds(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of f.sandbox.listRecordsDirect(crm.id, "Companies")) {
    (out[r.fields.Name as string] ??= []).push(r.id);
  }
  return out;
}

function inverseOf(companyId: string): unknown {
  return f.sandbox.listRecordsDirect(crm.id, "Companies").find((r) => r.id === companyId)?.fields.Contacts;
}

beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  crm = createCrm();
  companies = `/v0/${crm.id}/Companies`;
  contacts = `/v0/${crm.id}/Contacts`;
});
afterEach(() => f.sandbox.close());

describe("link fields: cells and the inverse field (field-model#foreignkey)", () => {
  it("stores record ids and keeps the inverse field on the linked table in step through create, update and delete", async () => {
    const { Acme, Globex } = companyIds() as { Acme: string[]; Globex: string[] };
    const [acme, acme2] = Acme as [string, string];
    const globex = Globex[0] as string;
    const ada = await f.call("POST", contacts, { fields: { Name: "Ada", Company: [acme, globex] } });
    expect(ada.status).toBe(200);
    expect(ada.body.fields.Company).toEqual([acme, globex]);
    expect(inverseOf(acme)).toEqual([ada.body.id]);
    expect(inverseOf(globex)).toEqual([ada.body.id]);

    const ben = await f.call("POST", contacts, { fields: { Name: "Ben", Company: [acme] } });
    expect(inverseOf(acme)).toEqual([ada.body.id, ben.body.id]);

    // Replacing Ada's links removes her from Globex and adds her to the second Acme.
    await f.call("PATCH", contacts, { records: [{ id: ada.body.id, fields: { Company: [acme2] } }] });
    expect(inverseOf(acme)).toEqual([ben.body.id]);
    expect(inverseOf(globex)).toBeUndefined();
    expect(inverseOf(acme2)).toEqual([ada.body.id]);

    // Writing the inverse side moves the other side too.
    await f.call("PATCH", companies, { records: [{ id: globex, fields: { Contacts: [ben.body.id] } }] });
    const benNow = await f.call("GET", `${contacts}/${ben.body.id}`);
    expect(benNow.body.fields.Company).toEqual([acme, globex]);

    // Deleting a record removes it from every link cell that named it.
    await f.call("DELETE", `${companies}/${acme}`);
    expect((await f.call("GET", `${contacts}/${ben.body.id}`)).body.fields.Company).toEqual([globex]);
    await f.call("DELETE", `${contacts}?records[]=${ada.body.id}`);
    expect(inverseOf(acme2)).toBeUndefined();

    // An empty array clears the cell (and the inverse).
    await f.call("PATCH", `${contacts}/${ben.body.id}`, { fields: { Company: [] } });
    expect(inverseOf(globex)).toBeUndefined();
  });

  it("accepts several links in a field that prefers a single one (the preference is only enforced in the UI)", async () => {
    const { Acme, Globex } = companyIds() as { Acme: string[]; Globex: string[] };
    const r = await f.call("POST", contacts, {
      fields: { Name: "Cy", "Main company": [Acme[0], Globex[0]] },
    });
    expect(r.status).toBe(200);
    expect(r.body.fields["Main company"]).toEqual([Acme[0], Globex[0]]);
  });

  it("answers 422 ROW_DOES_NOT_EXIST for a link to a record the linked table does not have, and applies nothing", async () => {
    const missing = "recAAAAAAAAAAAAAA";
    const contact = await f.call("POST", contacts, { fields: { Name: "Ada" } });
    const r = await f.call("POST", contacts, {
      records: [{ fields: { Name: "ok" } }, { fields: { Name: "bad", Company: [missing] } }],
    });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("ROW_DOES_NOT_EXIST");
    expect(r.body.error.message).toContain(missing);
    // A record of another table is not a record of the linked table either.
    const wrongTable = await f.call("POST", contacts, { fields: { Company: [contact.body.id] } });
    expect(wrongTable.body.error.type).toBe("ROW_DOES_NOT_EXIST");
    expect(f.sandbox.listRecordsDirect(crm.id, "Contacts").map((x) => x.fields.Name)).toEqual(["Ada"]);
  });

  it("refuses values that are not arrays of record ids with Airtable's message", async () => {
    const { Acme } = companyIds() as { Acme: string[] };
    for (const value of ["Acme", ["Acme"], Acme[0], [{ id: Acme[0] }], 5]) {
      const r = await f.call("POST", contacts, { fields: { Company: value } });
      expect({ value, status: r.status, body: r.body }).toEqual({
        value,
        status: 422,
        body: { error: { type: "INVALID_VALUE_FOR_COLUMN", message: "Value is not an array of record IDs." } },
      });
    }
  });

  it("with typecast, matches the linked table's primary values (first match) and creates a record for an unknown one", async () => {
    const { Acme } = companyIds() as { Acme: string[] };
    const r = await f.call("POST", contacts, {
      typecast: true,
      records: [
        { fields: { Name: "Ada", Company: ["Acme", "Initech"] } },
        { fields: { Name: "Ben", Company: "Initech, Acme" } },
      ],
    });
    expect(r.status).toBe(200);
    const [ada, ben] = r.body.records as { id: string; fields: { Company: string[] } }[];
    const initech = companyIds().Initech as string[];
    // One new Initech for the whole request, however many cells named it.
    expect(initech).toHaveLength(1);
    expect(ada?.fields.Company).toEqual([Acme[0], initech[0]]);
    expect(ben?.fields.Company).toEqual([initech[0], Acme[0]]);
    expect(inverseOf(initech[0] as string)).toEqual([ada?.id, ben?.id]);
    // A failing request creates no linked record.
    await f.call("POST", contacts, {
      typecast: true,
      records: [{ fields: { Company: ["Umbrella"] } }, { fields: { Company: ["recAAAAAAAAAAAAAA"] } }],
    });
    expect(companyIds().Umbrella).toBeUndefined();
  });

  it("sorts and filters a link field by its linked records' primary values", async () => {
    const { Acme, Globex } = companyIds() as { Acme: string[]; Globex: string[] };
    await f.call("POST", contacts, {
      records: [
        { fields: { Name: "g", Company: [Globex[0]] } },
        { fields: { Name: "a", Company: [Acme[1]] } },
        { fields: { Name: "none" } },
      ],
    });
    const sorted = await f.call("POST", `${contacts}/listRecords`, { sort: [{ field: "Company", direction: "desc" }] });
    expect(sorted.body.records.map((r: { fields: { Name: string } }) => r.fields.Name)).toEqual(["g", "a", "none"]);
    const filtered = await f.call("POST", `${contacts}/listRecords`, { filterByFormula: '{Company} = "Globex"' });
    expect(filtered.body.records.map((r: { fields: { Name: string } }) => r.fields.Name)).toEqual(["g"]);
    // A formula sees the link's primary values, never its record ids (as Airtable): comparing with an id finds nothing.
    const byId = await f.call("POST", `${contacts}/listRecords`, { filterByFormula: `{Company} = "${Globex[0]}"` });
    expect(byId.status).toBe(200);
    expect(byId.body.records).toEqual([]);
  });

  it("links a table to itself without an inverse field", async () => {
    const boss = await f.call("POST", contacts, { fields: { Name: "Boss" } });
    const r = await f.call("POST", contacts, { fields: { Name: "Dev", Manager: [boss.body.id] } });
    expect(r.body.fields.Manager).toEqual([boss.body.id]);
    const schema = await f.call("GET", `/v0/meta/bases/${crm.id}/tables`);
    const manager = schema.body.tables[1].fields.find((x: { name: string }) => x.name === "Manager");
    expect(manager.options).toEqual({
      linkedTableId: schema.body.tables[1].id,
      isReversed: false,
      prefersSingleRecordLink: false,
    });
    expect((await f.call("GET", `${contacts}/${boss.body.id}`)).body.fields).toEqual({ Name: "Boss" });
  });
});

describe("link fields in the meta API (field-model#foreignkey, create-field)", () => {
  it("describes both sides with linkedTableId, inverseLinkFieldId and prefersSingleRecordLink", async () => {
    const schema = await f.call("GET", `/v0/meta/bases/${crm.id}/tables`);
    const [companiesTable, contactsTable] = schema.body.tables;
    const company = contactsTable.fields.find((x: { name: string }) => x.name === "Company");
    const inverse = companiesTable.fields.find((x: { name: string }) => x.name === "Contacts");
    expect(company.options).toEqual({
      linkedTableId: companiesTable.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: inverse.id,
    });
    expect(inverse).toEqual({
      id: expect.stringMatching(/^fld/),
      name: "Contacts",
      type: "multipleRecordLinks",
      options: {
        linkedTableId: contactsTable.id,
        isReversed: false,
        prefersSingleRecordLink: false,
        inverseLinkFieldId: company.id,
      },
    });
    // A second link to the same table gets the next free name for its inverse.
    const main = contactsTable.fields.find((x: { name: string }) => x.name === "Main company");
    expect(main.options.prefersSingleRecordLink).toBe(true);
    const inverse2 = companiesTable.fields.find((x: { id: string }) => x.id === main.options.inverseLinkFieldId);
    expect(inverse2.name).toBe("Contacts 2");
  });

  it("creates the inverse field when a link field is created through POST …/fields, and links work at once", async () => {
    const tasks = f.base.tables[0]?.id as string;
    const projects = await f.call("POST", `/v0/meta/bases/${f.base.id}/tables`, {
      name: "Projects",
      fields: [{ name: "Title", type: "singleLineText" }],
    });
    const created = await f.call("POST", `/v0/meta/bases/${f.base.id}/tables/${tasks}/fields`, {
      name: "Project",
      type: "multipleRecordLinks",
      options: { linkedTableId: projects.body.id },
    });
    expect(created.status).toBe(200);
    expect(created.body.options).toEqual({
      linkedTableId: projects.body.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: expect.stringMatching(/^fld/),
    });
    const schema = await f.call("GET", `/v0/meta/bases/${f.base.id}/tables`);
    const projectsTable = schema.body.tables.find((t: { id: string }) => t.id === projects.body.id);
    expect(projectsTable.fields[1]).toEqual({
      id: created.body.options.inverseLinkFieldId,
      name: "Tasks",
      type: "multipleRecordLinks",
      options: {
        linkedTableId: tasks,
        isReversed: false,
        prefersSingleRecordLink: false,
        inverseLinkFieldId: created.body.id,
      },
    });
    const p = await f.call("POST", `/v0/${f.base.id}/Projects`, { fields: { Title: "Launch" } });
    const t = await f.call("POST", `/v0/${f.base.id}/Tasks`, { fields: { Name: "Plan", Project: [p.body.id] } });
    expect((await f.call("GET", `/v0/${f.base.id}/Projects/${p.body.id}`)).body.fields.Tasks).toEqual([t.body.id]);

    // The linked table must be a table of the base, given by id.
    const bad = await f.call("POST", `/v0/meta/bases/${f.base.id}/tables/${tasks}/fields`, {
      name: "Other",
      type: "multipleRecordLinks",
      options: { linkedTableId: "Projects" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.type).toBe("INVALID_FIELD_TYPE_OPTIONS");
    // A one-way link is setup only: Airtable's create-field always makes the inverse field.
    const oneWay = await f.call("POST", `/v0/meta/bases/${f.base.id}/tables/${tasks}/fields`, {
      name: "Other",
      type: "multipleRecordLinks",
      options: { linkedTableId: projects.body.id, withoutInverse: true },
    });
    expect(oneWay.status).toBe(422);
    expect(oneWay.body.error.type).toBe("INVALID_FIELD_TYPE_OPTIONS");
  });

  it("a one-way link set up without inverse: no inverseLinkFieldId, no field on the linked table, links work", async () => {
    // The field model lists inverseLinkFieldId as optional (a link whose inverse was deleted has none).
    const base = f.sandbox.createBase(f.user.id, {
      name: "One-way",
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
        },
      ],
    });
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const [vendors, invoices] = schema.body.tables;
    expect(vendors.fields.map((x: { name: string }) => x.name)).toEqual(["Vendor"]);
    expect(invoices.fields[1].options).toEqual({
      linkedTableId: vendors.id,
      isReversed: false,
      prefersSingleRecordLink: false,
    });
    const vendor = f.sandbox.listRecordsDirect(base.id, "Vendors")[0]!.id;
    const invoice = await f.call("POST", `/v0/${base.id}/Invoices`, { fields: { Number: "1", Supplier: [vendor] } });
    expect(invoice.body.fields.Supplier).toEqual([vendor]);
    expect((await f.call("GET", `/v0/${base.id}/Vendors/${vendor}`)).body.fields).toEqual({ Vendor: "Initech" });
  });
});
