/**
 * What an upsert_records answer says about the list cells it replaced (OperationOptions.listsReplaced). Airtable's
 * update sets a link, multiple select, attachment or collaborator cell to exactly the list given (there is no append:
 * field model, and "Update multiple records"/upsert use the same PATCH); upsert_records keeps that by default, since an
 * import's source usually holds the whole lists, and unlike update_records reads nothing first, so it cannot name the
 * items removed. Its answer said only "Done: 1 record written of 1." while an updated task lost two of its three
 * owners (Session 29 agent trial; Session 28's trial met the same with a contact's tags). Now every answer about the
 * operation (its first one, get_operation, tasks/get) names the fields and the updated records, and the way to add
 * instead (`addToLists: true`). Records the upsert created lose nothing and are not named.
 */
import { formatCount } from "../format-count.ts";
import type { OperationState } from "./fold.ts";
import { indexList } from "./whole-request.ts";

/** Records named by index at most; beyond that they are counted. */
const RECORDS_LISTED = 10;

/** Whether record `index` of the operation's input gives field `fieldId` (or its name, for logs keyed by name) a list. */
function givesList(state: OperationState, index: number, fieldId: string, field: string): boolean {
  const fields = (state.operation.input[index] as { fields?: unknown } | null | undefined)?.fields;
  if (typeof fields !== "object" || fields === null) return false;
  const cells = fields as Record<string, unknown>;
  const value = cells[fieldId] ?? (state.operation.fieldNames === undefined ? cells[field] : undefined);
  return Array.isArray(value) && value.length > 0;
}

/**
 * `List cells of the records this upsert updated were set to exactly the lists given, not added to: "Owner" (results
 * index 0). An item such a cell held that its list lacks is no longer in it (nothing was read first, so which, if
 * any, is not known). To add to a cell instead, upsert again with addToLists: true and the items to add (get_record
 * shows what a record holds now).` Empty when no updated record was given a list.
 */
export function listsReplacedSentence(state: OperationState): string {
  const replaced = state.operation.options.listsReplaced;
  if (replaced === undefined || state.operation.kind !== "upsert_records") return "";
  const updated = state.outcomes.filter((o) => "recordId" in o && o.action === "updated").map((o) => o.index);
  const fields: string[] = [];
  const indexes = new Set<number>();
  for (const { fieldId, field } of replaced) {
    const hit = updated.filter((index) => givesList(state, index, fieldId, field));
    if (hit.length === 0) continue;
    fields.push(JSON.stringify(field));
    for (const index of hit) indexes.add(index);
  }
  if (fields.length === 0) return "";
  const sorted = [...indexes].sort((a, b) => a - b);
  const listed = indexList(sorted);
  const which =
    listed.split(", ").length > RECORDS_LISTED ? `${formatCount(sorted.length)} records` : `results index ${listed}`;
  // Nothing was read before the write, so whether a cell lost anything is not known: an upsert giving a cell the
  // items it held, or more, removed nothing, and the words must not say it did.
  return (
    "List cells of the records this upsert updated were set to exactly the lists given, not added to: " +
    `${fields.join(", ")} (${which}). An item such a cell held that its list lacks is no longer in it (nothing was ` +
    "read first, so which, if any, is not known). To add to a cell instead, upsert again with addToLists: true and " +
    "the items to add (get_record shows what a record holds now)."
  );
}
