import { z } from "zod";
import type { ListRecordsOptions } from "../airtable/request.ts";
import type { AirtableTable, BaseSchema } from "../airtable/schemas.ts";
import { resolveField, resolveView } from "../schema-cache.ts";
import { queryFingerprint } from "./record-cursor.ts";
import { DEFAULT_RESPONSE_BUDGET_BYTES, fetchRecordPage } from "./record-pager.ts";
import { cursorInput, recordOutput, toRecordOutput } from "./shapes.ts";
import { issuePathKeys, type InputIssue, type ToolContext } from "./define-tool.ts";
import { isPlainObject, quotedValue } from "./tool-input-error.ts";
import { listArgumentIssues, nameListWording } from "./list-argument.ts";
import { expandLinkCells, expandedLinkBytes } from "./linked-records.ts";
import { schemaForRecords } from "./with-schema.ts";
import { cellFormatInputs, fixedZoneNote } from "./cell-format.ts";

/** Inputs list_records and search_records share. */
export const listingInputs = {
  view: z.string().min(1).optional().describe("A view id (viw…) or name: only its records, in its order."),
  fields: z
    .array(z.string().min(1))
    .min(1)
    .max(500)
    .optional()
    .describe("Only these fields (ids or names) in each record; fewer fields make smaller answers."),
  maxRecords: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Stop after this many records in total, across every call of this listing."),
  pageSize: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe("At most this many records per answer (1–100). Answers also stop early, with a cursor, at about 40 kB."),
  cursor: cursorInput,
  expandLinks: expandLinksInput(),
  ...cellFormatInputs,
};

/** The expandLinks input of list_records, search_records and get_record. */
export function expandLinksInput() {
  return z
    .boolean()
    .default(false)
    .describe(
      "true: link fields come back as [{id, name}] (name: the linked record's primary value, e.g. the company's " +
        "name) instead of bare record ids; costs one more Airtable request per linked table. Default false.",
    );
}

/**
 * The rewordIssues of list_records and search_records: maxRecords or pageSize out of their range, not a whole number,
 * or not a number, answered with one sentence each saying what the argument takes and what leaving it out does, e.g.
 * "maxRecords must be a whole number of at least 1 (it was given 0): … leave it out to get every record …", instead of
 * zod's "Too small: expected number to be >=1" or "expected int, received number". maxRecords has no upper limit of
 * its own (Airtable's list records documents none, https://airtable.com/developers/web/api/list-records; this
 * server counts it across the listing's cursors, record-pager.ts); the bound zod keeps for whole numbers,
 * Number.MAX_SAFE_INTEGER, is named only to a call that went over it.
 */
export function listingIssues(args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] {
  const given = typeof args === "object" && args !== null ? (args as Record<string, unknown>) : {};
  const worded: InputIssue[] = [];
  let others = issues;
  for (const [name, wording] of Object.entries(NUMBER_WORDING)) {
    const kept = others.filter((issue) => issuePathKeys(issue)[0] !== name);
    if (kept.length === others.length) continue;
    others = kept;
    // No path: the SDK would put "maxRecords: " before a sentence that already starts with the name.
    worded.push({ message: wording(given[name]), path: [] });
  }
  return worded.length === 0 ? issues : [...worded, ...others];
}

/**
 * The rewordIssues of `fields` (list_records, search_records) and `fieldIds` (search_records) given as one name, as an
 * empty list or with an item that is not a name (list-argument.ts, the wording of every list argument): `fields takes
 * a list of field names or ids, e.g. ["Name"] (a list even for one field; it was given the text "Name")`, instead of
 * zod's "fields: Invalid input: expected array, received string". Refused, not taken as a one-name list: see
 * list-argument.ts.
 */
export const fieldListIssues = listArgumentIssues(
  "fields",
  nameListWording("Name", {
    holds: "field names or ids",
    one: "field",
    item: "a field name",
    min: 1,
    max: 500,
    empty: "leave fields out to get every field",
  }),
);

/** search_records' fieldIds in the words of fieldListIssues. */
export const fieldIdListIssues = listArgumentIssues(
  "fieldIds",
  nameListWording("Name", {
    holds: "field names or ids",
    one: "field",
    item: "a field name",
    min: 1,
    max: 100,
    empty: "leave fieldIds out to search every text field",
  }),
);

