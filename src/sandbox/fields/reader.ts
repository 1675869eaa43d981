/**
 * Reads cells as Airtable's API returns them (https://airtable.com/developers/web/api/field-model), computing the
 * computed ones from the record and the base:
 * - createdTime, autoNumber: from the record; lastModifiedTime: the latest change of the fields it watches
 *   (`referencedFieldIds`, all writable fields when null).
 * - multipleLookupValues: the looked-up field's values of the linked records, in link order, flattened (a lookup of
 *   a multiple select or of another lookup is one flat array); empty values are skipped.
 * - rollup: the aggregation formula (e.g. `SUM(values)`) over those values; count: how many records are linked.
 * - formula: the formula evaluated on the record, converted to its result type (see formula-result.ts).
 * - button: `{label, url}`; collaborators: `{id, email, name}`.
 * - createdBy: the collaborator who created the record; lastModifiedBy: who made the latest change among the fields
 *   it watches (all writable fields unless setup named some), as `{id, email, name}`.
 * - aiText: the stored `{state, value, isStale}` (or `{state: "error", errorType, …}`) a seed gave it.
 *
 * One reader serves one request: it memoises computed cells, so a page of records computes each lookup once, and
 * a formula that ends up depending on itself gives #ERROR! instead of recursing.
 */
import { compileFormula, type CompiledFormula, type FormulaRecord } from "../formula.ts";
import type { Base, Field, StoredRecord, Table, User } from "../store.ts";
import type { CellSource } from "./cell-source.ts";
import { renderCollaborator } from "./collaborators.ts";
import type { ResultConfig } from "./formula-result.ts";
import { linkedTableOf } from "./links.ts";
import { COMPUTED_TYPES, NUMBER_TYPES } from "./registry.ts";
import { setCell } from "../cell-object.ts";

const ERROR_CELL = { error: "#ERROR!" };

function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === "" || value === 0) return false;
  if (typeof value === "number") return !Number.isNaN(value);
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** A formula or rollup result (from the formula engine) as a cell of the result type; undefined when blank. */
export function toResultCell(value: unknown, result: ResultConfig | undefined): unknown {
  if (value === null || value === undefined || value === "") return undefined;
  if (typeof value === "object" && !Array.isArray(value)) return value; // {error: "#ERROR!"}
  if (Array.isArray(value)) return value.length === 0 ? undefined : value;
  const type = result?.type ?? "singleLineText";
  if (type === "checkbox") return truthy(value) ? true : undefined;
  if (NUMBER_TYPES.has(type)) {
    const n = typeof value === "number" ? value : typeof value === "boolean" ? (value ? 1 : 0) : Number(value);
    if (Number.isNaN(n)) return { specialValue: "NaN" };
    if (!Number.isFinite(n)) return { specialValue: n > 0 ? "Infinity" : "-Infinity" };
    return n;
  }
  if (type === "date" || type === "dateTime") {
    const t = Date.parse(String(value));
    if (Number.isNaN(t)) return ERROR_CELL;
    const iso = new Date(t).toISOString();
    return type === "date" ? iso.slice(0, 10) : iso;
  }
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** What a cell value looks like as text: links and lookups as their items' text joined with ", ". */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.error === "string") return o.error;
    if (isAiTextCell(o)) return typeof o.value === "string" ? o.value : "";
    for (const key of ["name", "text", "label", "filename", "email", "id"]) {
      if (typeof o[key] === "string") return o[key] as string;
    }
  }
  return "";
}

/** An AI text cell (`{state, isStale, value}`, field model #aitext). */
export function isAiTextCell(value: unknown): value is { state: string; isStale: boolean; value: string | null } {
  return typeof value === "object" && value !== null && "state" in value && "isStale" in value;
}

export class CellReader implements CellSource {
  readonly base: Base;
  readonly users: ReadonlyMap<string, User>;
  readonly #cache = new Map<string, unknown>();
  readonly #formulaCache = new Map<string, unknown>();
  readonly #inProgress = new Set<string>();
  readonly #compiled = new Map<Field, CompiledFormula | undefined>();

  constructor(base: Base, users: ReadonlyMap<string, User>) {
    this.base = base;
    this.users = users;
  }

  table(tableId: string): Table | undefined {
    return this.base.tables.find((t) => t.id === tableId);
  }

  record(table: Table, recordId: string): StoredRecord | undefined {
    return table.byId.get(recordId);
  }

