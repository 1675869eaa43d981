/**
 * Computed fields as Airtable's field model documents them (https://airtable.com/developers/web/api/field-model):
 * #lookup (multipleLookupValues), #rollup, #count, #formula, #createdtime, #lastmodifiedtime, #autonumber and
 * #button have a read-only cell format — every write is refused, even null — and their options carry `isValid`,
 * `recordLinkFieldId`, `fieldIdInLinkedTable`, `referencedFieldIds` and `result`; formulas are shown with field ids
 * ("LEFT(4, {Birthday}) … will be returned as LEFT(4, {fldXXX}) via API"). The Web API cannot create them
 * ("Field type and options (read only)").
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let base: BaseInfo;
let orders: string;
let customers: string;

function createBase(): BaseInfo {
  return f.sandbox.createBase(f.user.id, {
    name: "Computed",
    tables: [
      {
        name: "Customers",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Tier", type: "singleSelect", options: { choices: [{ name: "Gold" }, { name: "Silver" }] } },
          { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "eu" }, { name: "vip" }] } },
          { name: "Order count", type: "count", options: { recordLinkFieldId: "Orders" } },
          {
            name: "Total",
            type: "rollup",
            options: { recordLinkFieldId: "Orders", fieldIdInLinkedTable: "Amount", formula: "SUM(values)" },
          },
          {
            name: "Order names",
            type: "rollup",
            options: { recordLinkFieldId: "Orders", fieldIdInLinkedTable: "Item", formula: 'ARRAYJOIN(values, " | ")' },
          },
        ],
        records: [
          { Name: "Ada", Tier: "Gold", Tags: ["eu", "vip"] },
          { Name: "Ben", Tier: "Silver" },
        ],
      },
      {
        name: "Orders",
        fields: [
          { name: "Item", type: "singleLineText" },
          { name: "Amount", type: "currency", options: { precision: 2, symbol: "€" } },
          { name: "Quantity", type: "number", options: { precision: 0 } },
          { name: "Customer", type: "multipleRecordLinks", options: { linkedTableId: "Customers" } },
          {
            name: "Customer name",
            type: "multipleLookupValues",
            options: { recordLinkFieldId: "Customer", fieldIdInLinkedTable: "Name" },
          },
          {
            name: "Customer tags",
            type: "multipleLookupValues",
            options: { recordLinkFieldId: "Customer", fieldIdInLinkedTable: "Tags" },
          },
          { name: "Line total", type: "formula", options: { formula: "{Amount} * Quantity" } },
          { name: "Summary", type: "formula", options: { formula: 'UPPER(Item) & " for " & {Customer name}' } },
          { name: "Big", type: "formula", options: { formula: "{Line total} > 100" } },
          { name: "Created", type: "createdTime" },
          { name: "Changed", type: "lastModifiedTime" },
          { name: "Amount changed", type: "lastModifiedTime", options: { referencedFieldIds: ["Amount"] } },
          { name: "No", type: "autoNumber" },
          { name: "Open", type: "button", options: { label: "View", url: '"https://shop.example/" & Item' } },
        ],
      },
    ],
  });
}

function customerId(name: string): string {
  const r = f.sandbox.listRecordsDirect(base.id, "Customers").find((x) => x.fields.Name === name);
  return r?.id as string;
}

beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  base = createBase();
  orders = `/v0/${base.id}/Orders`;
  customers = `/v0/${base.id}/Customers`;
});
afterEach(() => f.sandbox.close());

describe("lookup, rollup and count (field-model#lookup, #rollup, #count)", () => {
  it("computes them from the linked records and follows every change", async () => {
    const ada = customerId("Ada");
    const o1 = await f.call("POST", orders, { fields: { Item: "Pen", Amount: 2.5, Quantity: 4, Customer: [ada] } });
    expect(o1.body.fields["Customer name"]).toEqual(["Ada"]);
    // A lookup of a multiple select is one flat array of the option names.
    expect(o1.body.fields["Customer tags"]).toEqual(["eu", "vip"]);
    await f.call("POST", orders, { fields: { Item: "Ink", Amount: 7, Quantity: 1, Customer: [ada] } });
    const c = await f.call("GET", `${customers}/${ada}`);
    expect(c.body.fields).toMatchObject({ "Order count": 2, Total: 9.5, "Order names": "Pen | Ink" });
    // A customer without orders counts 0 and sums 0.
    const ben = await f.call("GET", `${customers}/${customerId("Ben")}`);
    expect(ben.body.fields).toMatchObject({ "Order count": 0, Total: 0 });
    expect(ben.body.fields["Order names"]).toBeUndefined();

    // Renaming the customer changes the lookup; unlinking empties it.
    await f.call("PATCH", `${customers}/${ada}`, { fields: { Name: "Ada L." } });
    expect((await f.call("GET", `${orders}/${o1.body.id}`)).body.fields["Customer name"]).toEqual(["Ada L."]);
    await f.call("PATCH", `${orders}/${o1.body.id}`, { fields: { Customer: [] } });
    const after = await f.call("GET", `${orders}/${o1.body.id}`);
    expect(after.body.fields["Customer name"]).toBeUndefined();
    expect((await f.call("GET", `${customers}/${ada}`)).body.fields).toMatchObject({ "Order count": 1, Total: 7 });
  });

  it("describes them in the meta API with recordLinkFieldId, fieldIdInLinkedTable, result and isValid", async () => {
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const [cust, ord] = schema.body.tables as {
      id: string;
      fields: { id: string; name: string; options?: unknown }[];
    }[];
    const byName = (t: typeof cust, name: string) =>
      t?.fields.find((x) => x.name === name) as { id: string; options: unknown };
    const link = byName(ord, "Customer");
    const inverse = byName(cust, "Orders");
    expect(byName(ord, "Customer name")).toEqual({
      id: expect.stringMatching(/^fld/),
      name: "Customer name",
      type: "multipleLookupValues",
      options: {
        isValid: true,
        recordLinkFieldId: link.id,
        fieldIdInLinkedTable: byName(cust, "Name").id,
        result: { type: "singleLineText" },
      },
    });
    expect(byName(ord, "Customer tags").options).toMatchObject({
      result: { type: "multipleSelects", options: { choices: [{ name: "eu" }, { name: "vip" }] } },
    });
    expect(byName(cust, "Order count").options).toEqual({ isValid: true, recordLinkFieldId: inverse.id });
    expect(byName(cust, "Total").options).toEqual({
      isValid: true,
      recordLinkFieldId: inverse.id,
      fieldIdInLinkedTable: byName(ord, "Amount").id,
      referencedFieldIds: [byName(ord, "Amount").id],
      result: { type: "currency", options: { precision: 2, symbol: "€" } },
    });
    expect(byName(cust, "Order names").options).toMatchObject({ result: { type: "singleLineText" } });
  });
});

describe("formula (field-model#formula)", () => {
  it("computes the result from the record, with the result type of the formula", async () => {
    const ada = customerId("Ada");
    const big = await f.call("POST", orders, { fields: { Item: "desk", Amount: 60, Quantity: 2, Customer: [ada] } });
    expect(big.body.fields).toMatchObject({ "Line total": 120, Summary: "DESK for Ada", Big: true });
    const small = await f.call("POST", orders, { fields: { Item: "pen", Amount: 1.5, Quantity: 3 } });
    expect(small.body.fields["Line total"]).toBe(4.5);
    // A false logical result is an empty cell (the field model's formula cell values: string | number | true | array).
    expect(small.body.fields.Big).toBeUndefined();
    expect(small.body.fields.Summary).toBe("PEN for ");
    await f.call("PATCH", `${orders}/${small.body.id}`, { fields: { Quantity: 100 } });
    expect((await f.call("GET", `${orders}/${small.body.id}`)).body.fields).toMatchObject({
      "Line total": 150,
      Big: true,
    });
  });

  it("shows the formula with field ids, its referenced fields and its result in the meta API", async () => {
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const fields = schema.body.tables[1].fields as { id: string; name: string; options?: Record<string, unknown> }[];
    const id = (name: string) => fields.find((x) => x.name === name)?.id;
    const option = (name: string) => fields.find((x) => x.name === name)?.options;
    expect(option("Line total")).toEqual({
      formula: `{${id("Amount")}} * {${id("Quantity")}}`,
      isValid: true,
      referencedFieldIds: [id("Amount"), id("Quantity")],
      result: { type: "number", options: { precision: 2 } },
    });
    expect(option("Summary")).toMatchObject({
      formula: `UPPER({${id("Item")}}) & " for " & {${id("Customer name")}}`,
      result: { type: "singleLineText" },
    });
    expect(option("Big")).toMatchObject({ result: { type: "checkbox" } });
  });
});

describe("createdTime, lastModifiedTime, autoNumber and button (field-model#createdtime, #lastmodifiedtime, #autonumber, #button)", () => {
  it("computes them from the record and its history", async () => {
    const o = await f.call("POST", orders, { fields: { Item: "cup", Amount: 3 } });
    const created = o.body.fields.Created as string;
    expect(created).toBe(o.body.createdTime);
    expect(o.body.fields.No).toBe(1);
    expect(o.body.fields.Open).toEqual({ label: "View", url: "https://shop.example/cup" });
    const firstChange = o.body.fields.Changed as string;
    expect(firstChange).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(o.body.fields["Amount changed"]).toBe(firstChange);
    await sleep(15);
    // Changing another field moves "Changed" (all fields) but not "Amount changed" (watches Amount only).
    const later = await f.call("PATCH", `${orders}/${o.body.id}`, { fields: { Item: "mug" } });
    expect(later.body.fields.Changed > firstChange).toBe(true);
    expect(later.body.fields["Amount changed"]).toBe(firstChange);
    expect(later.body.fields.Created).toBe(created);
    const second = await f.call("POST", orders, { fields: {} });
    expect(second.body.fields.No).toBe(2);
    // A record nobody wrote anything to has no last modified time, and a button without a URL has url null.
    expect(second.body.fields.Changed).toBeUndefined();
    expect(second.body.fields.Open).toEqual({ label: "View", url: "https://shop.example/" });
  });
});

describe("computed fields refuse writes and cannot be created through the API", () => {
  it.each([
    ["Customer name", ["x"]],
    ["Line total", 5],
    ["Created", "2026-01-01T00:00:00.000Z"],
    ["Changed", null],
    ["No", 3],
    ["Open", null],
  ])("refuses a write to %s (even null)", async (field, value) => {
    const r = await f.call("POST", orders, { fields: { [field]: value } });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      error: {
        type: "INVALID_VALUE_FOR_COLUMN",
        message: `Field "${field}" cannot accept a value because the field is computed`,
      },
    });
  });

  it("refuses writes to rollups and counts", async () => {
    for (const [field, value] of [
      ["Total", 1],
      ["Order count", 2],
    ] as const) {
      const r = await f.call("PATCH", customers, { records: [{ id: customerId("Ada"), fields: { [field]: value } }] });
      expect(r.body.error.message).toBe(`Field "${field}" cannot accept a value because the field is computed`);
    }
  });

  it("answers 422 UNSUPPORTED_FIELD_TYPE to POST …/fields for read-only types", async () => {
    const fields = `/v0/meta/bases/${base.id}/tables/Orders/fields`;
    for (const def of [
      { name: "F", type: "formula", options: { formula: "1+1" } },
      { name: "L", type: "multipleLookupValues", options: {} },
      { name: "R", type: "rollup", options: {} },
      { name: "C", type: "count", options: {} },
      { name: "M", type: "lastModifiedTime" },
      { name: "B", type: "button" },
    ]) {
      const r = await f.call("POST", fields, def);
      expect({ def, status: r.status, type: r.body.error?.type }).toEqual({
        def,
        status: 422,
        type: "UNSUPPORTED_FIELD_TYPE",
      });
    }
  });

  it("upsert cannot merge on a computed field", async () => {
    const r = await f.call("PATCH", orders, {
      performUpsert: { fieldsToMergeOn: ["Summary"] },
      records: [{ fields: { Item: "x" } }],
    });
    expect(r.status).toBe(422);
  });
});
