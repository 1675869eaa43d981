import { describe, expect, it } from "vitest";
import { compileFormula } from "../../../src/sandbox/formula.ts";
import { tokenize } from "../../../src/sandbox/formula/lexer.ts";
import {
  fieldReference,
  formulaString,
  isSearchableField,
  searchFormula,
} from "../../../src/shared/tools/search-formula.ts";

const hostile = [
  '") , TRUE(), ("',
  'a"b',
  "a'b",
  "back\\slash",
  "ends with \\",
  '\\", TRUE(), "',
  "{Name}",
  "}{",
  "line\nbreak\ttab\rcr",
  "ünïcödé ✓",
  "",
];

describe("formulaString", () => {
  it.each(hostile)("%j is one string token holding exactly the text", (text) => {
    const tokens = tokenize(formulaString(text));
    expect(tokens.map((t) => t.kind)).toEqual(["string", "eof"]);
    expect(tokens[0]?.value).toBe(text);
  });
});

describe("searchFormula", () => {
  it('builds OR(FIND(LOWER(term), LOWER({Field} & "")) > 0, …)', () => {
    expect(
      searchFormula('a"b', [
        { name: "Name", type: "singleLineText" },
        { name: "Notes", type: "multilineText" },
      ]),
    ).toBe('OR(FIND(LOWER("a\\"b"), LOWER({Name} & "")) > 0, FIND(LOWER("a\\"b"), LOWER({Notes} & "")) > 0)');
  });

  it("a computed field's error value does not hide a record another field matches", () => {
    const fields = [
      { name: "Title", type: "singleLineText" },
      { name: "Label", type: "formula" },
    ];
    const formula = searchFormula("enigma", fields);
    expect(formula).toBe(
      'OR(FIND(LOWER("enigma"), LOWER({Title} & "")) > 0, ' +
        'IF(ISERROR({Label} & ""), FALSE(), FIND(LOWER("enigma"), LOWER({Label} & "")) > 0))',
    );
    const compiled = compileFormula(formula, fields);
    const record = (cells: Record<string, unknown>) => ({
      id: "recA",
      createdTime: "2026-01-01T00:00:00.000Z",
      fields: cells,
    });
    expect(compiled.matches(record({ Title: "Break enigma", Label: { error: "#ERROR!" } }))).toBe(true);
    expect(compiled.matches(record({ Title: "Other", Label: { error: "#ERROR!" } }))).toBe(false);
    expect(compiled.matches(record({ Title: "Other", Label: "the Enigma label" }))).toBe(true);
  });

  it("refuses fields whose name cannot be referenced", () => {
    expect(fieldReference({ name: "a}b" })).toBeUndefined();
    expect(() => searchFormula("x", [{ name: "a}b" }])).toThrow(/cannot be referenced/);
  });
});

describe("isSearchableField", () => {
  it("searches text fields, links, and lookups/rollups/formulas whose result is text; not numbers or attachments", () => {
    const text = { type: "singleLineText" };
    expect(isSearchableField(text)).toBe(true);
    expect(isSearchableField({ type: "multipleRecordLinks", options: { linkedTableId: "tblX" } })).toBe(true);
    expect(isSearchableField({ type: "multipleLookupValues", options: { result: { type: "singleSelect" } } })).toBe(
      true,
    );
    expect(isSearchableField({ type: "formula", options: { result: { type: "singleLineText" } } })).toBe(true);
    expect(isSearchableField({ type: "rollup", options: { result: { type: "multilineText" } } })).toBe(true);
    expect(isSearchableField({ type: "rollup", options: { result: { type: "number" } } })).toBe(false);
    expect(isSearchableField({ type: "formula", options: { result: null } })).toBe(false);
    expect(isSearchableField({ type: "number" })).toBe(false);
    expect(isSearchableField({ type: "multipleAttachments" })).toBe(false);
  });
});