/**
 * list_records' rewordIssues for `sort` given as one field name or one sort item instead of a list of items, or as a
 * list holding something other than items: `sort takes a list of sort items, e.g. [{"field": "Name", "direction":
 * "asc"}] (a list even for one field; it was given the text "Name")`, the example made with the field the call named
 * (list-argument.ts), and the direction it named: "Estimate desc" is `[{"field": "Estimate", "direction": "desc"}]`
 * (h-agent33's trial: the example was a field named "Estimate desc", which the next call would be refused for). An item's own mistakes (an unknown key, a direction) keep their wording (strictArgumentObject,
 * sortDirectionIssues).
 */
export const sortListIssues = listArgumentIssues("sort", {
  holds: "sort items",
  one: "field",
  item: "a sort item",
  items: "items",
  max: 20,
  isItem: isPlainObject,
  example: (given) => {
    // "Estimate desc" (SQL's ORDER BY, a spreadsheet's sort) is a field and a direction, not a field named so; so is
    // each item of "Estimate desc, Due asc" when one ends with a direction ("Due, Estimate desc": Due ascending, as
    // ORDER BY reads it), not "Name, Email", which may be one field's name.
    const texts = Array.isArray(given)
      ? given.filter((item): item is string => typeof item === "string")
      : typeof given === "string"
        ? given.split(",").some((part) => DIRECTION_AFTER.test(part))
          ? given.split(",")
          : [given]
        : [];
    const items = texts.map(sortItemOf).filter((item) => item.field !== "");
    if (items.length > 0)
      return `[${items.map((i) => `{"field": ${JSON.stringify(i.field)}, "direction": "${i.direction}"}`).join(", ")}]`;
    const first: unknown = Array.isArray(given) ? given[0] : given;
    const field = isPlainObject(first) ? first.field : undefined;
    const name = typeof field === "string" && field.trim() !== "" ? field : "Name";
    return `[{"field": ${JSON.stringify(name)}, "direction": "asc"}]`;
  },
});

/** A direction after a field name in sort text: "Estimate desc", "Due ASC", "Name descending". */
const DIRECTION_AFTER = /^\s*(.+?)\s+(asc|desc|ascending|descending)\s*$/i;

/**
 * A sort item as text names it: "Estimate desc" is field "Estimate", direction "desc" (DIRECTION_AFTER); text without
 * a direction is the field, ascending (Airtable's default: list-records, `sort`). The field is "" for blank text.
 */
function sortItemOf(text: string): { field: string; direction: "asc" | "desc" } {
  const match = DIRECTION_AFTER.exec(text);
  if (match === null) return { field: text.trim(), direction: "asc" };
  return { field: match[1]!, direction: match[2]!.toLowerCase().startsWith("desc") ? "desc" : "asc" };
}

/** What listingIssues answers for each numeric listing argument, given the value the call sent. */
const NUMBER_WORDING: Record<string, (given: unknown) => string> = {
  maxRecords: (given) => {
    const range =
      typeof given === "number" && given > Number.MAX_SAFE_INTEGER
        ? `from 1 to ${Number.MAX_SAFE_INTEGER.toLocaleString("en-US")}`
        : "of at least 1";
    return (
      `maxRecords must be a whole number ${range} (it was given ${quotedValue(given, 40)}): the most records this listing ` +
      "returns in all, across its pages; leave it out to get every record (they come a page at a time: call again " +
      "with nextCursor while an answer has one)"
    );
  },
  pageSize: (given) =>
    `pageSize must be a whole number from 1 to 100 (it was given ${quotedValue(given, 40)}): the most records in one ` +
    "answer; leave it out for 100",
};

/**
 * The sort directions list_records takes: Airtable's own, "asc" and "desc" (the only ones its list-records endpoint
 * takes: https://airtable.com/developers/web/api/list-records, sort), and the same in the case agents write them
 * (SQL's ASC/DESC, Desc). Each is unambiguous, so it is sent as Airtable's lowercase (resolveListingQuery) rather than
 * refused for a round trip; they are listed one by one (not "any case") so that the JSON Schema in tools/list says
 * exactly what is taken, and a client validating arguments against it agrees with this server. Any other spelling
 * ("descending", -1) is refused by sortDirectionIssues with the value to send.
 */
