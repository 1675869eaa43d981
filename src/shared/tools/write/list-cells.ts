/**
 * update_records and list cells: a link, multiple select, attachment or multiple collaborator cell holds a list, and
 * Airtable's update sets each cell it is given to the value given, a whole array in the field model's cell format
 * (https://airtable.com/developers/web/api/update-multiple-records,
 * https://airtable.com/developers/web/api/field-model; the API documents no append, and the sandbox does the same). An
 * agent asked to "tag Ben as partner" or "link Zoe to Omega" sends `{"Tags": ["partner"]}` and, without reading the
 * record first, silently drops the tags Ben had; the same call on the inverse side (`{"Contacts": ["Zoe"]}` on a
 * company) unlinks every other contact. A trial (session 28) did exactly that and was answered "Done: 1 record
 * written".
 *
 * So before such an update is queued, the cells it sets are read (`readCellsById`: one request per 100 records, only
 * the list fields the call sets), and `settleListCells` (with `listCellsRefusal`):
 * - `addToLists` left out: a call whose lists would drop an item a cell holds now is refused, naming the records,
 *   fields and items, and both ways on (nothing is queued);
 * - `addToLists: true`: each list given is added to what its cell holds, after it in its order (items already there
 *   are neither repeated nor moved, and are sent as given);
 * - `addToLists: false`: the lists are sent as given (Airtable's own behaviour), nothing read.
 * A list given empty (`[]`, `null`, `""`) clears the cell as asked, and a link field that links one record replaces it
 * (listFieldsSet): never refused. `replace: true` (every cell set, the others cleared) says the same, so it is left
 * alone, unless `addToLists: true` asks to add to the lists given (the other cells are cleared all the same). The read
 * and the write are two requests: a change made in Airtable between them is not seen (with `addToLists: true` an item
 * removed meanwhile comes back).
 *
 * upsert_records takes `addToLists: true` too (readUpsertListCells finds the records its records update); left out or
 * false, its lists are sent as given, as Airtable does: an upsert is mostly an import whose source holds the lists.
 */
import type { AirtableClient } from "../../airtable/client.ts";
import type { AirtableField, AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { formatCount } from "../../format-count.ts";
import { matchFormula, mergeForms } from "../../operations/upsert-matches.ts";
import { readCellsById } from "../cells-by-id.ts";
import { choicesOf } from "./check-values.ts";
import { isPlainObject, ToolInputError } from "../tool-input-error.ts";

/** Field types whose cell is a list an update replaces whole. */
const LIST_TYPES = new Set(["multipleRecordLinks", "multipleSelects", "multipleAttachments", "multipleCollaborators"]);

/** Records a refusal names at most; the rest are counted. */
const RECORDS_NAMED = 5;
/** Items of one cell a refusal names at most. */
const ITEMS_NAMED = 5;

/**
 * The list fields of `table` a record of `cells` sets to a non-empty value (cells keyed by field id). A link field
 * set to link one record (`prefersSingleRecordLink`, Airtable's "Allow linking to multiple records" off) is left out
 * unless `addToLists` is true: its cell holds one record, so a new one given replaces it, as the person meant.
 */
export function listFieldsSet(
  table: AirtableTable,
  cells: readonly Record<string, unknown>[],
  addToLists?: boolean,
): AirtableField[] {
  return table.fields.filter(
    (field) =>
      LIST_TYPES.has(field.type) &&
      (addToLists === true || field.options?.prefersSingleRecordLink !== true) &&
      cells.some((record) => !isEmpty(record[field.id])),
  );
}

const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);

/** Merge-matched records per read: keeps each formula short (the client switches to POST for long ones anyway). */
const MERGED_PER_READ = 50;

/**
 * For upsert_records with `addToLists: true`: the cells of `fields` that the existing records the call's records update
 * hold now, by input index: a record with an id by that id (readCellsById), one without by the one existing record its
 * `fieldsToMergeOn` values match (matchFormula narrows, mergeForms compares as Airtable matches; one request per 50
 * records). A record matching none (it will be created) or several (Airtable refuses it) has no entry. Throws
 * ToolInputError when merge values cannot be compared in a formula (a list; a name holding "}"). `records[i].cells` are
 * keyed by field id, as `mergeFields` are; `names` are Operation.fieldNames.
 */
