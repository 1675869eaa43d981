import { describe, expect, it } from "vitest";
import {
  compileFormula,
  FormulaError,
  MAX_DEPTH,
  type FormulaField,
  type FormulaRecord,
} from "../../src/sandbox/formula.ts";

const FIELDS: FormulaField[] = [
  { name: "Name", type: "singleLineText" },
  { name: "Notes", type: "multilineText" },
  { name: "Body", type: "richText" },
  { name: "Num", type: "number" },
  { name: "Done", type: "checkbox" },
  { name: "Status", type: "singleSelect" },
  { name: "Tags", type: "multipleSelects" },
  { name: "Due", type: "date" },
  { name: "At", type: "dateTime" },
  { name: "Email", type: "email" },
  { name: "Site", type: "url" },
  { name: "Phone", type: "phoneNumber" },
  { name: "Files", type: "multipleAttachments" },
  { name: "Created", type: "createdTime" },
  { name: "Auto", type: "autoNumber" },
  { name: "Full Name", type: "singleLineText" },
  { name: "Odd {name", type: "singleLineText" },
  { name: "Ünïcode", type: "singleLineText" },
  { name: "TextNum", type: "singleLineText" },
];

const FULL: FormulaRecord = {
  id: "recFULL000000001",
  createdTime: "2024-03-01T10:00:00.000Z",
  fields: {
    Name: "Hello World",
    Notes: "  padded  ",
    Body: "**bold**",
    Num: 42,
    Done: true,
    Status: "In progress",
    Tags: ["urgent", "Q1"],
    Due: "2024-05-06",
    At: "2024-05-06T07:08:09.000Z",
    Email: "ada@example.com",
    Site: "https://example.com",
    Phone: "+1 555 0100",
    Files: [
      { id: "att1", filename: "a.png", url: "https://dl.example/a.png" },
      { id: "att2", filename: "b.pdf", url: "https://dl.example/b.pdf" },
    ],
    Created: "2024-03-01T10:00:00.000Z",
    Auto: 7,
    "Full Name": "Ada Lovelace",
    "Odd {name": "odd",
    Ünïcode: "ü",
    TextNum: "5",
  },
};

const EMPTY: FormulaRecord = { id: "recEMPTY00000002", createdTime: "2024-03-02T00:00:00.000Z", fields: {} };

const ZERO: FormulaRecord = {
  id: "recZERO000000003",
  createdTime: "2024-03-03T00:00:00.000Z",
  fields: { Num: 0, Name: "0" },
};

function evaluate(formula: string, record: FormulaRecord = FULL): unknown {
  return compileFormula(formula, FIELDS).evaluate(record);
}

function matches(formula: string, record: FormulaRecord = FULL): boolean {
  return compileFormula(formula, FIELDS).matches(record);
}

function compileError(formula: string, fields: FormulaField[] = FIELDS): string {
  try {
    compileFormula(formula, fields);
  } catch (error) {
    expect(error).toBeInstanceOf(FormulaError);
    return (error as FormulaError).message;
  }
  throw new Error(`expected ${JSON.stringify(formula)} to be rejected`);
}

describe("literals", () => {
  it.each<[string, unknown]>([
    ["1", 1],
    ["3.25", 3.25],
    [".5", 0.5],
    ["-2", -2],
    ["--2", 2],
    ["- 2", -2],
    ['"double"', "double"],
    ["'single'", "single"],
    ['"it\'s"', "it's"],
    ["'say \"hi\"'", 'say "hi"'],
    ['"a\\"b"', 'a"b'],
    ["'a\\'b'", "a'b"],
    ['"back\\\\slash"', "back\\slash"],
    ['"line\\nbreak"', "line\nbreak"],
    ['"tab\\tx"', "tab\tx"],
    ['"{braces} and (parens), commas"', "{braces} and (parens), commas"],
    ['""', ""],
    ["TRUE()", true],
    ["FALSE()", false],
    ["TRUE", true],
    ["false", false],
    ["true()", true],
    ["BLANK()", null],
    ['"ünïcode ✓ 🎉"', "ünïcode ✓ 🎉"],
  ])("%s evaluates to %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("keeps a literal newline inside a string", () => {
    expect(evaluate('"a\nb"')).toBe("a\nb");
  });
});

