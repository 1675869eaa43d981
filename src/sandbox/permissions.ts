/**
 * Field- and table-level edit restrictions, as Airtable enforces them: a field configured to "limit who can edit
 * this field", or a table limiting who may create or delete records, refuses that user's request with 403
 * INVALID_PERMISSIONS — that request only: the rest of the base stays as writable as the base permission level allows
 * (https://support.airtable.com/docs/field-and-table-editing-permissions). The messages are the ones Airtable's errors
 * page gives (https://airtable.com/developers/web/api/errors, 403): "You are not permitted to write cell values in
 * field Notes (fld…)" for a field, "You are not permitted to create records in table Leads (tbl…)" for a table's
 * create limit (the linked table's, for a typecast link that would create a record there); a delete limit, and the
 * sandbox's own "update" limit (every field locked), get "…because the field or table has been configured…"
 * (errors.ts `restricted`: not documented).
 * Tests set restrictions through `Sandbox.restrictField` / `restrictTable`.
 */
import { createRestricted, restricted, restrictedField } from "./errors.ts";
import type { Base, Restriction, Table } from "./store.ts";

export type RecordOperation = Restriction["operations"][number];

function tableRestricts(base: Base, table: Table, userId: string, op: RecordOperation): boolean {
  return base.restrictions.some(
    (r) => r.userId === userId && r.tableId === table.id && r.fieldId === undefined && r.operations.includes(op),
  );
}

/** Whether the user may write this field's cells (an "update" table restriction locks every field). */
export function mayWriteField(base: Base, table: Table, fieldId: string, userId: string): boolean {
  if (tableRestricts(base, table, userId, "update")) return false;
  return !base.restrictions.some((r) => r.userId === userId && r.tableId === table.id && r.fieldId === fieldId);
}

/** Throws 403 INVALID_PERMISSIONS when the table refuses this record operation to the user (module comment). */
export function checkTableOperation(base: Base, table: Table, userId: string, op: RecordOperation): void {
  if (tableRestricts(base, table, userId, op)) throw op === "create" ? createRestricted(table) : restricted();
}

/**
 * Throws 403 INVALID_PERMISSIONS when the request writes a field the user may not edit: Airtable's message names the
 * restricted field ("…write cell values in field Notes (fld…)"); a table locked for edits gets the "field or table"
 * one.
 */
export function checkFieldWrites(base: Base, table: Table, userId: string, fieldIds: Iterable<string>): void {
  for (const id of fieldIds) {
    if (mayWriteField(base, table, id, userId)) continue;
    const field = table.fields.find((f) => f.id === id);
    throw tableRestricts(base, table, userId, "update") || field === undefined ? restricted() : restrictedField(field);
  }
}
