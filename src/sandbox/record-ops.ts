/**
 * Record reads and writes on the store, independent of HTTP: list (view, filter, sort, fields, paging), create,
 * update (merge or replace), upsert and delete. Every write request is atomic: all records are validated into a
 * scratch copy first and applied only when every one of them passed, as Airtable does for a batch; applying keeps
 * link fields' inverses in step, records when each cell changed (lastModifiedTime), creates the linked records and
 * select options `typecast` asked for, and hands back the attachments written by URL to fill in later.
 */
import { deleteTargetNotFound, invalidRequest, recordNotInTable, typed, unknownField } from "./errors.ts";
import type { ApiError } from "./errors.ts";
import { compileFormula, FormulaError, type CompiledFormula } from "./formula.ts";
import { COMPUTED_TYPES, isEmptyResult, WriteContext, writeCell, type Attachment } from "./field-values.ts";
import { STORED_READ_ONLY_TYPES } from "./fields/registry.ts";
import { formatCell, type StringFormat } from "./fields/string-format.ts";
import { isAirtableTimeZone } from "./fields/definitions.ts";
import { cellText, type CellReader } from "./fields/reader.ts";
import { removeLinksTo, syncInverse } from "./fields/links.ts";
import { newId, isId } from "./ids.ts";
import { setCell } from "./cell-object.ts";
import { checkFieldWrites, checkTableOperation, mayWriteField } from "./permissions.ts";
import { createRestricted } from "./errors.ts";
import {
  addRecords,
  findField,
  isoNow,
  removeRecords,
  touchCell,
  type Base,
  type Choice,
  type Field,
  type PermissionLevel,
  type StoredRecord,
  type Table,
  type View,
} from "./store.ts";

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
  /** cellFormat=string: cells as user-facing text in this zone and locale (JSON cells when undefined). */
  stringFormat?: StringFormat;
}

export interface RenderedRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
  commentCount?: number;
}

export function renderRecord(
  reader: CellReader,
  table: Table,
  record: StoredRecord,
  opts: RenderOptions,
): RenderedRecord {
  const fields: Record<string, unknown> = {};
  for (const field of table.fields) {
    if (opts.only !== undefined && !opts.only.has(field.id)) continue;
    const value = reader.read(table, field, record);
    if (value === undefined) continue;
    const key = opts.byFieldId ? field.id : field.name;
    if (opts.stringFormat === undefined) setCell(fields, key, structuredClone(value));
    else {
      const text = formatCell(reader, table, field, record, value, opts.stringFormat);
      if (text !== "") setCell(fields, key, text);
    }
  }
  const out: RenderedRecord = { id: record.id, createdTime: record.createdTime, fields };
  if (opts.commentCount === true) out.commentCount = record.comments.length;
  return out;
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
  cellFormat?: string;
  timeZone?: string;
  userLocale?: string;
}

/**
 * One listing's records, pinned at its first page: the ids in the listing's order and the query that chose them.
 * An offset names the iterator and the record the next page starts at, so any offset of a live iterator can be
 * asked again (a retried page answers the same records): Airtable documents no single use, only that "Iteration may
 * timeout due to client inactivity or server restarts" (then 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE).
 */
interface Iterator {
  tableId: string;
  signature: string;
  ids: string[];
  /** Ms since the epoch; every page asked of the iterator moves it to now + the iterator lifetime. */
  expiresAt: number;
}

/** Airtable's list offsets expire after a while without use (then LIST_RECORDS_ITERATOR_NOT_AVAILABLE); the sandbox
 * keeps an iterator 5 minutes after its last page by default (SandboxOptions.listIteratorTtlMs). Airtable does not
 * document its own timeout. */
export const DEFAULT_ITERATOR_TTL_MS = 5 * 60_000;

export class Iterators {
  readonly #byId = new Map<string, Iterator>();
  readonly #ttlMs: number;

