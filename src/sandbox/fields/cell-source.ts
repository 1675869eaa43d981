/**
 * What the per-type modules need to read cells of other records and tables (a lookup reads the linked records'
 * cells, a typecast link matches primary values). Implemented by CellReader (reader.ts); this interface keeps the
 * per-type modules free of an import of the reader, which imports them.
 */
import type { Base, Field, StoredRecord, Table, User } from "../store.ts";

export interface CellSource {
  readonly base: Base;
  readonly users: ReadonlyMap<string, User>;
  /** The cell in Airtable's JSON cell format, or undefined when empty (the API then omits the key). */
  read(table: Table, field: Field, record: StoredRecord): unknown;
  /** The cell as Airtable's formula language sees it (links as their primary values, lookups as arrays). */
  formulaValue(table: Table, field: Field, record: StoredRecord): unknown;
  /** The record's primary field as text: what Airtable shows for a linked record. */
  primaryText(table: Table, record: StoredRecord): string;
  table(tableId: string): Table | undefined;
  record(table: Table, recordId: string): StoredRecord | undefined;
}
