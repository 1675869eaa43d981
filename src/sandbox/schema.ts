/**
 * Building tables and fields, for the meta API (create table, create field) and for setup (createBase): names are
 * checked (unique per table, case-insensitively), options normalised per type (fields/definitions.ts), and a link
 * field gets its inverse field on the linked table, named after the linking table ("Contacts", then "Contacts 2"
 * if taken), as Airtable creates it. A table linked to itself gets no inverse field.
 *
 * Setup may define computed fields that use fields defined later or created as inverses (a count of a table's
 * inverse link): createBase builds all tables' plain fields and links first, then the computed fields, and keeps
 * the fields in the order they were given (inverse fields last).
 */
import { invalidRequest, typed } from "./errors.ts";
import { onlyKeys } from "./context.ts";
import { formulaWithIds, normaliseFieldDef } from "./fields/definitions.ts";
import { compileFormula, FormulaError } from "./formula.ts";
import { COMPUTED_TYPES, NOT_PRIMARY_TYPES } from "./fields/registry.ts";
import { newId } from "./ids.ts";
import {
  emptyTable,
  findField,
  newView,
  VIEW_TYPES,
  type Field,
  type FieldDef,
  type Table,
  type TableDef,
  type View,
  type ViewDef,
} from "./store.ts";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidRequest();
  return value;
}

/**
 * A table's or field's description: "If present, must be a string no longer than 20,000 characters" (Airtable's
 * update-table and update-field pages; create-table: "must be a non-empty string no longer than 20,000 characters",
 * https://airtable.com/developers/web/api/create-table). Counted in code points, as the sandbox counts text cells.
 * Refused with 422 INVALID_REQUEST_UNKNOWN, the errors page's answer for a body "not understood or not permitted"
 * (the exact answer is not documented). The create-field page states no limit: not checked there.
 */
export const MAX_DESCRIPTION_CHARACTERS = 20_000;

/** Throws 422 INVALID_REQUEST_UNKNOWN for a description over the limit, or empty where `nonEmpty` (see above). */
export function checkDescription(description: string, nonEmpty: boolean): void {
  if ([...description].length > MAX_DESCRIPTION_CHARACTERS || (nonEmpty && description === "")) {
    throw invalidRequest();
  }
}

function fieldNameError(name: string): never {
  throw typed(
    422,
    "DUPLICATE_OR_EMPTY_FIELD_NAME",
    `Field names must be unique and non-empty (case-insensitively): ${JSON.stringify(name)}`,
  );
}

export function checkFieldName(table: Pick<Table, "fields">, name: string, except?: Field): void {
  if (name.trim() === "") fieldNameError(name);
  const lower = name.trim().toLowerCase();
  if (table.fields.some((f) => f !== except && f.name.toLowerCase() === lower)) fieldNameError(name);
}

/** A field built from a definition, and the table that must get its inverse field (links only). */
interface BuiltField {
  field: Field;
  linked?: Table;
}

function buildField(def: unknown, table: Table, tables: readonly Table[], forApi: boolean): BuiltField {
  if (!isObject(def)) throw invalidRequest();
  onlyKeys(def, forApi ? ["name", "type", "description", "options"] : ["id", "name", "type", "description", "options"]);
  if (typeof def.name !== "string" || typeof def.type !== "string") throw invalidRequest();
  const description = optionalString(def, "description");
  checkFieldName(table, def.name);
  const normalised = normaliseFieldDef(def as unknown as FieldDef, { forApi, table, tables });
  const field: Field = {
    id: typeof def.id === "string" ? def.id : newId("fld"),
    name: def.name.trim(),
    type: def.type,
  };
  if (description !== undefined && description !== "") field.description = description;
  if (normalised.options !== undefined) field.options = normalised.options;
  if (normalised.compute !== undefined) field.compute = normalised.compute;
  return normalised.linkedTable === undefined ? { field } : { field, linked: normalised.linkedTable };
}

/** Creates the inverse of a link field on the linked table (none for a table linked to itself). */
function addInverseField(source: Table, built: BuiltField): void {
  const linked = built.linked;
  if (linked === undefined || linked === source) return;
  let name = source.name;
  for (let n = 2; linked.fields.some((f) => f.name.toLowerCase() === name.toLowerCase()); n++) {
    name = `${source.name} ${n}`;
  }
  const inverse: Field = {
    id: newId("fld"),
    name,
    type: "multipleRecordLinks",
    options: {
      linkedTableId: source.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: built.field.id,
    },
  };
  built.field.options = { ...built.field.options, inverseLinkFieldId: inverse.id };
  linked.fields.push(inverse);
}

/** Meta API create field: adds the field (and a link's inverse) to the table. */
export function addField(def: unknown, table: Table, tables: readonly Table[]): Field {
  const built = buildField(def, table, tables, true);
  table.fields.push(built.field);
  addInverseField(table, built);
  return built.field;
}

function checkTableName(name: unknown, existing: readonly Table[]): string {
  if (typeof name !== "string" || name.trim() === "") {
    throw typed(422, "INVALID_TABLE_NAME", "Table names must be non-empty");
  }
  const trimmed = name.trim();
  if (existing.some((t) => t.name.toLowerCase() === trimmed.toLowerCase())) {
    throw typed(422, "DUPLICATE_TABLE_NAME", `A table named ${JSON.stringify(trimmed)} already exists`);
  }
  return trimmed;
}

/**
 * Meta API create table: every field is validated before anything changes (inverse fields on other tables are
 * added only once the whole table is valid). The first field is the primary field.
 */
