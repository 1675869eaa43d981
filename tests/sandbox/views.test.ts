/**
 * Views with a filter and a sort, as list records documents `view`
 * (https://airtable.com/developers/web/api/list-records): "If set, only the records in that view will be returned.
 * The records will be sorted according to the order of the view unless the sort parameter is included".
 * filterByFormula narrows the view's records further; GET and POST listRecords behave alike; the schema shows a
 * view as id, name and type only, and `include=visibleFieldIds` adds a grid view's visible fields, on grid views only
 * (https://airtable.com/developers/web/api/get-view-metadata: "Available on grid views only: list of visible
 * (non-hidden) field IDs, when requested with include query parameter").
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let base: BaseInfo;

beforeEach(async () => {
  f = await fixture({ perBaseRps: 50 });
  base = f.sandbox.createBase(f.user.id, {
    name: "Views",
    tables: [
      {
        name: "Deals",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Amount", type: "number", options: { precision: 0 } },
          { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Open" }, { name: "Won" }] } },
        ],
        views: [
          { name: "Open by amount", filter: '{Stage} = "Open"', sort: [{ field: "Amount", direction: "desc" }] },
          { name: "By name", sort: [{ field: "Name" }] },
        ],
        records: [
          { Name: "Delta", Amount: 40, Stage: "Open" },
          { Name: "Alpha", Amount: 10, Stage: "Won" },
          { Name: "Charlie", Amount: 30, Stage: "Open" },
          { Name: "Bravo", Amount: 20, Stage: "Open" },
          { Name: "Echo", Amount: 50, Stage: "Won" },
        ],
      },
    ],
  });
});
afterEach(async () => {
  await f.sandbox.close();
});

const names = (body: { records: { fields: { Name: string } }[] }): string[] => body.records.map((r) => r.fields.Name);
const list = async (query: string): Promise<string[]> => {
  const r = await f.call("GET", `/v0/${base.id}/Deals?${query}`);
  expect(r.status).toBe(200);
  return names(r.body);
};

describe("list records with a view", () => {
  it("returns only the view's records, in the view's order (by name or id, GET and POST)", async () => {
    const viewId = base.tables[0]?.views.find((v) => v.name === "Open by amount")?.id as string;
    expect(await list(`view=${encodeURIComponent("Open by amount")}`)).toEqual(["Delta", "Charlie", "Bravo"]);
    expect(await list(`view=${viewId}`)).toEqual(["Delta", "Charlie", "Bravo"]);
    const post = await f.call("POST", `/v0/${base.id}/Deals/listRecords`, { view: viewId, pageSize: 2 });
    expect(names(post.body)).toEqual(["Delta", "Charlie"]);
    const next = await f.call("POST", `/v0/${base.id}/Deals/listRecords`, {
      view: viewId,
      pageSize: 2,
      offset: post.body.offset,
    });
    expect(names(next.body)).toEqual(["Bravo"]);
    // A view without a filter keeps every record, in its own sort; the default view is creation order.
    expect(await list("view=By%20name")).toEqual(["Alpha", "Bravo", "Charlie", "Delta", "Echo"]);
    expect(await list("view=Grid%20view")).toEqual(["Delta", "Alpha", "Charlie", "Bravo", "Echo"]);
  });

  it("narrows the view with filterByFormula and lets an explicit sort override the view's order", async () => {
    const filter = encodeURIComponent("{Amount} >= 30");
    expect(await list(`view=Open%20by%20amount&filterByFormula=${filter}`)).toEqual(["Delta", "Charlie"]);
    const sorted = "sort%5B0%5D%5Bfield%5D=Name&sort%5B0%5D%5Bdirection%5D=asc";
    expect(await list(`view=Open%20by%20amount&${sorted}`)).toEqual(["Bravo", "Charlie", "Delta"]);
    const post = await f.call("POST", `/v0/${base.id}/Deals/listRecords`, {
      view: "Open by amount",
      sort: [{ field: "Amount" }],
    });
    expect(names(post.body)).toEqual(["Bravo", "Charlie", "Delta"]);
  });

  it("follows the data and the schema: new and changed records, a renamed field; the schema shows no filter", async () => {
    const created = await f.call("POST", `/v0/${base.id}/Deals`, {
      fields: { Name: "Foxtrot", Amount: 35, Stage: "Open" },
    });
    const alpha = f.sandbox.listRecordsDirect(base.id, "Deals").find((r) => r.fields.Name === "Alpha");
    await f.call("PATCH", `/v0/${base.id}/Deals/${alpha?.id as string}`, { fields: { Stage: "Open" } });
    expect(await list("view=Open%20by%20amount")).toEqual(["Delta", "Foxtrot", "Charlie", "Bravo", "Alpha"]);
    expect(created.status).toBe(200);

    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const table = schema.body.tables[0];
    expect(table.views.map((v: Record<string, unknown>) => Object.keys(v).sort())).toEqual([
      ["id", "name", "type"],
      ["id", "name", "type"],
      ["id", "name", "type"],
    ]);
    const stage = table.fields.find((x: { name: string }) => x.name === "Stage");
    const renamed = await f.call("PATCH", `/v0/meta/bases/${base.id}/tables/${table.id}/fields/${stage.id}`, {
      name: "Pipeline stage",
    });
    expect(renamed.status).toBe(200);
    expect(await list("view=Open%20by%20amount")).toEqual(["Delta", "Foxtrot", "Charlie", "Bravo", "Alpha"]);
  });

  it("refuses a seeded view whose filter is not a valid formula", () => {
    expect(() =>
      f.sandbox.createBase(f.user.id, {
        name: "Bad",
        tables: [
          {
            name: "T",
            fields: [{ name: "Name", type: "singleLineText" }],
            views: [{ name: "Broken", filter: "{Nope} = 1" }],
          },
        ],
      }),
    ).toThrow(/invalid filter/);
  });
});

describe("visibleFieldIds", () => {
  it("lists a grid view's visible fields when asked, and nothing on other view types", async () => {
    const kinds = f.sandbox.createBase(f.user.id, {
      name: "View kinds",
      tables: [
        {
          name: "Tasks",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Notes", type: "multilineText" },
            { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Open" }, { name: "Done" }] } },
          ],
          views: [
            { name: "Without notes", hiddenFields: ["Notes"] },
            { name: "Board", type: "kanban" },
            { name: "Intake", type: "form" },
          ],
        },
      ],
    });
    const table = kinds.tables[0];
    const id = (name: string): string => table?.fields.find((x) => x.name === name)?.id as string;
    const viewsOf = async (query: string): Promise<Record<string, unknown>[]> => {
      const r = await f.call("GET", `/v0/meta/bases/${kinds.id}/tables${query}`);
      expect(r.status).toBe(200);
      return r.body.tables[0].views.map((v: Record<string, unknown>) => ({ ...v, id: undefined }));
    };
    expect(await viewsOf("?include=visibleFieldIds")).toEqual([
      { name: "Grid view", type: "grid", visibleFieldIds: [id("Name"), id("Notes"), id("Stage")] },
      { name: "Without notes", type: "grid", visibleFieldIds: [id("Name"), id("Stage")] },
      { name: "Board", type: "kanban" },
      { name: "Intake", type: "form" },
    ]);
    // Not asked: no view has it.
    expect((await viewsOf("")).map((v) => "visibleFieldIds" in v)).toEqual([false, false, false, false]);
    // A field created later is visible in the grid view that hides Notes.
    const created = await f.call("POST", `/v0/meta/bases/${kinds.id}/tables/${table?.id as string}/fields`, {
      name: "Due",
      type: "date",
      options: { dateFormat: { name: "iso" } },
    });
    expect(created.status).toBe(200);
    expect((await viewsOf("?include%5B%5D=visibleFieldIds"))[1]?.visibleFieldIds).toEqual([
      id("Name"),
      id("Stage"),
      created.body.id,
    ]);
  });

  it("refuses a seeded view that hides the primary field or hides fields outside a grid view", () => {
    const seed = (view: Record<string, unknown>) => () =>
      f.sandbox.createBase(f.user.id, {
        name: "Bad",
        tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }], views: [view as never] }],
      });
    expect(seed({ name: "No name", hiddenFields: ["Name"] })).toThrow(/primary field "Name" cannot be hidden/);
    expect(seed({ name: "Board", type: "kanban", hiddenFields: [] })).toThrow(/grid views only/);
    expect(seed({ name: "Odd", type: "table" })).toThrow(/type must be one of grid, form/);
  });
});
