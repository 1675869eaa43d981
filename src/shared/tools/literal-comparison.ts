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
 * - a person (collaborator, created by, last modified by) compared with a user id, `{Owner} = "usr…"` or
 *   `FIND("usr…", {Owners})`: in a formula a person reads as they are shown, their name (or their email when they
 *   have set no name: a collaborator's name "could be null", scripting API), never as their id. Compared with an
 *   email the formula is sent (it finds the people without a name), and the answer gets a note (personEmailNote).
 *
 * A comparison that is one spelling among several of the same test in an OR(…) (or, with !=, an AND(…)) is sent:
 * `OR({Stage} = "Proposal", {Stage} = "proposal")` is right as written (isHedge, h-review34b).
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
/** An email (personEmailNote) and a user id (usr…), which a person never reads as in a formula (checkPerson). */
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
  /**
   * The `(` it is a whole argument of, with the function's name in capitals ("" for bare parentheses): undefined
   * when it stands at the top of the formula (isHedge, outcomeOf).
   */
  group?: { fn: string; at: number };
  /** Its first token. */
  start: number;
}

/** A FIND or SEARCH of a string literal in a field: `FIND("x", {Field})`, optional start argument. */
interface LiteralFind {
  field: AirtableField;
  needle: string;
  shape: string;
  /** As LiteralComparison's, when the FIND starts an argument (isHedge). */
  group?: { fn: string; at: number };
}

/** Every comparison and FIND/SEARCH of `formula` between a field of `table` and a string literal, in order. */
function literalUses(formula: string, table: AirtableTable): (LiteralComparison | LiteralFind)[] {
  return scan(formula, table).uses;
}

/** literalUses, with the formula's tokens (none when the tokenizer cannot read it). */
function scan(
  formula: string,
  table: AirtableTable,
): { uses: (LiteralComparison | LiteralFind)[]; tokens: FormulaToken[] } {
  const { tokens, unclosed } = tokenizeFormula(formula);
  if (unclosed !== undefined) return { uses: [], tokens: [] };
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
        const shape = `${fn.value.toUpperCase()}(${JSON.stringify(needle)}, {${field.name}})`;
        found.push({ field, needle, shape, group: opens(i - 1) ? enclosingGroup(tokens, i - 1) : undefined });
      }
    }
    const op = at(i + 1);
    if (op?.kind !== "op" || !COMPARISONS.has(op.value) || !opens(i - 1) || !closes(i + 3)) continue;
    const left = fieldAt(i);
    const right = fieldAt(i + 2);
    const leftText = at(i)?.kind === "string" ? at(i)!.value : undefined;
    const rightText = at(i + 2)?.kind === "string" ? at(i + 2)!.value : undefined;
    const group = enclosingGroup(tokens, i - 1);
    if (left !== undefined && rightText !== undefined) {
      const write = (f: AirtableField, v: string) => `{${f.name}} ${op.value} ${v}`;
      found.push({ field: left, op: op.value, text: rightText, write, group, start: i });
    } else if (right !== undefined && leftText !== undefined) {
      const write = (f: AirtableField, v: string) => `${v} ${op.value} {${f.name}}`;
      found.push({ field: right, op: op.value, text: leftText, write, group, start: i });
    }
  }
  return { uses: found, tokens };
}

/**
 * The call or parentheses whose argument starts after token `before` (a `(` or `,`), found by walking back to the
 * unclosed `(`; undefined at the top of the formula.
 */
function enclosingGroup(tokens: FormulaToken[], before: number): LiteralComparison["group"] {
  let depth = 0;
  for (let j = before; j >= 0; j--) {
    const kind = tokens[j]!.kind;
    if (kind === "rparen") depth++;
    else if (kind === "lparen") {
      if (depth === 0) {
        return { fn: tokens[j - 1]?.kind === "ident" ? tokens[j - 1]!.value.toUpperCase() : "", at: j };
      }
      depth--;
    }
  }
  return undefined;
}

/**
 * Whether `use` is one spelling among several of the same test, which the formula writes correctly in another
 * argument of the same OR(…) (for `=`) or AND(…) (for `!=`): `OR({Stage} = "Won", {Stage} = "won")`,
 * `OR({Is primary} = "true", {Is primary} = 1)`. Such an argument is false (or true) on every record, and so leaves
 * the answer as the other argument makes it: the formula is right as written and is sent. A select's other spelling
 * must be the option (optionKey-equal, compared with the same operator): `OR({Stage} = "proposal", {Stage} =
 * "Won")` still misses the proposals, and is refused. A checkbox's other test is any mention of the field in the
 * group outside a comparison with a word.
 */
