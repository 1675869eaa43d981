import type { AirtableField, AirtableTable, BaseSchema } from "../airtable/schemas.ts";
import { tokenizeFormula, type FormulaToken } from "./formula-tokens.ts";
import { ToolInputError } from "./tool-input-error.ts";
import { choicesOf, numberMeant, optionKey } from "./write/check-values.ts";

/**
 * A second narrow check of list_records' filterByFormula before it is sent (beside link-id-formula.ts): a field
 * compared with a text literal that, by the field's type, no cell of it can equal, so that Airtable answers an empty
 * list (or, with !=, every record) and the agent reads the data's answer in it. Found in an agent's trial on a CRM
 * (h-agent34), each answered `{"records": []}` without a word:
 * - a single select compared with text that is not one of its options: `{Stage} = "proposal"` where the option is
 *   "Proposal". A select cell holds one of the field's options, and a formula's = compares text exactly, case
 *   included (Airtable's community, "Conditional Formulas & Case in Single Select": "the case of the select options
 *   must match the case of the string-to-match"); the sandbox compares the same way. A multiple select likewise
 *   (its cell reads as its options joined with ", ", so text with a comma is left alone), told to FIND the option;
 *   compared with = to one of its options, it finds only the records holding that option alone, which the answer's
 *   note says (multipleSelectEqualsNote); a lookup of a select compared with one of its options in another case
 *   likewise (checkLookup);
 * - a checkbox compared with a word, `{Is primary} = "true"` (or "yes", "checked", "false"…): in a formula a
 *   checkbox is 1 when checked and empty when not (TRUE() is 1: formula field reference), never such text;
 * - a number, currency or percent field compared with text a person writes, `{Amount} >= "$10,000"` or
 *   `{Probability} > "40%"`: how Airtable compares a number with text that is not a plain number is not documented
 *   (the sandbox reads it as no number, so the comparison is false), and the number meant is known;
 * - a person (collaborator, created by, last modified by) compared with an email or a user id, `{Owner} =
 *   "ada@example.com"` or `FIND("usr…", {Owners})`: in a formula a person reads as their name, as the grid shows
 *   them (the sandbox does the same), never as their email or id.
 *
 * Only the comparison standing alone is looked at (between the start, `(` or `,` and the end, `)` or `,`, as
 * link-id-formula.ts does), a field in braces (name or id) or a bare field name on one side and a string literal on
 * the other; the empty string (a blank test) and plain number text ("10000") are left to Airtable. A formula the
 * tokenizer cannot read is left to Airtable too.
 */

/** Words an agent compares a checkbox with, which it never reads as (case-insensitive). */
const CHECKBOX_WORDS = new Set(["true", "false", "yes", "no", "checked", "unchecked", "on", "off"]);
const UNCHECKED_WORDS = new Set(["false", "no", "unchecked", "off"]);
const NUMBER_TYPES = new Set(["number", "currency", "percent"]);
const PLAIN_NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
const COMPARISONS = new Set(["=", "!=", "<", ">", "<=", ">="]);
const PEOPLE_TYPES = new Set(["singleCollaborator", "multipleCollaborators", "createdBy", "lastModifiedBy"]);
/** An email address or a user id (usr…), which a person never reads as in a formula. */
const EMAIL = /^\s*[^\s@]+@[^\s@]+\.[^\s@]+\s*$/;
const USER_ID = /^\s*usr[A-Za-z0-9]{14}\s*$/;
/** At most this many options are listed in a refusal (a field may have hundreds). */
const OPTIONS_LISTED = 25;

/**
 * A refusal of a comparison that can never match. `mayBeStale`: it rests on the select options of a cached schema,
 * which may lack an option added in Airtable since, so it is worth one retry against a fresh schema (withSchema).
 */
export class NeverMatchingComparisonError extends ToolInputError {
  override name = "NeverMatchingComparisonError";
}

/** A field by exact name or id, as a `{…}` reference names it (a name wins over another field's id). */
function fieldNamed(table: AirtableTable, name: string): AirtableField | undefined {
  return table.fields.find((f) => f.name === name) ?? table.fields.find((f) => f.id === name);
}

const shown = (n: number) => String(Number(n.toPrecision(12)));

/** A field compared with a string literal, standing alone in the formula (the module comment's shape). */
interface LiteralComparison {
  field: AirtableField;
  op: string;
  text: string;
  /** The comparison written with `value` (a JSON string or a number) in the literal's place. */
  write: (field: AirtableField, value: string) => string;
}

