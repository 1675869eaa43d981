/**
 * The numeric, text, logic, date-part and regex functions of Airtable's formula field reference
 * (https://support.airtable.com/docs/formula-field-reference), evaluated through compileFormula as filterByFormula
 * and formula fields use it. The documented examples are here as written there (ROUND(16.8, -1) is 20,
 * REPLACE("database", 2, 5, "o") is "dose", WEEKNUM("02/17/2013") is 8…), with the edges around them.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { compileFormula, FormulaError, type FormulaField, type FormulaRecord } from "../../src/sandbox/formula.ts";

const FIELDS: FormulaField[] = [
  { name: "Score", type: "number" },
  { name: "Empty", type: "number" },
  { name: "Label", type: "singleLineText" },
  { name: "Priority", type: "singleSelect" },
  { name: "Email", type: "email" },
  { name: "Due", type: "date" },
  { name: "At", type: "dateTime" },
  { name: "Leap", type: "date" },
];

const RECORD: FormulaRecord = {
  id: "recFUNCS00000001",
  createdTime: "2026-01-01T00:00:00.000Z",
  fields: {
    Score: 3.46,
    Label: "Order 1234 shipped",
    Priority: "Medium",
    Email: "ada@acme.com",
    Due: "2026-03-15",
    At: "2024-05-06T07:08:09.000Z",
    Leap: "2024-02-29",
  },
};

const evaluate = (formula: string, record: FormulaRecord = RECORD): unknown =>
  compileFormula(formula, FIELDS).evaluate(record);
const matches = (formula: string, record: FormulaRecord = RECORD): boolean =>
  compileFormula(formula, FIELDS).matches(record);
const ERROR = { error: "#ERROR!" };

function compileError(formula: string): string {
  try {
    compileFormula(formula, FIELDS);
  } catch (error) {
    if (error instanceof FormulaError) return error.message;
    throw error;
  }
  throw new Error(`expected ${formula} to be refused`);
}

describe("numeric functions", () => {
  it.each<[string, unknown]>([
    ["ABS(-4.5)", 4.5],
    ["ABS(4)", 4],
    ["ABS({Empty})", 0],
    ["CEILING(2.3)", 3],
    ["CEILING(-2.3)", -2],
    ["CEILING(1.01, 0.1)", 1.1],
    ["CEILING(-1.99, 0.1)", -1.9],
    ["CEILING(7, 5)", 10],
    ["FLOOR(2.7)", 2],
    ["FLOOR(-2.3)", -3],
    ["FLOOR(1.01, 0.1)", 1],
    ["FLOOR(-1.99, 0.1)", -2],
    ["FLOOR(7, 5)", 5],
    ["INT(1.99)", 1],
    ["INT(-1.99)", -2],
    ["INT(-0.5)", -1],
    ["INT({Empty})", 0],
    ["MOD(7, 5)", 2],
    ["MOD(-7, 5)", -2],
    ["MOD(7, -5)", 2],
    ["MOD(5.5, 2)", 1.5],
    ["MOD(10, 5)", 0],
    ["POWER(2, 10)", 1024],
    ["POWER(4, 0.5)", 2],
    ["POWER(2, -1)", 0.5],
    ["SQRT(16)", 4],
    ["EXP(0)", 1],
    ["LOG(1024, 2)", 10],
    ["LOG(10000)", 4],
    ["LOG(1000)", 3],
    ["LOG(100, 10)", 2],
    ["EVEN(0.1)", 2],
    ["EVEN(-0.1)", -2],
    ["EVEN(3)", 4],
    ["EVEN(2)", 2],
    ["EVEN(0)", 0],
    ["ODD(0.1)", 1],
    ["ODD(-0.1)", -1],
    ["ODD(1.5)", 3],
    ["ODD(-2.1)", -3],
    ["ODD(2)", 3],
    ["ODD(3)", 3],
    ["ODD(0)", 1],
    ["ROUND(1.99, 0)", 2],
    ["ROUND(16.8, -1)", 20],
    ["ROUND(3.14159, 2)", 3.14],
    ["ROUND(1.005, 2)", 1.01],
    ["ROUND(2.5)", 3],
    // Ties go toward positive infinity.
    ["ROUND(-2.5, 0)", -2],
    ["ROUND(-1.5)", -1],
    ["ROUND(-2.6, 0)", -3],
    ["ROUND(-1.25, 1)", -1.2],
    ["ROUND({Score}, 1)", 3.5],
    ["ROUND({Empty}, 2)", 0],
    ["ROUND(1234.5, -2)", 1200],
    ["ROUND(2.7, 0.9)", 3],
    ["ROUNDUP(1.1, 0)", 2],
    ["ROUNDUP(-1.1, 0)", -2],
    ["ROUNDUP(1.21, 1)", 1.3],
    ["ROUNDUP(1.2, 1)", 1.2],
    ["ROUNDUP(1234, -2)", 1300],
    ["ROUNDDOWN(1.9, 0)", 1],
    ["ROUNDDOWN(-1.9, 0)", -1],
    ["ROUNDDOWN(1.29, 1)", 1.2],
    ["ROUNDDOWN(-1234, -2)", -1200],
    ['VALUE("$1,000,000")', 1_000_000],
    ['VALUE("12.5")', 12.5],
    ['VALUE(" -3 ")', -3],
    ['VALUE("")', 0],
    ["VALUE(7)", 7],
    // Text that reads as a number works in numeric functions, as it does with the arithmetic operators.
    ['ABS("-2")', 2],
    ["ABS(TRUE())", 1],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("gives NaN for non-numeric arguments and impossible results, which filters drop", () => {
    for (const formula of [
      'ABS("abc")',
      'ROUND("abc", 1)',
      'ROUND(1.5, "x")',
      'ROUNDUP(1, "x")',
      "SQRT(-1)",
      "MOD(1, 0)",
      'VALUE("abc")',
      'VALUE("10%")',
      "ODD({Label})",
      "LOG(-1)",
    ]) {
      expect(evaluate(formula), formula).toBeNaN();
      expect(matches(formula), formula).toBe(false);
    }
  });

  it("filters on rounded numbers", () => {
    expect(matches("ROUND({Score}, 1) > 3")).toBe(true);
    expect(matches("ROUND({Score}, 1) = 3.5")).toBe(true);
    expect(matches("INT({Score}) = 3")).toBe(true);
    expect(matches("MOD(INT({Score}), 2) = 1")).toBe(true);
    expect(matches("ROUNDDOWN({Score}, 0) > 3")).toBe(false);
  });

  it("refuses ROUNDUP and ROUNDDOWN without a precision, which Airtable needs", () => {
    expect(compileError("ROUNDUP(1.5)")).toBe(
      "Wrong number of arguments: ROUNDUP() at position 0 takes 2 arguments, got 1",
    );
    expect(compileError("ROUNDDOWN(1.5)")).toContain("ROUNDDOWN() at position 0 takes 2 arguments");
    expect(compileError("MOD(1)")).toContain("MOD() at position 0 takes 2 arguments");
  });
});

describe("text and logic functions", () => {
  it.each<[string, unknown]>([
    ['REPT("Hi! ", 3)', "Hi! Hi! Hi! "],
    ['REPT("x", 0)', ""],
    ['REPT("x", 2.9)', "xx"],
    ["REPT({Empty}, 3)", ""],
    ['REPLACE("database", 2, 5, "o")', "dose"],
    ['REPLACE("abc", 1, 0, "x")', "xabc"],
    ['REPLACE("abc", 10, 1, "x")', "abcx"],
    ['REPLACE("abc", 2, 10, "")', "a"],
    ['SWITCH({Priority}, "High", 1, "Medium", 2, "Low", 3, 0)', 2],
    ['SWITCH("None", "High", 1, "Medium", 2, 0)', 0],
    ['SWITCH("None", "High", 1, "Medium", 2)', null],
    ['SWITCH(2, 1, "one", 2, "two")', "two"],
    // Patterns compare as `=` does: text against a number numerically.
    ['SWITCH("2", 1, "one", 2, "two")', "two"],
    ['SWITCH(1, 1, "one", ERROR())', "one"],
    ['SWITCH(2, 1, ERROR(), 2, "two")', "two"],
    ['ENCODE_URL_COMPONENT("chicken & waffles")', "chicken%20%26%20waffles"],
    ['ENCODE_URL_COMPONENT("a-b_c.d~e!(x)*\'")', "a-b_c.d~e%21%28x%29%2A%27"],
    ['ENCODE_URL_COMPONENT("é/?")', "%C3%A9%2F%3F"],
    ["ERROR()", ERROR],
    ["ISERROR(ERROR())", true],
    ['IF(ISERROR(ERROR()), "caught")', "caught"],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("gives #ERROR! for negative counts, positions before the text, errors met by SWITCH and ERROR()", () => {
    for (const formula of [
      'REPT("x", -1)',
      'REPT("x", "many")',
      'REPLACE("abc", 0, 1, "x")',
      'REPLACE("abc", 1, -1, "x")',
      'SWITCH(ERROR(), 1, "one")',
      'SWITCH(3, 1, "one", ERROR(), "two", 3, "three")',
      'SWITCH(1, 1, ERROR(), "other")',
      'ERROR() & "x"',
      `REPT("abc", 1000000)`,
    ]) {
      expect(evaluate(formula), formula).toEqual(ERROR);
    }
    expect(matches("ERROR()")).toBe(false);
    expect(matches("NOT(ERROR())")).toBe(false);
  });

  it("checks SWITCH and ERROR arities", () => {
    expect(compileError("SWITCH(1, 2)")).toContain("SWITCH() at position 0 takes at least 3 arguments, got 2");
    expect(compileError("ERROR(1)")).toContain("ERROR() at position 0 takes 0 arguments, got 1");
    expect(compileError('REPLACE("a", 1, 1)')).toContain("REPLACE() at position 0 takes 4 arguments, got 3");
  });
});

describe("date parts, NOW() and TODAY() (UTC)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each<[string, unknown]>([
    ["YEAR({Due})", 2026],
    ["MONTH({Due})", 3],
    ["DAY({Due})", 15],
    ["HOUR({Due})", 0],
    ["YEAR({At})", 2024],
    ["MONTH({At})", 5],
    ["DAY({At})", 6],
    ["HOUR({At})", 7],
    ["MINUTE({At})", 8],
    ["SECOND({At})", 9],
    ['HOUR("2024-05-06T23:59:58.000+02:00")', 21],
    // An ISO date-time without a zone is UTC, not the sandbox process's local time.
    ['HOUR("2024-05-06T23:30")', 23],
    ['DAY("2024-05-06T23:30:00")', 6],
    ["YEAR({Leap})", 2024],
    ["MONTH({Leap})", 2],
    ["DAY({Leap})", 29],
    ['DAY(DATEADD({Leap}, 1, "days"))', 1],
    // DATEADD keeps to the month, as moment.js does: Feb 29 plus a year is Feb 28, Jan 31 plus a month Feb 28/29.
    ['DATEADD({Leap}, 1, "years")', "2025-02-28T00:00:00.000Z"],
    ['DATEADD({Leap}, 4, "years")', "2028-02-29T00:00:00.000Z"],
    ['DATEADD("2026-01-31", 1, "months")', "2026-02-28T00:00:00.000Z"],
    ['DATEADD("2024-01-31", 1, "months")', "2024-02-29T00:00:00.000Z"],
    ['DATEADD("2026-03-31", -1, "months")', "2026-02-28T00:00:00.000Z"],
    ['DATEADD("2026-01-31", 1, "quarters")', "2026-04-30T00:00:00.000Z"],
    ["DATESTR({At})", "2024-05-06"],
    ["DATESTR({Due})", "2026-03-15"],
    ["TIMESTR({At})", "07:08:09"],
    ["TIMESTR({Due})", "00:00:00"],
    // 2026-03-15 is a Sunday, 2024-02-29 a Thursday, 2020-10-01 a Thursday.
    ["WEEKDAY({Due})", 0],
    ['WEEKDAY({Due}, "Monday")', 6],
    ["WEEKDAY({Leap})", 4],
    ['WEEKDAY({Leap}, "Monday")', 3],
    ['WEEKDAY({Leap}, "sunday")', 4],
    ['WEEKDAY("2020-10-01")', 4],
    ['WEEKDAY("2020-10-01", "Monday")', 3],
    ['WEEKNUM("2013-02-17")', 8],
    ['WEEKNUM("2013-02-17", "Monday")', 7],
    ['WEEKNUM("2013-02-18", "Monday")', 8],
    ['WEEKNUM("2020-10-01")', 40],
    ['WEEKNUM("2026-01-01")', 1],
    ['WEEKNUM("2026-01-03")', 1],
    ['WEEKNUM("2026-01-04")', 2],
    ['WEEKNUM("2024-12-31")', 53],
    ["WEEKNUM({Leap})", 9],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("gives #ERROR! for blank or non-date arguments and unknown start days", () => {
    for (const formula of [
      "YEAR({Empty})",
      "YEAR(BLANK())",
      'MONTH("soon")',
      "DATESTR({Label})",
      "TIMESTR(BLANK())",
      'WEEKDAY({Due}, "Tuesday")',
      'WEEKNUM({Due}, "Someday")',
      "WEEKDAY({Empty})",
    ]) {
      expect(evaluate(formula), formula).toEqual(ERROR);
    }
    expect(matches("YEAR({Empty}) = 0")).toBe(false);
  });

  it("reads the clock for NOW() and TODAY() (TODAY() is the UTC date, as a date field holds it)", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-03-15T22:30:05.000Z"));
    expect(evaluate("NOW()")).toBe("2026-03-15T22:30:05.000Z");
    expect(evaluate("TODAY()")).toBe("2026-03-15");
    expect(matches("{Due} = TODAY()")).toBe(true);
    expect(matches("IS_SAME({Due}, TODAY())")).toBe(true);
    expect(matches("IS_BEFORE({At}, NOW())")).toBe(true);
    expect(evaluate('DATETIME_DIFF(NOW(), TODAY(), "hours")')).toBe(22);
    expect(evaluate("YEAR(TODAY())")).toBe(2026);
    expect(evaluate("HOUR(NOW())")).toBe(22);
    vi.setSystemTime(new Date("2026-03-16T00:00:00.000Z"));
    expect(evaluate("TODAY()")).toBe("2026-03-16");
    expect(matches("{Due} = TODAY()")).toBe(false);
  });

  it("filters on date parts", () => {
    expect(matches("YEAR({Due}) = 2026")).toBe(true);
    expect(matches("AND(YEAR({Due}) = 2026, MONTH({Due}) = 3)")).toBe(true);
    expect(matches("WEEKDAY({Due}) = 0")).toBe(true);
    expect(matches("YEAR({Due}) = 2025")).toBe(false);
  });
});

describe("regex functions (RE2, through re2js)", () => {
  // String.raw keeps the formula text as an agent writes it: "\\d" in a formula string is the regex \d.
  it.each<[string, unknown]>([
    [String.raw`REGEX_MATCH({Email}, "@acme\\.")`, true],
    [String.raw`REGEX_MATCH("ada@acmexcom", "@acme\\.")`, false],
    ['REGEX_MATCH("Hello", "^h")', false],
    ['REGEX_MATCH("Hello", "(?i)^h")', true],
    ['REGEX_MATCH("a\nb", "(?s)a.b")', true],
    ['REGEX_MATCH("a\nb", "a.b")', false],
    ['REGEX_MATCH("x\nb", "(?m)^b$")', true],
    ['REGEX_MATCH("", "")', true],
    ['REGEX_MATCH({Empty}, "^$")', true],
    [String.raw`REGEX_EXTRACT({Label}, "\\d+")`, "1234"],
    [String.raw`REGEX_EXTRACT("a1b22", "\\d+")`, "1"],
    [String.raw`REGEX_EXTRACT("2026-03-15", "(?P<year>\\d{4})")`, "2026"],
    ['REGEX_EXTRACT("[x]", "[]x[]+")', "[x]"],
    [String.raw`REGEX_REPLACE("2026-03-15", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1")`, "15/03/2026"],
    ['REGEX_REPLACE("a.b.c", "[.]", "-")', "a-b-c"],
    [String.raw`REGEX_REPLACE("  lots   of  space ", "\\s+", " ")`, " lots of space "],
    ['REGEX_REPLACE("abc", "x", "y")', "abc"],
    [String.raw`REGEX_REPLACE("tel: 555-0100", "[^\\d]", "")`, "5550100"],
  ])("%s → %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("gives #ERROR! when REGEX_EXTRACT finds nothing", () => {
    expect(evaluate(String.raw`REGEX_EXTRACT("abc", "\\d")`)).toEqual(ERROR);
    expect(evaluate(String.raw`IF(REGEX_MATCH("abc", "\\d"), REGEX_EXTRACT("abc", "\\d"), "none")`)).toBe("none");
  });

  it("refuses, as #ERROR!, syntax RE2 rejects", () => {
    for (const pattern of [
      String.raw`(a)\\1`, // backreference
      "a(?=b)", // lookahead
      "a(?!b)",
      "(?<=a)b", // lookbehind
      "(?<!a)b",
      "(?>a)", // atomic group
      String.raw`\\e`,
      "(", // invalid
      "a**",
      "a{1001}", // RE2's repeat limit is 1000
      String.raw`\\é`,
      String.raw`a\\`,
    ]) {
      const formula = `REGEX_MATCH("aab", "${pattern}")`;
      expect(evaluate(formula), formula).toEqual(ERROR);
      expect(matches(formula), formula).toBe(false);
    }
    expect(evaluate('REGEX_REPLACE("a", "(?=a)", "b")')).toEqual(ERROR);
    expect(evaluate('REGEX_EXTRACT("a", "(?!b)")')).toEqual(ERROR);
  });

  it("reads RE2's own syntax as RE2 does, where JavaScript would differ", () => {
    expect(evaluate(String.raw`REGEX_MATCH("aab", "b\\z")`)).toBe(true); // end of text
    expect(evaluate(String.raw`REGEX_MATCH("aab", "a\\z")`)).toBe(false);
    expect(evaluate(String.raw`REGEX_MATCH("aab", "\\Aa")`)).toBe(true);
    expect(evaluate(String.raw`REGEX_EXTRACT("1é2", "\\pL")`)).toBe("é");
    expect(evaluate(String.raw`REGEX_MATCH("A", "\\x{41}")`)).toBe(true);
    expect(evaluate(String.raw`REGEX_MATCH("a.b", "\\Qa.b\\E")`)).toBe(true);
    expect(evaluate(String.raw`REGEX_MATCH("axb", "\\Qa.b\\E")`)).toBe(false);
    expect(evaluate('REGEX_EXTRACT("12ab", "[[:alpha:]]+")')).toBe("ab");
    expect(evaluate('REGEX_EXTRACT("aaa", "(?U)a+")')).toBe("a"); // ungreedy
    expect(evaluate('REGEX_MATCH("aB", "a(?i)b")')).toBe(true); // inline flags anywhere
    // RE2's \s is [\t\n\f\r ]: a no-break space is not one (JavaScript's \s would match it).
    expect(evaluate(`REGEX_MATCH("a\u00a0b", "a\\\\sb")`)).toBe(false);
  });

  it("matches in linear time: a pattern that makes a backtracking engine hang answers (this test would time out)", () => {
    expect(evaluate(`REGEX_MATCH("${"a".repeat(5_000)}b", "(a+)+$")`)).toBe(false);
  });

  it("accepts RE2 syntax JavaScript shares: classes, escapes, named and non-capturing groups, lazy repeats", () => {
    expect(evaluate(String.raw`REGEX_EXTRACT("k=v; x=y", "(?:\\w+)=(?<v>\\w+?)")`)).toBe("k=v");
    expect(evaluate(String.raw`REGEX_EXTRACT("tab\there", "\\t\\w")`)).toBe("\th");
    expect(evaluate(String.raw`REGEX_MATCH("a+b", "a\\+b")`)).toBe(true);
    expect(evaluate(String.raw`REGEX_MATCH("A1", "^[A-Z]\\x31$")`)).toBe(true);
    expect(evaluate(String.raw`REGEX_MATCH("a-b", "[\\w-]+")`)).toBe(true);
  });
});

describe("functions the sandbox refused until session 27", () => {
  // (DATETIME_FORMAT, SET_TIMEZONE, WORKDAY and WORKDAY_DIFF are emulated now: formula-datetime.test.ts; these four
  // are emulated now: formula-moment.test.ts. They take the reference's argument counts.)
  it.each<[string, string]>([
    ['DATETIME_PARSE({Due}, "D", "en")', "DATETIME_PARSE() at position 0 takes 1 to 3 arguments, got 4"],
    ["FROMNOW({Due})", "FROMNOW() at position 0 takes 1 argument, got 2"],
    ['SET_LOCALE({Due}, "en")', "SET_LOCALE() at position 0 takes 2 arguments, got 3"],
    ["TONOW({Due})", "TONOW() at position 0 takes 1 argument, got 2"],
  ])("%s", (call, tooMany) => {
    expect(() => compileFormula(call, FIELDS)).not.toThrow();
    expect(compileError(`${call.slice(0, -1)}, "x")`)).toBe(`Wrong number of arguments: ${tooMany}`);
  });
});
