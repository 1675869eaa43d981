/**
 * What an agent reads about a record an update_records, upsert_records or delete_records operation named and the
 * table does not have (one item's error, and the sentence get_operation adds for a delete's). One wording for the
 * three kinds and for both paths that settle such a record: a request of one record refused outright, and a request of several settled by one
 * read of which ids exist (processor.ts #settleMissingRecords).
 *
 * Airtable answers such a request with 422 ROW_DOES_NOT_EXIST (an update), 404 NOT_FOUND naming the record (a
 * delete) or 404 MODEL_ID_NOT_FOUND "Record not found" (see MISSING_RECORD_TYPES); its
 * errors page says a 404 "is returned … if the resource doesn't exist (e.g. has been deleted)"
 * (https://airtable.com/developers/web/api/errors), and "Delete multiple records"
 * (https://airtable.com/developers/web/api/delete-multiple-records) documents no other answer for an id that is gone.
 * So deleting a record already deleted is a refused item, and the operation says so (`completed_with_errors`):
 * only the wording tells the agent that such a record is not there any more, which is what a delete is for.
 */
import { formatCount } from "../format-count.ts";
import { RECORD_ID_IN_TEXT } from "../airtable/ids.ts";
import { notSplitSentence } from "./whole-request.ts";
import { sentence } from "./sentence.ts";

/**
 * Airtable's error types for an update or delete naming a record id the table does not have, as item errors carry
 * them: 422 ROW_DOES_NOT_EXIST "Record ID rec… does not exist in this table" (an update:
 * https://github.com/domdomegg/airtable-mcp-server/issues/28), 404 NOT_FOUND `Could not find a record with ID
 * "rec…".` (a delete, naming the first missing id only; measured against Airtable in 2026, sources in
 * src/sandbox/errors.ts) and 404 MODEL_ID_NOT_FOUND "Record not found" (Airtable's answer to a get of a missing
 * record, kept in case a write answers it too). ROW_DOES_NOT_EXIST is also the answer for a link cell naming a
 * missing record, which processor.ts tells apart by a read; a delete has no cells. NOT_FOUND is also Airtable's
 * type for an unrouted path (`{"error":"NOT_FOUND"}`): an Airtable error is taken for a missing record only by
 * {@link isMissingRecordRefusal}, which asks a NOT_FOUND to name the record.
 */
export const MISSING_RECORD_TYPES: ReadonlySet<string> = new Set([
  "MODEL_ID_NOT_FOUND",
  "ROW_DOES_NOT_EXIST",
  "NOT_FOUND",
]);

/** Airtable's message for a delete of a record the table does not have (MISSING_RECORD_TYPES). */
const DELETE_NOT_FOUND_MESSAGE = /^Could not find a record with ID "rec[A-Za-z0-9]{14}"/;

/**
 * Whether an Airtable refusal (`type`, `message`) says that a record the request named is not in the table
 * (MISSING_RECORD_TYPES): a NOT_FOUND only with the message naming the record, so that a 404 for a path Airtable does
 * not route (a bare `{"error":"NOT_FOUND"}`) is not taken for one.
 */
export function isMissingRecordRefusal(error: { type: string; message: string }): boolean {
  if (error.type === "NOT_FOUND") return DELETE_NOT_FOUND_MESSAGE.test(error.message);
  return MISSING_RECORD_TYPES.has(error.type);
}

/** The Airtable refusal a missing record's message quotes: its HTTP status, error type and message. */
export interface MissingRecordRefusal {
  status: number;
  type: string;
  message: string;
}

/** A table as a message names it: `"Projects" (tbl…)`. */
export interface NamedTable {
  id: string;
  name: string;
}

/**
 * Where the records Airtable did not find in the operation's table are (processor.ts #whereabouts): `table`, the
 * operation's table by name and id; `elsewhere`, per record id looked up, the other table of the base holding it
 * (Airtable's get-record answers a record of any table of the base, whatever table the path names:
 * https://github.com/Airtable/airtable.js/issues/117, "record IDs are unique within a base"; which table is told by
 * its cells' field ids, as get_record does), or null when Airtable found it in no table (404: deleted, or never
 * existed). An id not in `elsewhere` was not looked up, or could not be told (a record with no cells).
 */