describe("operators and precedence", () => {
  it.each<[string, unknown]>([
    ["1+2", 3],
    ["5-7", -2],
    ["6*7", 42],
    ["7/2", 3.5],
    ["1+2*3", 7],
    ["(1+2)*3", 9],
    ["10-4-3", 3],
    ["24/4/2", 3],
    ["2*-3", -6],
    ["-2*3", -6],
    ["-(1+2)", -3],
    ['"a"&"b"', "ab"],
    ['"a"&1+1', "a2"],
    ['1+1&"a"', "2a"],
    ['"a"&2*3', "a6"],
    ["1&2", "12"],
    ['"x"&TRUE()', "x1"],
    ['"x"&BLANK()&"y"', "xy"],
    ["1+2=3", true],
    ['1&2="12"', true],
    ["1<2", true],
    ["2<1", false],
    ["2>1", true],
    ["2<=2", true],
    ["3<=2", false],
    ["2>=2", true],
    ["1>=2", false],
    ["1=1", true],
    ["1=2", false],
    ["1!=2", true],
    ["1!=1", false],
    ["1<2=TRUE()", true],
    ["1/0>1000000", true],
    ["0.1+0.2", 0.1 + 0.2],
    ['"5"+1', 6],
    ['" 5 "*2', 10],
  ])("%s evaluates to %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("yields NaN (not matched) for arithmetic on non-numeric text", () => {
    expect(evaluate('"abc"+1')).toBeNaN();
    expect(matches('"abc"+1')).toBe(false);
  });

  it("accepts whitespace and newlines anywhere between tokens", () => {
    expect(evaluate(' \n\tIF (\n  {Num}\t>\n 1 ,\r\n "big" ,\n "small"\n)\n ')).toBe("big");
    expect(evaluate("AND ( TRUE ( ) , 1 )")).toBe(true);
  });
});

describe("comparisons", () => {
  it.each<[string, boolean]>([
    ['"abc"="abc"', true],
    ['"abc"="ABC"', false],
    ['"abc"!="ABC"', true],
    ['"a"<"b"', true],
    ['"B"<"a"', true],
    ['"5"=5', true],
    ['5="5.0"', true],
    ['"abc"=0', false],
    ['"abc"!=0', true],
    ['"10">9', true],
    ['""=0', true],
    ['""=BLANK()', true],
    ["0=BLANK()", true],
    ["BLANK()=BLANK()", true],
    ["FALSE()=BLANK()", true],
    ["TRUE()=1", true],
    ["FALSE()=0", true],
    ['TRUE()="1"', true],
    ["TRUE()=2", false],
  ])("%s is %s", (formula, expected) => {
    expect(evaluate(formula)).toBe(expected);
  });

  it.each<[string, FormulaRecord, boolean]>([
    ['{Name}="Hello World"', FULL, true],
    ['{Name}="hello world"', FULL, false],
    ['{Name}=""', FULL, false],
    ['{Name}!=""', FULL, true],
    ['{Name}=""', EMPTY, true],
    ["{Name}=BLANK()", EMPTY, true],
    ['{Name}!=""', EMPTY, false],
    ["{Num}=42", FULL, true],
    ['{Num}="42"', FULL, true],
    ["{Num}>41.5", FULL, true],
    ["{Num}<42", FULL, false],
    ['{Num}=""', EMPTY, true],
    ["{Num}=BLANK()", EMPTY, true],
    ["{Num}=0", EMPTY, true],
    ["{Num}>0", EMPTY, false],
    ["{Num}<1", EMPTY, true],
    // Airtable treats a stored 0 as equal to blank too (a known quirk), so both of these hold for 0.
    ["{Num}=0", ZERO, true],
    ["{Num}=BLANK()", ZERO, true],
    ['{Name}="0"', ZERO, true],
    ["{Name}=0", ZERO, true],
    ["{TextNum}=5", FULL, true],
    ["{TextNum}>4", FULL, true],
    ['{Status}="In progress"', FULL, true],
    ['{Status}=""', EMPTY, true],
    ['{Due}="2024-05-06"', FULL, true],
    ['{Due}<"2024-06-01"', FULL, true],
    ['{At}>"2024-05-06"', FULL, true],
    ["{Done}=TRUE()", FULL, true],
    ["{Done}=1", FULL, true],
    ["{Done}=FALSE()", EMPTY, true],
    ["{Done}=0", EMPTY, true],
    ["{Done}", FULL, true],
    ["{Done}", EMPTY, false],
    ["NOT({Done})", EMPTY, true],
  ])("%s on %s is %s", (formula, record, expected) => {
    expect(matches(formula, record)).toBe(expected);
  });
});

