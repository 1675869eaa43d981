/**
 * Link fields (https://airtable.com/developers/web/api/field-model#foreignkey): a cell is an array of record ids of
 * the linked table, and the linked table's inverse field (`inverseLinkFieldId`) holds the reverse links, kept in
 * step on every write and delete, as in Airtable. A table linked to itself has no inverse field.
 *
 * Writes: an array of record ids. Anything else is refused with 422 INVALID_VALUE_FOR_COLUMN "Value is not an
 * array of record IDs." (Airtable's message); an id that is not a record of the linked table with 422
 * ROW_DOES_NOT_EXIST. `prefersSingleRecordLink` is a UI preference only: the API accepts several links ("it is
 * possible for a field that prefers single linked records to have multiple record links … via programmatic
 * updates"). With `typecast`, a text (or a comma-separated string) is matched against the linked table's primary
 * field values — the first record that matches — and a record is created when none does (an Airtable.js maintainer
 * describes exactly this: https://github.com/Airtable/airtable.js/issues/130); creating it needs the right to
 * create records in that table (403 INVALID_PERMISSIONS otherwise).
 */
import { notRecordIds, rowDoesNotExist } from "../errors.ts";
import { isId, newId } from "../ids.ts";
import { touchCell, type Base, type Field, type StoredRecord, type Table } from "../store.ts";
import { EMPTY, type CellResult } from "./empty.ts";
import { TEXT_TYPES } from "./registry.ts";
import type { WriteContext } from "./write-context.ts";

export function linkedTableOf(base: Base, field: Field): Table | undefined {
  const id = field.options?.linkedTableId;
  return typeof id === "string" ? base.tables.find((t) => t.id === id) : undefined;
}

function matchOrCreate(linked: Table, text: string, ctx: WriteContext): string {
  for (const record of linked.records) {
    if (ctx.source.primaryText(linked, record) === text) return record.id;
  }
  const pending = ctx.pendingRecords.get(linked) ?? new Map();
  const known = pending.get(text);
  if (known !== undefined) return known.id;
  ctx.checkCanCreateIn(linked);
  const primary = linked.fields.find((f) => f.id === linked.primaryFieldId);
  // A new linked record gets the text as its primary value, which only a text primary field can hold.
  if (primary === undefined || !TEXT_TYPES.has(primary.type)) throw notRecordIds();
  const created = { id: newId("rec"), table: linked, primaryText: text };
  pending.set(text, created);
  ctx.pendingRecords.set(linked, pending);
  return created.id;
}

export function writeLinks(field: Field, value: unknown, ctx: WriteContext): CellResult {
  const linked = linkedTableOf(ctx.source.base, field);
  if (linked === undefined) throw notRecordIds();
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (ctx.typecast && typeof value === "string") items = value.split(",").map((s) => s.trim());
  else throw notRecordIds();
  const ids: string[] = [];
  for (const item of items) {
    if (typeof item !== "string") throw notRecordIds();
    let id: string;
    if (isId(item, "rec")) {
      const pending = [...(ctx.pendingRecords.get(linked)?.values() ?? [])].some((p) => p.id === item);
      if (!linked.byId.has(item) && !pending) throw rowDoesNotExist(item);
      id = item;
    } else if (ctx.typecast) {
      if (item.trim() === "") continue;
      id = matchOrCreate(linked, item.trim(), ctx);
    } else {
      throw notRecordIds();
    }
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.length === 0 ? EMPTY : ids;
}

function setLinks(record: StoredRecord, fieldId: string, ids: string[], now: string, by: string | undefined): void {
  if (ids.length === 0) record.cells.delete(fieldId);
  else record.cells.set(fieldId, ids);
  touchCell(record, fieldId, now, by);
}

/**
 * Keeps the inverse field in step after `record`'s link cell in `field` changed from `before` to `after`: the record
 * is appended to the inverse cell of every newly linked record and removed from every unlinked one.
 */
export function syncInverse(
  base: Base,
  field: Field,
  record: StoredRecord,
  before: readonly string[],
  after: readonly string[],
  now: string,
  by?: string,
): void {
  const inverseId = field.options?.inverseLinkFieldId;
  const linked = linkedTableOf(base, field);
  if (typeof inverseId !== "string" || linked === undefined) return;
  for (const id of after) {
    if (before.includes(id)) continue;
    const other = linked.byId.get(id);
    if (other === undefined) continue;
    const cell = (other.cells.get(inverseId) as string[] | undefined) ?? [];
    if (!cell.includes(record.id)) setLinks(other, inverseId, [...cell, record.id], now, by);
  }
  for (const id of before) {
    if (after.includes(id)) continue;
    const other = linked.byId.get(id);
    const cell = other?.cells.get(inverseId) as string[] | undefined;
    if (other !== undefined && cell !== undefined && cell.includes(record.id)) {
      setLinks(
        other,
        inverseId,
        cell.filter((x) => x !== record.id),
        now,
        by,
      );
    }
  }
}

/** Deleted records disappear from every link cell that named them, in any table of the base. */
export function removeLinksTo(
  base: Base,
  tableId: string,
  deleted: ReadonlySet<string>,
  now: string,
  by?: string,
): void {
  for (const table of base.tables) {
    for (const field of table.fields) {
      if (field.type !== "multipleRecordLinks" || field.options?.linkedTableId !== tableId) continue;
      for (const record of table.records) {
        const cell = record.cells.get(field.id) as string[] | undefined;
        if (cell !== undefined && cell.some((id) => deleted.has(id))) {
          setLinks(
            record,
            field.id,
            cell.filter((id) => !deleted.has(id)),
            now,
            by,
          );
        }
      }
    }
  }
}