/** A FIND or SEARCH of a string literal in a field: `FIND("x", {Field})`, optional start argument. */
interface LiteralFind {
  field: AirtableField;
  needle: string;
  shape: string;
}

/** Every comparison and FIND/SEARCH of `formula` between a field of `table` and a string literal, in order. */
function literalUses(formula: string, table: AirtableTable): (LiteralComparison | LiteralFind)[] {
  const { tokens, unclosed } = tokenizeFormula(formula);
  if (unclosed !== undefined) return [];
  const at = (i: number): FormulaToken | undefined => tokens[i];
  const fieldAt = (i: number): AirtableField | undefined => {
    const token = at(i);
    if (token?.kind === "field") return fieldNamed(table, token.value);
    if (token?.kind === "ident" && at(i + 1)?.kind !== "lparen")
      return table.fields.find((f) => f.name === token.value);
    return undefined;
  };
  const opens = (i: number) => i < 0 || at(i)?.kind === "lparen" || at(i)?.kind === "comma";
  const closes = (i: number) => i >= tokens.length || at(i)?.kind === "rparen" || at(i)?.kind === "comma";
  const found: (LiteralComparison | LiteralFind)[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const fn = at(i);
    if (fn?.kind === "ident" && /^(find|search)$/i.test(fn.value) && at(i + 1)?.kind === "lparen") {
      const needle = at(i + 2)?.kind === "string" ? at(i + 2)!.value : undefined;
      const field = at(i + 3)?.kind === "comma" ? fieldAt(i + 4) : undefined;
      if (needle !== undefined && field !== undefined) {
        found.push({ field, needle, shape: `${fn.value.toUpperCase()}(${JSON.stringify(needle)}, {${field.name}})` });
      }
    }
    const op = at(i + 1);
    if (op?.kind !== "op" || !COMPARISONS.has(op.value) || !opens(i - 1) || !closes(i + 3)) continue;
    const left = fieldAt(i);
    const right = fieldAt(i + 2);
    const leftText = at(i)?.kind === "string" ? at(i)!.value : undefined;
    const rightText = at(i + 2)?.kind === "string" ? at(i + 2)!.value : undefined;
    if (left !== undefined && rightText !== undefined) {
      found.push({ field: left, op: op.value, text: rightText, write: (f, v) => `{${f.name}} ${op.value} ${v}` });
    } else if (right !== undefined && leftText !== undefined) {
      found.push({ field: right, op: op.value, text: leftText, write: (f, v) => `${v} ${op.value} {${f.name}}` });
    }
  }
  return found;
}

/**
 * Throws NeverMatchingComparisonError for the first comparison of `formula` that no cell of its field can satisfy
 * (the module comment's kinds), before any request: the message names the field, its type, why, that nothing
 * was read, and the comparison to write instead. Pure: reads nothing from Airtable.
 */
export function refuseNeverMatchingComparison(
  tool: string,
  formula: string,
  table: AirtableTable,
  schema?: BaseSchema,
): void {
  for (const use of literalUses(formula, table)) {
    if (!("needle" in use) && schema !== undefined) checkLookup(tool, use, schema);
    if ("needle" in use) {
      if (PEOPLE_TYPES.has(use.field.type)) {
        checkPerson(
          tool,
          use.field,
          use.needle,
          use.shape,
          "false on every record (an empty answer, not the data's answer)",
        );
      }
    } else check(tool, use.field, use.op, use.text, use.write);
  }
}

/**
 * A note for a multiple select compared with = (or !=) to one of its options, `{Tags} = "Enterprise"`: in a formula
 * the cell reads as its options joined with ", " ("Enterprise, SMB"), so = finds only the records holding that option
 * alone, an answer that looks whole. Says so and what finds every record holding it (FIND). Undefined when the formula
 * has no such comparison. Not a refusal: a record holding that option alone may be what was meant.
 */
