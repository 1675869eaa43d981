/**
 * Settling a create_records request whose answer was lost (503, timeout, connection cut after sending) by reading
 * the table back, instead of handing the agent an "in doubt" it has to resolve itself (issue 13; ARCHITECTURE.md
 * invariant 3 still holds: nothing is re-sent unless it is confirmed absent).
 *
 * One request's items are looked for among the records created since the request was sent (`CREATED_TIME()`,
 * Airtable formula reference "Record functions"), narrowed by `filterByFormula` on the values that a formula can
 * compare exactly (text, numbers, checkboxes), and then compared field by field on the returned cells:
 * - every item found, with exactly as many matching records as identical items sent (count-aware) → `written`;
 * - no item found at all, every item having at least one comparable field → `absent` (the caller re-sends them:
 *   a create batch is atomic at Airtable, "Create records": all of its records are created or none);
 * - anything else (more matches than items, some found and some not, fields that cannot be compared, a record
 *   matching two different items) → `inDoubt` with the reason.
 *
 * Comparisons never claim equality they cannot check: a value the read-back cannot compare (attachments,
 * collaborators, typecast conversions it cannot predict) is left out of the match, and an item matched only on the
 * rest is reported in doubt rather than written; an absence is only declared on fields compared exactly.
 */
import type { AirtableClient } from "../airtable/client.ts";
import { dateTimeInputInstants } from "../airtable/date-time-input.ts";
import { isEmptyCell } from "../airtable/empty-cell.ts";
import type { AirtableField, AirtableRecord } from "../airtable/schemas.ts";
import { fieldReference, formulaString } from "../tools/search-formula.ts";

/** One item of the request: its input index and its cells, keyed by field id or name as the tool stored them. */
export interface ReconcileItem {
  index: number;
  fields: Record<string, unknown>;
}

export interface ReconcileRequest {
  baseId: string;
  tableId: string;
  items: ReconcileItem[];
  /** Epoch ms: records created before this are not candidates (the sent time minus a clock-skew margin). */
  since: number;
  /** Airtable's `typecast` was on: strings written to non-text fields may have been converted. */
  typecast: boolean;
  /** Record ids already reported written by this operation: never a candidate for another item. */
  excludeIds: ReadonlySet<string>;
  /** Airtable certainly applied the request (a 2xx whose body was unreadable): an absence is not believed. */
  applied?: boolean;
  /** The fields' names in the agent's call, by id (Operation.fieldNames): reasons name fields by these. */
  fieldNames?: Readonly<Record<string, string>>;
}

export interface ReconcileResult {
  written: { index: number; recordId: string }[];
  absent: number[];
  inDoubt: { index: number; reason: string }[];
}

/** More candidates than this (records created since, matching the narrowing formula) → in doubt, not paged on. */
export const MAX_CANDIDATES = 1_000;

/** Field types whose cells read back as the exact string written (no rich-text normalisation). */
const TEXT_TYPES = new Set(["singleLineText", "multilineText", "email", "url", "phoneNumber", "singleSelect"]);
const NUMBER_TYPES = new Set(["number", "currency", "percent", "rating", "duration"]);
const ARRAY_OF_STRINGS_TYPES = new Set(["multipleSelects", "multipleRecordLinks"]);
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** How one input cell is compared: a test on the returned cell, and a formula term when one is exact. */
interface Check {
  field: AirtableField;
  matches(cell: unknown): boolean;
  /** A formula true for records whose cell equals the value; undefined when a formula cannot say it exactly. */
  formula?: string;
}

interface Planned {
  item: ReconcileItem;
  checks: Check[];
  /** Input cells the read-back cannot compare (their field names), which keep a match from being certain. */
  uncomparable: string[];
}

/**
 * Reads the table back for `req.items` and says what became of each. Throws the client's errors unchanged (the
 * processor decides: 5xx / network → retried later, the request still unsettled in the log).
 */
