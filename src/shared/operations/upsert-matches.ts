/**
 * An upsert Airtable refused because a record of the request matches several existing records on its
 * `fieldsToMergeOn` values: 422 INVALID_RECORDS "More than one existing record matches the fieldsToMergeOn values of
 * a record in the request" (the sandbox's words; Airtable's "Update multiple records" matches each record without an
 * id on those fields, and updates the one record that matches: https://airtable.com/developers/web/api/update-multiple-records).
 * The message names neither the record nor the matches, so on its own it leaves an agent nowhere.
 *
 * processor.ts reads, with one list-records request through the operation's limiter, which existing records match
 * each record of the refused request ({@link matchFormula} narrows, {@link matchesByItem} checks the returned cells,
 * both on the values Airtable matches: {@link mergeForms}), and the refusal then names the record(s) matching several
 * and their ids ({@link manyMatchesMessage}); when that read is not possible or fails, the refusal still says what to
 * do ({@link manyMatchesFix}).
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

/** A cell value Airtable may store for a merge value (mergeForms): text (text, select) or a number. */
export type MergeForm = string | number;

/**
 * The cell values a merge value given as `value` can be stored as: Airtable matches each record without an id on
 * them ("Records that do not include id will use the fields chosen by fieldsToMergeOn as an external ID to match
 * with existing records"), after `typecast` converted it ("Airtable will try to convert string values in a record's
 * fields object to the appropriate cell value"; both: https://airtable.com/developers/web/api/update-multiple-records).
 * The operation keeps no field types, so each form the value takes in a field type Airtable merges on (number, text,
 * long text, single select, multiple select, date: the same page) is given. Without typecast, the value itself. With
 * it, also: text that reads as a number, as that number (a number field: "5", " 1,000 ", "-2.5"; "50%" as 0.5, as a
 * percent field stores it); a number as its text (a text field or a single select: 7 → "7", 3 → the option "3"); a
 * logical only as its text ("true": checkboxes cannot be merged on). A currency symbol, a duration ("1:30") or a
 * date in another format than the stored one is not read: such a value matches only itself.
 *
 * Undefined for a value no formula can compare exactly: a list (a multiple select's; whether Airtable compares
 * lists in order is not documented), an object, a logical without typecast, a number that is not finite. Objects
 * do not come from a field Airtable merges on: collaborators, links, attachments and checkboxes are not among its
 * types, and the write tools refuse them as merge fields before queueing (check-fields.ts mergeFields).
 */
export function mergeForms(value: unknown, typecast: boolean): MergeForm[] | undefined {
  if (typeof value === "string") {
    const n = typecast ? typecastNumber(value) : undefined;
    return n === undefined ? [value] : [value, n];
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return undefined;
    return typecast ? [value, String(value)] : [value];
  }
  if (typeof value === "boolean" && typecast) return [String(value)];
  return undefined;
}

/** The number typecast reads from `text` ("5", " 1,000 ", "-2.5", "50%" → 0.5), or undefined when it reads none. */
function typecastNumber(text: string): number | undefined {
  let t = text.trim().replace(/,/g, "");
  const percent = t.endsWith("%");
  if (percent) t = t.slice(0, -1).trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return undefined;
  const n = percent ? Number(t) / 100 : Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** Whether a returned `cell` is one of `forms`: a number equals a number, text equals text (exactly). */
function isOneOf(cell: unknown, forms: readonly MergeForm[]): boolean {
  return forms.some((form) => cell === form);
}

/**
 * `OR(AND({Email}="a@x.com", …), …)`: true for the records whose merge fields hold one of each item's forms
 * (mergeForms: `OR({Code}="5",{Code}=5)` for "5" with typecast), or undefined when a formula cannot say it exactly
 * for every item: a merge value mergeForms cannot compare (a multiple select's list), or a merge field whose name
 * holds `}` (no field reference can name it). A date is given as text, so it is compared as text: a record the
 * formula does not find is not counted (matchesByItem checks the cells), which at worst leaves the refusal without
 * the ids. `mergeFields` are the keys of the cells (field ids, or names in operations stored by name); `names` their
 * names (Operation.fieldNames); `typecast` the operation's. Undefined too when no item is given.
 */
export function matchFormula(
  items: readonly MergedItem[],
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>> | undefined,
  typecast: boolean,
): string | undefined {
  if (items.length === 0) return undefined;
  const terms: string[] = [];
  for (const item of items) {
    const parts: string[] = [];
    for (const key of mergeFields) {
      const ref = fieldReference({ name: names?.[key] ?? key });
      const forms = mergeForms(item.cells[key], typecast);
      if (ref === undefined || forms === undefined) return undefined;
      const each = forms.map((form) => `${ref}=${typeof form === "number" ? form : formulaString(form)}`);
      parts.push(each.length === 1 ? each[0]! : `OR(${each.join(",")})`);
    }
    terms.push(parts.length === 1 ? parts[0]! : `AND(${parts.join(",")})`);
  }
  return terms.length === 1 ? terms[0]! : `OR(${terms.join(",")})`;
}

/**
 * The ids of the existing `records` (listed with `returnFieldsByFieldId` when `mergeFields` are ids) each item
 * matches, compared cell by cell (the formula only narrows) as Airtable matches them: each merge cell is one of the
 * item's value's forms under the operation's `typecast` (mergeForms: "5" matches a number cell 5, 7 a text cell
 * "7"). Only items matching two or more records are kept.
 */
export function matchesByItem(
  items: readonly MergedItem[],
  mergeFields: readonly string[],
  records: readonly AirtableRecord[],
  typecast: boolean,
): Map<number, string[]> {
  const many = new Map<number, string[]>();
  for (const item of items) {
    const forms = mergeFields.map((key) => mergeForms(item.cells[key], typecast));
    const ids = records
      .filter((r) => mergeFields.every((key, i) => forms[i] !== undefined && isOneOf(r.fields[key], forms[i])))
      .map((r) => r.id);
    if (ids.length > 1) many.set(item.index, ids);
  }
  return many;
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
 * The error of the record whose cells are `cells` that matches the existing records `ids` (two or more): Airtable's
 * `message`, the record's merge values as the call gave them and the ids, then the fix.
 */
export function manyMatchesMessage(
  message: string,
  cells: Readonly<Record<string, unknown>>,
  ids: readonly string[],
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>> | undefined,
): string {
  const values = mergeFields
    .map((key) => `${JSON.stringify(names?.[key] ?? key)}: ${JSON.stringify(cells[key])}`)
    .join(", ");
  const listed = ids.slice(0, IDS_LISTED).join(", ");
  const more = ids.length > IDS_LISTED ? ` and ${formatCount(ids.length - IDS_LISTED)} more` : "";
  return (
    `${sentence(message)} This record's fieldsToMergeOn values (${values}) match ` +
    `${formatCount(ids.length)} existing records: ${listed}${more}. ${manyMatchesFix(mergeFields, names)}`
  );
}
