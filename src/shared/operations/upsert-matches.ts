/**
 * An upsert Airtable refused because a record of the request matches several existing records on its
 * `fieldsToMergeOn` values: 422 INVALID_RECORDS "More than one existing record matches the fieldsToMergeOn values of
 * a record in the request" (the sandbox's words; Airtable's "Update multiple records" matches each record without an
 * id on those fields, and updates the one record that matches: https://airtable.com/developers/web/api/update-multiple-records).
 * The message names neither the record nor the matches, so on its own it leaves an agent nowhere.
 *
 * processor.ts reads, with one list-records request through the operation's limiter, which existing records match
 * each record of the refused request ({@link matchFormula} narrows, {@link matchesByItem} checks the returned cells),
 * and the refusal then names the record(s) matching several and their ids ({@link manyMatchesMessage}); when that
 * read is not possible or fails, the refusal still says what to do ({@link manyMatchesFix}).
 */
import type { AirtableRecord } from "../airtable/schemas.ts";
import { fieldReference, formulaString } from "../tools/search-formula.ts";
import { formatCount } from "../format-count.ts";
import { sentence } from "./sentence.ts";

/** Whether `error` is Airtable's refusal of an upsert whose record matches several existing records. */
export function isManyMatchesRefusal(error: { type: string; message: string }): boolean {
  return error.type === "INVALID_RECORDS" && /more than one existing record matches/i.test(error.message);
}

/** A record of the refused request that is matched on fieldsToMergeOn (it has no id): its input index and cells. */
export interface MergedItem {
  index: number;
  cells: Readonly<Record<string, unknown>>;
}

/** At most this many matching ids are listed for one record (the rest are counted). */
const IDS_LISTED = 5;

/**
 * `OR(AND({Email}="a@x.com", …), …)`: true for the records whose merge fields equal one item's values, or undefined
 * when a formula cannot say it exactly for every item: a merge value that is not text or a finite number (a
 * multiple select's list: Airtable's matching of those is its own), or a merge field whose name holds `}` (no field
 * reference can name it). A date is given as text, so it is compared as text: a record the formula does not find is
 * not counted (matchesByItem checks the cells), which at worst leaves the refusal without the ids. `mergeFields` are the keys of the cells (field ids, or names in operations stored by name);
 * `names` their names (Operation.fieldNames). Undefined too when no item is given.
 */
export function matchFormula(
  items: readonly MergedItem[],
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (items.length === 0) return undefined;
  const terms: string[] = [];
  for (const item of items) {
    const parts: string[] = [];
    for (const key of mergeFields) {
      const ref = fieldReference({ name: names?.[key] ?? key });
      const value = item.cells[key];
      if (ref === undefined) return undefined;
      if (typeof value === "string") parts.push(`${ref}=${formulaString(value)}`);
      else if (typeof value === "number" && Number.isFinite(value)) parts.push(`${ref}=${value}`);
      else return undefined;
    }
    terms.push(parts.length === 1 ? parts[0]! : `AND(${parts.join(",")})`);
  }
  return terms.length === 1 ? terms[0]! : `OR(${terms.join(",")})`;
}

/**
 * The ids of the existing `records` (listed with `returnFieldsByFieldId` when `mergeFields` are ids) each item
 * matches, compared cell by cell (the formula only narrows): only items matching two or more records are kept.
 */
export function matchesByItem(
  items: readonly MergedItem[],
  mergeFields: readonly string[],
  records: readonly AirtableRecord[],
): Map<number, string[]> {
  const many = new Map<number, string[]>();
  for (const item of items) {
    const ids = records
      .filter((r) => mergeFields.every((key) => sameValue(r.fields[key], item.cells[key])))
      .map((r) => r.id);
    if (ids.length > 1) many.set(item.index, ids);
  }
  return many;
}

function sameValue(cell: unknown, value: unknown): boolean {
  if (typeof value === "number") return typeof cell === "number" && cell === value;
  return typeof cell === "string" && cell === value;
}

/** `"Email"` or `"First name", "Last name"`: the merge fields as the call named them. */
function mergeNames(mergeFields: readonly string[], names: Readonly<Record<string, string>> | undefined): string {
  return mergeFields.map((key) => JSON.stringify(names?.[key] ?? key)).join(", ");
}

/**
 * What to do about a record that matches several existing records (the same for each such refusal, with or without
 * the ids): give the record's id (Airtable then updates that record: "Records that include id will ignore
 * fieldsToMergeOn and behave as normal updates"), merge on a field whose values are unique, or remove the
 * duplicates. Follows Airtable's message.
 */
export function manyMatchesFix(
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>> | undefined,
): string {
  return (
    `Each record without an id must match at most one existing record on its fieldsToMergeOn values ` +
    `(${mergeNames(mergeFields, names)}): give the record's id to update that one record (upsert_records then ` +
    "ignores fieldsToMergeOn for it), or merge on a field whose values are unique in the table, or remove the " +
    "duplicates (search_records finds them; delete_records removes them), then call again."
  );
}

/**
 * The error of the record `item` that matches the existing records `ids` (two or more): Airtable's `message`, the
 * record's merge values and the ids, then the fix.
 */
export function manyMatchesMessage(
  message: string,
  item: MergedItem,
  ids: readonly string[],
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>> | undefined,
): string {
  const values = mergeFields
    .map((key) => `${JSON.stringify(names?.[key] ?? key)}: ${JSON.stringify(item.cells[key])}`)
    .join(", ");
  const listed = ids.slice(0, IDS_LISTED).join(", ");
  const more = ids.length > IDS_LISTED ? ` and ${formatCount(ids.length - IDS_LISTED)} more` : "";
  return (
    `${sentence(message)} This record's fieldsToMergeOn values (${values}) match ` +
    `${formatCount(ids.length)} existing records: ${listed}${more}. ${manyMatchesFix(mergeFields, names)}`
  );
}