describe("field values", () => {
  it.each<[string, FormulaRecord, unknown]>([
    ["{Name}", FULL, "Hello World"],
    ["{Notes}", FULL, "  padded  "],
    ["{Body}", FULL, "**bold**"],
    ["{Num}", FULL, 42],
    ["{Auto}", FULL, 7],
    ["{Done}", FULL, true],
    ["{Done}", EMPTY, false],
    ["{Status}", FULL, "In progress"],
    ["{Tags}", FULL, "urgent, Q1"],
    ["{Due}", FULL, "2024-05-06"],
    ["{At}", FULL, "2024-05-06T07:08:09.000Z"],
    ["{Email}", FULL, "ada@example.com"],
    ["{Site}", FULL, "https://example.com"],
    ["{Phone}", FULL, "+1 555 0100"],
    ["{Files}", FULL, "a.png (https://dl.example/a.png), b.pdf (https://dl.example/b.pdf)"],
    ["{Created}", FULL, "2024-03-01T10:00:00.000Z"],
    ["{Created}", EMPTY, "2024-03-02T00:00:00.000Z"],
    ["{Full Name}", FULL, "Ada Lovelace"],
    ["{Odd {name}", FULL, "odd"],
    ["{Ünïcode}", FULL, "ü"],
    ["Name", FULL, "Hello World"],
    ["Num * 2", FULL, 84],
    ["Ünïcode", FULL, "ü"],
    ["{Name}", EMPTY, null],
    ["{Num}", EMPTY, null],
    ["{Tags}", EMPTY, null],
    ["{Files}", EMPTY, null],
    ["{Due}", EMPTY, null],
    ["{Num}+1", EMPTY, 1],
    ['{Name}&""', EMPTY, ""],
    ['{Done}&""', FULL, "1"],
    ['{Num}&""', FULL, "42"],
  ])("%s on %s is %j", (formula, record, expected) => {
    expect(evaluate(formula, record)).toEqual(expected);
  });

  it("treats explicitly empty stored values as blank", () => {
    const record: FormulaRecord = {
      id: "rec4",
      createdTime: FULL.createdTime,
      fields: { Name: "", Tags: [], Files: [] },
    };
    expect(evaluate("{Name}", record)).toBeNull();
    expect(evaluate("{Tags}", record)).toBeNull();
    expect(evaluate("{Files}", record)).toBeNull();
    expect(matches('OR({Name}, {Tags}, {Files}, {Name}!="")', record)).toBe(false);
  });
});