  constructor(ttlMs = DEFAULT_ITERATOR_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  create(it: Omit<Iterator, "expiresAt">): string {
    const now = Date.now();
    // Iterators are kept until they expire (their offsets stay usable), so the expired ones are dropped here: a
    // long-running sandbox (the embedded demo) does not accumulate them.
    for (const [id, old] of this.#byId) if (old.expiresAt <= now) this.#byId.delete(id);
    const id = newId("itr");
    this.#byId.set(id, { ...it, expiresAt: now + this.#ttlMs });
    return id;
  }

  /** Expires every iterator now: the next page of any listing answers LIST_RECORDS_ITERATOR_NOT_AVAILABLE. */
  expireAll(): void {
    for (const it of this.#byId.values()) it.expiresAt = 0;
  }

  /** The live iterator `id`, its lifetime restarted (a page was asked: the client is active); undefined once expired. */
  get(id: string): Iterator | undefined {
    const it = this.#byId.get(id);
    const now = Date.now();
    if (it === undefined || it.expiresAt <= now) {
      this.#byId.delete(id);
      return undefined;
    }
    it.expiresAt = now + this.#ttlMs;
    return it;
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
  return cellText(value);
}

function compare(a: string | number | undefined, b: string | number | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1; // empty first
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** Checks cellFormat, timeZone and userLocale: cellFormat=string needs both of the others (Airtable's list records
 * docs: "The timeZone and userLocale parameters are required when using string as the cellFormat"). The timeZone is
 * typed as Airtable's Timezone model (https://airtable.com/developers/web/api/model/timezone: "utc", "client" and
 * IANA Region/City names; fields/definitions.ts isAirtableTimeZone), so "UTC", "Etc/UTC" or "EST", which Intl takes,
 * are refused as unknown. "utc" formats in UTC; "client" too (what Airtable makes of it server-side is not
 * documented: a guess). */
export function stringFormatOf(q: Pick<ListQuery, "cellFormat" | "timeZone" | "userLocale">): StringFormat | undefined {
  if (q.cellFormat === undefined || q.cellFormat === "json") return undefined;
  if (q.cellFormat !== "string") throw invalidRequest();
  if (q.timeZone === undefined || q.userLocale === undefined) {
    throw typed(
      422,
      "INVALID_REQUEST_UNKNOWN",
      "Invalid request: the timeZone and userLocale parameters are required when using string as the cellFormat",
    );
  }
  const timeZone = q.timeZone === "utc" || q.timeZone === "client" ? "UTC" : q.timeZone;
  try {
    if (!isAirtableTimeZone(q.timeZone)) throw new RangeError(q.timeZone);
    new Intl.DateTimeFormat(q.userLocale, { timeZone });
  } catch {
    throw typed(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: unknown timeZone or userLocale");
  }
  return { timeZone, userLocale: q.userLocale };
}

/** A view's sort as list records applies it; fields deleted since are skipped. */
function viewSorts(table: Table, view: View): { field: Field; desc: boolean }[] {
  return (view.sort ?? []).flatMap((s) => {
    const field = table.fields.find((f) => f.id === s.fieldId);
    return field === undefined ? [] : [{ field, desc: s.direction === "desc" }];
  });
}

/**
 * A view's filter, compiled against the table's current fields (it names them by id, so a renamed field keeps
 * working). A filter that no longer compiles (a field it used was deleted) keeps no record, as Airtable's view
 * shows nothing it cannot evaluate.
 */
function viewFilterOf(table: Table, view: View): CompiledFormula | undefined {
  if (view.filter === undefined) return undefined;
  try {
    return compileFormula(
      view.filter,
      table.fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
    );
  } catch (error) {
    if (!(error instanceof FormulaError)) throw error;
    return compileFormula("FALSE()", []);
  }
}

/** Airtable's message for a filterByFormula that does not parse, whatever is wrong with it. */
export const INVALID_FORMULA_MESSAGE = "Invalid formula. Please check your formula text.";

/**
 * A refused filterByFormula as Airtable answers it: 422 INVALID_FILTER_BY_FORMULA, "The formula for filtering records
 * is invalid: " followed by `Unknown field names: a, b` when it names fields the table does not have, and by the one
 * generic sentence `Invalid formula. Please check your formula text.` for anything else — Airtable does not say what
 * or where (reported verbatim: https://community.make.com/t/airtable-error-422-the-formula-for-filtering-records-is-invalid-invalid-formula-please-check-your-formula-text/16998,
 * and in an older wording in https://github.com/Airtable/airtable-ruby/issues/4). So the sandbox's own diagnosis of
 * a syntax error, an unknown function or a wrong argument count (FormulaError's message) is not sent: a client tested
 * here must cope with Airtable's sentence. An unknown function is given the generic sentence too (no public
 * report shows Airtable naming one). A function the sandbox does not emulate keeps its own message: that is the
 * sandbox's limit, not the formula's mistake.
 */
function invalidFilter(error: FormulaError): ApiError {
  const detail =
    error.kind === "unknownField" || error.kind === "unsupported" ? error.message : INVALID_FORMULA_MESSAGE;
  return typed(422, "INVALID_FILTER_BY_FORMULA", `The formula for filtering records is invalid: ${detail}`);
}

export function listRecords(
  reader: CellReader,
  table: Table,
  q: ListQuery,
  iterators: Iterators,
): { records: RenderedRecord[]; offset?: string } {
  if (q.pageSize !== undefined && (!Number.isInteger(q.pageSize) || q.pageSize < 1 || q.pageSize > 100)) {
    throw invalidRequest();
  }
  if (q.maxRecords !== undefined && (!Number.isInteger(q.maxRecords) || q.maxRecords < 1)) throw invalidRequest();
  const pageSize = q.pageSize ?? 100;
  const stringFormat = stringFormatOf(q);

  let only: Set<string> | undefined;
  if (q.fields !== undefined) {
    only = new Set();
    for (const name of q.fields) {
      const field = findField(table, name);
      if (field === undefined) throw unknownField(name);
      only.add(field.id);
    }
  }
  let sorts = (q.sort ?? []).map((s) => {
    const field = findField(table, s.field);
    if (field === undefined) throw unknownField(s.field);
    if (s.direction !== undefined && s.direction !== "asc" && s.direction !== "desc") throw invalidRequest();
    return { field, desc: s.direction === "desc" };
  });
  let view: View | undefined;
  if (q.view !== undefined) {
    view = table.views.find((v) => v.id === q.view) ?? table.views.find((v) => v.name === q.view);
    if (view === undefined) {
      throw isId(q.view, "viw")
        ? typed(422, "VIEW_ID_NOT_FOUND", `View ${q.view} not found`)
        : typed(422, "VIEW_NAME_NOT_FOUND", `View ${q.view} not found`);
    }
    // "The records will be sorted according to the order of the view unless the sort parameter is included."
    if (q.sort === undefined || q.sort.length === 0) sorts = viewSorts(table, view);
  }
  const viewFilter = view === undefined ? undefined : viewFilterOf(table, view);
  let formula: CompiledFormula | undefined;
  if (q.filterByFormula !== undefined && q.filterByFormula.trim() !== "") {
    try {
      // By name only: field ids work in formula fields' stored text, not in filterByFormula.
      formula = compileFormula(
        q.filterByFormula,
        table.fields.map((f) => ({ name: f.name, type: f.type })),
      );
    } catch (error) {
      if (error instanceof FormulaError) throw invalidFilter(error);
      throw error;
    }
  }
  const render: RenderOptions = { byFieldId: q.returnFieldsByFieldId === true, only, commentCount: q.commentCount };
  if (stringFormat !== undefined) render.stringFormat = stringFormat;
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
    // The page starts at the record the offset names, wherever the listing went since: an offset can be reused.
    position =
      it === undefined || it.tableId !== table.id || it.signature !== signature ? -1 : it.ids.indexOf(m[2] as string);
    if (it === undefined || position < 0) throw iteratorGone();
    ids = it.ids;
  } else {
    let rows = [...table.records];
    // "If set, only the records in that view will be returned"; filterByFormula then narrows them further.
    if (viewFilter !== undefined) {
      const names = viewFilter.referencedFields.map((field) => field.name);
      rows = rows.filter((r) => viewFilter.matches(reader.formulaRecord(table, r, names)));
    }
    if (formula !== undefined) {
      const f = formula;
      const names = f.referencedFields.map((field) => field.name);
      rows = rows.filter((r) => f.matches(reader.formulaRecord(table, r, names)));
    }
    if (sorts.length > 0) {
      const keyed = rows.map((r, index) => ({
        r,
        index,
        // Links sort by what they show: their records' primary values.
        keys: sorts.map((s) =>
          sortValue(
            s.field,
            s.field.type === "multipleRecordLinks"
              ? reader.formulaValue(table, s.field, r)
              : reader.read(table, s.field, r),
          ),
        ),
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

  const page: RenderedRecord[] = [];
  let next = position;
  while (next < ids.length && page.length < pageSize) {
    const record = table.byId.get(ids[next] as string);
    next++;
    if (record !== undefined) page.push(renderRecord(reader, table, record, render)); // deleted since: skipped
  }
  if (next >= ids.length) return { records: page };
  iteratorId ??= iterators.create({ tableId: table.id, signature, ids });
  return { records: page, offset: `${iteratorId}/${ids[next] as string}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Writes

/** Who writes where, with which rights: what every write checks besides the values themselves. */
export interface WriteScope {
  reader: CellReader;
  base: Base;
  table: Table;
  /** The writing user; restrictions are per user. */
  userId: string;
  /** The user's permission level on the base (record writes need "edit"; "create" may add select options). */
  level: PermissionLevel;
  typecast: boolean;
}

export interface WriteResult {
  records: StoredRecord[];
  /** Attachments written by URL, to fill in once the answer went out (fields/attachments.ts). */
  attachments: Attachment[];
}

function writeContext(scope: WriteScope): WriteContext {
  return new WriteContext({
    typecast: scope.typecast,
    source: scope.reader,
    canCreateChoices: scope.level === "create",
    checkCanCreateIn: (linked) => {
      // "…returned both when creating records directly, and when creating linked records while updating cell values"
      // (Airtable's errors page): the linked table is named, also when its primary field is the one limited.
      checkTableOperation(scope.base, linked, scope.userId, "create");
      if (!mayWriteField(scope.base, linked, linked.primaryFieldId, scope.userId)) throw createRestricted(linked);
    },
  });
}

/** The new cells of one record, validated against the table; nothing is changed yet. */
function buildCells(
  scope: WriteScope,
  fields: unknown,
  ctx: WriteContext,
  base: Map<string, unknown>,
  replace: boolean,
): Map<string, unknown> {
  const { table } = scope;
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) throw invalidRequest();
  const storedReadOnly = new Set(table.fields.filter((f) => STORED_READ_ONLY_TYPES.has(f.type)).map((f) => f.id));
  const resolved: [Field, unknown][] = [];
  for (const [key, value] of Object.entries(fields)) {
    const field = findField(table, key);
    if (field === undefined) throw unknownField(key);
    resolved.push([field, value]);
  }
  const written = new Set(resolved.map(([f]) => f.id));
  // A replace (PUT) also clears every cell it does not name: that writes those fields too. Read-only cells the
  // sandbox stores (AI text) are not the request's to clear: they stay.
  if (replace) for (const id of base.keys()) if (!storedReadOnly.has(id)) written.add(id);
  checkFieldWrites(scope.base, table, scope.userId, written);
  const cells = new Map(replace ? [...base].filter(([id]) => storedReadOnly.has(id)) : base);
  for (const [field, value] of resolved) {
    const result = writeCell(field, value, ctx, cells.get(field.id) ?? base.get(field.id));
    if (isEmptyResult(result)) cells.delete(field.id);
    else cells.set(field.id, result);
  }
  return cells;
}

function sameCell(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Marks the AI text cells of a record stale when a field their prompt uses changed ("isStale: If the cell should
 * be recomputed due to a dependency change", field model): Airtable AI regenerates them, the sandbox cannot.
 */
function markStale(table: Table, record: StoredRecord, changed: ReadonlySet<string>): void {
  for (const field of table.fields) {
    if (field.type !== "aiText") continue;
    const cell = record.cells.get(field.id) as Record<string, unknown> | undefined;
    const uses = field.options?.referencedFieldIds;
    if (cell === undefined || cell.isStale === true || !Array.isArray(uses)) continue;
    if ((uses as string[]).some((id) => changed.has(id))) record.cells.set(field.id, { ...cell, isStale: true });
  }
}

/**
 * Applies validated cells to a record: records the change time and author of every changed cell and keeps link
 * inverses in step. `record.cells` is replaced as a whole.
 */
function applyCells(
  base: Base,
  table: Table,
  record: StoredRecord,
  cells: Map<string, unknown>,
  now: string,
  by: string,
): void {
  const before = record.cells;
  record.cells = cells;
  const changed = new Set<string>();
  for (const field of table.fields) {
    if (COMPUTED_TYPES.has(field.type)) continue;
    const old = before.get(field.id);
    const neu = cells.get(field.id);
    if (sameCell(old, neu)) continue;
    touchCell(record, field.id, now, by);
    changed.add(field.id);
    if (field.type === "multipleRecordLinks") {
      syncInverse(
        base,
        field,
        record,
        (old as string[] | undefined) ?? [],
        (neu as string[] | undefined) ?? [],
        now,
        by,
      );
    }
  }
  if (changed.size > 0) markStale(table, record, changed);
}

function newRecord(table: Table, createdTime: string, createdBy: string, id = newId("rec")): StoredRecord {
  return {
    id,
    createdTime,
    autoNumber: table.nextAutoNumber++,
    createdBy,
    cells: new Map(),
    modified: new Map(),
    modifiedBy: new Map(),
    comments: [],
  };
}

/** Commits what typecast created: select options, then linked records (named by their primary text). */
function commitContext(ctx: WriteContext, createdTime: string, now: string, by: string): void {
  ctx.commitChoices();
  for (const [linked, pending] of ctx.pendingRecords) {
    const created = [...pending.values()].map((p) => {
      const record = newRecord(linked, createdTime, by, p.id);
      record.cells.set(linked.primaryFieldId, p.primaryText);
      touchCell(record, linked.primaryFieldId, now, by);
      return record;
    });
    addRecords(linked, created);
  }
}

export function createRecords(scope: WriteScope, inputs: unknown[]): WriteResult {
  checkTableOperation(scope.base, scope.table, scope.userId, "create");
  const ctx = writeContext(scope);
  const built = inputs.map((input) => {
    const fields = (input as { fields?: unknown }).fields ?? {};
    return buildCells(scope, fields, ctx, new Map(), false);
  });
  const createdTime = isoNow();
  const now = new Date().toISOString();
  commitContext(ctx, createdTime, now, scope.userId);
  const created = built.map(() => newRecord(scope.table, createdTime, scope.userId));
  addRecords(scope.table, created);
  created.forEach((record, i) =>
    applyCells(scope.base, scope.table, record, built[i] as Map<string, unknown>, now, scope.userId),
  );
  return { records: created, attachments: ctx.newAttachments };
}

export interface UpdateInput {
  id: string;
  fields: unknown;
}

/** The record `id` of `table`, to update; 422 ROW_DOES_NOT_EXIST when the table does not have it (errors.ts). */
function recordIn(table: Table, id: string): StoredRecord {
  const record = table.byId.get(id);
  if (record === undefined) throw recordNotInTable(id);
  return record;
}

export function updateRecords(scope: WriteScope, inputs: UpdateInput[], replace: boolean): WriteResult {
  const { table } = scope;
  const ctx = writeContext(scope);
  // Sequential within the request (the same id twice sees the first change), but applied only at the end.
  const scratch = new Map<string, Map<string, unknown>>();
  const order: StoredRecord[] = [];
  for (const input of inputs) {
    const record = recordIn(table, input.id);
    const current = scratch.get(record.id) ?? record.cells;
    scratch.set(record.id, buildCells(scope, input.fields, ctx, current, replace));
    order.push(record);
  }
  const now = new Date().toISOString();
  commitContext(ctx, isoNow(), now, scope.userId);
  for (const [id, cells] of scratch) applyCells(scope.base, table, recordIn(table, id), cells, now, scope.userId);
  return { records: order, attachments: ctx.newAttachments };
}

/**
 * Types an upsert cannot match on: "fieldsToMergeOn … cannot be computed fields (formulas, lookups, rollups), and must
 * be one of the following types: number, text, long text, single select, multiple select, date"
 * (https://airtable.com/developers/web/api/update-multiple-records). Multiple select is listed; links, attachments,
 * checkboxes, collaborators and barcodes are not.
 */
const MERGE_REFUSED_TYPES = new Set([
  ...COMPUTED_TYPES,
  "multipleAttachments",
  "multipleRecordLinks",
  "checkbox",
  "singleCollaborator",
  "multipleCollaborators",
  "barcode",
]);

export interface UpsertResult extends WriteResult {
  createdRecords: string[];
  updatedRecords: string[];
}

/**
 * PATCH/PUT with performUpsert: records without an id are matched on `fieldsToMergeOn`, then updated or created; a
 * record with an id is a plain update of that record. "Update multiple records"
 * (https://airtable.com/developers/web/api/update-multiple-records): "Records that include id will ignore
 * fieldsToMergeOn and behave as normal updates. If no record with the given id exists, the request will fail and
 * will not create a new record" — here 422 ROW_DOES_NOT_EXIST (recordIn, as for an update), nothing applied.
 */
export function upsertRecords(
  scope: WriteScope,
  inputs: { id?: string; fields: unknown }[],
  fieldsToMergeOn: unknown,
  replace: boolean,
): UpsertResult {
  const { table } = scope;
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
  const ctx = writeContext(scope);
  const scratch = new Map<string, Map<string, unknown>>();
  const planned: ({ kind: "update"; record: StoredRecord } | { kind: "create"; cells: Map<string, unknown> })[] = [];
  for (const input of inputs) {
    if (input.id !== undefined) {
      const record = recordIn(table, input.id);
      const current = scratch.get(record.id) ?? record.cells;
      scratch.set(record.id, buildCells(scope, input.fields, ctx, current, replace));
      planned.push({ kind: "update", record });
      continue;
    }
    const wanted = buildCells(scope, input.fields, ctx, new Map(), false);
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
      checkTableOperation(scope.base, table, scope.userId, "create");
      planned.push({ kind: "create", cells: wanted });
    } else {
      const current = scratch.get(match.id) ?? match.cells;
      scratch.set(match.id, buildCells(scope, input.fields, ctx, current, replace));
      planned.push({ kind: "update", record: match });
    }
  }
  const createdTime = isoNow();
  const now = new Date().toISOString();
  commitContext(ctx, createdTime, now, scope.userId);
  for (const [id, cells] of scratch) applyCells(scope.base, table, recordIn(table, id), cells, now, scope.userId);
  const result: UpsertResult = { records: [], attachments: ctx.newAttachments, createdRecords: [], updatedRecords: [] };
  for (const plan of planned) {
    if (plan.kind === "update") {
      result.records.push(plan.record);
      if (!result.updatedRecords.includes(plan.record.id)) result.updatedRecords.push(plan.record.id);
    } else {
      const record = newRecord(table, createdTime, scope.userId);
      addRecords(table, [record]);
      applyCells(scope.base, table, record, plan.cells, now, scope.userId);
      result.records.push(record);
      result.createdRecords.push(record.id);
    }
  }
  return result;
}

/**
 * Deletes records (all exist, or nothing is deleted: 404 NOT_FOUND naming the first missing id, errors.ts
 * deleteTargetNotFound); links to them disappear from every link cell.
 */
export function deleteRecords(scope: Pick<WriteScope, "base" | "table" | "userId">, ids: string[]): string[] {
  const { base, table } = scope;
  checkTableOperation(base, table, scope.userId, "delete");
  const missing = ids.find((id) => !table.byId.has(id));
  if (missing !== undefined) throw deleteTargetNotFound(missing);
  const gone = new Set(ids);
  removeRecords(table, gone);
  removeLinksTo(base, table.id, gone, new Date().toISOString(), scope.userId);
  return ids;
}