export async function readUpsertListCells(
  airtable: AirtableClient,
  baseId: string,
  tableId: string,
  records: readonly { id?: string; cells: Record<string, unknown> }[],
  fields: readonly AirtableField[],
  mergeFields: readonly string[],
  names: Readonly<Record<string, string>>,
  typecast: boolean,
): Promise<Map<number, Record<string, unknown>>> {
  const byIndex = new Map<number, Record<string, unknown>>();
  const withId = records.flatMap((r, index) => (r.id === undefined ? [] : [{ index, id: r.id }]));
  if (withId.length > 0) {
    const ids = withId.map((r) => r.id);
    const held = await readCellsById(
      airtable,
      baseId,
      tableId,
      ids,
      fields.map((f) => f.id),
    );
    for (const { index, id } of withId) {
      const cells = held.get(id);
      if (cells !== undefined) byIndex.set(index, cells);
    }
  }
  const merged = records.flatMap((r, index) => (r.id === undefined ? [{ index, cells: r.cells }] : []));
  for (let i = 0; i < merged.length; i += MERGED_PER_READ) {
    const chunk = merged.slice(i, i + MERGED_PER_READ);
    const formula = matchFormula(chunk, mergeFields, names, typecast);
    // Without a formula the records updated cannot be found, and their lists would be replaced after all: said.
    if (formula === undefined) {
      throw new ToolInputError(
        "addToLists: true cannot find the records this call updates by their fieldsToMergeOn values (a list value, " +
          'such as a multiple select\'s, or a field whose name holds "}", cannot be compared in a formula), so it ' +
          "cannot add to their list cells; nothing was queued. Give each existing record its id (rec…), merge on " +
          "another field, or leave addToLists out to replace the lists.",
      );
    }
    const existing: { fields: Record<string, unknown> }[] = [];
    for await (const page of airtable.iterateRecords(baseId, tableId, {
      filterByFormula: formula,
      fields: [...new Set([...fields.map((f) => f.id), ...mergeFields])],
      returnFieldsByFieldId: true,
    })) {
      existing.push(...page);
    }
    for (const item of chunk) {
      const forms = mergeFields.map((key) => mergeForms(item.cells[key], typecast));
      const matches = existing.filter((r) =>
        mergeFields.every((key, k) => forms[k]?.some((form) => r.fields[key] === form) === true),
      );
      if (matches.length === 1) byIndex.set(item.index, matches[0]!.fields);
    }
  }
  return byIndex;
}

/**
 * A list item's identity, to tell whether a list given keeps an item a cell holds: a linked record's id, a select
 * option's name, an attachment's id (a new one given by url has none yet), a collaborator's id or email. An email is
 * compared in lower case (a mailbox's domain is case-blind, and Airtable finds a person by it so); an id as it is
 * (ids are case-sensitive: the field model's write format for a multiple collaborator is an array of them).
 *
 * A select option given by its id (`sel…`, as the field's `options.choices` list it beside the name) has its name
 * as a key too: a read gives a multiple select's cell as option names (field model, "Cell format (read)"), so
 * without it an option kept by its id was taken for a removal, and addToLists: true sent the option twice. A text
 * that is some option's name stays that name (an option may be named like another's id; the name wins, as in
 * check-values.ts). Whether Airtable's write resolves an id is not documented (its field model gives names): the
 * item is sent as given either way.
 */
function itemKeys(field: AirtableField, item: unknown): string[] {
  const type = field.type;
  if (type === "multipleSelects") {
    if (typeof item !== "string") return [];
    const choices = choicesOf(field);
    const byId = choices.find((c) => c.id === item);
    return byId !== undefined && !choices.some((c) => c.name === item) ? [item, byId.name] : [item];
  }
  if (typeof item === "string") return [type === "multipleCollaborators" ? collaboratorKey(item) : item];
  if (!isPlainObject(item)) return [];
  const keys: string[] = [];
  if (typeof item.id === "string") keys.push(item.id);
  if (type === "multipleCollaborators" && typeof item.email === "string") keys.push(item.email.toLowerCase());
  return keys;
}

