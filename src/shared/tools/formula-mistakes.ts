import { AirtableValidationError } from "../airtable/errors.ts";
import type { AirtableTable } from "../airtable/schemas.ts";
import { tokenizeFormula, type FormulaToken } from "./formula-tokens.ts";

/**
 * What was wrong with a filterByFormula Airtable refused, read from the formula itself. Airtable's answer to a formula
 * it cannot parse is one sentence that says neither what nor where — 422 INVALID_FILTER_BY_FORMULA "The formula for
 * filtering records is invalid: Invalid formula. Please check your formula text." (reported verbatim:
 * https://community.make.com/t/airtable-error-422-the-formula-for-filtering-records-is-invalid-invalid-formula-please-check-your-formula-text/16998)
 * — so an agent that wrote SQL or JavaScript habits into it (`==`, `&&`, `CONTAINS(…)`) learns nothing from it.
 *
 * The rules, from Airtable's formula field reference (https://support.airtable.com/docs/formula-field-reference):
 * the operators are `+ - * / & = != < > <= >=` ("Operators"); text goes in straight quotes ("Curly or 'smart' quotes
 * cause errors"); fields go in `{braces}`; AND, OR and NOT are functions (`AND(expr1, expr2)`); function names are
 * read in any case ("Capitalization of function names doesn't matter"); arguments are separated by commas. The
 * function names are the reference's (text, logical, numeric, date, array, record and regex functions).
 *
 * Only read after Airtable refused the formula (never to refuse one itself), so a false alarm costs a sentence, and a
 * formula Airtable accepts is never second-guessed.
 */

/** Every function Airtable's formula field reference documents. */
const AIRTABLE_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    "ABS AND ARRAYCOMPACT ARRAYFLATTEN ARRAYJOIN ARRAYSLICE ARRAYUNIQUE AVERAGE BLANK CEILING CONCATENATE COUNT " +
    "COUNTA COUNTALL CREATED_TIME DATEADD DATESTR DATETIME_DIFF DATETIME_FORMAT DATETIME_PARSE DAY " +
    "ENCODE_URL_COMPONENT ERROR EVEN EXP FALSE FIND FLOOR FROMNOW HOUR IF INT ISERROR IS_AFTER IS_BEFORE IS_SAME " +
    "LAST_MODIFIED_TIME LEFT LEN LOG LOWER MAX MID MIN MINUTE MOD MONTH NOT NOW ODD OR POWER RECORD_ID " +
    "REGEX_EXTRACT REGEX_MATCH REGEX_REPLACE REPLACE REPT RIGHT ROUND ROUNDDOWN ROUNDUP SEARCH SECOND SET_LOCALE " +
    "SET_TIMEZONE SQRT SUBSTITUTE SUM SWITCH T TIMESTR TODAY TONOW TRIM TRUE UPPER VALUE WEEKDAY WEEKNUM WORKDAY " +
    "WORKDAY_DIFF XOR YEAR"
  ).split(" "),
);

/**
 * How each function of the reference is called, as the reference writes it ([…] optional, … repeatable): a call with
 * fewer or more arguments than this allows is named with its signature (Airtable answers it "Invalid formula" too).
 * Ranges lean wide where the reference is loose (ROUND's precision, LAST_MODIFIED_TIME's fields), so that only a count
 * no reading allows is named.
 */