export function multipleSelectEqualsNote(formula: string, table: AirtableTable): string | undefined {
  const said: string[] = [];
  for (const use of literalUses(formula, table)) {
    if ("needle" in use || use.field.type !== "multipleSelects" || (use.op !== "=" && use.op !== "!=")) continue;
    if (!choicesOf(use.field).some((c) => c.name === use.text)) continue;
    const given = use.write(use.field, JSON.stringify(use.text));
    const find = `FIND(${JSON.stringify(use.text)}, {${use.field.name}})`;
    const sentence =
      `${given} compares the whole cell of the multiple select field ${JSON.stringify(use.field.name)}, which a ` +
      `formula reads as its options joined with ", ", so it ${use.op === "=" ? "finds only" : "leaves out only"} ` +
      `the records holding ${JSON.stringify(use.text)} alone; for every record holding it, among others or not, ` +
      `write ${use.op === "=" ? find : `NOT(${find})`}.`;
    if (!said.includes(sentence)) said.push(sentence);
  }
  return said.length === 0 ? undefined : said.join(" ");
}

function check(
  tool: string,
  field: AirtableField,
  op: string,
  text: string,
  write: (field: AirtableField, value: string) => string,
): void {
  if (text.trim() === "") return;
  const given = write(field, JSON.stringify(text));
  const name = JSON.stringify(field.name);
  const start = `${tool} refused the filterByFormula before sending it: ${given}`;
  const outcome =
    op === "!=" ? "true on every record" : "false on every record (an empty answer, not the data's answer)";
  if (PEOPLE_TYPES.has(field.type) && (op === "=" || op === "!=")) checkPerson(tool, field, text, given, outcome);
  // A multiple select reads as its options joined with ", ": text with a comma may be such a join, left alone.
  const select = field.type === "singleSelect" || (field.type === "multipleSelects" && !text.includes(","));
  if (select && (op === "=" || op === "!=")) {
    const options = choicesOf(field).map((c) => c.name);
    if (options.includes(text)) return;
    const multiple = field.type === "multipleSelects";
    const kind = multiple ? "multiple select" : "single select";
    /** The comparison to write for `option`: a multiple select's is a FIND (its cell may hold others too). */
    const fixed = (option: string) => {
      if (!multiple) return write(field, JSON.stringify(option));
      const find = `FIND(${JSON.stringify(option)}, {${field.name}})`;
      return op === "!=" ? `NOT(${find})` : find;
    };
    const variants = options.filter((o) => optionKey(o) === optionKey(text));
    if (variants.length > 0) {
      throw new NeverMatchingComparisonError(
        `${start} compares the ${kind} field ${name} with ${JSON.stringify(text)}, which is not one of its ` +
          `options, but ${variants.map((v) => JSON.stringify(v)).join(" and ")} ${variants.length === 1 ? "is" : "are"}: ` +
          `a formula compares text exactly, case and spaces included, so it is ${outcome}. Nothing was read from ` +
          `the table. Write ${fixed(variants[0]!)}${multiple ? ' (the cell reads as its options joined with ", ")' : ""}.`,
      );
    }
    const listed = options.slice(0, OPTIONS_LISTED).map((o) => JSON.stringify(o));
    const more = options.length > OPTIONS_LISTED ? `, and ${options.length - OPTIONS_LISTED} more` : "";
    const example = options[0] === undefined ? "" : ` one of them, e.g. ${fixed(options[0])}`;
    const holds = multiple ? 'some of them, read joined with ", "' : "one of them";
    throw new NeverMatchingComparisonError(
      `${start} compares the ${kind} field ${name} with ${JSON.stringify(text)}, which is not one of its ` +
        `options (${listed.join(", ")}${more}): a cell of it holds ${holds}, so the comparison is ${outcome}. ` +
        `Nothing was read from the table. Compare with${example || " one of its options"}` +
        `${options.length > 1 ? `, or with OR(…) for several` : ""}.`,
    );
  }
  if (field.type === "checkbox" && (op === "=" || op === "!=") && CHECKBOX_WORDS.has(text.trim().toLowerCase())) {
    const wantsChecked = UNCHECKED_WORDS.has(text.trim().toLowerCase()) === (op === "!=");
    const ref = `{${field.name}}`;
    throw new NeverMatchingComparisonError(
      `${start} compares the checkbox field ${name} with the text ${JSON.stringify(text)}: in a formula a checkbox ` +
        `is 1 when checked and empty when not (TRUE() is 1), never that text, so the comparison is ${outcome}. ` +
        `Nothing was read from the table. For ${wantsChecked ? "checked" : "unchecked"} records write ` +
        `${wantsChecked ? `${ref} (or ${ref} = TRUE())` : `NOT(${ref})`}.`,
    );
  }
  if (NUMBER_TYPES.has(field.type) && !PLAIN_NUMBER.test(text) && /\d/.test(text)) {
    const meant = numberMeant(field, text);
    const what = field.type === "number" ? "number" : field.type;
    const instead =
      meant === undefined
        ? `Write the number itself, without quotes, symbols or separators, e.g. ${write(field, "1200.5")}`
        : `Write the number itself: ${write(field, shown(meant))}` +
          (field.type === "percent"
            ? ` (a percent cell holds a fraction: ${shown(meant)} is ${shown(meant * 100)} %)`
            : "");
    throw new NeverMatchingComparisonError(
      `${start} compares the ${what} field ${name} with the text ${JSON.stringify(text)}: how Airtable compares a ` +
        `number with text that is not a plain number (a currency symbol, grouping commas, a percent sign, units) is ` +
        `not documented, and it may match no record. Nothing was read from the table. ${instead}.`,
    );
  }
}