describe("functions", () => {
  it.each<[string, unknown]>([
    ['AND(1, TRUE(), "x")', true],
    ["AND(1, 0)", false],
    ['AND(1, "")', false],
    ["AND(BLANK())", false],
    ['OR(0, FALSE(), "", BLANK())', false],
    ["OR(0, 2)", true],
    ["XOR(1, 1)", false],
    ["XOR(1, 0, 0)", true],
    ["NOT(0)", true],
    ["NOT(1)", false],
    ['NOT("")', true],
    ['NOT("0")', false],
    ['IF(1, "y", "n")', "y"],
    ['IF(0, "y", "n")', "n"],
    ['IF(0, "y")', null],
    ['IF("", "y", "n")', "n"],
    ['if(1, "lower-case name", "n")', "lower-case name"],
    ['IF(1, "ok", FIND("a", "b", "x"))', "ok"],
    ['FIND("o", "Hello World")', 5],
    ['FIND("World", "Hello World")', 7],
    ['FIND("world", "Hello World")', 0],
    ['FIND("z", "Hello World")', 0],
    ['FIND("o", "Hello World", 5)', 8],
    ['FIND("o", "Hello World", 0)', 5],
    ['FIND("", "abc")', 1],
    ['FIND("a", "")', 0],
    ['FIND("a", BLANK())', 0],
    ["FIND(1, 2019)", 3],
    ['SEARCH("World", "Hello World")', 7],
    ['SEARCH("z", "Hello World")', null],
    ['SEARCH("o", "Hello World", 5)', 8],
    ['LOWER("AbC ÄÖ")', "abc äö"],
    ['UPPER("AbC äö")', "ABC ÄÖ"],
    ["LOWER(BLANK())", ""],
    ["UPPER(12)", "12"],
    ['TRIM("  a b  ")', "a b"],
    ['TRIM("\n\ta\t\n")', "a"],
    ["TRIM(BLANK())", ""],
    ['LEN("hello")', 5],
    ['LEN("")', 0],
    ["LEN(BLANK())", 0],
    ["LEN(1234)", 4],
    ['CONCATENATE("a", 1, BLANK(), TRUE(), "b")', "a11b"],
    ['LEFT("abcdef", 2)', "ab"],
    ['LEFT("ab", 5)', "ab"],
    ['RIGHT("abcdef", 2)', "ef"],
    ['RIGHT("abcdef", 0)', ""],
    ['MID("abcdef", 2, 3)', "bcd"],
    ['SUBSTITUTE("a-b-c", "-", "+")', "a+b+c"],
    ['SUBSTITUTE("a-b-c", "-", "+", 2)', "a-b+c"],
    ['SUBSTITUTE("a-b-c", "-", "+", 5)', "a-b-c"],
    ['SUBSTITUTE("abc", "", "x")', "abc"],
    ['T("x")', "x"],
    ["T(1)", null],
    ["RECORD_ID()", "recFULL000000001"],
    ["CREATED_TIME()", "2024-03-01T10:00:00.000Z"],
    ["ISERROR(1)", false],
    ['ISERROR(LEFT("a", -1))', true],
    ['ISERROR(MID("abc", 0, 1))', true],
  ])("%s evaluates to %j", (formula, expected) => {
    expect(evaluate(formula)).toEqual(expected);
  });

  it("FIND is case-sensitive on field values", () => {
    expect(evaluate('FIND("hello", {Name})')).toBe(0);
    expect(evaluate('FIND("Hello", {Name})')).toBe(1);
    expect(evaluate('FIND("Q1", {Tags})')).toBe(9);
  });

  it("SEARCH is also case-sensitive (it differs from FIND only by returning blank when nothing is found)", () => {
    expect(evaluate('SEARCH("hello", {Name})')).toBeNull();
    expect(matches('SEARCH("hello", {Name})')).toBe(false);
    expect(matches('SEARCH("hello", LOWER({Name}))')).toBe(true);
  });

  it("propagates errors as Airtable's error value and never matches them", () => {
    expect(evaluate('LEFT("abc", -1)')).toEqual({ error: "#ERROR!" });
    expect(evaluate('LEFT("abc", -1) & "x"')).toEqual({ error: "#ERROR!" });
    expect(evaluate('IF(LEFT("abc", -1), 1, 1)')).toEqual({ error: "#ERROR!" });
    expect(evaluate('AND(1, LEFT("abc", -1))')).toEqual({ error: "#ERROR!" });
    expect(evaluate('NOT(FIND("a", "b", "start"))')).toEqual({ error: "#ERROR!" });
    expect(matches('LEFT("abc", -1)')).toBe(false);
    expect(matches('NOT(ISERROR(LEFT("abc", -1)))')).toBe(false);
  });

  it.each<[string, string]>([
    ["AND()", "Wrong number of arguments: AND() at position 0 takes at least 1 argument, got 0"],
    ["IF(1)", "Wrong number of arguments: IF() at position 0 takes 2 to 3 arguments, got 1"],
    ["IF(1, 2, 3, 4)", "IF() at position 0 takes 2 to 3 arguments, got 4"],
    ["NOT(1, 2)", "NOT() at position 0 takes 1 argument, got 2"],
    ["NOT()", "NOT() at position 0 takes 1 argument, got 0"],
    ["LOWER()", "LOWER() at position 0 takes 1 argument, got 0"],
    ['FIND("a")', "FIND() at position 0 takes 2 to 3 arguments, got 1"],
    ['SEARCH("a", "b", 1, 2)', "SEARCH() at position 0 takes 2 to 3 arguments, got 4"],
    ["TRUE(1)", "TRUE() at position 0 takes 0 arguments, got 1"],
    ["BLANK(1)", "BLANK() at position 0 takes 0 arguments, got 1"],
    ['RECORD_ID("x")', "RECORD_ID() at position 0 takes 0 arguments, got 1"],
    ["LEN(1, 2)", "LEN() at position 0 takes 1 argument, got 2"],
    ["OR(1, IF(2))", "IF() at position 6 takes 2 to 3 arguments, got 1"],
  ])("%s is rejected for its argument count", (formula, message) => {
    expect(compileError(formula)).toContain(message);
  });
});

