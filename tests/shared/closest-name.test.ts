/**
 * closestNames, the one "did you mean" rule (src/shared/closest-name.ts): what it suggests, and that a name far
 * longer than any real one is answered without building an edit-distance table for it (a tool argument has no length
 * limit short of the request body's: such a name held the event loop for seconds before the lengths were compared).
 */
import { describe, expect, it } from "vitest";
import { closestNames, editDistance } from "../../src/shared/closest-name.ts";

const fields = ["Name", "Email", "Due date", "Stage", "Grid view", "Notes"];

describe("closestNames", () => {
  it("answers the same letters first, then a typo within reach, then whole words when asked", () => {
    expect(closestNames("due_date", fields)).toEqual(["Due date"]);
    expect(closestNames("Nmae", fields)).toEqual(["Name"]);
    expect(closestNames("Stag", fields)).toEqual(["Stage"]);
    expect(closestNames("Grid", fields)).toEqual([]);
    expect(closestNames("Grid", fields, 3, { words: true })).toEqual(["Grid view"]);
    expect(closestNames("Gri", fields, 3, { words: true })).toEqual([]);
  });

  it("suggests nothing for a name whose length is out of every name's reach, however long", () => {
    // Two characters longer than "Due date" (8, within 2 edits allowed) is still in reach; three is not.
    expect(closestNames("Due datexx", fields)).toEqual(["Due date"]);
    expect(closestNames("Due datexxx", fields)).toEqual([]);
    const many = Array.from({ length: 200 }, (_, i) => `Field number ${i}`);
    expect(closestNames("x".repeat(100_000), many)).toEqual([]);
    expect(closestNames(`Field number 7${" ".repeat(50_000)}`, many)).toEqual(["Field number 7"]);
  });

  it("counts a swap of two neighbours as one edit (optimal string alignment)", () => {
    expect(editDistance("nmae", "name")).toBe(1);
    expect(editDistance("abc", "abc")).toBe(0);
    expect(editDistance("", "abc")).toBe(3);
  });
});
