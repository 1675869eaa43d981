import type { AirtableTable } from "../airtable/schemas.ts";
import { isWholePercent } from "../operations/value-notes.ts";
import type { ToolContext } from "./define-tool.ts";
import { tokenizeFormula } from "./formula-tokens.ts";
import type { ListingQuery } from "./listing.ts";

/**
 * Airtable's list records evaluates filterByFormula for each record and includes it "if the result is not 0, false,
 * "", NaN, [], or #Error!" (https://airtable.com/developers/web/api/list-records, filterByFormula): a formula that is
 * an error for a record leaves that record out, silently. A formula Airtable accepts but that is an error for every
 * record (`IS_AFTER({Date}, "not a date")`, a DATETIME_DIFF unit it does not know, SET_TIMEZONE outside
 * DATETIME_FORMAT) therefore answers an empty list, which an agent reads as "nothing matches".
 *
 * So an empty first answer of a filtered listing whose formula can err per record (`mayErrPerRecord`) asks Airtable (in the same view, only the primary field) for one
 * record where `ISERROR(formula)` holds and, when there is one, for one where it does not: an error for every record
 * is the formula's own mistake, said as such; an error for some is most often a function given an empty cell
 * (IS_AFTER of an empty date is #ERROR!, not false), said so, so that a formula that rightly matches nothing is not
 * taken for a wrong one. One or two requests, only for an empty answer; a failure keeps the answer as it was.
 */
export async function formulaErrorNote(
  ctx: ToolContext,
  baseId: string,
  table: AirtableTable,
  query: ListingQuery,
  formula: string,
): Promise<string | undefined> {
  const first = (filterByFormula: string) =>
    ctx.airtable
      .listRecords(baseId, table.id, {
        ...(query.view !== undefined && { view: query.view }),
        fields: [table.primaryFieldId],
        filterByFormula,
        pageSize: 1,
        maxRecords: 1,
      })
      .then((page) => page.records[0]);
  let failing: { id: string; fields: Record<string, unknown> } | undefined;
  let working: { id: string } | undefined;
  try {
    failing = await first(`ISERROR(${formula})`);
    if (failing === undefined) return undefined;
    working = await first(`NOT(ISERROR(${formula}))`);
  } catch (error) {
    ctx.logger.warn({ err: error }, "formula error check failed");
    return undefined;
  }
  const primary = table.fields.find((f) => f.id === table.primaryFieldId);
  const value = primary === undefined ? undefined : failing.fields[primary.name];
  const example = `${failing.id}${typeof value === "string" && value !== "" ? ` (${JSON.stringify(value.slice(0, 60))})` : ""}`;
  const test = `To see which records fail: filterByFormula ISERROR(${formula.length > 200 ? "…your formula…" : formula}).`;
  if (working !== undefined) {
    return (
      `No record matched. For some records filterByFormula is an error (#ERROR!) rather than false, e.g. ${example}, ` +
      "and Airtable leaves those out; this is most often a function given an empty cell (IS_AFTER or DATETIME_DIFF " +
      "of an empty date is an error, not false). To count such records, test the cell first, e.g. " +
      `IF({Field}, IS_AFTER({Field}, "2026-03-01")). ${test}`
    );
  }
  return (
    "No record matched, but this is not proof that none matches: filterByFormula is an error (#ERROR!) for every " +
    `record, e.g. ${example}, and Airtable leaves out every record whose formula is an error instead of refusing ` +
    "the formula. Check each function's arguments: a date as text Airtable can read (\"2026-03-01\"), DATETIME_DIFF's " +
    "unit ('days', 'hours', …), SET_TIMEZONE and SET_LOCALE only inside DATETIME_FORMAT(SET_TIMEZONE({Field}, " +
    '"Europe/Berlin"), "YYYY-MM-DD"), a DATETIME_PARSE format that matches the text (DATETIME_PARSE("31/12/2026", ' +
    // DATETIME_PARSE(date, [input format], [locale]) (formula field reference): an agent after "midnight in Berlin"
    // passes the zone third; the offset in the text is what says the zone.
    '"DD/MM/YYYY")) and a locale ("en-gb") as its third argument, not a time zone (give the zone\'s offset in the ' +
    'text: DATETIME_PARSE("2026-12-04 00:00 +01:00", "YYYY-MM-DD HH:mm Z")), a computed field that itself shows ' +
    `#ERROR!. ${test}`
  );
}

