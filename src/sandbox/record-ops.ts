/**
 * Record reads and writes on the store, independent of HTTP: list (view, filter, sort, fields, paging), create,
 * update (merge or replace), upsert and delete. Every write request is atomic: all records are validated into a
 * scratch copy first and applied only when every one of them passed, as Airtable does for a batch.
 */
import { invalidRequest, recordNotFound, typed, unknownField } from "./errors.ts";
import type { ApiError } from "./errors.ts";
import { compileFormula, FormulaError, type CompiledFormula } from "./formula.ts";
import { COMPUTED_TYPES, isEmptyResult, readCell, WriteContext, writeCell } from "./field-values.ts";
import { newId, isId } from "./ids.ts";
import { findField, isoNow, type Choice, type Field, type StoredRecord, type Table } from "./store.ts";

export const MAX_RECORDS_PER_WRITE = 10;

export const createRecordsError = (): ApiError =>
  typed(
    422,
    "INVALID_RECORDS",
    'You must provide an array of up to 10 record objects, each with a "fields" object for cell values.',
  );
export const updateRecordsError = (): ApiError =>
  typed(
    422,
    "INVALID_RECORDS",
    'You must provide an array of up to 10 record objects, each with an "id" ID field and a "fields" object for cell values.',
  );
export const deleteRecordsError = (): ApiError =>
  typed(422, "INVALID_RECORDS", "You must provide an array of up to 10 record IDs.");

export interface RenderOptions {
  byFieldId: boolean;
  /** Only these fields (all when undefined). */
  only?: Set<string>;
  commentCount?: boolean;
}

export interface RenderedRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
  commentCount?: number;
}

export function renderRecord(table: Table, record: StoredRecord, opts: RenderOptions): RenderedRecord {
  const fields: Record<string, unknown> = {};
  for (const field of table.fields) {
    if (opts.only !== undefined && !opts.only.has(field.id)) continue;
    const value = readCell(field, record);
    if (value === undefined) continue;
    fields[opts.byFieldId ? field.id : field.name] = structuredClone(value);
  }
  const out: RenderedRecord = { id: record.id, createdTime: record.createdTime, fields };
  if (opts.commentCount === true) out.commentCount = record.comments.length;
  return out;
}

/** The record as the formula engine sees it: cells keyed by field name, raw values. */
function formulaRecord(
  table: Table,
  record: StoredRecord,
): { id: string; createdTime: string; fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const field of table.fields) {
    const value = readCell(field, record);
    if (value !== undefined) fields[field.name] = value;
  }
  return { id: record.id, createdTime: record.createdTime, fields };
}

// ---------------------------------------------------------------------------------------------------------------
// Listing

export interface ListQuery {
  pageSize?: number;
  maxRecords?: number;
  offset?: string;
  fields?: string[];
  sort?: { field: string; direction?: string }[];
  view?: string;
  filterByFormula?: string;
  returnFieldsByFieldId?: boolean;
  commentCount?: boolean;
}

interface Iterator {
  tableId: string;
  signature: string;
  ids: string[];
  position: number;
  expiresAt: number;
}

/** Airtable's iterators live a few minutes; the sandbox keeps them 5 minutes. */
const ITERATOR_TTL_MS = 5 * 60_000;

export class Iterators {
  readonly #byId = new Map<string, Iterator>();

  create(it: Omit<Iterator, "expiresAt">): string {
    const id = newId("itr");
    this.#byId.set(id, { ...it, expiresAt: Date.now() + ITERATOR_TTL_MS });
    return id;
  }

  get(id: string): Iterator | undefined {
    const it = this.#byId.get(id);
    if (it === undefined || it.expiresAt < Date.now()) {
      this.#byId.delete(id);
      return undefined;
    }
    return it;
  }

  delete(id: string): void {
    this.#byId.delete(id);
  }
}

const badOffset = (value: string): ApiError =>
  typed(422, "INVALID_OFFSET_VALUE", `The value of offset ${value} is invalid`);