export interface RecordWhereabouts {
  table: NamedTable;
  elsewhere: ReadonlyMap<string, NamedTable | null>;
}

const shownTable = (t: NamedTable) => `${JSON.stringify(t.name)} (${t.id})`;

export interface MissingRecordOptions {
  /** Other records of the refused request exist and were sent again without these (said only then). */
  othersResent?: boolean;
  /**
   * The request, of several records, was refused as a whole and not split (onError "stop"): the message says none
   * of its records was written, and, Airtable not saying which of several `ids` is missing, speaks of one or more
   * of them.
   */
  wholeRequest?: boolean;
  /** Where the records are, when looked up: the table named by name and id, and each record's own table. */
  where?: RecordWhereabouts;
  /**
   * Every id of the refused request that a read found missing from the table (processor.ts #existingIds), in
   * request order. Airtable's message names only the first (ROW_DOES_NOT_EXIST, a delete's NOT_FOUND), so a record's
   * error quoting it names the request's other missing ids too, and says Airtable named only the first.
   */
  missingInRequest?: readonly string[];
}

/**
 * The sentences naming where record `id` is (`where.elsewhere`), and what to do: a record of another table is to be
 * written there (the tool `kind` again with that table's id) or replaced by the id of this table's record; a record in
 * no table was deleted or mistyped. Undefined when not known.
 */
function whereaboutsSentence(kind: string, id: string, where: RecordWhereabouts | undefined): string | undefined {
  const owner = where?.elsewhere.get(id);
  if (owner === undefined || where === undefined) return undefined;
  const here = shownTable(where.table);
  if (owner === null) return `Record ${id} is in no table of this base: deleted, or a mistyped id.`;
  const verb = kind === "delete_records" ? "delete" : "update";
  return (
    `Record ${id} is not in table ${here}: it is a record of table ${shownTable(owner)} (record ids belong to one ` +
    `table). To ${verb} it there, call ${kind} again with tableId ${JSON.stringify(owner.id)}; to ${verb} a record ` +
    `of ${JSON.stringify(where.table.name)}, find its id with list_records or search_records in that table.`
  );
}

/**
 * The item error for the record(s) `ids` of an update_records, upsert_records or delete_records operation (`kind`)
 * on table `tableId` that Airtable refused as not in the table (`refusal`, quoted at the end). Names the id(s), the
 * two usual causes (deleted, or an id read from another table: record ids belong to one table) and what to do:
 * - update: find the right id with list_records or search_records in this table and call again with it;
 * - upsert: the same words, and one more sentence: an item with an id only updates that record — Airtable ignores
 *   fieldsToMergeOn for it and never creates it ("Records that include id will ignore fieldsToMergeOn and behave as
 *   normal updates. If no record with the given id exists, the request will fail and will not create a new
 *   record", https://airtable.com/developers/web/api/update-multiple-records) — so leaving id out lets
 *   fieldsToMergeOn match the record or create it;
 * - delete: the record is not there any more, so there is nothing left to delete for it (the goal is reached if it
 *   was deleted already); an id from another table is to be looked up there.
 * `ids` holds at least one id; several only with `wholeRequest`, which says the request held several records (an
 * upsert's may hold one id among items without) and was refused whole, none of them written. With `opts.where` the
 * table is named by name and id, and a record looked up is said to be in another table (named, with the tableId to
 * call with) or in none (deleted or mistyped) instead of the two usual causes (after them, for several ids).
 */
