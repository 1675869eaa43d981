/**
 * Formula functions over dates and arrays, as Airtable's formula field reference describes them
 * (https://support.airtable.com/docs/formula-field-reference): ARRAYJOIN/ARRAYUNIQUE/ARRAYCOMPACT/ARRAYSLICE
 * ("Array functions"), SUM/MIN/MAX/AVERAGE/COUNT/COUNTA/COUNTALL, IS_BEFORE/IS_AFTER/IS_SAME, DATETIME_DIFF (date1
 * minus date2 in whole units, seconds by default), DATEADD, RECORD_ID(), CREATED_TIME(), LAST_MODIFIED_TIME().
 * A lookup is an array; text functions see it as its values joined with ", ", so FIND/SEARCH over a lookup search
 * the joined values (what filterByFormula does with lookups in Airtable).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compileFormula, type FormulaField, type FormulaRecord } from "../../src/sandbox/formula.ts";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import { fixture, type Fixture } from "./test-helpers.ts";

const FIELDS: FormulaField[] = [
  { name: "Names", type: "multipleLookupValues" },
  { name: "Amounts", type: "multipleLookupValues" },
  { name: "Due", type: "date" },
  { name: "At", type: "dateTime" },
  { name: "Company", type: "multipleRecordLinks" },
];

const RECORD: FormulaRecord = {
  id: "recDATES00000001",
  createdTime: "2026-03-01T10:00:00.000Z",
  lastModifiedTime: "2026-03-02T08:30:00.000Z",
  fields: {
    Names: ["Acme", "Globex", "Acme", ""],
    Amounts: [10, 2.5, null, "7"],
    Due: "2026-03-15",
    At: "2026-03-10T18:45:00.000Z",
    // A link as formulas see it: its records' primary values.
    Company: ["Acme Corp", "Initech"],
  },
};

const evaluate = (formula: string, record: FormulaRecord = RECORD): unknown =>
  compileFormula(formula, FIELDS).evaluate(record);

describe("arrays and aggregates", () => {
  it.each<[string, unknown]>([
    ["{Names}", ["Acme", "Globex", "Acme", ""]],
    ["ARRAYJOIN({Names})", "Acme, Globex, Acme, "],
    ['ARRAYJOIN({Names}, " | ")', "Acme | Globex | Acme | "],
    ["ARRAYUNIQUE({Names})", ["Acme", "Globex", ""]],
    ["ARRAYCOMPACT({Names})", ["Acme", "Globex", "Acme"]],
    ["ARRAYSLICE({Names}, 2, 3)", ["Globex", "Acme"]],
    ["ARRAYSLICE({Names}, -2)", ["Acme", ""]],
    ["ARRAYFLATTEN({Names}, {Amounts})", ["Acme", "Globex", "Acme", "", 10, 2.5, null, "7"]],
    ["SUM({Amounts})", 19.5],
    ["SUM(1, 2, {Amounts})", 22.5],
    ["MAX({Amounts})", 10],
    ["MIN({Amounts})", 2.5],
    ["AVERAGE({Amounts})", 6.5],
    ["COUNT({Amounts})", 3],
    ["COUNTA({Names})", 3],
    ["COUNTALL({Names})", 4],
    // A lookup in text functions is its values joined with ", ".
    ['FIND("Globex", {Names})', 7],
    ['SEARCH("globex", LOWER({Names}))', 7],
    ['FIND("Initech", {Names})', 0],
    ["LEN({Names})", 20],
    ['{Names} & "!"', "Acme, Globex, Acme, !"],
    // A link is the text of its primary values.
    ["{Company}", "Acme Corp, Initech"],
    ['FIND("Initech", {Company})', 12],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("treats an empty lookup as blank and a one-value lookup as that value in comparisons", () => {
    const one: FormulaRecord = { ...RECORD, fields: { Names: ["Acme"] } };
    expect(compileFormula('{Names} = "Acme"', FIELDS).matches(one)).toBe(true);
    const none: FormulaRecord = { ...RECORD, fields: {} };
    expect(evaluate("{Names}", none)).toBeNull();
    expect(compileFormula('{Names} = ""', FIELDS).matches(none)).toBe(true);
    expect(compileFormula("{Names}", FIELDS).matches(none)).toBe(false);
    expect(compileFormula("{Names}", FIELDS).matches(one)).toBe(true);
  });
});

describe("dates", () => {
  it.each<[string, unknown]>([
    ['IS_BEFORE({Due}, "2026-04-01")', true],
    ['IS_BEFORE({Due}, "2026-03-15")', false],
    ["IS_AFTER({At}, {Due})", false],
    ['IS_AFTER({Due}, "2026-03-14T23:59:59.000Z")', true],
    ['IS_SAME({Due}, "2026-03-15")', true],
    ['IS_SAME({At}, "2026-03-31", "month")', true],
    ['IS_SAME({At}, "2026-04-01", "months")', false],
    // 2026-03-15T00:00Z − 2026-03-10T18:45Z = 4 d 5 h 15 min.
    ["DATETIME_DIFF({Due}, {At})", 364_500],
    ['DATETIME_DIFF({Due}, {At}, "days")', 4],
    ['DATETIME_DIFF({At}, {Due}, "days")', -4],
    ['DATETIME_DIFF({Due}, {At}, "hours")', 101],
    ['DATETIME_DIFF({Due}, "2026-01-16", "months")', 1],
    ['DATETIME_DIFF({Due}, "2026-01-15", "M")', 2],
    ['DATETIME_DIFF({Due}, "2025-03-15", "years")', 1],
    ['DATETIME_DIFF({Due}, "2026-03-01", "w")', 2],
    ['DATEADD({Due}, 3, "days")', "2026-03-18T00:00:00.000Z"],
    ['DATEADD({At}, 1, "months")', "2026-04-10T18:45:00.000Z"],
    ["CREATED_TIME()", "2026-03-01T10:00:00.000Z"],
    ["LAST_MODIFIED_TIME()", "2026-03-02T08:30:00.000Z"],
    ["RECORD_ID()", "recDATES00000001"],
    ['IS_BEFORE(CREATED_TIME(), "2026-03-02")', true],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("gives #ERROR! for what is not a date or not a unit", () => {
    expect(evaluate('IS_BEFORE("soon", {Due})')).toEqual({ error: "#ERROR!" });
    expect(evaluate('DATETIME_DIFF({Due}, {At}, "fortnights")')).toEqual({ error: "#ERROR!" });
    expect(evaluate("IS_BEFORE({Due}, BLANK())")).toEqual({ error: "#ERROR!" });
  });
});

describe("filterByFormula over links, lookups and dates (HTTP, the demo base)", () => {
  let f: Fixture;
  let demo: DemoData;
  const list = async (
    formula: string,
    table = "Contacts",
  ): Promise<{ id: string; fields: Record<string, unknown> }[]> => {
    const r = await f.call(
      "POST",
      `/v0/${demo.base.id}/${table}/listRecords`,
      { filterByFormula: formula },
      demo.token,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.records;
  };

  beforeEach(async () => {
    f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
    demo = seedDemo(f.sandbox);
  });
  afterEach(() => f.sandbox.close());

  it("finds contacts by their company's name through the lookup and through the link", async () => {
    const byLookup = await list('FIND("initech", LOWER({Company name}))');
    expect(byLookup).toHaveLength(5);
    for (const r of byLookup) expect(r.fields["Company name"]).toEqual(["Initech"]);
    expect((await list('SEARCH("Stark", {Company})')).map((r) => r.fields["Company name"])).toEqual(
      Array(5).fill(["Stark Industries"]),
    );
    expect(await list('ARRAYJOIN({Company name}, ";") = "Hooli"')).toHaveLength(5);
    expect(await list('FIND("nobody", {Company name})')).toHaveLength(0);
  });

  it("filters companies on rollups and counts, and records by RECORD_ID() and dates", async () => {
    const big = await list("{Total deal size} > 22000", "Companies");
    expect(big.map((r) => r.fields.Name)).toEqual(["Acme"]);
    expect(await list("{Number of contacts} = 5", "Companies")).toHaveLength(6);
    const [first] = await list("TRUE()");
    expect((await list(`RECORD_ID() = "${first?.id}"`)).map((r) => r.id)).toEqual([first?.id]);
    const early = await list('IS_BEFORE({Last contact}, "2026-03-01")');
    expect(early.length).toBeGreaterThan(0);
    for (const r of early) expect((r.fields["Last contact"] as string) < "2026-03-01").toBe(true);
    const soon = await list('DATETIME_DIFF({Next meeting}, "2026-12-01", "days") < 3');
    expect(soon.map((r) => r.fields["Next meeting"])).toEqual([
      "2026-12-01T15:30:00.000Z",
      "2026-12-02T15:30:00.000Z",
      "2026-12-03T15:30:00.000Z",
    ]);
    expect(await list('IS_BEFORE(CREATED_TIME(), "2000-01-01")')).toHaveLength(0);
  });

  it("names fields in filterByFormula by name only (field ids appear in formula fields' options, not in filters)", async () => {
    const schema = await f.call("GET", `/v0/meta/bases/${demo.base.id}/tables`, undefined, demo.token);
    const nameId = schema.body.tables[1].fields[0].id as string;
    const r = await f.call(
      "POST",
      `/v0/${demo.base.id}/Contacts/listRecords`,
      { filterByFormula: `{${nameId}} = "Ada Park"` },
      demo.token,
    );
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("INVALID_FILTER_BY_FORMULA");
    expect(r.body.error.message).toContain(`Unknown field names: ${nameId}`);
  });
});