export const SORT_DIRECTIONS = ["asc", "desc", "ASC", "DESC", "Asc", "Desc"] as const;
export type SortDirectionInput = (typeof SORT_DIRECTIONS)[number];

/**
 * list_records' rewordIssues for a sort direction it does not take: zod's `Invalid option: expected one of
 * "asc"|"desc"|…` becomes one sentence naming the item, what it was given and what to send ("desc" for a word
 * starting with "desc" or "down", "asc" for one starting with "asc" or "up"). Other issues are answered as they come.
 */
export function sortDirectionIssues(args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] {
  const sort = typeof args === "object" && args !== null ? (args as Record<string, unknown>).sort : undefined;
  return issues.map((issue) => {
    const keys = issuePathKeys(issue);
    if (keys.length !== 3 || keys[0] !== "sort" || typeof keys[1] !== "number" || keys[2] !== "direction") {
      return issue;
    }
    const item: unknown = Array.isArray(sort) ? sort[keys[1]] : undefined;
    const given = typeof item === "object" && item !== null ? (item as Record<string, unknown>).direction : undefined;
    const word = typeof given === "string" ? given.trim().toLowerCase() : "";
    const send = /^(desc|down)/.test(word)
      ? 'send "desc"'
      : /^(asc|up)/.test(word)
        ? 'send "asc"'
        : 'send "asc" (A→Z, 1→9, oldest first) or "desc"';
    return {
      // No path: the SDK would put "sort.1.direction: " before a sentence that already names it.
      message:
        `sort[${keys[1]}].direction is "asc" or "desc" (ASC, DESC, Asc and Desc are taken too); it was given ` +
        `${quotedValue(given, 40)}: ${send}.`,
      path: [],
    };
  });
}

export const listingOutputs = {
  records: z.array(recordOutput),
  nextCursor: z
    .string()
    .optional()
    .describe("Present when more records follow: call again with the same arguments and this cursor."),
  note: z.string().optional(),
};

export type ListingQuery = Omit<ListRecordsOptions, "offset" | "pageSize" | "maxRecords">;

/** Field and view names resolved to ids against the schema (unknown ones → errors listing the real names). */
export function resolveListingQuery(
  table: AirtableTable,
  input: {
    view?: string | undefined;
    fields?: string[] | undefined;
    sort?: { field: string; direction?: SortDirectionInput | undefined }[] | undefined;
  },
): ListingQuery {
  const query: ListingQuery = {};
  if (input.view !== undefined) query.view = resolveView(table, input.view).id;
  if (input.fields !== undefined) query.fields = input.fields.map((f) => resolveField(table, f).id);
  if (input.sort !== undefined && input.sort.length > 0) {
    // Airtable takes only the lowercase (SORT_DIRECTIONS).
    query.sort = input.sort.map((s) => ({
      field: resolveField(table, s.field).id,
      direction: s.direction === undefined ? "asc" : s.direction.toLowerCase() === "desc" ? "desc" : "asc",
    }));
  }
  return query;
}

/** One answer of a listing: the records, the cursor when more follow, and a note when the size budget ended it. */
export async function runListing(
  ctx: ToolContext,
  args: {
    baseId: string;
    table: AirtableTable;
    query: ListingQuery;
    /** Anything else that shapes the listing (the search term): part of the cursor's fingerprint. */
    identity: Record<string, unknown>;
    pageSize: number;
    maxRecords?: number | undefined;
    cursor?: string | undefined;
    /** With expandLinks: the base's schema, to find each link field's linked table and its primary field. */
    expandLinks?: BaseSchema | undefined;
  },
) {
  const page = await fetchRecordPage({
    airtable: ctx.airtable,
    baseId: args.baseId,
    tableId: args.table.id,
    query: args.query,
    fingerprint: queryFingerprint({ baseId: args.baseId, tableId: args.table.id, ...args.query, ...args.identity }),
    limit: args.pageSize,
    budgetBytes: DEFAULT_RESPONSE_BUDGET_BYTES,
    ...(args.maxRecords !== undefined && { maxRecords: args.maxRecords }),
    ...(args.cursor !== undefined && { cursor: args.cursor }),
    ...(args.expandLinks !== undefined && { extraBytes: (r) => expandedLinkBytes(args.table, r) }),
  });
  if (args.expandLinks !== undefined) {
    // Link cells are found by field name: a link field renamed since the schema was cached needs a fresh one.
    const current = await schemaForRecords(
      ctx,
      args.baseId,
      { schema: args.expandLinks, table: args.table },
      page.records,
      "name",
    );
    await expandLinkCells(ctx.airtable, args.baseId, current.schema, current.table, page.records);
  }
  const out: z.infer<z.ZodObject<typeof listingOutputs>> = { records: page.records.map(toRecordOutput) };
  if (page.nextCursor !== undefined) out.nextCursor = page.nextCursor;
  if (page.stoppedBySize) {
    out.note =
      `Stopped after ${page.records.length} records to keep this answer under about 40 kB. ` +
      "Call again with nextCursor for more, or ask for fewer fields.";
  }
  const zones = fixedZoneNote(args.table, args.query, out.records);
  if (zones !== undefined) out.note = out.note === undefined ? zones : `${out.note} ${zones}`;
  return out;
}