export async function reconcileCreates(airtable: AirtableClient, req: ReconcileRequest): Promise<ReconcileResult> {
  const schema = await airtable.getBaseSchema(req.baseId);
  const table = schema.tables.find((t) => t.id === req.tableId || t.name === req.tableId);
  if (table === undefined) {
    return allInDoubt(req.items, `the table ${req.tableId} was not found when reading it back`);
  }
  const byKey = new Map<string, AirtableField>();
  for (const field of table.fields) byKey.set(field.name, field);
  for (const field of table.fields) byKey.set(field.id, field);
  const planned = req.items.map((item) => plan(item, byKey, req.typecast, req.fieldNames ?? {}));

  const candidates: AirtableRecord[] = [];
  const fieldIds = [...new Set(planned.flatMap((p) => p.checks.map((c) => c.field.id)))];
  const formula = candidateFormula(planned, req.since);
  for await (const page of airtable.iterateRecords(req.baseId, table.id, {
    filterByFormula: formula,
    returnFieldsByFieldId: true,
    pageSize: 100,
    ...(fieldIds.length > 0 ? { fields: fieldIds } : {}),
  })) {
    for (const record of page) {
      if (req.excludeIds.has(record.id)) continue;
      // The formula already filters on CREATED_TIME(); checked again in case an Airtable clock rounds differently.
      if (Date.parse(record.createdTime) < req.since - 1_000) continue;
      candidates.push(record);
    }
    if (candidates.length > MAX_CANDIDATES) {
      return allInDoubt(req.items, `more than ${MAX_CANDIDATES} records created since the request match its values`);
    }
  }
  candidates.sort((a, b) => a.createdTime.localeCompare(b.createdTime) || a.id.localeCompare(b.id));
  return decide(planned, candidates, req.applied === true);
}

function decide(planned: Planned[], candidates: AirtableRecord[], applied: boolean): ReconcileResult {
  // Identical inputs form one group: k identical items need exactly k matching records.
  const groups = new Map<string, Planned[]>();
  for (const p of planned) {
    const key = stableKey(p.item.fields);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [p]);
    else group.push(p);
  }
  const matchesOf = new Map<string, AirtableRecord[]>();
  const claimedBy = new Map<string, number>();
  for (const [key, group] of groups) {
    const checks = group[0]!.checks;
    const matching =
      checks.length === 0 ? [] : candidates.filter((r) => checks.every((c) => c.matches(r.fields[c.field.id])));
    matchesOf.set(key, matching);
    for (const r of matching) claimedBy.set(r.id, (claimedBy.get(r.id) ?? 0) + 1);
  }

  const result: ReconcileResult = { written: [], absent: [], inDoubt: [] };
  let anyFound = false;
  for (const [key, group] of groups) {
    const matching = matchesOf.get(key) ?? [];
    const k = group.length;
    const m = matching.length;
    const first = group[0]!;
    const doubt = (reason: string) => result.inDoubt.push(...group.map((p) => ({ index: p.item.index, reason })));
    if (m > 0) anyFound = true;
    if (first.checks.length === 0) {
      doubt("none of its fields can be compared when reading the table back");
    } else if (matching.some((r) => (claimedBy.get(r.id) ?? 0) > 1)) {
      doubt("a record created since the request matches more than one of the records sent");
    } else if (m === 0) {
      result.absent.push(...group.map((p) => p.item.index));
    } else if (m !== k) {
      doubt(`${m} records created since the request match its values, for ${k} sent with these values`);
    } else if (first.uncomparable.length > 0) {
      doubt(`a record matches, but its field(s) ${first.uncomparable.join(", ")} cannot be compared`);
    } else {
      group.forEach((p, i) => result.written.push({ index: p.item.index, recordId: matching[i]!.id }));
    }
  }
  // A create request is applied whole or not at all: a partial read-back, or none after a certain apply, is no
  // proof of absence for what was not found.
  if (result.absent.length > 0 && (anyFound || applied)) {
    const reason = applied
      ? "Airtable applied the request, but reading the table back did not find this record"
      : "reading the table back found part of the request; Airtable applies a request whole, so this one is unclear";
    result.inDoubt.push(...result.absent.map((index) => ({ index, reason })));
    result.absent = [];
  }
  result.written.sort((a, b) => a.index - b.index);
  result.inDoubt.sort((a, b) => a.index - b.index);
  result.absent.sort((a, b) => a - b);
  return result;
}

function allInDoubt(items: ReconcileItem[], reason: string): ReconcileResult {
  return { written: [], absent: [], inDoubt: items.map((item) => ({ index: item.index, reason })) };
}