function isHedge(
  use: LiteralComparison,
  uses: readonly (LiteralComparison | LiteralFind)[],
  tokens: readonly FormulaToken[],
  table: AirtableTable,
  schema: BaseSchema | undefined,
): boolean {
  const group = use.group;
  if (group === undefined || group.fn !== (use.op === "=" ? "OR" : use.op === "!=" ? "AND" : "")) return false;
  const siblings = uses.filter(
    (u): u is LiteralComparison => !("needle" in u) && u !== use && u.group?.at === group.at && u.field === use.field,
  );
  if (use.field.type === "checkbox") {
    const worded = new Set(
      [use, ...siblings].filter((u) => CHECKBOX_WORDS.has(u.text.trim().toLowerCase())).map((u) => u.start),
    );
    // Every token of the group's arguments at its own depth or deeper, up to its `)`.
    let depth = 0;
    for (let j = group.at + 1; j < tokens.length; j++) {
      const token = tokens[j]!;
      if (token.kind === "lparen") depth++;
      else if (token.kind === "rparen" && depth-- === 0) break;
      const mentioned =
        (token.kind === "field" && fieldNamed(table, token.value) === use.field) ||
        (token.kind === "ident" && tokens[j + 1]?.kind !== "lparen" && token.value === use.field.name);
      const inWorded = [...worded].some((start) => j === start || j === start + 2);
      if (mentioned && !inWorded) return true;
    }
    return false;
  }
  const options = selectOptionsOf(use.field, schema);
  const spelled = (text: string) => optionKey(text) === optionKey(use.text) && options.includes(text);
  // FIND("Enterprise", {Tags}) beside {Tags} = "enterprise" in an OR finds what the comparison meant.
  const found = uses.some(
    (u) => "needle" in u && use.op === "=" && u.group?.at === group.at && u.field === use.field && spelled(u.needle),
  );
  return found || siblings.some((u) => u.op === use.op && u.text !== use.text && spelled(u.text));
}

/** The options a select, or (with `schema`) a lookup of one, reads as (none for another field). */
function selectOptionsOf(field: AirtableField, schema: BaseSchema | undefined): string[] {
  if (field.type === "singleSelect" || field.type === "multipleSelects") return choicesOf(field).map((c) => c.name);
  const looked = schema === undefined ? undefined : lookedUpSelect(field, schema)?.looked;
  return looked === undefined ? [] : choicesOf(looked).map((c) => c.name);
}

/** The select a lookup field looks up, with its table; undefined for any other field. */
function lookedUpSelect(
  field: AirtableField,
  schema: BaseSchema,
): { looked: AirtableField; linked: AirtableTable } | undefined {
  if (field.type !== "multipleLookupValues") return undefined;
  const linkId = field.options?.recordLinkFieldId;
  const lookedUpId = field.options?.fieldIdInLinkedTable;
  const link = schema.tables.flatMap((t) => t.fields).find((f) => f.id === linkId);
  const linked = schema.tables.find((t) => t.id === link?.options?.linkedTableId);
  const looked = linked?.fields.find((f) => f.id === lookedUpId);
  if (looked === undefined || (looked.type !== "singleSelect" && looked.type !== "multipleSelects")) return undefined;
  return { looked, linked: linked! };
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
  const { uses, tokens } = scan(formula, table);
  for (const use of uses) {
    if (!("needle" in use) && isHedge(use, uses, tokens, table, schema)) continue;
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
    } else check(tool, use.field, use.op, use.text, use.write, outcomeOf(use));
  }
}

/**
 * What a comparison no cell can satisfy is, said in a refusal: with `=`, false on every record, which is the
 * answer's emptiness only when it stands at the top of the formula or in an AND(…) (in NOT(…) or IF(…) it may make
 * every record the answer); with `!=`, true on every record.
 */