const SIGNATURES: Record<string, string> = {};
for (const sig of [
  "ABS(value)",
  "AND(expression1, [expression2, …])",
  "ARRAYCOMPACT(values)",
  "ARRAYFLATTEN(values, [values, …])",
  "ARRAYJOIN(values, [separator])",
  "ARRAYSLICE(values, start, [end])",
  "ARRAYUNIQUE(values)",
  "AVERAGE(number1, [number2, …])",
  "BLANK()",
  "CEILING(value, [significance])",
  "CONCATENATE(text1, [text2, …])",
  "COUNT(number1, [number2, …])",
  "COUNTA(value1, [value2, …])",
  "COUNTALL(value1, [value2, …])",
  "CREATED_TIME()",
  "DATEADD(date, count, units)",
  "DATESTR(date)",
  "DATETIME_DIFF(date1, date2, [units])",
  "DATETIME_FORMAT(date, [format])",
  "DATETIME_PARSE(date, [format], [locale])",
  "DAY(date)",
  "ENCODE_URL_COMPONENT(text)",
  "ERROR()",
  "EVEN(value)",
  "EXP(power)",
  "FALSE()",
  "FIND(stringToFind, whereToSearch, [startFromPosition])",
  "FLOOR(value, [significance])",
  "FROMNOW(date)",
  "HOUR(datetime)",
  "IF(expression, value1, [value2])",
  "INT(value)",
  "ISERROR(expression)",
  "IS_AFTER(date1, date2)",
  "IS_BEFORE(date1, date2)",
  "IS_SAME(date1, date2, [unit])",
  "LAST_MODIFIED_TIME([{field1}, …])",
  "LEFT(text, howMany)",
  "LEN(text)",
  "LOG(number, [base])",
  "LOWER(text)",
  "MAX(number1, [number2, …])",
  "MID(text, whereToStart, count)",
  "MIN(number1, [number2, …])",
  "MINUTE(datetime)",
  "MOD(value, divisor)",
  "MONTH(date)",
  "NOT(expression)",
  "NOW()",
  "ODD(value)",
  "OR(expression1, [expression2, …])",
  "POWER(base, power)",
  "RECORD_ID()",
  "REGEX_EXTRACT(text, regex)",
  "REGEX_MATCH(text, regex)",
  "REGEX_REPLACE(text, regex, replacement)",
  "REPLACE(text, startCharacter, numberOfCharacters, replacement)",
  "REPT(text, number)",
  "RIGHT(text, howMany)",
  "ROUND(value, [precision])",
  "ROUNDDOWN(value, precision)",
  "ROUNDUP(value, precision)",
  "SEARCH(stringToFind, whereToSearch, [startFromPosition])",
  "SECOND(datetime)",
  "SET_LOCALE(date, locale)",
  "SET_TIMEZONE(date, timezone)",
  "SQRT(value)",
  "SUBSTITUTE(text, oldText, newText, [index])",
  "SUM(number1, [number2, …])",
  "SWITCH(expression, pattern, result, [pattern, result, …], [default])",
  "T(value)",
  "TIMESTR(datetime)",
  "TODAY()",
  "TONOW(date)",
  "TRIM(text)",
  "TRUE()",
  "UPPER(text)",
  "VALUE(text)",
  "WEEKDAY(date, [startDayOfWeek])",
  "WEEKNUM(date, [startDayOfWeek])",
  "WORKDAY(startDate, numDays, [holidays])",
  "WORKDAY_DIFF(startDate, endDate, [holidays])",
  "XOR(expression1, [expression2, …])",
  "YEAR(date)",
]) {
  SIGNATURES[sig.slice(0, sig.indexOf("("))] = sig;
}

/** The argument counts a signature allows: its required ones, up to all (Infinity with "…"). */
function argumentRange(signature: string): { min: number; max: number } {
  const inside = signature.slice(signature.indexOf("(") + 1, -1).trim();
  if (inside === "") return { min: 0, max: 0 };
  const parts = inside.split(/,(?![^[]*\])/).map((p) => p.trim());
  const min = parts.filter((p) => !p.startsWith("[")).length;
  return { min, max: inside.includes("…") ? Infinity : parts.length };
}

/**
 * The number of arguments of the call whose "(" is tokens[open] (commas at its own depth, plus one; none for "()"),
 * or undefined when the call is never closed (that is named on its own).
 */
function countArguments(tokens: readonly FormulaToken[], open: number): number | undefined {
  let depth = 0;
  let commas = 0;
  for (let i = open; i < tokens.length; i++) {
    const kind = (tokens[i] as FormulaToken).kind;
    if (kind === "lparen") depth++;
    else if (kind === "rparen") {
      depth--;
      if (depth === 0) return i === open + 1 ? 0 : commas + 1;
    } else if (kind === "comma" && depth === 1) commas++;
  }
  return undefined;
}