export function buildApiTable(def: unknown, existing: readonly Table[]): Table {
  if (!isObject(def)) throw invalidRequest();
  onlyKeys(def, ["name", "description", "fields"]);
  const table = emptyTable(newId("tbl"), checkTableName(def.name, existing));
  const description = optionalString(def, "description");
  if (description !== undefined) {
    checkDescription(description, true); // "" is refused here: a new table's description has text
    table.description = description;
  }
  if (!Array.isArray(def.fields) || def.fields.length === 0) throw invalidRequest();
  const built: BuiltField[] = [];
  for (const fieldDef of def.fields) {
    const one = buildField(fieldDef, table, [...existing, table], true);
    table.fields.push(one.field);
    built.push(one);
  }
  const primary = table.fields[0] as Field;
  if (NOT_PRIMARY_TYPES.has(primary.type)) {
    throw typed(422, "INVALID_PRIMARY_FIELD_TYPE", `Field type ${primary.type} cannot be the primary field`);
  }
  table.primaryFieldId = primary.id;
  for (const one of built) addInverseField(table, one);
  return table;
}

/** Setup: builds all tables of a base at once (see the module comment); seed records are not added here. */
export function buildSetupTables(defs: readonly Omit<TableDef, "records">[]): Table[] {
  const tables: Table[] = [];
  for (const def of defs) {
    if (!isObject(def)) throw invalidRequest();
    onlyKeys(def, ["id", "name", "description", "fields", "views", "typecast"]);
    const table = emptyTable(typeof def.id === "string" ? def.id : newId("tbl"), checkTableName(def.name, tables));
    if (typeof def.description === "string" && def.description !== "") table.description = def.description;
    for (const v of def.views ?? []) {
      if (!isObject(v) || typeof v.name !== "string") throw invalidRequest();
      onlyKeys(v as unknown as Record<string, unknown>, ["id", "name", "type", "filter", "sort", "hiddenFields"]);
      if (v.type !== undefined && !(VIEW_TYPES as readonly string[]).includes(v.type)) {
        throw new Error(`view ${v.name}: type must be one of ${VIEW_TYPES.join(", ")}`);
      }
      table.views.push(newView(v.name, v.id, v.type));
    }
    if (!Array.isArray(def.fields) || def.fields.length === 0) throw invalidRequest();
    tables.push(table);
  }
  const inverses: [Table, BuiltField][] = [];
  defs.forEach((def, i) => {
    const table = tables[i] as Table;
    for (const fieldDef of def.fields) {
      if (COMPUTED_TYPES.has(fieldDef.type)) continue;
      const built = buildField(fieldDef, table, tables, false);
      table.fields.push(built.field);
      if (built.linked !== undefined) inverses.push([table, built]);
    }
  });
  for (const [table, built] of inverses) addInverseField(table, built);
  defs.forEach((def, i) => {
    const table = tables[i] as Table;
    for (const fieldDef of def.fields) {
      if (COMPUTED_TYPES.has(fieldDef.type)) table.fields.push(buildField(fieldDef, table, tables, false).field);
    }
    // The given order, then the inverse fields created for other tables' links.
    const position = (f: Field): number => {
      const at = def.fields.findIndex((d) => d.name.trim() === f.name);
      return at < 0 ? def.fields.length : at;
    };
    table.fields = table.fields
      .map((f, created) => ({ f, created }))
      .sort((a, b) => position(a.f) - position(b.f) || a.created - b.created)
      .map((x) => x.f);
    table.primaryFieldId = (table.fields[0] as Field).id;
    (def.views ?? []).forEach((v, at) => configureView(table, table.views[at + 1] as View, v));
  });
  return tables;
}

/**
 * A seeded view's filter, sort and hidden fields. The filter is an Airtable formula over the table's fields, kept with its field
 * references as ids (a renamed field keeps working, as in Airtable); the sort names fields by name or id.
 */
function configureView(table: Table, view: View, def: ViewDef): void {
  if (def.filter !== undefined) {
    if (typeof def.filter !== "string" || def.filter.trim() === "") throw new Error(`view ${def.name}: empty filter`);
    try {
      compileFormula(
        def.filter,
        table.fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
      );
    } catch (error) {
      if (error instanceof FormulaError) {
        throw new Error(`view ${def.name}: invalid filter: ${error.message}`, { cause: error });
      }
      throw error;
    }
    view.filter = formulaWithIds(def.filter, table.fields).formula;
  }
  if (def.sort !== undefined) {
    view.sort = def.sort.map((s) => {
      const field = findField(table, s.field);
      if (field === undefined) throw new Error(`view ${def.name}: unknown sort field ${JSON.stringify(s.field)}`);
      if (s.direction !== undefined && s.direction !== "asc" && s.direction !== "desc") {
        throw new Error(`view ${def.name}: sort direction must be asc or desc`);
      }
      return { fieldId: field.id, direction: s.direction ?? "asc" };
    });
  }
  if (def.hiddenFields !== undefined) {
    // Airtable's API shows which fields a view shows for grid views only (visibleFieldIds), so only they hide here.
    if (view.type !== "grid") throw new Error(`view ${def.name}: hiddenFields is modelled for grid views only`);
    if (!Array.isArray(def.hiddenFields)) throw new Error(`view ${def.name}: hiddenFields must be a list of fields`);
    view.hiddenFieldIds = def.hiddenFields.map((name) => {
      const field = findField(table, name);
      if (field === undefined) throw new Error(`view ${def.name}: unknown hidden field ${JSON.stringify(name)}`);
      if (field.id === table.primaryFieldId) {
        throw new Error(`view ${def.name}: the primary field ${JSON.stringify(field.name)} cannot be hidden`);
      }
      return field.id;
    });
  }
}
