import type { AirtableField, AirtableTable, BaseSchema } from "../airtable/schemas.ts";
import { isRecordId } from "../airtable/ids.ts";
import { tokenizeFormula, type FormulaToken } from "./formula-tokens.ts";
import { ToolInputError } from "./tool-input-error.ts";

/**
 * The one place this server reads an agent's Airtable formula (list_records' filterByFormula) before sending it:
 * a minimal tokenizer (formula-tokens.ts) and one narrow check, for the trap of comparing a link field with a record
 * id. (After Airtable refused a formula, formula-mistakes.ts reads it too, to say what was wrong.)
 *
 * Airtable's rule: in a formula a link field (`multipleRecordLinks`) reads as its linked records' primary-field
 * values joined with ", " — what the grid shows on the link's tokens — never as their record ids, which only the
 * REST API's cells hold. Airtable's help center ("The primary field", support.airtable.com/docs/the-primary-field):
 * "if you link a record to another table, we show the value of the primary field in a small card representing the
 * linked record"; pyairtable's maintainers, answering users whose `{Link} = "rec…"` matched nothing
 * (gtalarico/pyairtable#160, #335): "You should be able to search the record link field using the value that you'd
 * see in the primary field of the linked table." So `{Company} = "recMKkolxViatadPC"` is false on every record and
 * Airtable answers an empty list, which an agent reads as "Acme has no contacts"; `{Company} = "Acme"` works. The
 * sandbox evaluates links the same way (src/sandbox/fields/reader.ts, formulaValue).
 *
 * Refused, narrowly — only shapes that can never match:
 * - `{Link} = "rec…"`, `{Link} != "rec…"` (either side), the comparison standing alone: between the start, `(` or
 *   `,` and the end, `)` or `,` (so `"x" & {Link} = "rec…"` is left to Airtable);
 * - `FIND("rec…", {Link})`, `SEARCH("rec…", {Link})` (any case, optional start argument).
 * `{Link}` is a field reference in braces (name or field id) or a bare field name (Airtable accepts a field whose
 * name is a plain identifier without braces), resolved against the table's cached schema; "rec…" is a whole string
 * literal of `rec` + 14 letters or digits. Not refused: any other field type (a text field holding record ids),
 * `RECORD_ID() = "rec…"`, a rollup or lookup of record ids (`ARRAYJOIN({Company ids})`), a link whose linked table's
 * primary field is a formula using RECORD_ID() (its primary values are record ids), and any formula this tokenizer
 * cannot read (unterminated string or brace: Airtable judges it).
 *
 * search_records builds its formula itself (`FIND(term, {Link} & "")` for a link), so the same rule makes a record id
 * as its searchTerm find nothing in a link: search-records.ts refuses that before any request, with isRecordId
 * (../airtable/ids.ts), linksByName and linkedTableOf from here.
 */

/** A record-id comparison on a link field: the field, the id, and the formula's words for it. */
export interface LinkIdComparison {
  field: AirtableField;
  recordId: string;
  /** How the formula used it, e.g. `{Company} = "rec…"` or `FIND("rec…", {Company})`. */
  shape: string;
}

/**
 * The first place `formula` compares a link field of `table` with a record-id literal (the shapes in the module
 * comment), or undefined. `schema` gives the linked table's primary field (a RECORD_ID() primary is left alone).
 * Pure: reads nothing from Airtable.
 */
export function findLinkIdComparison(
  formula: string,
  table: AirtableTable,
  schema: BaseSchema,
): LinkIdComparison | undefined {
  const { tokens, unclosed } = tokenizeFormula(formula);
  if (unclosed !== undefined) return undefined;
  const at = (i: number): FormulaToken | undefined => tokens[i];
  /** The link field a token references, when it is a field reference (not a function call) to a link field. */
  const linkAt = (i: number): AirtableField | undefined => {
    const token = at(i);
    let field: AirtableField | undefined;
    if (token?.kind === "field") field = fieldNamed(table, token.value);
    else if (token?.kind === "ident" && at(i + 1)?.kind !== "lparen") {
      field = table.fields.find((f) => f.name === token.value);
    }
    return field !== undefined && linksByName(field, schema) ? field : undefined;
  };
  const recordIdAt = (i: number): string | undefined => {
    const token = at(i);
    return token?.kind === "string" && isRecordId(token.value) ? token.value : undefined;
  };
  const opens = (i: number) => i < 0 || at(i)?.kind === "lparen" || at(i)?.kind === "comma";
  const closes = (i: number) => i >= tokens.length || at(i)?.kind === "rparen" || at(i)?.kind === "comma";
  const ref = (field: AirtableField) => `{${field.name}}`;

  for (let i = 0; i < tokens.length; i++) {
    const op = at(i + 1);
    if (op?.kind === "op" && (op.value === "=" || op.value === "!=") && opens(i - 1) && closes(i + 3)) {
      const leftField = linkAt(i);
      const rightId = recordIdAt(i + 2);
      if (leftField !== undefined && rightId !== undefined) {
        return { field: leftField, recordId: rightId, shape: `${ref(leftField)} ${op.value} "${rightId}"` };
      }
      const leftId = recordIdAt(i);
      const rightField = linkAt(i + 2);
      if (leftId !== undefined && rightField !== undefined) {
        return { field: rightField, recordId: leftId, shape: `"${leftId}" ${op.value} ${ref(rightField)}` };
      }
    }
    const fn = at(i);
    if (fn?.kind === "ident" && /^(find|search)$/i.test(fn.value) && at(i + 1)?.kind === "lparen") {
      const needle = recordIdAt(i + 2);
      const field = at(i + 3)?.kind === "comma" ? linkAt(i + 4) : undefined;
      if (needle !== undefined && field !== undefined && closes(i + 5)) {
        return { field, recordId: needle, shape: `${fn.value.toUpperCase()}("${needle}", ${ref(field)})` };
      }
    }
  }
  return undefined;
}