/** What to write instead of a function other languages have and Airtable does not (by upper-case name). */
const INSTEAD: Record<string, string> = {};
const insteadOf = (names: string, advice: string) => {
  for (const name of names.split(" ")) INSTEAD[name] = advice;
};
insteadOf(
  "CONTAINS INCLUDES INSTR STRPOS INDEXOF POSITION LOCATE CHARINDEX HAS",
  'FIND("text", {Field}) > 0 finds text in a field (case-sensitive; FIND(LOWER("text"), LOWER({Field})) > 0 ignores case)',
);
insteadOf(
  "ISBLANK IS_BLANK ISEMPTY IS_EMPTY EMPTY ISNULL IS_NULL",
  "{Field} = BLANK() is true for an empty cell, NOT({Field} = BLANK()) for a filled one",
);
insteadOf("LENGTH STRLEN CHAR_LENGTH", "LEN({Field})");
insteadOf("SUBSTRING SUBSTR", "MID({Field}, start, count)");
insteadOf("STARTSWITH STARTS_WITH BEGINSWITH", 'LEFT({Field}, 3) = "abc" (or FIND("abc", {Field}) = 1)');
insteadOf("ENDSWITH ENDS_WITH", 'RIGHT({Field}, 3) = "xyz"');
insteadOf("TOLOWER LCASE LOWERCASE", "LOWER({Field})");
insteadOf("TOUPPER UCASE UPPERCASE", "UPPER({Field})");
insteadOf("STRIP", "TRIM({Field})");
insteadOf("TEXT TOSTRING TO_STRING STRING STR", '{Field} & "" (makes text of any value)');
insteadOf("NUMBER TONUMBER TO_NUMBER PARSEINT PARSEFLOAT", 'VALUE("12")');
insteadOf(
  "DATE DATEVALUE TODATE TO_DATE PARSEDATE DATE_PARSE",
  'IS_BEFORE({Date}, "2026-01-31"), IS_AFTER or IS_SAME (they take ISO dates as text); DATETIME_PARSE reads other formats',
);
insteadOf("DATEDIFF DATE_DIFF DAYS DAYSBETWEEN", 'DATETIME_DIFF({End}, {Start}, "days")');
insteadOf("DATE_ADD ADDDAYS ADD_DAYS EDATE", 'DATEADD({Date}, 7, "days")');
insteadOf("ISBEFORE", "IS_BEFORE({Date}, TODAY())");
insteadOf("ISAFTER", "IS_AFTER({Date}, TODAY())");
insteadOf("ISSAME", 'IS_SAME({Date}, TODAY(), "day")');
insteadOf("DATE_FORMAT FORMAT_DATE FORMATDATE", 'DATETIME_FORMAT({Date}, "YYYY-MM-DD")');
insteadOf("CURRENT_DATE CURDATE GETDATE", "TODAY()");
insteadOf("CURRENT_TIMESTAMP", "NOW()");
insteadOf("COALESCE IFNULL NVL", 'IF({Field}, {Field}, "fallback")');
insteadOf("IFERROR", "IF(ISERROR(expression), fallback, expression)");
insteadOf("IN", 'OR({Field} = "a", {Field} = "b")');
insteadOf("LIKE MATCH MATCHES REGEX REGEXMATCH REGEX_TEST", 'REGEX_MATCH({Field}, "pattern")');
insteadOf("CONCAT", "CONCATENATE(a, b) or a & b");
insteadOf("JOIN", 'ARRAYJOIN({Field}, ", ")');
insteadOf("ID RECORDID", "RECORD_ID()");

/** Words other query languages put between conditions, and Airtable's way to write them. */
const BARE_WORDS: Record<string, string> = {
  AND: "AND is a function in Airtable: AND(condition1, condition2)",
  OR: "OR is a function in Airtable: OR(condition1, condition2)",
  NOT: "NOT is a function in Airtable: NOT(condition)",
  IS: '"IS" is not Airtable syntax: compare with = ({Field} = BLANK() for an empty cell)',
  NULL: "Airtable has no NULL: BLANK() is the empty value ({Field} = BLANK())",
  LIKE: 'LIKE is not Airtable syntax: REGEX_MATCH({Field}, "pattern") or FIND("text", {Field}) > 0',
  IN: 'IN is not Airtable syntax: OR({Field} = "a", {Field} = "b")',
};

/**
 * Curly quotes, each with the quote that closes a text it opens: “…”, „…“ or „…”, «…», ‘…’; a closing quote met
 * first (”Done”, ’Done’) is closed by itself. Inside a curly-quoted text only its closer ends it, so the apostrophe
 * of “Joe’s” is part of the text, not a second mistake.
 */
const CURLY_CLOSERS: ReadonlyMap<string, readonly string[]> = new Map([
  ["\u201c", ["\u201d"]],
  ["\u201e", ["\u201c", "\u201d"]],
  ["\u00ab", ["\u00bb"]],
  ["\u2018", ["\u2019"]],
  ["\u201d", ["\u201d"]],
  ["\u2019", ["\u2019"]],
  ["\u00bb", ["\u00bb"]],
]);

/** At most this many mistakes are named in one answer. */
const MAX_MISTAKES = 5;