describe("truthiness of the result (matches)", () => {
  it.each<[string, boolean]>([
    ["1", true],
    ["-1", true],
    ["0.001", true],
    ["0", false],
    ["0*5", false],
    ['"x"', true],
    ['"0"', true],
    ['" "', true],
    ['""', false],
    ["TRUE()", true],
    ["FALSE()", false],
    ["BLANK()", false],
    ['"abc"*1', false],
    ['SEARCH("x", "abc")', false],
  ])("%s → %s", (formula, expected) => {
    expect(matches(formula)).toBe(expected);
  });
});

describe("search formulas as the server generates them", () => {
  /** Mirrors how a server escapes a user's search term into a double-quoted formula string. */
  function quote(term: string): string {
    return `"${term.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }

  function searchFormula(term: string, fieldNames: string[]): string {
    const literal = quote(term.toLowerCase());
    return `OR(${fieldNames.map((name) => `FIND(${literal}, LOWER({${name}} & "")) > 0`).join(", ")})`;
  }

  const records: FormulaRecord[] = [
    FULL,
    EMPTY,
    { id: "recQ", createdTime: FULL.createdTime, fields: { Name: "He said \"hi\" {x} \\o/ (ok), 'yes'" } },
    { id: "recT", createdTime: FULL.createdTime, fields: { Tags: ["Alpha", "Beta"], Notes: "multi\nline" } },
  ];

  it.each<[string, string[]]>([
    ["hello", ["recFULL000000001"]],
    ["WORLD", ["recFULL000000001"]],
    ["lovelace", ["recFULL000000001"]],
    ['"hi"', ["recQ"]],
    ["said \"hi\" {x} \\o/ (ok), 'yes'", ["recQ"]],
    ["{x}", ["recQ"]],
    ["\\", ["recQ"]],
    ["beta", ["recT"]],
    ["alpha, beta", ["recT"]],
    ["urgent", ["recFULL000000001"]],
    ["nothing-matches-this", []],
  ])("term %j matches %j", (term, expectedIds) => {
    const formula = compileFormula(searchFormula(term, ["Name", "Full Name", "Tags", "Notes"]), FIELDS);
    expect(records.filter((record) => formula.matches(record)).map((record) => record.id)).toEqual(expectedIds);
  });

  it("an empty search term matches every record (FIND of an empty string is 1)", () => {
    const formula = compileFormula(searchFormula("", ["Name"]), FIELDS);
    expect(records.every((record) => formula.matches(record))).toBe(true);
  });

  it("a term with an unescaped quote does not parse as a literal", () => {
    expect(compileError('FIND("say "hi"", {Name})')).toMatch(/^Unexpected "hi" at position 11$/);
    expect(compileError("FIND('it's', {Name})")).toMatch(/^Unterminated string starting at position 10$/);
    expect(compileError('FIND("a\\", {Name})')).toMatch(/^Unterminated string starting at position 5$/);
  });

  it("a term with braces inside a string literal is not a field reference", () => {
    expect(evaluate('"{Nope} {Name}"')).toBe("{Nope} {Name}");
  });

  it("combines with AND / exact-match filters", () => {
    const formula = compileFormula(
      `AND({Status} = "In progress", ${searchFormula("world", ["Name"])}, {Num} >= 40)`,
      FIELDS,
    );
    expect(formula.matches(FULL)).toBe(true);
    expect(formula.matches(EMPTY)).toBe(false);
    expect(compileFormula(`RECORD_ID() = "recFULL000000001"`, FIELDS).matches(FULL)).toBe(true);
    expect(compileFormula(`RECORD_ID() = "recFULL000000001"`, FIELDS).matches(EMPTY)).toBe(false);
  });
});

describe("rejected formulas", () => {
  it.each<[string, string]>([
    ["", "The formula is empty"],
    ["   \n ", "The formula is empty"],
    ["1 +", "Unexpected end of formula at position 3"],
    ["1 2", 'Unexpected "2" at position 2'],
    ['"a" "b"', 'Unexpected string "b" at position 4'],
    ["(1", "Unexpected end of formula at position 2"],
    ["1)", 'Unexpected token ")" at position 1'],
    ["AND(1,)", 'Unexpected token ")" at position 6'],
    ["AND(,1)", 'Unexpected token "," at position 4'],
    ["AND(1 2)", 'Unexpected "2" at position 6'],
    ["IF(1, 2", "Unexpected end of formula at position 7"],
    ["1 == 1", 'Unexpected token "=" at position 3'],
    ["1 <> 2", 'Unexpected token ">" at position 3'],
    ["1 && 1", 'Unexpected token "&" at position 3'],
    ["+1", 'Unexpected token "+" at position 0'],
    ["1 % 2", 'Unexpected character "%" at position 2'],
    ["!1", 'Unexpected character "!" at position 0'],
    ["{Name} {Num}", "Unexpected field reference {Num} at position 7"],
    ["{Name", 'Unterminated field reference "{" at position 0'],
    ["{}", 'Empty field reference "{}" at position 0'],
    ["'abc", "Unterminated string starting at position 0"],
    ['"abc\\"', "Unterminated string starting at position 0"],
    ['FIND("x", {Name}) > 0 garbage', 'Unexpected "garbage" at position 22'],
    ["1e5", 'Unexpected "e5" at position 1'],
    ["#ERROR!", 'Unexpected character "#" at position 0'],
    ["[1, 2]", 'Unexpected character "[" at position 0'],
  ])("%j → %s", (formula, message) => {
    expect(compileError(formula)).toBe(message);
  });

  it("lists every unknown field name once, in order of appearance", () => {
    expect(compileError('AND({Nope} = 1, {Also nope} & {Nope}, {Name}, bare = "x")')).toBe(
      "Unknown field names: Nope, Also nope, bare",
    );
  });

  it("matches field names exactly (case and spaces matter)", () => {
    expect(compileError("{name}")).toBe("Unknown field names: name");
    expect(compileError("{ Name }")).toBe("Unknown field names:  Name ");
  });

  it("checks field names against the fields it is given", () => {
    expect(compileError("{Name}", [])).toBe("Unknown field names: Name");
    expect(compileFormula("{Other}", [{ name: "Other", type: "singleLineText" }]).evaluate(EMPTY)).toBeNull();
  });

  it("reports unknown functions", () => {
    expect(compileError("FOO(1) + bar({Name})")).toBe("Unknown function names: FOO, BAR");
    expect(compileError("CONTAINS({Name}, 'x')")).toBe("Unknown function names: CONTAINS");
  });

  it("accepts every function of the formula field reference, the last ones emulated included", () => {
    // (IS_AFTER and ARRAYJOIN, the earlier examples here, are emulated now: tests/sandbox/formula-dates-arrays.test.ts.)
    // (ROUND, TODAY and the REGEX_ functions, the earlier examples here, are emulated now: formula-functions.test.ts.)
    // (WORKDAY and SET_TIMEZONE, the earlier examples here, are emulated now: formula-datetime.test.ts.)
    // (TONOW, FROMNOW, SET_LOCALE and DATETIME_PARSE, refused until session 27, are emulated now:
    // formula-moment.test.ts.)
    for (const formula of [
      "TONOW({Num}) = 42",
      'AND(FROMNOW({Due}) > 0, TODAY(), SET_LOCALE({Due}, "fr"))',
      "DATETIME_PARSE({Name})",
    ]) {
      expect(() => compileFormula(formula, FIELDS), formula).not.toThrow();
    }
  });
});

describe("robustness", () => {
  it(`accepts nesting up to ${MAX_DEPTH} levels and refuses deeper nesting`, () => {
    const nested = (depth: number): string => "(".repeat(depth) + "1" + ")".repeat(depth);
    expect(evaluate(nested(MAX_DEPTH))).toBe(1);
    expect(compileError(nested(MAX_DEPTH + 1))).toMatch(/nested too deeply/);
    expect(compileError(nested(100_000 / 2 - 1))).toMatch(/nested too deeply/);
    expect(compileError("NOT(".repeat(5_000) + "1" + ")".repeat(5_000))).toMatch(/nested too deeply/);
    expect(compileError("-".repeat(5_000) + "1")).toMatch(/nested too deeply/);
  });

  it("handles a 16 kB flat formula quickly and without deep recursion", () => {
    const terms = Array.from({ length: 1_000 }, (_, i) => `FIND("term${i}", LOWER({Name} & "")) > 0`);
    const formula = `OR(${terms.join(", ")}, {Num} = 42)`;
    expect(formula.length).toBeGreaterThan(16_000);
    const sum = Array.from({ length: 8_000 }, () => "1").join("+");
    const started = performance.now();
    const compiled = compileFormula(formula, FIELDS);
    expect(compiled.matches(FULL)).toBe(true);
    expect(compiled.matches(EMPTY)).toBe(false);
    expect(evaluate(sum)).toBe(8_000);
    expect(evaluate(Array.from({ length: 8_000 }, () => '"a"').join("&"))).toBe("a".repeat(8_000));
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("refuses absurdly long formulas", () => {
    expect(compileError(`"${"x".repeat(200_000)}"`)).toMatch(/too long/);
  });

  it("throws FormulaError instances whose message explains the problem", () => {
    expect(() => compileFormula("{Missing}", FIELDS)).toThrow(FormulaError);
    expect(() => compileFormula("{Missing}", FIELDS)).toThrow("Unknown field names: Missing");
  });
});