/**
 * Refuses (ToolInputError) a formula findLinkIdComparison flags, before any request: the message names the field,
 * the linked table and its primary field, says that nothing was read, and gives the fixes (compare with the primary
 * value, look the id's primary value up with RECORD_ID() on the linked table, or search by name).
 */
export function refuseLinkIdComparison(tool: string, formula: string, table: AirtableTable, schema: BaseSchema): void {
  const found = findLinkIdComparison(formula, table, schema);
  if (found === undefined) return;
  const { field, recordId, shape } = found;
  const { linked, primary } = linkedTableOf(field, schema);
  const linkedWords = linked === undefined ? "the table it links to" : `table ${JSON.stringify(linked.name)}`;
  const primaryName = primary === undefined ? "primary field" : JSON.stringify(primary.name);
  const tableArg = linked === undefined ? "" : ` with tableId "${linked.id}"`;
  const example = `"<the linked record's ${primary === undefined ? "primary value" : primary.name}>"`;
  throw new ToolInputError(
    `${tool} refused the filterByFormula before sending it: ${shape} compares the link field ` +
      `${JSON.stringify(field.name)} (it links to ${linkedWords}${linked === undefined ? "" : ` (${linked.id})`}) ` +
      `with a record id. In an Airtable formula a link field reads as its linked records' ${primaryName} values ` +
      `joined with ", ", not as their record ids, so the comparison never sees the id: = or FIND is false on every ` +
      `record (an empty answer, not a sign that nothing is linked), != or NOT(…) true on every record. Nothing was ` +
      `read from the table. Compare with the linked ` +
      `record's ${primaryName} instead: {${field.name}} = ${example}, e.g. {${field.name}} = "Acme", or ` +
      `FIND("Acme", {${field.name}}) when a record may link to several. To learn the ${primaryName} of ` +
      `${recordId}, call list_records${tableArg} and filterByFormula RECORD_ID() = "${recordId}"; or find the ` +
      `records by name with search_records, searchTerm the name and fieldIds ["${field.name}"].`,
  );
}

/** A field by id or exact name, as a `{…}` reference may name it (a name wins over another field's id). */
function fieldNamed(table: AirtableTable, name: string): AirtableField | undefined {
  return table.fields.find((f) => f.name === name) ?? table.fields.find((f) => f.id === name);
}

/**
 * The table a link field (`multipleRecordLinks`) links to (`options.linkedTableId`) and that table's primary field,
 * from `schema`; either is undefined when the schema does not have it (a table this sign-in cannot see).
 */
export function linkedTableOf(
  field: AirtableField,
  schema: BaseSchema,
): { linked: AirtableTable | undefined; primary: AirtableField | undefined } {
  const linked = schema.tables.find((t) => t.id === field.options?.linkedTableId);
  return { linked, primary: linked?.fields.find((f) => f.id === linked.primaryFieldId) };
}

/**
 * Whether a link field reads as its linked records' primary values in a formula and holds no record id there, as
 * the module comment says: true for a link (`multipleRecordLinks`) unless the linked table's primary field is a
 * formula using RECORD_ID() (or one whose formula the schema does not give), whose primary values may be record
 * ids — then `{Link} = "rec…"` is a real match. False for any other field type.
 */
export function linksByName(field: AirtableField, schema: BaseSchema): boolean {
  if (field.type !== "multipleRecordLinks") return false;
  const { primary } = linkedTableOf(field, schema);
  if (primary?.type !== "formula") return true;
  const text = primary.options?.formula;
  return typeof text === "string" && !/RECORD_ID\s*\(/i.test(text);
}
