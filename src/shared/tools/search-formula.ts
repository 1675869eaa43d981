import type { AirtableField } from "../airtable/schemas.ts";

/** Field types whose cells read as text, searched when the agent names no fields (see isSearchableField). */
export const SEARCHABLE_FIELD_TYPES: ReadonlySet<string> = new Set([
  "singleLineText",
  "multilineText",
  "richText",
  "email",
  "url",
  "phoneNumber",
  "singleSelect",
  "multipleSelects",
  // A person reads as their name in a formula (and in the grid); a barcode as its text.
  "singleCollaborator",
  "multipleCollaborators",
  "createdBy",
  "lastModifiedBy",
  "barcode",
  // An AI text cell reads as its generated text in a formula; empty, loading or failed reads as blank.
  "aiText",
  // A synced table's sync source reads as the source's name (field model, Sync source: "Cell format V1 … string").
  "externalSyncSource",
]);

/** Computed field types whose result type (`options.result.type`, Airtable's field model) decides searchability. */
const COMPUTED_FIELD_TYPES: ReadonlySet<string> = new Set(["multipleLookupValues", "rollup", "formula"]);

/**
 * Whether a default search looks in this field: what the user sees as text in the Airtable UI.
 * - text-like fields (SEARCHABLE_FIELD_TYPES);
 * - lookups, rollups and formulas whose result is text-like (`options.result.type`, as the meta API describes
 *   computed fields: https://airtable.com/developers/web/api/field-model). A lookup's cell is an array; in a formula
 *   `{Lookup} & ""` joins it with ", ", so FIND searches every looked-up value;
 * - links (`multipleRecordLinks`): in a formula a link field reads as its linked records' primary values joined
 *   with ", " (not their record ids), so a search finds a contact by its company's name.
 */
export function isSearchableField(field: Pick<AirtableField, "type" | "options">): boolean {
  if (SEARCHABLE_FIELD_TYPES.has(field.type) || field.type === "multipleRecordLinks") return true;
  if (!COMPUTED_FIELD_TYPES.has(field.type)) return false;
  const result = field.options?.result as { type?: unknown } | null | undefined;
  return typeof result?.type === "string" && SEARCHABLE_FIELD_TYPES.has(result.type);
}

/**
 * A double-quoted Airtable formula string holding exactly `text`. Backslashes and quotes are escaped, so the
 * text can never end the string and inject formula; control characters are written as escapes.
 */
export function formulaString(text: string): string {
  const escaped = text
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  return `"${escaped}"`;
}

/**
 * `{Name}`: Airtable ends a field reference at the first `}`, and has no escape for it, so a field whose name
 * holds `}` cannot be referenced by name (undefined then; callers skip or refuse it).
 */
export function fieldReference(field: Pick<AirtableField, "name">): string | undefined {
  return field.name.includes("}") ? undefined : `{${field.name}}`;
}

/**
 * Types whose cell can be an error value (`{"error": "#ERROR!"}`): a formula, rollup or lookup that fails on one
 * record (and AI text, whose generation can fail: guarded alike, at no cost). An error propagates through `&`,
 * LOWER, FIND and OR, and a record whose filter is an error is not listed, so one failing computed cell would hide
 * the record even when another field holds the term.
 */
const MAY_BE_ERROR_TYPES: ReadonlySet<string> = new Set([
  "formula",
  "rollup",
  "multipleLookupValues",
  "aiText",
  // A link reads as its linked records' primary values, which may be a formula's error.
  "multipleRecordLinks",
]);

/**
 * True where any of `fields` contains `term`, ignoring case: `OR(FIND(LOWER("term"), LOWER({F} & "")) > 0, …)`.
 * A computed field (or one of unknown type) is tested as `IF(ISERROR({F} & ""), FALSE(), …)`, so its error
 * value counts as "does not contain the term" instead of hiding the record.
 */
export function searchFormula(
  term: string,
  fields: readonly (Pick<AirtableField, "name"> & { type?: string })[],
): string {
  const needle = `LOWER(${formulaString(term)})`;
  const tests = fields.map((field) => {
    const ref = fieldReference(field);
    if (ref === undefined) throw new Error(`field ${JSON.stringify(field.name)} cannot be referenced in a formula`);
    const test = `FIND(${needle}, LOWER(${ref} & "")) > 0`;
    return field.type === undefined || MAY_BE_ERROR_TYPES.has(field.type)
      ? `IF(ISERROR(${ref} & ""), FALSE(), ${test})`
      : test;
  });
  return `OR(${tests.join(", ")})`;
}