/** A collaborator given as text: an email (it has an "@") in lower case, else an id (usr…, ugp…) as it is. */
const collaboratorKey = (text: string): string => (text.includes("@") ? text.trim().toLowerCase() : text.trim());

/**
 * An item a cell holds as a message names it: a linked record by its primary value and id (`"Globex" (rec…)`, the id
 * alone when its name is not known), an option by name, a file by its name, a person by email.
 */
function itemShown(type: string, item: unknown, names: ReadonlyMap<string, string>): string {
  if (type === "multipleRecordLinks" && typeof item === "string") {
    const name = names.get(item);
    return name === undefined ? item : `${JSON.stringify(name)} (${item})`;
  }
  if (typeof item === "string") return JSON.stringify(item);
  if (isPlainObject(item)) {
    if (type === "multipleAttachments" && typeof item.filename === "string") return JSON.stringify(item.filename);
    if (type === "multipleCollaborators" && typeof item.email === "string") return item.email;
    if (typeof item.id === "string") return item.id;
  }
  return JSON.stringify(item);
}

/**
 * How an item a cell holds is sent back to keep it: links and options as they are, files and people by id. People
 * given as text (ids or emails, the field model's write format) are kept as their id text, not `{id}`, so the list
 * sent is of one form.
 */
function itemKept(type: string, item: unknown, givenAsText: boolean): unknown {
  if ((type === "multipleAttachments" || type === "multipleCollaborators") && isPlainObject(item)) {
    if (typeof item.id !== "string") return item;
    return type === "multipleCollaborators" && givenAsText ? item.id : { id: item.id };
  }
  return item;
}

/**
 * The items a cell value given names, as a list: an array as it is; a multiple select's or multiple collaborator's
 * text split on commas, as typecast reads it ("vip, partner" is two options, "a@x.com, b@y.com" two people: the
 * sandbox stores them so, and the write checks take them, check-values.ts); any other single value (a link resolved
 * from a name is already an array) as a list of one.
 */
function asList(type: string, value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if ((type === "multipleSelects" || type === "multipleCollaborators") && typeof value === "string") {
    return value
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "");
  }
  return [value];
}

/** One record and list field whose cell the call would drop items of. */
export interface DroppedItems {
  index: number;
  field: AirtableField;
  items: unknown[];
  held: number;
}

/**
 * Applies the rule at the top of this file to `cells` (keyed by field id, link names already resolved to ids) in
 * place, given the cells the records hold now (`heldAt(i)`: record i's, undefined when not known): with `addToLists`
 * true, each list given becomes the items its cell holds now, in their order, followed by the items given that it
 * does not hold (an item given that the cell holds is neither repeated nor moved). Answers the cells
 * whose list would drop items they hold, when `addToLists` is left out (refuse them: listCellsRefusal); else [].
 */
export function settleListCells(
  fields: readonly AirtableField[],
  cells: Record<string, unknown>[],
  heldAt: (index: number) => Record<string, unknown> | undefined,
  addToLists: boolean | undefined,
): DroppedItems[] {
  const dropped: DroppedItems[] = [];
  if (addToLists === false) return dropped;
  cells.forEach((record, index) => {
    const now = heldAt(index);
    if (now === undefined) return;
    for (const field of fields) {
      const given = record[field.id];
      const holds = now[field.id];
      if (isEmpty(given) || !Array.isArray(holds) || holds.length === 0) continue;
      const list = asList(field.type, given);
      if (addToLists === true) {
        // What the cell holds, in its order, then the items given that it does not hold yet: adding an item the cell
        // holds already leaves the cell as it is. (Putting the held items not given in front of the list given, as
        // before, moved a held item given again to the end: "add Hooli" to [Hooli, Stark] gave [Stark, Hooli], and
        // a link's order is the order lookups and the primary values list it in.)
        // A held item given again is sent as given (an option by its id stays its id), in the held item's place.
        const asText = list.length > 0 && list.every((item) => typeof item === "string");
        // The items given by key, in their order (one pass each way: a link cell may hold thousands).
        const givenByKey = new Map<string, number[]>();
        list.forEach((item, at) => {
          for (const key of itemKeys(field, item)) givenByKey.set(key, [...(givenByKey.get(key) ?? []), at]);
        });
        const used = new Set<number>();
        const kept = holds.map((held) => {
          const again = itemKeys(field, held)
            .flatMap((key) => givenByKey.get(key) ?? [])
            .find((at) => !used.has(at));
          if (again === undefined) return itemKept(field.type, held, asText);
          used.add(again);
          return list[again];
        });
        const heldKeys = new Set(holds.flatMap((item) => itemKeys(field, item)));
        const added = list.filter(
          (item, at) => !used.has(at) && !itemKeys(field, item).some((key) => heldKeys.has(key)),
        );
        record[field.id] = [...kept, ...added];
        continue;
      }
      const keys = new Set(list.flatMap((item) => itemKeys(field, item)));
      const missing = holds.filter((item) => !itemKeys(field, item).some((key) => keys.has(key)));
      if (missing.length > 0) dropped.push({ index, field, items: missing, held: holds.length });
    }
  });
  return dropped;
}