/** Refuses `shape`, which compares the person field `field` with `text`, when `text` is an email or a user id. */
function checkPerson(tool: string, field: AirtableField, text: string, shape: string, outcome: string): void {
  const email = EMAIL.test(text);
  if (!email && !USER_ID.test(text)) return;
  const name = JSON.stringify(field.name);
  const several = field.type === "multipleCollaborators";
  throw new NeverMatchingComparisonError(
    `${tool} refused the filterByFormula before sending it: ${shape} compares the field ${name} (${field.type}) ` +
      `with ${email ? "an email" : "a user id"}, ${JSON.stringify(text)}: in a formula a person reads as their ` +
      `name, as Airtable shows them${several ? ' (several joined with ", ")' : ""}, never as their email or id, so ` +
      `it is ${outcome}. Nothing was read from the table. Compare with the person's name instead, e.g. ` +
      `${several ? `FIND("Ada Park", {${field.name}})` : `{${field.name}} = "Ada Park"`}; list_records with fields ` +
      `["${field.name}"] shows each person's name beside their email and id.`,
  );
}

/**
 * A lookup of a select (`{Company industry}`, looking up the companies' "Industry") compared with = or != to text
 * that is one of the looked-up field's options but for case or spaces (`"saas"` for "SaaS"): the lookup reads as
 * the linked records' options joined with ", ", which that text (no comma) never equals, so the comparison is false
 * (or true) on every record, as for the select itself. Text that is no option at all is left to Airtable here (the
 * lookup's own schema does not say which options its cells hold, only the looked-up field's does).
 */
function checkLookup(tool: string, use: LiteralComparison, schema: BaseSchema): void {
  const { field, op, text } = use;
  if (field.type !== "multipleLookupValues" || (op !== "=" && op !== "!=") || text.includes(",")) return;
  const linkId = field.options?.recordLinkFieldId;
  const lookedUpId = field.options?.fieldIdInLinkedTable;
  const link = schema.tables.flatMap((t) => t.fields).find((f) => f.id === linkId);
  const linked = schema.tables.find((t) => t.id === link?.options?.linkedTableId);
  const looked = linked?.fields.find((f) => f.id === lookedUpId);
  if (looked === undefined || (looked.type !== "singleSelect" && looked.type !== "multipleSelects")) return;
  const options = choicesOf(looked).map((c) => c.name);
  if (options.includes(text)) return;
  const variants = options.filter((o) => optionKey(o) === optionKey(text));
  if (variants.length === 0) return;
  const outcome =
    op === "!=" ? "true on every record" : "false on every record (an empty answer, not the data's answer)";
  const option = JSON.stringify(variants[0]);
  throw new NeverMatchingComparisonError(
    `${tool} refused the filterByFormula before sending it: ${use.write(field, JSON.stringify(text))} compares the ` +
      `lookup field ${JSON.stringify(field.name)} (the ${JSON.stringify(looked.name)} of table ` +
      `${JSON.stringify(linked!.name)}, a select) with ${JSON.stringify(text)}, which is not one of its options, but ` +
      `${variants.map((v) => JSON.stringify(v)).join(" and ")} ${variants.length === 1 ? "is" : "are"}: a formula ` +
      `compares text exactly, case and spaces included, so it is ${outcome}. Nothing was read from the table. Write ` +
      `${use.write(field, option)}, or FIND(${option}, {${field.name}}) when a record may link to several.`,
  );
}
