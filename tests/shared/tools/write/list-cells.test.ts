/**
 * settleListCells (src/shared/tools/write/list-cells.ts) with a multiple select's option given by its id: what
 * update_records sends with addToLists: true. The sandbox refuses an option id as an unknown option (Airtable's field
 * model documents names only), so the list sent cannot be told apart through it; the function is pure, and called
 * here as update_records calls it, with the cells a read gives (option names).
 */
import { describe, expect, it } from "vitest";
import type { AirtableField } from "../../../../src/shared/airtable/schemas.ts";
import { settleListCells } from "../../../../src/shared/tools/write/list-cells.ts";

const tags: AirtableField = {
  id: "fldTags0000000001",
  name: "Tags",
  type: "multipleSelects",
  options: {
    choices: [
      { id: "selVipOption00001", name: "vip" },
      { id: "selBetaOption0001", name: "beta" },
      { id: "selPartnerOpt0001", name: "partner" },
    ],
  },
} as AirtableField;

describe("settleListCells: options given by id", () => {
  it("addToLists: true keeps an option given by id once, sent as given, and adds back only what is missing", () => {
    const cells: Record<string, unknown>[] = [{ [tags.id]: ["selVipOption00001", "partner"] }];
    const dropped = settleListCells([tags], cells, () => ({ [tags.id]: ["vip", "beta"] }), true);
    expect(dropped).toEqual([]);
    // The cell's order is kept (h-agent31: "vip" given again, by id, stays first; it was sent after "beta").
    expect(cells[0]![tags.id]).toEqual(["selVipOption00001", "beta", "partner"]);
  });

  it("addToLists left out: an option kept by id is no removal; one left out still is", () => {
    const cells: Record<string, unknown>[] = [{ [tags.id]: ["selVipOption00001"] }];
    const dropped = settleListCells([tags], cells, () => ({ [tags.id]: ["vip", "beta"] }), undefined);
    expect(dropped.map((d) => d.items)).toEqual([["beta"]]);
  });

  it("a text that is an option's name is that option, even when it is another option's id", () => {
    const odd: AirtableField = {
      ...tags,
      options: {
        choices: [
          { id: "selAAAAAAAAAAAAAA", name: "x" },
          { id: "selBBBBBBBBBBBBBB", name: "selAAAAAAAAAAAAAA" },
        ],
      },
    } as AirtableField;
    const dropped = settleListCells(
      [odd],
      [{ [odd.id]: ["selAAAAAAAAAAAAAA"] }],
      () => ({ [odd.id]: ["x"] }),
      undefined,
    );
    expect(dropped.map((d) => d.items)).toEqual([["x"]]);
  });
});