/**
 * The mistakes found in `formula`, each one sentence naming what was written (and where: 1-based character) and
 * what Airtable takes instead; empty when nothing here is recognised (Airtable's own reason may be something this
 * does not look for). A bare word that is the name of a field of `table` is a field reference, not a mistake.
 */
export function formulaMistakes(formula: string, table: Pick<AirtableTable, "fields">): string[] {
  const { tokens, unclosed } = tokenizeFormula(formula);
  const found: string[] = [];
  const add = (text: string) => {
    if (!found.includes(text)) found.push(text);
  };
  const where = (token: FormulaToken) => `(character ${token.pos + 1})`;
  const adjacent = (a: FormulaToken | undefined, b: FormulaToken | undefined, av: string, bv: string) =>
    a?.value === av && b?.value === bv && b.pos === a.pos + 1 && a.kind !== "string" && b.kind !== "string";
  const fieldNames = new Set(table.fields.map((f) => f.name));
  const open: FormulaToken[] = [];
  // The quotes that would close the curly-quoted text being read, or undefined outside one.
  let curlyClosers: readonly string[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as FormulaToken;
    const next = tokens[i + 1];
    if (curlyClosers !== undefined) {
      // The words of a curly-quoted text are not formula words.
      if (token.kind === "other" && curlyClosers.includes(token.value)) curlyClosers = undefined;
      continue;
    }
    const closers = token.kind === "other" ? CURLY_CLOSERS.get(token.value) : undefined;
    if (closers !== undefined) {
      add(`${token.value} ${where(token)} is a curly quote: text goes in straight quotes, "like this"`);
      curlyClosers = closers;
      continue;
    }
    if (adjacent(token, next, "=", "=")) {
      add(`== ${where(token)} is not an Airtable operator: compare with one = ({Status} = "Done")`);
      i++;
    } else if (adjacent(token, next, "<", ">")) {
      add(`<> ${where(token)} is not an Airtable operator: "not equal" is != ({Status} != "Done")`);
      i++;
    } else if (adjacent(token, next, "&", "&")) {
      add(`&& ${where(token)} is not an Airtable operator: AND(condition1, condition2)`);
      i++;
    } else if (adjacent(token, next, "|", "|")) {
      add(`|| ${where(token)} is not an Airtable operator: OR(condition1, condition2)`);
      i++;
    } else if (token.kind === "other" && token.value === "|") {
      add(`| ${where(token)} is not an Airtable operator: OR(condition1, condition2)`);
    } else if (token.kind === "other" && token.value === "!") {
      add(`! ${where(token)} is not an Airtable operator: NOT(condition), or != for "not equal"`);
    } else if (token.kind === "other" && token.value === "%") {
      add(`% ${where(token)} is not an Airtable operator: MOD(number, divisor)`);
    } else if (token.kind === "other" && token.value === ";") {
      add(`; ${where(token)}: Airtable separates a function's arguments with commas, IF(condition, "yes", "no")`);
    } else if (token.kind === "other" && token.value === "[") {
      add(`[ ${where(token)}: fields go in {braces} in Airtable formulas, {Field Name}, not [brackets]`);
    } else if (token.kind === "other" && token.value === "`") {
      add(`\` ${where(token)} is not a quote in Airtable formulas: text goes in "double quotes"`);
    } else if (token.kind === "ident") {
      const upper = token.value.toUpperCase();
      if (next?.kind === "lparen") {
        const signature = SIGNATURES[upper];
        const given = signature === undefined ? undefined : countArguments(tokens, i + 1);
        if (signature !== undefined && given !== undefined) {
          const { min, max } = argumentRange(signature);
          if (given < min || given > max) {
            const takes =
              min === max
                ? min === 0
                  ? "no arguments"
                  : `${min} argument${min === 1 ? "" : "s"}`
                : max === min + 1
                  ? `${min} or ${max} arguments`
                  : max === Infinity
                    ? `at least ${min} argument${min === 1 ? "" : "s"}`
                    : `${min} to ${max} arguments`;
            add(`${token.value}() ${where(token)} takes ${takes}, ${signature}; it was given ${given}`);
          }
        }
        if (!AIRTABLE_FUNCTIONS.has(upper)) {
          const instead = INSTEAD[upper];
          add(
            `${token.value}() ${where(token)} is not an Airtable function` +
              (instead === undefined
                ? " (the formula field reference lists them: https://support.airtable.com/docs/formula-field-reference)"
                : `: ${instead}`),
          );
        }
      } else if (!fieldNames.has(token.value) && BARE_WORDS[upper] !== undefined) {
        add(`${token.value} ${where(token)}: ${BARE_WORDS[upper]}`);
      }
    } else if (token.kind === "lparen") {
      open.push(token);
    } else if (token.kind === "rparen") {
      if (open.pop() === undefined) add(`) ${where(token)} closes a parenthesis that was never opened`);
    }
  }
  if (unclosed !== undefined) {
    const at = `(character ${unclosed.pos + 1})`;
    add(
      unclosed.kind === "string"
        ? `the text starting with ${formula[unclosed.pos]} ${at} is never closed by the same quote (a quote inside ` +
            `text is written \\" or \\')`
        : `{ ${at} is never closed by } (a field name goes in {braces})`,
    );
  } else if (open.length > 0) {
    const first = open[0] as FormulaToken;
    add(`${open.length === 1 ? "the ( " : `${open.length} parentheses, the first `}${where(first)} never closed by )`);
  }
  return found.slice(0, MAX_MISTAKES);
}