const iteratorGone = (): ApiError =>
  typed(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE", "The iterator is not available. Please restart your query.");

function sortValue(field: Field, value: unknown): string | number | undefined {
  if (value === undefined) return undefined;
  if (field.type === "singleSelect") {
    const choices = (field.options?.choices as Choice[] | undefined) ?? [];
    return choices.findIndex((c) => c.name === value);
  }
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (Array.isArray(value)) {
    return value
      .map((v) => (typeof v === "object" && v !== null ? String((v as { filename?: unknown }).filename) : String(v)))
      .join(", ");
  }
  return String(value);
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1; // empty first
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

export function listRecords(
  table: Table,
  q: ListQuery,
  iterators: Iterators,
): { records: RenderedRecord[]; offset?: string } {
  if (q.pageSize !== undefined && (!Number.isInteger(q.pageSize) || q.pageSize < 1 || q.pageSize > 100)) {
    throw invalidRequest();
  }
  if (q.maxRecords !== undefined && (!Number.isInteger(q.maxRecords) || q.maxRecords < 1)) throw invalidRequest();
  const pageSize = q.pageSize ?? 100;

  let only: Set<string> | undefined;
  if (q.fields !== undefined) {
    only = new Set();
    for (const name of q.fields) {
      const field = findField(table, name);
      if (field === undefined) throw unknownField(name);
      only.add(field.id);
    }
  }
  const sorts = (q.sort ?? []).map((s) => {
    const field = findField(table, s.field);
    if (field === undefined) throw unknownField(s.field);
    if (s.direction !== undefined && s.direction !== "asc" && s.direction !== "desc") throw invalidRequest();
    return { field, desc: s.direction === "desc" };
  });
  if (q.view !== undefined) {
    const view = table.views.find((v) => v.id === q.view) ?? table.views.find((v) => v.name === q.view);
    if (view === undefined) {
      throw isId(q.view, "viw")
        ? typed(422, "VIEW_ID_NOT_FOUND", `View ${q.view} not found`)
        : typed(422, "VIEW_NAME_NOT_FOUND", `View ${q.view} not found`);
    }
    // Views in the sandbox have no filters or sorts of their own: view order is creation order.
  }
  let formula: CompiledFormula | undefined;
  if (q.filterByFormula !== undefined && q.filterByFormula.trim() !== "") {
    try {
      formula = compileFormula(
        q.filterByFormula,
        table.fields.map((f) => ({ name: f.name, type: f.type })),
      );
    } catch (error) {
      if (error instanceof FormulaError) {
        throw typed(422, "INVALID_FILTER_BY_FORMULA", `The formula for filtering records is invalid: ${error.message}`);
      }
      throw error;
    }
  }
  const render: RenderOptions = { byFieldId: q.returnFieldsByFieldId === true, only, commentCount: q.commentCount };
  // The iterator pins the query: a page must be asked with the parameters of the first one (offset aside).
  const signature = JSON.stringify({ ...q, offset: undefined, pageSize: undefined });

  let ids: string[];
  let position = 0;
  let iteratorId: string | undefined;
  if (q.offset !== undefined) {
    const m = /^(itr[0-9A-Za-z]{14})\/(rec[0-9A-Za-z]{14})$/.exec(q.offset);
    if (m === null) throw badOffset(q.offset);
    iteratorId = m[1] as string;
    const it = iterators.get(iteratorId);
    if (it === undefined || it.tableId !== table.id || it.signature !== signature || it.ids[it.position] !== m[2]) {
      throw iteratorGone();
    }
    ids = it.ids;
    position = it.position;
  } else {
    let rows = [...table.records];
    if (formula !== undefined) {
      const f = formula;
      rows = rows.filter((r) => f.matches(formulaRecord(table, r)));
    }
    if (sorts.length > 0) {
      const keyed = rows.map((r, index) => ({
        r,
        index,
        keys: sorts.map((s) => sortValue(s.field, readCell(s.field, r))),
      }));
      keyed.sort((a, b) => {
        for (let i = 0; i < sorts.length; i++) {
          const c = compare(a.keys[i], b.keys[i]);
          if (c !== 0) return (sorts[i] as { desc: boolean }).desc ? -c : c;
        }
        return a.index - b.index;
      });
      rows = keyed.map((k) => k.r);
    }
    ids = rows.map((r) => r.id);
    if (q.maxRecords !== undefined) ids = ids.slice(0, q.maxRecords);
  }

  const byId = new Map(table.records.map((r) => [r.id, r]));
  const page: RenderedRecord[] = [];
  let next = position;
  while (next < ids.length && page.length < pageSize) {
    const record = byId.get(ids[next] as string);
    next++;
    if (record !== undefined) page.push(renderRecord(table, record, render)); // deleted since: skipped
  }
  if (next >= ids.length) {
    if (iteratorId !== undefined) iterators.delete(iteratorId);
    return { records: page };
  }
  if (iteratorId === undefined) iteratorId = iterators.create({ tableId: table.id, signature, ids, position: next });
  else {
    const it = iterators.get(iteratorId);
    if (it !== undefined) it.position = next;
  }
  return { records: page, offset: `${iteratorId}/${ids[next] as string}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Writes

/** The new cells of one record, validated against the table; nothing is changed yet. */
function buildCells(
  table: Table,
  fields: unknown,
  ctx: WriteContext,
  base: Map<string, unknown>,
): Map<string, unknown> {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw invalidRequest();
  const cells = new Map(base);
  for (const [key, value] of Object.entries(fields)) {
    const field = findField(table, key);
    if (field === undefined) throw unknownField(key);
    const result = writeCell(field, value, ctx, cells.get(field.id));
    if (isEmptyResult(result)) cells.delete(field.id);
    else cells.set(field.id, result);
  }
  return cells;
}

function newRecord(table: Table, cells: Map<string, unknown>, createdTime: string): StoredRecord {
  return { id: newId("rec"), createdTime, autoNumber: table.nextAutoNumber++, cells, comments: [] };
}

export function createRecords(table: Table, inputs: unknown[], typecast: boolean): StoredRecord[] {
  const ctx = new WriteContext(typecast);
  const built = inputs.map((input) => {
    const fields = (input as { fields?: unknown }).fields ?? {};
    return buildCells(table, fields, ctx, new Map());
  });
  ctx.commit();
  const createdTime = isoNow();
  const created = built.map((cells) => newRecord(table, cells, createdTime));
  table.records.push(...created);
  return created;
}

export interface UpdateInput {
  id: string;
  fields: unknown;
}

function recordIn(table: Table, id: string): StoredRecord {
  const record = table.records.find((r) => r.id === id);
  if (record === undefined) throw recordNotFound();
  return record;
}

export function updateRecords(
  table: Table,
  inputs: UpdateInput[],
  replace: boolean,
  typecast: boolean,
): StoredRecord[] {
  const ctx = new WriteContext(typecast);
  // Sequential within the request (the same id twice sees the first change), but applied only at the end.
  const scratch = new Map<string, Map<string, unknown>>();
  const order: StoredRecord[] = [];
  for (const input of inputs) {
    const record = recordIn(table, input.id);
    const current = scratch.get(record.id) ?? record.cells;
    scratch.set(record.id, buildCells(table, input.fields, ctx, replace ? new Map() : current));
    order.push(record);
  }
  ctx.commit();
  for (const [id, cells] of scratch) recordIn(table, id).cells = cells;
  return order;
}

const MERGE_REFUSED_TYPES = new Set([...COMPUTED_TYPES, "multipleAttachments", "multipleSelects"]);

function sameCell(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export interface UpsertResult {
  records: StoredRecord[];
  createdRecords: string[];
  updatedRecords: string[];
}

/** PATCH/PUT with performUpsert: records without an id are matched on `fieldsToMergeOn`, then updated or created. */
export function upsertRecords(
  table: Table,
  inputs: { id?: string; fields: unknown }[],
  fieldsToMergeOn: unknown,
  replace: boolean,
  typecast: boolean,
): UpsertResult {
  if (!Array.isArray(fieldsToMergeOn) || fieldsToMergeOn.length < 1 || fieldsToMergeOn.length > 3) {
    throw invalidRequest();
  }
  const mergeFields = fieldsToMergeOn.map((key: unknown) => {
    if (typeof key !== "string") throw invalidRequest();
    const field = findField(table, key);
    if (field === undefined) throw unknownField(key);
    if (MERGE_REFUSED_TYPES.has(field.type)) throw invalidRequest();
    return field;
  });
  const ctx = new WriteContext(typecast);
  const scratch = new Map<string, Map<string, unknown>>();
  const planned: ({ kind: "update"; record: StoredRecord } | { kind: "create"; cells: Map<string, unknown> })[] = [];
  for (const input of inputs) {
    if (input.id !== undefined) {
      const record = recordIn(table, input.id);
      const current = scratch.get(record.id) ?? record.cells;
      scratch.set(record.id, buildCells(table, input.fields, ctx, replace ? new Map() : current));
      planned.push({ kind: "update", record });
      continue;
    }
    const wanted = buildCells(table, input.fields, ctx, new Map());
    const matches = table.records.filter((r) =>
      mergeFields.every((f) => sameCell((scratch.get(r.id) ?? r.cells).get(f.id), wanted.get(f.id))),
    );
    if (matches.length > 1) {
      throw typed(
        422,
        "INVALID_RECORDS",
        "More than one existing record matches the fieldsToMergeOn values of a record in the request",
      );
    }
    const match = matches[0];
    if (match === undefined) {
      planned.push({ kind: "create", cells: wanted });
    } else {
      const current = scratch.get(match.id) ?? match.cells;
      scratch.set(match.id, buildCells(table, input.fields, ctx, replace ? new Map() : current));
      planned.push({ kind: "update", record: match });
    }
  }
  ctx.commit();
  for (const [id, cells] of scratch) recordIn(table, id).cells = cells;
  const createdTime = isoNow();
  const result: UpsertResult = { records: [], createdRecords: [], updatedRecords: [] };
  for (const plan of planned) {
    if (plan.kind === "update") {
      result.records.push(plan.record);
      if (!result.updatedRecords.includes(plan.record.id)) result.updatedRecords.push(plan.record.id);
    } else {
      const record = newRecord(table, plan.cells, createdTime);
      table.records.push(record);
      result.records.push(record);
      result.createdRecords.push(record.id);
    }
  }
  return result;
}

export function deleteRecords(table: Table, ids: string[]): string[] {
  for (const id of ids) recordIn(table, id); // all exist, or nothing is deleted
  const gone = new Set(ids);
  table.records = table.records.filter((r) => !gone.has(r.id));
  return ids;
}