/**
 * What each of Airtable's list-records parameters that list_records and search_records do not take is in these tools
 * (https://airtable.com/developers/web/api/list-records: offset, returnFieldsByFieldId, recordMetadata; cellFormat,
 * timeZone and userLocale are taken, cell-format.ts). An agent that knows Airtable's API sends them; the refusal
 * listed only the tool's parameters, leaving it to guess that `cursor` is the offset.
 */
const AIRTABLE_PARAMETER_HINTS: Record<string, string> = {
  offset:
    '"offset": pages go by cursor here: pass the previous answer\'s nextCursor as cursor, with the other arguments ' +
    "unchanged (Airtable's offset is kept inside it)",
  returnFieldsByFieldId:
    '"returnFieldsByFieldId": cells are keyed by field name; fields and sort take field ids as well as names, and ' +
    "describe_table gives each field's id",
  recordMetadata: '"recordMetadata": comments are read with list_comments',
};

/**
 * The rewordIssues of list_records and search_records for Airtable's own list-records parameters they do not take
 * (AIRTABLE_PARAMETER_HINTS): the refusal of the unknown argument keeps its list of parameters and adds, per such
 * argument, what to do instead: `… (see its inputSchema in tools/list). "offset": pages go by cursor here: …`.
 */
export function airtableParameterIssues(_args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] {
  return issues.map((issue) => {
    if (issue.code !== "unrecognized_keys" || (issue.path?.length ?? 0) !== 0 || issue.keys === undefined) {
      return issue;
    }
    const hints = [...new Set(issue.keys.flatMap((key) => AIRTABLE_PARAMETER_HINTS[key] ?? []))];
    return hints.length === 0 ? issue : { ...issue, message: `${issue.message}. ${hints.join(". ")}.` };
  });
}

/**
 * A rewordIssues for an argument `key` given as text that is empty or only spaces: the issues zod raised on it ("Too
 * small: expected string to have >=1 characters", "Invalid string: must match pattern /\S/") give way to one sentence,
 * `message(given)`, saying what to give instead. Other issues are kept; an argument not given, or not blank, or one
 * zod did not refuse, is left alone. Used for list_records' and search_records' `cursor` and search_records'
 * `searchTerm`.
 */
export function blankArgumentIssues(
  key: string,
  message: (given: string) => string,
): (args: unknown, issues: readonly InputIssue[]) => readonly InputIssue[] {
  return (args, issues) => {
    const given = typeof args === "object" && args !== null ? (args as Record<string, unknown>)[key] : undefined;
    if (typeof given !== "string" || given.trim() !== "") return issues;
    const kept = issues.filter((issue) => issuePathKeys(issue)[0] !== key);
    if (kept.length === issues.length) return issues;
    return [{ message: message(given), path: [] }, ...kept];
  };
}

/**
 * The rewordIssues of the tools that page with `cursor`, for `cursor: ""` (clients that fill every optional argument
 * send it; an agent may pass on an absent nextCursor as ""): one sentence saying that the first page comes without a
 * cursor and that an answer without nextCursor was the last, instead of zod's "Too small: expected string to have >=1
 * characters". Refused, not read as "from the start": an agent looping while it has a cursor would list the first page
 * again and again.
 */
export const emptyCursorIssues = blankArgumentIssues(
  "cursor",
  () =>
    "cursor is empty: leave cursor out for the first page, and pass nextCursor unchanged for the next; an answer " +
    "without nextCursor was the last page (nothing more follows)",
);
