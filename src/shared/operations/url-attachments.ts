/**
 * Attachments written by URL are fetched by Airtable after the write has answered: "Airtable will download the file
 * at the given url and keep its own copy of it. All other attachment object properties will be generated
 * server-side soon afterward", and "in most cases the API does not currently return an error code for failed
 * attachment object creation given attachment uploading happens in an asynchronous manner, such cases will manifest
 * with the attachment object either being cleared from the cell or persisted with generated URLs that return error
 * responses when queried" (Airtable's API documentation of a base, attachment fields; field model:
 * https://airtable.com/developers/web/api/field-model#multipleattachment). So a write that sent a file by URL is
 * "Done" whether or not Airtable could fetch it (a newcomer trial: "Done", and the attachment gone on re-read), and
 * its answer says so. The sandbox behaves the same (src/sandbox/fields/attachments.ts `fillInAttachments`).
 */
import { formatCount } from "../format-count.ts";
import type { OperationState } from "./fold.ts";
import { indexList } from "./whole-request.ts";

/** Runs of indexes listed one by one; more than this and the records are counted instead. */
const RUNS_LISTED = 10;

/** Whether a cell value holds a new attachment given by URL: an array item `{ url }` without an `id` (kept ones). */
function sendsUrl(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.some((item) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) return false;
      const entry = item as { url?: unknown; id?: unknown };
      return typeof entry.url === "string" && entry.id === undefined;
    })
  );
}

/**
 * The sentence a record write's message adds when records it wrote carried attachments given by URL: which fields and
 * records, that Airtable fetches the files after the write (a file it cannot fetch is dropped without an error), and
 * to read the records back to confirm. Empty when no written record sent one.
 */
export function urlAttachmentsSentence(state: OperationState): string {
  const { input, fieldNames } = state.operation;
  const indexes: number[] = [];
  const fields = new Set<string>();
  for (const outcome of state.outcomes) {
    if (!("recordId" in outcome)) continue;
    const cells = (input[outcome.index] as { fields?: unknown } | undefined)?.fields;
    if (typeof cells !== "object" || cells === null) continue;
    let sent = false;
    for (const [key, value] of Object.entries(cells)) {
      if (!sendsUrl(value)) continue;
      sent = true;
      fields.add(JSON.stringify(fieldNames?.[key] ?? key));
    }
    if (sent) indexes.push(outcome.index);
  }
  if (indexes.length === 0) return "";
  const one = indexes.length === 1;
  const listed = indexList(indexes);
  const which =
    listed.split(", ").length > RUNS_LISTED
      ? `${formatCount(indexes.length)} records`
      : `record${one ? "" : "s"} ${listed}`;
  return (
    ` Attachments given by url (${[...fields].join(", ")}, in ${which}) are fetched by Airtable after the write, ` +
    "which answered before they were: a file Airtable cannot fetch is dropped from the cell without an error. Read " +
    `${one ? "the record" : "the records"} back (get_record or list_records) to confirm the files are there.`
  );
}
