/**
 * Fields named like JavaScript object internals (`__proto__`, `constructor`, `toString`), through the real MCP SDK
 * client over HTTP against the sandbox. Airtable takes any field name; a cell keyed `__proto__` was silently not
 * written (the tools' `fields` input, a zod record, skipped the key) and not read back (cells keyed by name were
 * assigned to plain objects, where that key sets the prototype); an empty cell of a field named like a member of
 * Object.prototype read that member (the sandbox's formulas, the string listing's time zone note). Each cell given is
 * written and read back under its name. A write naming such a field the table lacks ("toString") is refused as any
 * unknown field, with the closest names (a guard: it already was, the name lookups being lists and maps).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Object keys",
  tables: [
    {
      name: "Things",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "__proto__", type: "singleLineText" },
        { name: "constructor", type: "number", options: { precision: 0 } },
      ],
    },
    {
      // Its records leave both fields empty: Airtable answers no key for an empty cell.
      name: "Empty cells",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "valueOf", type: "singleLineText" },
        {
          name: "toLocaleString",
          type: "dateTime",
          options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "Europe/Berlin" },
        },
      ],
      records: [{ Name: "Plain" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

/**
 * Cells as an agent's JSON gives them: `{ "__proto__": … }` in an object literal would set the prototype, so the
 * cells are parsed from JSON text, where every key is an own property.
 */
const cells = (json: string): Record<string, unknown> => JSON.parse(json) as Record<string, unknown>;

type Rec = { id: string; fields: Record<string, unknown> };

/** A record's own cells, in order, as [name, value] pairs (own properties only, `__proto__` included). */
const ownCells = (fields: Record<string, unknown>): [string, unknown][] =>
  Object.getOwnPropertyNames(fields).map((key) => [key, fields[key]]);

describe("fields named __proto__ and constructor", () => {
  it("are written, read back by get_record and list_records (json and string cells), updated and upserted", async () => {
    const created = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      records: [{ fields: cells('{ "Name": "Widget", "__proto__": "proto text", "constructor": 7 }') }],
    });
    expect(created.isError, created.text).toBe(false);
    const [{ id } = { id: "" }] = created.data.results as { id: string }[];
    expect(id).toMatch(/^rec/);
    // As the sandbox (Airtable) holds it.
    const stored = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Things").find((r) => r.id === id);
    expect(ownCells(stored!.fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "proto text"],
      ["constructor", 7],
    ]);

    const got = await call("get_record", { baseId: mcp.base.id, tableId: "Things", recordId: id });
    expect(got.isError, got.text).toBe(false);
    expect(ownCells((got.data.record as Rec).fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "proto text"],
      ["constructor", 7],
    ]);
    // The text an agent reads holds the cell too.
    expect(got.text).toContain('"__proto__":"proto text"');

    const listed = await call("list_records", { baseId: mcp.base.id, tableId: "Things" });
    expect(listed.isError, listed.text).toBe(false);
    expect(ownCells((listed.data.records as Rec[])[0]!.fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "proto text"],
      ["constructor", 7],
    ]);

    const asText = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      cellFormat: "string",
      timeZone: "UTC",
      userLocale: "en-us",
    });
    expect(asText.isError, asText.text).toBe(false);
    expect(ownCells((asText.data.records as Rec[])[0]!.fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "proto text"],
      ["constructor", "7"],
    ]);
    const gotText = await call("get_record", {
      baseId: mcp.base.id,
      tableId: "Things",
      recordId: id,
      cellFormat: "string",
      timeZone: "UTC",
      userLocale: "en-us",
    });
    expect(gotText.isError, gotText.text).toBe(false);
    expect(ownCells((gotText.data.record as Rec).fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "proto text"],
      ["constructor", "7"],
    ]);

    const chosen = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      fields: ["__proto__", "constructor"],
    });
    expect(chosen.isError, chosen.text).toBe(false);
    expect(ownCells((chosen.data.records as Rec[])[0]!.fields)).toEqual([
      ["__proto__", "proto text"],
      ["constructor", 7],
    ]);

    const updated = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      records: [{ id, fields: cells('{ "__proto__": "changed", "constructor": 8 }') }],
    });
    expect(updated.isError, updated.text).toBe(false);
    const afterUpdate = await call("get_record", { baseId: mcp.base.id, tableId: "Things", recordId: id });
    expect(ownCells((afterUpdate.data.record as Rec).fields)).toEqual([
      ["Name", "Widget"],
      ["__proto__", "changed"],
      ["constructor", 8],
    ]);

    const upserted = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      fieldsToMergeOn: ["constructor"],
      records: [
        { fields: cells('{ "constructor": 8, "__proto__": "upserted" }') },
        { fields: cells('{ "constructor": 9, "Name": "Gadget", "__proto__": "new one" }') },
      ],
    });
    expect(upserted.isError, upserted.text).toBe(false);
    expect(upserted.data.results).toEqual([
      { index: 0, id, action: "updated" },
      { index: 1, id: expect.stringMatching(/^rec/), action: "created" },
    ]);
    const all = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      sort: [{ field: "constructor" }],
    });
    expect((all.data.records as Rec[]).map((r) => ownCells(r.fields))).toEqual([
      [
        ["Name", "Widget"],
        ["__proto__", "upserted"],
        ["constructor", 8],
      ],
      [
        ["Name", "Gadget"],
        ["__proto__", "new one"],
        ["constructor", 9],
      ],
    ]);
  });

  it("refuses a write to a field named toString that the table does not have, as any unknown field", async () => {
    const before = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Things").length;
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      records: [{ fields: { Name: "Bolt", toString: "x" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain('"toString"');
    expect(answer.text).toMatch(/unknown field|no field/i);
    const misspelt = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      records: [{ fields: { Name: "Bolt", constructer: 1 } }],
    });
    expect(misspelt.isError).toBe(true);
    expect(misspelt.text).toContain('Did you mean "constructor"');
    const asMerge = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Things",
      fieldsToMergeOn: ["hasOwnProperty"],
      records: [{ fields: { Name: "Bolt" } }],
    });
    expect(asMerge.isError).toBe(true);
    expect(asMerge.text).toContain('"hasOwnProperty"');
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Things")).toHaveLength(before);
  });

  it("reads an empty cell of a field named like an Object property (valueOf, toLocaleString) as empty", async () => {
    // The sandbox's formula engine read Object.prototype.valueOf for the empty cell: an error, so no record matched.
    const blank = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Empty cells",
      filterByFormula: '{valueOf} = ""',
    });
    expect(blank.isError, blank.text).toBe(false);
    expect((blank.data.records as Rec[]).map((r) => r.fields)).toEqual([{ Name: "Plain" }]);
    // No time of the field set to Berlin's zone is shown, so nothing is said of it (the note read the empty cell
    // as Object.prototype.toLocaleString, a value).
    const asText = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Empty cells",
      cellFormat: "string",
      timeZone: "UTC",
      userLocale: "en-us",
    });
    expect(asText.isError, asText.text).toBe(false);
    expect(asText.data).toEqual({
      records: [{ id: expect.stringMatching(/^rec/), createdTime: expect.any(String), fields: { Name: "Plain" } }],
    });
  });
});