export function missingRecordMessage(
  kind: string,
  tableId: string,
  ids: readonly string[],
  refusal: MissingRecordRefusal,
  opts: MissingRecordOptions = {},
): string {
  const whole = opts.wholeRequest === true && ids.length > 1;
  const deletes = kind === "delete_records";
  const where = opts.where;
  const table = where === undefined ? tableId : shownTable(where.table);
  // Where each id is, when it was looked up: said instead of the two usual causes for one id, after them for several.
  const found = ids.map((id) => whereaboutsSentence(kind, id, where)).filter((s) => s !== undefined);
  // The request's other missing records, when a read found several: Airtable's message names the first only.
  const others = whole ? [] : (opts.missingInRequest ?? []).filter((id) => !ids.includes(id));
  const alsoMissing =
    others.length === 0 ? "" : ` and ${others.length === 1 ? "record" : "records"} ${others.join(", ")}, also missing,`;
  const firstOnly =
    others.length === 0 || refusal.message.match(RECORD_ID_IN_TEXT) === null
      ? ""
      : ", naming only the first missing record";
  const quoted =
    `(Airtable refused the request carrying ${whole ? "them" : "it"}${alsoMissing} with ${refusal.status} ` +
    `${refusal.type}${firstOnly}: ` +
    `${sentence(refusal.message)}` +
    `${opts.othersResent === true ? " The other records of that request were sent again without it." : ""})`;
  // The words every request refused as a whole gets (whole-request.ts).
  const notSplit = opts.wholeRequest === true ? ` ${notSplitSentence(kind, "stop", refusal.type)}` : "";
  if (!whole && found.length === 1) {
    const owner = where?.elsewhere.get(ids[0]!);
    const upsertNote =
      kind === "upsert_records"
        ? " With an id, upsert_records only updates that record (Airtable ignores fieldsToMergeOn for it and never " +
          "creates it): to create the record when no record matches, leave id out and give its fieldsToMergeOn values."
        : "";
    const subject =
      owner === null
        ? deletes
          ? `Record ${ids[0] ?? ""} no longer exists in table ${table}, nor in any other table of the base: it was ` +
            `already deleted, the id is mistyped, or it is a record of another base. Nothing is left to delete ` +
            "for it in this base."
          : // An id from another base is the third cause get_record names too (get-record.ts missingRecord): an
            // agent working on two bases reuses an id of the other one, and "deleted or mistyped" sends it looking
            // for a typo. Which base holds it is not looked up (a schema read of every base the token sees).
            `Record ${ids[0] ?? ""} does not exist in table ${table}, nor in any other table of the base: it was ` +
            "deleted, the id is mistyped, or it is a record of another base (a record is written through its own " +
            "base's baseId). Find the record with list_records or search_records in this table and call again " +
            "with its id."
        : found[0]!;
    return `${subject}${upsertNote}${notSplit} ${quoted}`;
  }
  const more = found.length === 0 ? "" : ` ${found.join(" ")}`;
  if (deletes) {
    const subject = whole
      ? `One or more of records ${ids.join(", ")} (one request, refused as a whole) no longer exist in table ` +
        `${table}, or never did: already deleted, or ids from another table`
      : `Record ${ids[0] ?? ""} no longer exists in table ${table}, or never did: it was already deleted, or it ` +
        "is an id from another table";
    return (
      `${subject} (record ids belong to one table). Nothing is left to delete for ${whole ? "a missing one" : "it"}: ` +
      "if it was deleted already, that goal is reached. If the id came from another table, find the record with " +
      `list_records or search_records in that table.${more}${notSplit} ${quoted}`
    );
  }
  const subject = whole
    ? `One or more of records ${ids.join(", ")} (one request, refused as a whole) do not exist in table ${table}: ` +
      "deleted, or ids from another table"
    : `Record ${ids[0] ?? ""} does not exist in table ${table}: it was deleted, or it is an id from another table`;
  const upsert =
    kind === "upsert_records"
      ? ` With an id, upsert_records only updates that record (Airtable ignores fieldsToMergeOn for it and never ` +
        "creates it): to create the record when no record matches, leave id out and give its fieldsToMergeOn values."
      : "";
  return (
    `${subject} (record ids belong to one table). Find the record with list_records or search_records in this ` +
    `table and call again with its id.${upsert}${more}${notSplit} ${quoted}`
  );
}

/**
 * The sentence get_operation's message adds for a delete_records operation with `missing` failed items that were
 * refused as not in the table, of `failed` failed items in all: those records no longer exist there, so nothing was
 * left to delete for them. Empty when `missing` is 0.
 */
export function missingDeletesSentence(missing: number, failed: number): string {
  if (missing === 0) return "";
  const which =
    missing === failed
      ? missing === 1
        ? "The failed record does"
        : `The ${formatCount(missing)} failed records do`
      : `${formatCount(missing)} of the ${formatCount(failed)} failed records do`;
  return (
    ` ${which} not exist in the table any more (already deleted, or never in it: an id from another table), so ` +
    `nothing was left to delete for ${missing === 1 ? "it" : "them"}.`
  );
}