function plan(
  item: ReconcileItem,
  byKey: ReadonlyMap<string, AirtableField>,
  typecast: boolean,
  names: Readonly<Record<string, string>>,
): Planned {
  const checks: Check[] = [];
  const uncomparable: string[] = [];
  for (const [key, value] of Object.entries(item.fields)) {
    const field = byKey.get(key);
    const check = field === undefined ? undefined : checkFor(field, value, typecast);
    if (check === undefined) uncomparable.push(names[key] ?? field?.name ?? key);
    else checks.push(check);
  }
  return { item, checks, uncomparable };
}

/** The comparison for one input cell, or undefined when the read-back cannot compare it exactly. */
function checkFor(field: AirtableField, value: unknown, typecast: boolean): Check | undefined {
  const ref = fieldReference(field);
  // An empty input leaves the cell empty (Airtable returns no key for an empty cell).
  if (value === null || value === "" || (Array.isArray(value) && value.length === 0)) {
    return { field, matches: isEmptyCell };
  }
  if (TEXT_TYPES.has(field.type) && typeof value === "string") {
    // With typecast a select option is matched by name as written; text is stored as sent.
    return {
      field,
      matches: (cell) => cell === value,
      ...(ref === undefined ? {} : { formula: `${ref} = ${formulaString(value)}` }),
    };
  }
  if (NUMBER_TYPES.has(field.type)) {
    const n = typeof value === "number" ? value : typecast && typeof value === "string" ? Number(value) : NaN;
    if (!Number.isFinite(n)) return undefined;
    // Airtable may round to the field's precision: only integers are compared in a formula.
    return {
      field,
      matches: (cell) => typeof cell === "number" && Math.abs(cell - n) < 1e-9,
      ...(ref !== undefined && Number.isInteger(n) && typeof value === "number" ? { formula: `${ref} = ${n}` } : {}),
    };
  }
  if (field.type === "checkbox" && typeof value === "boolean") {
    return {
      field,
      matches: (cell) => (cell === true) === value,
      ...(ref !== undefined && value ? { formula: `${ref}` } : {}),
    };
  }
  if (ARRAY_OF_STRINGS_TYPES.has(field.type) && Array.isArray(value) && value.every((v) => typeof v === "string")) {
    const wanted = [...(value as string[])].sort();
    return {
      field,
      matches: (cell) =>
        Array.isArray(cell) &&
        cell.length === wanted.length &&
        [...(cell as unknown[])]
          .map(String)
          .sort()
          .every((v, i) => v === wanted[i]),
    };
  }
  // Only a plain YYYY-MM-DD names the date Airtable stores; other text a typecast parses ("9/5/2030", a timestamp
  // read in some time zone) is left out of the comparison, as for dateTime below.
  if (field.type === "date" && typeof value === "string" && ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))) {
    return { field, matches: (cell) => cell === value };
  }
  if (field.type === "dateTime" && typeof value === "string") {
    // A date alone or a time without a zone is the field's wall time, as Airtable stored it (date-time-input.ts).
    // Text that names no certain instant (a typecast "9/5/2030") is left out of the comparison: a wrong "absent"
    // would send the record a second time.
    const at = dateTimeInputInstants(value, field.options?.timeZone);
    if (at.length > 0) return { field, matches: (cell) => typeof cell === "string" && at.includes(Date.parse(cell)) };
  }
  return undefined;
}

/** `AND(IS_AFTER(CREATED_TIME(), "…"), OR(<item>, …))`: only candidates, over what a formula can say exactly. */
function candidateFormula(planned: Planned[], since: number): string {
  const created = `IS_AFTER(CREATED_TIME(), ${formulaString(new Date(since).toISOString())})`;
  const terms: string[] = [];
  for (const p of planned) {
    const parts = p.checks.flatMap((c) => (c.formula === undefined ? [] : [c.formula]));
    // An item with nothing a formula can narrow on: every record created since is a candidate.
    if (parts.length === 0) return created;
    terms.push(parts.length === 1 ? parts[0]! : `AND(${parts.join(", ")})`);
  }
  const distinct = [...new Set(terms)];
  return `AND(${created}, ${distinct.length === 1 ? distinct[0]! : `OR(${distinct.join(", ")})`})`;
}

/** A key equal for deep-equal inputs whatever their key order. */
function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableKey(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}