function outcomeOf(use: LiteralComparison): string {
  if (use.op === "!=") return "true on every record";
  const decides = use.group === undefined || use.group.fn === "AND";
  return decides ? "false on every record (an empty answer, not the data's answer)" : "false on every record";
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
  outcome: string,
): void {
  if (text.trim() === "") return;
  const given = write(field, JSON.stringify(text));
  const name = JSON.stringify(field.name);
  const start = `${tool} refused the filterByFormula before sending it: ${given}`;
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
    if (options.length === 0) {
      throw new NeverMatchingComparisonError(
        `${start} compares the ${kind} field ${name} with ${JSON.stringify(text)}, but the field has no options ` +
          `(looked for in a fresh schema too): every cell of it is empty, so the comparison is ${outcome}. Nothing ` +
          `was read from the table. An option appears once a record is written with it (typecast adds it).`,
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

/**
 * Refuses `shape`, which compares the person field `field` with `text`, when `text` is a user id: a formula reads a
 * person as their name (or, for one who has set no name, their email), never as their id. An email is not refused:
 * Airtable's collaborator may have no name ("Could be null if the user's Airtable account doesn't yet have a name",
 * scripting API, Collaborator), and then is shown, and read, as their email, so `{Owner} = "new@example.com"` may be
 * right as written; the answer gets personEmailNote instead.
 */
function checkPerson(tool: string, field: AirtableField, text: string, shape: string, outcome: string): void {
  if (!USER_ID.test(text)) return;
  const name = JSON.stringify(field.name);
  const several = field.type === "multipleCollaborators";
  throw new NeverMatchingComparisonError(
    `${tool} refused the filterByFormula before sending it: ${shape} compares the field ${name} (${field.type}) ` +
      `with a user id, ${JSON.stringify(text)}: in a formula a person reads as their name, as Airtable shows ` +
      `them${several ? ' (several joined with ", ")' : ""}, never as their id, so it is ${outcome}. Nothing was ` +
      `read from the table. Compare with the person's name instead, e.g. ` +
      `${several ? `FIND("Ada Park", {${field.name}})` : `{${field.name}} = "Ada Park"`}; list_records with fields ` +
      `["${field.name}"] shows each person's name beside their email and id.`,
  );
}

/**
 * A note for a person field compared with an email, `{Owner} = "ada@example.com"` or `FIND("ada@…", {Owners})`: a
 * formula reads a person as their name, as Airtable shows them, and as their email only when they have set no name
 * (checkPerson), so the comparison finds only people without a name, an answer that reads as "Ada owns nothing".
 * Says so and how to compare by name. Undefined when the formula has no such comparison.
 */
export function personEmailNote(formula: string, table: AirtableTable): string | undefined {
  const said: string[] = [];
  for (const use of literalUses(formula, table)) {
    if (!PEOPLE_TYPES.has(use.field.type)) continue;
    const text = "needle" in use ? use.needle : use.text;
    if (!("needle" in use) && use.op !== "=" && use.op !== "!=") continue;
    if (!EMAIL.test(text)) continue;
    const shape = "needle" in use ? use.shape : use.write(use.field, JSON.stringify(text));
    const several = use.field.type === "multipleCollaborators";
    const negated = !("needle" in use) && use.op === "!=";
    const ref = `{${use.field.name}}`;
    const sentence =
      `${shape} compares the person field ${JSON.stringify(use.field.name)} with an email: a formula reads a person ` +
      `as their name, as Airtable shows them${several ? ' (several joined with ", ")' : ""}, and as their email only ` +
      `when they have set no name, so it ${negated ? "leaves out" : "matches"} only people without a name. To ` +
      `compare by person, use their name, e.g. ${
        negated ? `${ref} != "Ada Park"` : several ? `FIND("Ada Park", ${ref})` : `${ref} = "Ada Park"`
      }; list_records with fields ` +
      `["${use.field.name}"] shows each person's name beside their email.`;
    if (!said.includes(sentence)) said.push(sentence);
  }
  return said.length === 0 ? undefined : said.join(" ");
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
  if ((op !== "=" && op !== "!=") || text.includes(",")) return;
  const found = lookedUpSelect(field, schema);
  if (found === undefined) return;
  const { looked, linked } = found;
  const options = choicesOf(looked).map((c) => c.name);
  if (options.includes(text)) return;
  const variants = options.filter((o) => optionKey(o) === optionKey(text));
  if (variants.length === 0) return;
  const outcome = outcomeOf(use);
  const option = JSON.stringify(variants[0]);
  throw new NeverMatchingComparisonError(
    `${tool} refused the filterByFormula before sending it: ${use.write(field, JSON.stringify(text))} compares the ` +
      `lookup field ${JSON.stringify(field.name)} (the ${JSON.stringify(looked.name)} of table ` +
      `${JSON.stringify(linked.name)}, a select) with ${JSON.stringify(text)}, which is not one of its options, but ` +
      `${variants.map((v) => JSON.stringify(v)).join(" and ")} ${variants.length === 1 ? "is" : "are"}: a formula ` +
      `compares text exactly, case and spaces included, so it is ${outcome}. Nothing was read from the table. Write ` +
      `${use.write(field, option)}, or FIND(${option}, {${field.name}}) when a record may link to several.`,
  );
}
