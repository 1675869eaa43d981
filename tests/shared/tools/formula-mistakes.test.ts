import { describe, expect, it } from "vitest";
import { formulaMistakes } from "../../../src/shared/tools/formula-mistakes.ts";

/** The rules of formula-mistakes.ts on formulas an agent writes; a table with the fields the formulas name. */
const table = { fields: [{ id: "fld1", name: "Name", type: "singleLineText" }] } as Parameters<
  typeof formulaMistakes
>[1];

describe("formulaMistakes", () => {
  it("reads a curly-quoted text to its own closing quote: an apostrophe inside is text, and what follows is read", () => {
    expect(formulaMistakes("AND({Name} = \u201cJoe\u2019s\u201d, {Name} && 1)", table)).toEqual([
      '\u201c (character 14) is a curly quote: text goes in straight quotes, "like this"',
      "&& (character 30) is not an Airtable operator: AND(condition1, condition2)",
    ]);
  });

  it("a closing curly quote met first is closed by itself; \u201e may close with \u201c", () => {
    expect(formulaMistakes("{Name} = \u2019Done\u2019 || 1", table)).toEqual([
      '\u2019 (character 10) is a curly quote: text goes in straight quotes, "like this"',
      "|| (character 17) is not an Airtable operator: OR(condition1, condition2)",
    ]);
    expect(formulaMistakes("{Name} = \u201eJa\u201c == 1", table)).toEqual([
      '\u201e (character 10) is a curly quote: text goes in straight quotes, "like this"',
      '== (character 15) is not an Airtable operator: compare with one = ({Status} = "Done")',
    ]);
  });
});