/**
 * Functions that answer a value for any cell they are given (text, logic, record ids), so a formula calling only
 * these, with no division, is an error for a record only when a field it reads shows #ERROR! itself. Airtable's
 * formula field reference: the text and logical functions coerce their arguments; the date, number and regex
 * functions are where a value of the wrong kind (an empty date, text given to VALUE, a pattern RE2 refuses, a
 * division by zero) makes the error.
 */
const NEVER_ERRS = new Set(
  "AND OR NOT XOR IF SWITCH BLANK TRUE FALSE ISERROR RECORD_ID LOWER UPPER TRIM LEN FIND SEARCH LEFT RIGHT MID SUBSTITUTE REPT T CONCATENATE ARRAYJOIN".split(
    " ",
  ),
);

/**
 * Whether `formula` can be an error for some records and not for others because of their cells: it calls a function
 * outside NEVER_ERRS (a date, number or regex function) or divides, read with the formula tokenizer the other checks
 * use (formula-tokens.ts), so `{Name} = "Acme (EU)"` is a plain comparison. A formula that cannot err this way is not asked
 * `ISERROR(…)` after an empty answer: the check-before-create lookups agents make (`{Email} = "…"`) keep costing one
 * Airtable request, not two, of the base's 5 per second.
 */
export function mayErrPerRecord(formula: string): boolean {
  const { tokens, unclosed } = tokenizeFormula(formula);
  if (unclosed !== undefined) return true;
  return tokens.some(
    (token, i) =>
      (token.kind === "op" && token.value === "/") ||
      (token.kind === "ident" && tokens[i + 1]?.kind === "lparen" && !NEVER_ERRS.has(token.value.toUpperCase())),
  );
}

/** `{Field} op number` or `number op {Field}`, outside nothing (a formula's text is not read for quotes here). */
const COMPARISON =
  /\{([^}]*)\}\s*(<=|>=|!=|=|<|>)\s*(\d+(?:\.\d+)?)(?![\d.])|(?<![\d.])(\d+(?:\.\d+)?)\s*(<=|>=|!=|=|<|>)\s*\{([^}]*)\}/g;
/** Operators that bind tighter than a comparison: a side next to one is not the field or the number alone. */
const ARITHMETIC = new Set(["*", "/", "+", "-", "&"]);

/**
 * Whether the comparison `match` compares the field itself with the number itself: no arithmetic operator right before
 * or after it (`100 * {Pct} > 50`, `{Pct} > 50 / 100` scale one side and are right as written).
 */
function comparesBare(formula: string, match: RegExpMatchArray): boolean {
  const before = formula.slice(0, match.index).trimEnd().at(-1);
  const after = formula.slice(match.index! + match[0].length).trimStart()[0];
  return !ARITHMETIC.has(before ?? "") && !ARITHMETIC.has(after ?? "");
}

/**
 * A percent field holds a fraction (0.5 is 50 %, Airtable's field model), so `{Win probability} > 50` compares with
 * 5,000 %: it matches nothing, and `< 50` matches every record, an answer the agent reads as the data's. A formula
 * that compares a percent field of `table` with a number over 1 and at most 100 (value-notes.ts' rule for writes) gets
 * a note per such comparison with what to write for the percent meant; nothing is refused (150 % is a legal value).
 * A side next to an arithmetic operator (`100 * {Pct} > 50`, `{Pct} > 50 / 100`) is scaled, right as written: no note.
 */
export function percentComparisonNote(formula: string, table: AirtableTable): string | undefined {
  const byField = new Map<string, string[]>();
  for (const m of formula.matchAll(COMPARISON)) {
    const [name, number] = m[1] !== undefined ? [m[1], m[3]!] : [m[6]!, m[4]!];
    const field = table.fields.find((f) => f.name === name || f.id === name);
    const value = Number(number);
    if (field === undefined || !isWholePercent(field.type, value) || !comparesBare(formula, m)) continue;
    const fraction = String(Number((value / 100).toPrecision(10)));
    // The number replaced where it stands, not where its digits first occur ({Top 10 share} > 10).
    const meant = m[1] !== undefined ? `{${m[1]}} ${m[2]} ${fraction}` : `${fraction} ${m[5]} {${m[6]}}`;
    const part =
      `${m[0]} compares with ${(value * 100).toLocaleString("en-US")} % ` + `(for ${value} %, write ${meant})`;
    const parts = byField.get(field.name) ?? [];
    if (!parts.includes(part)) parts.push(part);
    byField.set(field.name, parts);
  }
  if (byField.size === 0) return undefined;
  const lines = [...byField].map(
    ([name, parts]) => `"${name}" is a percent field, which holds a fraction (0.5 is 50 %): ${parts.join(", ")}`,
  );
  return `${lines.join(". ")}.`;
}