/**
 * A 422 ROW_DOES_NOT_EXIST refusing a record because a link cell names a record its linked table does not have (the
 * error type Airtable answers for that, as for an update of a missing record), with the link field named: Airtable's
 * message ("Record ID rec… does not exist") says neither the field nor that the record is a linked one, and the
 * agent cannot find "rec…" in the table it wrote. The record ids the message names (RECORD_ID_IN_TEXT) are looked
 * for in the link cells of the refused records (`cells`, keyed by field id as the write sent them; `names`: the
 * fields' names in the call, Operation.fieldNames). A link cell is sent as an array of record ids (names were
 * resolved before the write was queued), so only array cells are searched: a text field that merely holds the id
 * (a note quoting it) is not "the link field". (A multiple select's array could name an option "rec…" too; the
 * operation keeps no field types to tell them apart, and such an option is not a realistic name.) A link given as
 * text with typecast is not matched either: Airtable's message is then kept as it is. Undefined when no array cell
 * holds one of them: then the refused id is the record's own (an update of a missing record, missingRecordMessage's
 * case). `where`: each id's table as the processor looked it up (#whereabouts: a get-record finds a record of any
 * table of the base), so the agent that put a People id in a Projects link is told it is a People record instead of
 * "deleted, or an id of another table" (h-agent33's trial); without it, or with an id not looked up, the two causes.
 */
export function missingLinkMessage(
  refusal: Pick<MissingRecordRefusal, "message">,
  cells: readonly Record<string, unknown>[],
  names: Readonly<Record<string, string>> | undefined,
  where?: RecordWhereabouts,
): string | undefined {
  const found = linkCellIds(refusal, cells, names);
  if (found.length === 0) return undefined;
  const named = found.map((f) => `the link field ${f.field} names ${f.id}`).join("; ");
  const one = found.length === 1;
  const owners = [...new Set(found.map((f) => f.id))].map((id) => ({ id, owner: where?.elsewhere.get(id) }));
  // Where each id is, when the processor looked it up (#whereabouts): the table holding it, or none.
  const known = owners.every((o) => o.owner !== undefined)
    ? owners
        .map(({ id, owner }) =>
          owner === null || owner === undefined
            ? `${id} is in no table of this base (deleted, or a mistyped id)`
            : `${id} is a record of table ${shownTable(owner)}`,
        )
        .join("; ")
    : undefined;
  const cause = known ?? `deleted, or ${one ? "an id" : "ids"} of another table`;
  return (
    `${sentence(refusal.message)} ${named.charAt(0).toUpperCase()}${named.slice(1)}, which ${one ? "is" : "are"} not ` +
    `${one ? "a record" : "records"} of the table it links to: ${cause} ` +
    "(a link cell takes ids of its linked table's records). Give the linked record's primary value instead (e.g. " +
    '["Acme"]: it is looked up in the linked table before the write is queued), or find its id with search_records ' +
    "in the linked table (describe_table shows which table a link field links to)."
  );
}

/**
 * The record ids a 422 ROW_DOES_NOT_EXIST names (RECORD_ID_IN_TEXT) that the refused records' link cells hold
 * (array cells only: see missingLinkMessage), with the link field as the call named it (quoted), each pair once.
 * Empty when no link cell holds one: the refused id is then the record's own.
 */
export function linkCellIds(
  refusal: Pick<MissingRecordRefusal, "message">,
  cells: readonly Record<string, unknown>[],
  names: Readonly<Record<string, string>> | undefined,
): { field: string; id: string }[] {
  const ids = new Set(refusal.message.match(RECORD_ID_IN_TEXT) ?? []);
  const found: { field: string; id: string }[] = [];
  for (const record of cells) {
    for (const [fieldId, value] of Object.entries(record)) {
      if (!Array.isArray(value)) continue;
      for (const item of value) {
        if (typeof item !== "string" || !ids.has(item)) continue;
        const field = JSON.stringify(names?.[fieldId] ?? fieldId);
        if (!found.some((f) => f.field === field && f.id === item)) found.push({ field, id: item });
      }
    }
  }
  return found;
}
