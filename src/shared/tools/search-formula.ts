import type { AirtableField } from "../airtable/schemas.ts";

/** Field types whose cells read as text, searched when the agent names no fields. */
export const SEARCHABLE_FIELD_TYPES: ReadonlySet<string> = new Set([
  "singleLineText",
  "multilineText",
  "richText",
  "email",
  "url",
  "phoneNumber",
  "singleSelect",
  "multipleSelects",
]);

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

/** True where any of `fields` contains `term`, ignoring case: `OR(FIND(LOWER("term"), LOWER({F} & "")) > 0, …)`. */
export function searchFormula(term: string, fields: readonly Pick<AirtableField, "name">[]): string {
  const needle = `LOWER(${formulaString(term)})`;
  const tests = fields.map((field) => {
    const ref = fieldReference(field);
    if (ref === undefined) throw new Error(`field ${JSON.stringify(field.name)} cannot be referenced in a formula`);
    return `FIND(${needle}, LOWER(${ref} & "")) > 0`;
  });
  return `OR(${tests.join(", ")})`;
}