  read(table: Table, field: Field, record: StoredRecord): unknown {
    switch (field.type) {
      case "createdTime":
        return record.createdTime;
      case "autoNumber":
        return record.autoNumber;
      case "lastModifiedTime":
        return this.#lastModified(table, field, record);
      case "createdBy":
        return record.createdBy === undefined ? undefined : renderCollaborator(this.users, record.createdBy);
      case "lastModifiedBy": {
        const by = this.#latestBy(record, field.compute?.watched, table);
        return by === undefined ? undefined : renderCollaborator(this.users, by);
      }
      case "aiText": {
        const cell = record.cells.get(field.id);
        return cell === undefined ? undefined : structuredClone(cell);
      }
      case "singleCollaborator": {
        const id = record.cells.get(field.id);
        return typeof id === "string" ? renderCollaborator(this.users, id) : undefined;
      }
      case "multipleCollaborators": {
        const ids = record.cells.get(field.id);
        return Array.isArray(ids) ? (ids as string[]).map((id) => renderCollaborator(this.users, id)) : undefined;
      }
      case "multipleLookupValues":
      case "rollup":
      case "count":
      case "formula":
      case "button":
        return this.#memo(this.#cache, record, field, () => this.#compute(table, field, record));
      default:
        return record.cells.get(field.id);
    }
  }