/**
 * The refusal of a call whose lists would drop the items `dropped` names (settleListCells): the first five cells,
 * each with up to five items, linked records by primary value and id (one read of each linked table for the ids
 * named, through the caller's client; a failed read leaves the ids alone), then both ways on.
 * @param where names record i's cells in messages, e.g. `records[3].fields`
 */
export async function listCellsRefusal(
  airtable: AirtableClient,
  baseId: string,
  schema: BaseSchema,
  table: AirtableTable,
  dropped: readonly DroppedItems[],
  ids: readonly string[],
  where: (index: number) => string,
): Promise<ToolInputError> {
  const shown = dropped.slice(0, RECORDS_NAMED);
  const names = new Map<string, string>();
  const linkIds = new Map<string, Set<string>>();
  for (const { field, items } of shown) {
    if (field.type !== "multipleRecordLinks") continue;
    const linked = String(field.options?.linkedTableId ?? "");
    const set = linkIds.get(linked) ?? new Set<string>();
    for (const item of items.slice(0, ITEMS_NAMED)) if (typeof item === "string") set.add(item);
    linkIds.set(linked, set);
  }
  for (const [linkedTableId, wanted] of linkIds) {
    const primary = schema.tables.find((t) => t.id === linkedTableId)?.primaryFieldId;
    if (primary === undefined || wanted.size === 0) continue;
    try {
      for (const [id, cells] of await readCellsById(airtable, baseId, linkedTableId, wanted, [primary])) {
        const value = cells[primary];
        if (typeof value === "string" || typeof value === "number") names.set(id, String(value));
      }
    } catch {
      // The names only make the refusal easier to read; the ids say the same.
    }
  }
  const lines = shown.map(({ index, field, items, held: count }) => {
    const named = items.slice(0, ITEMS_NAMED).map((item) => itemShown(field.type, item, names));
    const more = items.length > ITEMS_NAMED ? `, … (${formatCount(items.length)} in all)` : "";
    const n = items.length;
    const which =
      n < count
        ? `${formatCount(n)} of the ${formatCount(count)} items`
        : count === 1
          ? "the item"
          : `all ${count} items`;
    return `- ${where(index)}[${JSON.stringify(field.name)}] would remove ${which} record ${ids[index]} holds: ${named.join(", ")}${more}`;
  });
  const rest = dropped.length - RECORDS_NAMED;
  if (rest > 0) lines.push(`- … and ${formatCount(rest)} more cell${rest === 1 ? "" : "s"}`);
  return new ToolInputError(
    `update_records sets a list cell (links, multiple selects, attachments, collaborators) to exactly the list given: ` +
      `it does not add to it. This call would remove items the records hold now in table ` +
      `${JSON.stringify(table.name)}; nothing was queued:\n${lines.join("\n")}\n` +
      `To add the items given to what each cell holds, call again with addToLists: true. To set the cells to exactly ` +
      `the lists given, removing those items, call again with addToLists: false.`,
  );
}