/**
 * The answer to a filterByFormula Airtable refused (422 INVALID_FILTER_BY_FORMULA) when formulaMistakes recognises
 * what was wrong: Airtable's message, then `Fix the formula: ` and the mistakes, then the general reminder (fields in
 * {braces}, text in "double quotes"). Undefined for any other error or when nothing is recognised, so the general
 * answer of describeToolError stands (unknown field names have their own answer, unknownFormulaFields).
 */
export function explainFormulaRefusal(
  error: unknown,
  formula: string | undefined,
  table: Pick<AirtableTable, "fields">,
): string | undefined {
  if (!(error instanceof AirtableValidationError) || error.type !== "INVALID_FILTER_BY_FORMULA") return undefined;
  if (formula === undefined) return undefined;
  const mistakes = formulaMistakes(formula, table);
  if (mistakes.length === 0) return undefined;
  return (
    `Airtable refused the request: ${error.message} (${error.type}). Fix the formula: ${mistakes.join("; ")}. ` +
    'Field names go in {braces}, text in "double quotes", e.g. AND({Status} = "Done", {Score} > 3).'
  );
}

/** A bare word of a formula that Airtable read as a field name (see bareWords). */
export interface BareWord {
  /** The word as the formula writes it. */
  word: string;
  /** 0-based offset of its first character. */
  pos: number;
  /** When the word is compared with = or != to a `{field}`: how the comparison reads with the word quoted. */
  quoted?: string;
}

/**
 * Where each of `names` (as Airtable's "Unknown field names: …" lists them, compared ignoring case) stands in
 * `formula` as a bare word — an identifier not in {braces} or quotes and not a function's name — which Airtable
 * reads as a field name (a field whose name is one word may be written without braces). A bare word compared with
 * = or != to a `{field}` (`{Stage} = Lead`, `Lead != {Stage}`) is almost always text whose quotes were left out: its
 * `quoted` is the comparison as it should read, `{Stage} = "Lead"`. A name not found as a bare word (it was in
 * {braces}) is left out.
 * @returns one entry per name found, its first occurrence (by name, as listed)
 */
export function bareWords(formula: string, names: readonly string[]): Map<string, BareWord> {
  const { tokens } = tokenizeFormula(formula);
  const wanted = new Map(names.map((name) => [name.trim().toLowerCase(), name]));
  const found = new Map<string, BareWord>();
  const isComparison = (token: FormulaToken | undefined) =>
    token?.kind === "op" && (token.value === "=" || token.value === "!=");
  tokens.forEach((token, i) => {
    if (token.kind !== "ident" || tokens[i + 1]?.kind === "lparen") return;
    const name = wanted.get(token.value.toLowerCase());
    if (name === undefined || found.has(name)) return;
    const text = JSON.stringify(token.value);
    const before = tokens[i - 2];
    const after = tokens[i + 2];
    let quoted: string | undefined;
    if (isComparison(tokens[i - 1]) && before?.kind === "field") {
      quoted = `{${before.value}} ${tokens[i - 1]!.value} ${text}`;
    } else if (isComparison(tokens[i + 1]) && after?.kind === "field") {
      quoted = `${text} ${tokens[i + 1]!.value} {${after.value}}`;
    }
    found.set(name, { word: token.value, pos: token.pos, ...(quoted !== undefined && { quoted }) });
  });
  return found;
}