  formulaValue(table: Table, field: Field, record: StoredRecord): unknown {
    if (field.type === "multipleRecordLinks") {
      const linked = linkedTableOf(this.base, field);
      const ids = (record.cells.get(field.id) as string[] | undefined) ?? [];
      if (linked === undefined) return undefined;
      const names = ids.flatMap((id) => {
        const other = linked.byId.get(id);
        return other === undefined ? [] : [this.primaryText(linked, other)];
      });
      return names.length === 0 ? undefined : names;
    }
    if (field.type === "multipleLookupValues") {
      return this.#memo(this.#formulaCache, record, field, () =>
        this.#lookupValues(table, field, record, (t, f, r) => this.formulaValue(t, f, r)),
      );
    }
    return this.read(table, field, record);
  }

  primaryText(table: Table, record: StoredRecord): string {
    const primary = table.fields.find((f) => f.id === table.primaryFieldId);
    if (primary === undefined) return "";
    return valueText(this.formulaValue(table, primary, record));
  }

  /** The record as the formula engine sees it, with only the named fields filled in. */
  formulaRecord(table: Table, record: StoredRecord, names: Iterable<string>): FormulaRecord {
    const fields: Record<string, unknown> = {};
    const fieldModifiedTimes: Record<string, string> = {};
    for (const name of names) {
      const field = table.fields.find((f) => f.name === name);
      if (field === undefined) continue;
      const value = this.formulaValue(table, field, record);
      if (value !== undefined) setCell(fields, field.name, value);
      const changed = record.modified.get(field.id);
      if (changed !== undefined) setCell(fieldModifiedTimes, field.name, changed);
    }
    const out: FormulaRecord = { id: record.id, createdTime: record.createdTime, fields, fieldModifiedTimes };
    const last = this.#latest(record, undefined, table);
    if (last !== undefined) out.lastModifiedTime = last;
    return out;
  }

  #memo(cache: Map<string, unknown>, record: StoredRecord, field: Field, compute: () => unknown): unknown {
    const key = `${record.id}\u0000${field.id}`;
    if (cache.has(key)) return cache.get(key);
    if (this.#inProgress.has(key)) return ERROR_CELL; // a computed field that depends on itself
    this.#inProgress.add(key);
    try {
      const value = compute();
      cache.set(key, value);
      return value;
    } finally {
      this.#inProgress.delete(key);
    }
  }

  #link(table: Table, field: Field): { linkField: Field; linked: Table } | undefined {
    const linkField = table.fields.find((f) => f.id === field.options?.recordLinkFieldId);
    const linked = linkField === undefined ? undefined : linkedTableOf(this.base, linkField);
    return linkField === undefined || linked === undefined ? undefined : { linkField, linked };
  }

  #linkedRecords(record: StoredRecord, linkField: Field, linked: Table): StoredRecord[] {
    const ids = (record.cells.get(linkField.id) as string[] | undefined) ?? [];
    return ids.flatMap((id) => {
      const other = linked.byId.get(id);
      return other === undefined ? [] : [other];
    });
  }

  #lookupValues(
    table: Table,
    field: Field,
    record: StoredRecord,
    readTarget: (t: Table, f: Field, r: StoredRecord) => unknown,
  ): unknown[] | undefined {
    const link = this.#link(table, field);
    const target = link?.linked.fields.find((f) => f.id === field.options?.fieldIdInLinkedTable);
    if (link === undefined || target === undefined) return undefined;
    const out: unknown[] = [];
    for (const other of this.#linkedRecords(record, link.linkField, link.linked)) {
      const value = readTarget(link.linked, target, other);
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) out.push(...(value as unknown[]));
      else out.push(value);
    }
    return out.length === 0 ? undefined : out;
  }

  #compute(table: Table, field: Field, record: StoredRecord): unknown {
    switch (field.type) {
      case "multipleLookupValues":
        return this.#lookupValues(table, field, record, (t, f, r) => this.read(t, f, r));
      case "count": {
        const link = this.#link(table, field);
        return link === undefined ? undefined : this.#linkedRecords(record, link.linkField, link.linked).length;
      }
      case "rollup": {
        const values = this.#lookupValues(table, field, record, (t, f, r) => this.formulaValue(t, f, r)) ?? [];
        const compiled = this.#compile(field, () => [{ name: "values", type: "multipleLookupValues" }]);
        if (compiled === undefined) return ERROR_CELL;
        const rec: FormulaRecord = { id: record.id, createdTime: record.createdTime, fields: { values } };
        return toResultCell(compiled.evaluate(rec), field.options?.result as ResultConfig | undefined);
      }
      case "formula": {
        const compiled = this.#compile(field, () =>
          table.fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
        );
        if (compiled === undefined) return ERROR_CELL;
        const rec = this.formulaRecord(
          table,
          record,
          compiled.referencedFields.map((f) => f.name),
        );
        return toResultCell(compiled.evaluate(rec), field.options?.result as ResultConfig | undefined);
      }
      case "button": {
        const button = field.compute?.button;
        if (button === undefined) return undefined;
        let url: string | null = null;
        if (button.url !== undefined) {
          const compiled = this.#compile(field, () =>
            table.fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
          );
          const rec =
            compiled === undefined
              ? undefined
              : this.formulaRecord(
                  table,
                  record,
                  compiled.referencedFields.map((f) => f.name),
                );
          const value = compiled === undefined || rec === undefined ? null : compiled.evaluate(rec);
          url = typeof value === "string" && value !== "" ? value : null;
        }
        return { label: button.label, url };
      }
      default:
        return undefined;
    }
  }

  #compile(field: Field, fields: () => { name: string; type: string; id?: string }[]): CompiledFormula | undefined {
    if (this.#compiled.has(field)) return this.#compiled.get(field);
    const text =
      field.type === "rollup"
        ? field.compute?.rollup
        : field.type === "button"
          ? field.compute?.button?.url
          : (field.options?.formula as string | undefined);
    let compiled: CompiledFormula | undefined;
    try {
      compiled = text === undefined ? undefined : compileFormula(text, fields());
    } catch {
      compiled = undefined; // an invalid formula: every cell is #ERROR! (isValid is false in the schema)
    }
    this.#compiled.set(field, compiled);
    return compiled;
  }

  /** The latest change among the watched fields (all writable fields when none are named). */
  #latest(record: StoredRecord, watched: readonly string[] | undefined, table: Table): string | undefined {
    const ids =
      watched !== undefined && watched.length > 0
        ? watched
        : table.fields.filter((f) => !COMPUTED_TYPES.has(f.type)).map((f) => f.id);
    let latest: string | undefined;
    for (const id of ids) {
      const at = record.modified.get(id);
      if (at !== undefined && (latest === undefined || at > latest)) latest = at;
    }
    return latest;
  }

  /** Who made the latest change among the watched fields (all writable fields when none are named). */
  #latestBy(record: StoredRecord, watched: readonly string[] | undefined, table: Table): string | undefined {
    const ids =
      watched !== undefined && watched.length > 0
        ? watched
        : table.fields.filter((f) => !COMPUTED_TYPES.has(f.type)).map((f) => f.id);
    let latest: string | undefined;
    let by: string | undefined;
    for (const id of ids) {
      const at = record.modified.get(id);
      if (at !== undefined && (latest === undefined || at > latest)) {
        latest = at;
        by = record.modifiedBy.get(id);
      }
    }
    return by;
  }

  #lastModified(table: Table, field: Field, record: StoredRecord): string | undefined {
    const watched = field.options?.referencedFieldIds;
    return this.#latest(record, Array.isArray(watched) ? (watched as string[]) : undefined, table);
  }
}

/** The display text of a cell (for sorting and cellFormat=string of lists). */
export function cellText(value: unknown): string {
  return valueText(value);
}
