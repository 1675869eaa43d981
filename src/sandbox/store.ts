/**
 * The sandbox's state: users, tokens, bases with their tables, fields, views, records and comments. Plain in-memory
 * objects; every mutation goes through the route handlers (over HTTP) or the setup helpers in index.ts.
 * Cells are keyed by field id so that renaming a field (meta API) keeps the data, as in Airtable.
 */
import { ApiError, modelNotFound } from "./errors.ts";
import { newId } from "./ids.ts";

/**
 * A user's access to a base, as list bases reports it (https://airtable.com/developers/web/api/list-bases):
 * "none" lists the base but opens nothing of it (e.g. interface-only access), "read" reads, "comment" also
 * comments, "edit" also writes records, "create" (a creator/owner) also changes the schema and select options.
 */
export type PermissionLevel = "none" | "read" | "comment" | "edit" | "create";
const LEVEL_RANK: Record<PermissionLevel, number> = { none: 0, read: 1, comment: 2, edit: 3, create: 4 };

export function atLeast(level: PermissionLevel, needed: PermissionLevel): boolean {
  return LEVEL_RANK[level] >= LEVEL_RANK[needed];
}

export const ALL_SCOPES = [
  "data.records:read",
  "data.records:write",
  "data.recordComments:read",
  "data.recordComments:write",
  "schema.bases:read",
  "schema.bases:write",
  "user.email:read",
] as const;

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface Choice {
  id: string;
  name: string;
  color?: string;
}

export interface Field {
  id: string;
  name: string;
  type: string;
  description?: string;
  /** Rendered by the meta API as is: Airtable's documented options for the type. */
  options?: Record<string, unknown>;
  /** The sandbox's own configuration of a computed field that Airtable does not show in `options`. */
  compute?: FieldCompute;
}

/** Parts of a computed field's configuration that the meta API does not render (Airtable does not either). */
export interface FieldCompute {
  /** rollup: the aggregation formula over `values`, e.g. "SUM(values)". */
  rollup?: string;
  /** button: its label and an optional URL formula (field references by id). */
  button?: { label: string; url?: string };
  /**
   * lastModifiedBy: the fields whose changes it shows (all writable fields when absent). Airtable's UI can limit the
   * field to "specific editable fields", but the field model documents no options for it, so the meta API shows none.
   */
  watched?: string[];
}

/** A view's type, as the view model lists them ("Get view metadata": Gantt views are "block"). */
export const VIEW_TYPES = ["grid", "form", "calendar", "gallery", "kanban", "timeline", "block"] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

export interface View {
  id: string;
  name: string;
  type: ViewType;
  /**
   * A grid view's hidden fields (ids). The meta API shows the others as `visibleFieldIds` when asked with
   * `include=visibleFieldIds`, on grid views only ("Get base schema" and "Get view metadata": "Available on grid views
   * only: list of visible (non-hidden) field IDs"). A field created later is visible.
   */
  hiddenFieldIds?: string[];
  /**
   * The view's filter, as an Airtable formula over the table's fields (by name): list records with `view` returns
   * only the records it keeps. Not shown by the meta API (Airtable's view metadata has no filters either).
   */
  filter?: string;
  /** The view's sort, by field id; without one the view shows records in creation order. */
  sort?: { fieldId: string; direction: "asc" | "desc" }[];
}

/**
 * A view for setup (createBase): a name, optionally its type (grid when absent), a filter formula, a sort and, for a
 * grid view, the fields it hides (by name or id; not the primary field, which a grid view always shows).
 */
export interface ViewDef {
  id?: string;
  name: string;
  type?: ViewType;
  hiddenFields?: string[];
  filter?: string;
  sort?: { field: string; direction?: "asc" | "desc" }[];
}

export interface Comment {
  id: string;
  authorId: string;
  text: string;
  createdTime: string;
  lastUpdatedTime: string | null;
  /** A threaded reply's parent comment ("parentCommentId" in Airtable's comment object). */
  parentCommentId?: string;
}

export interface StoredRecord {
  id: string;
  createdTime: string;
  autoNumber: number;
  /** The user who created the record (createdBy fields); absent in data saved before the sandbox kept it. */
  createdBy?: string;
  /** Non-empty cells of writable fields keyed by field id, in Airtable's JSON cell format (computed fields are
   * computed when read). */
  cells: Map<string, unknown>;
  /** When each writable field's cell last changed (ISO 8601 with ms), for lastModifiedTime fields. */
  modified: Map<string, string>;
  /** Who last changed each writable field's cell (user ids, keyed like `modified`), for lastModifiedBy fields. */
  modifiedBy: Map<string, string>;
  /** Newest last. */
  comments: Comment[];
}

export interface Table {
  id: string;
  name: string;
  description?: string;
  primaryFieldId: string;
  fields: Field[];
  views: View[];
  /** Creation order, which is also the default ("Grid view") order. Change it through addRecords/removeRecords,
   * which keep `byId` in step. */
  records: StoredRecord[];
  byId: Map<string, StoredRecord>;
  nextAutoNumber: number;
}

export interface Base {
  id: string;
  name: string;
  tables: Table[];
  /** Users who can see the base, and how much they may do. */
  access: Map<string, PermissionLevel>;
  /** Field- and table-level edit restrictions (see permissions.ts). */
  restrictions: Restriction[];
}

/**
 * A field- or table-level permission that limits one user, as Airtable's "limit who can edit this field" and
 * "limit who can create/delete records" settings do: the operations named are refused to that user with 403
 * INVALID_PERMISSIONS, the rest of the base stays as the base permission level allows.
 */
export interface Restriction {
  userId: string;
  tableId: string;
  /** A field restriction: writing this field is refused. Without it, a table restriction. */
  fieldId?: string;
  /** Table restrictions: which record operations are refused ("update" locks every field). */
  operations: ("create" | "update" | "delete")[];
}

export interface Token {
  value: string;
  userId: string;
  scopes: string[];
  kind: "pat" | "oauth";
  /** ms since epoch; OAuth access tokens only. */
  expiresAt?: number;
  /** The OAuth integration (client id) that was given this token; OAuth access tokens only. */
  clientId?: string;
  /**
   * The bases this token reaches, when the user picked some: the bases added on Airtable's consent page for an OAuth
   * integration ("Add a base"), or to a personal access token. Absent: every base the user can see ("All current and
   * future bases in all current and future workspaces"). A base outside it is not listed and opens nothing, as one
   * the user cannot see (https://airtable.com/developers/web/api/scopes: a token "would not be able to use the 'Read
   * records' endpoint to access other bases that have not been added to the token").
   */
  bases?: string[];
}

/** Whether the token reaches this base (see Token.bases); the user's own access is checked separately. */
export function tokenReaches(token: Token, baseId: string): boolean {
  return token.bases === undefined || token.bases.includes(baseId);
}

/** Field definitions for setup (createBase) and for the meta API. */
export interface FieldDef {
  id?: string;
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown>;
}

export interface TableDef {
  id?: string;
  name: string;
  description?: string;
  /** The first field is the primary field. */
  fields: FieldDef[];
  /** Extra views besides the default "Grid view", optionally with a filter formula and a sort. */
  views?: ViewDef[];
  /**
   * Seed records, cells keyed by field name or id; validated like an API create (by the base's owner, who is then
   * their creator). AI text and sync sources, read-only through the API, may be seeded too: AI text as a string
   * (generated text) or the cell, a sync source as the name of one of its field's choices.
   */
  records?: Record<string, unknown>[];
  /** Whether the seed records are written with `typecast` (links by primary value, new select options). */
  typecast?: boolean;
}

export interface BaseInfo {
  id: string;
  name: string;
  tables: {
    id: string;
    name: string;
    primaryFieldId: string;
    fields: { id: string; name: string; type: string }[];
    views: { id: string; name: string }[];
  }[];
}

/** Airtable's timestamps: ISO 8601 in UTC with milliseconds (createdTime has them zeroed). */
export function isoNow(now = Date.now()): string {
  return new Date(Math.floor(now / 1000) * 1000).toISOString();
}

export class Store {
  readonly users = new Map<string, User>();
  readonly tokens = new Map<string, Token>();
  readonly bases = new Map<string, Base>();

  userByIdOrEmail(key: string): User | undefined {
    const byId = this.users.get(key);
    if (byId !== undefined) return byId;
    const lower = key.toLowerCase();
    for (const user of this.users.values()) if (user.email.toLowerCase() === lower) return user;
    return undefined;
  }

  /** Bases the token's user can see and the token reaches (Token.bases), in creation order. */
  basesOf(token: Token): { base: Base; level: PermissionLevel }[] {
    const out: { base: Base; level: PermissionLevel }[] = [];
    for (const base of this.bases.values()) {
      const level = base.access.get(token.userId);
      if (level !== undefined && tokenReaches(token, base.id)) out.push({ base, level });
    }
    return out;
  }

  /** The base and the user's level on it; unknown and unshared bases look the same (403), as in Airtable, and so
   * does a base the user is listed on with permission level "none" (it shows in list bases, nothing opens) and a
   * base the token was not given (Token.bases). */
  baseFor(baseId: string, token: Token): { base: Base; level: PermissionLevel } {
    const base = this.bases.get(baseId);
    const level = base?.access.get(token.userId);
    if (base === undefined || level === undefined || level === "none" || !tokenReaches(token, baseId)) {
      throw modelNotFound();
    }
    return { base, level };
  }
}

/** A table by id or by exact name; unknown → the same 403 as an unknown base (what tokens get from Airtable). */
export function findTable(base: Base, idOrName: string): Table {
  const table = base.tables.find((t) => t.id === idOrName) ?? base.tables.find((t) => t.name === idOrName);
  if (table === undefined) throw modelNotFound();
  return table;
}

/** A field by id or exact name (Airtable matches names exactly, case included). */
export function findField(table: Table, idOrName: string): Field | undefined {
  return table.fields.find((f) => f.id === idOrName) ?? table.fields.find((f) => f.name === idOrName);
}

export function findRecord(base: Base, recordId: string): { table: Table; record: StoredRecord } | undefined {
  for (const table of base.tables) {
    const record = table.byId.get(recordId);
    if (record !== undefined) return { table, record };
  }
  return undefined;
}

export function findTableById(base: Base, tableId: string): Table | undefined {
  return base.tables.find((t) => t.id === tableId);
}

/** The table whose fields include this one. */
export function tableOfField(base: Base, field: Field): Table | undefined {
  return base.tables.find((t) => t.fields.includes(field));
}

export function addRecords(table: Table, records: StoredRecord[]): void {
  for (const record of records) {
    table.records.push(record);
    table.byId.set(record.id, record);
  }
}

export function removeRecords(table: Table, ids: Set<string>): void {
  table.records = table.records.filter((r) => !ids.has(r.id));
  for (const id of ids) table.byId.delete(id);
}

export function emptyTable(id: string, name: string): Table {
  return {
    id,
    name,
    primaryFieldId: "",
    fields: [],
    views: [newView("Grid view")],
    records: [],
    byId: new Map(),
    nextAutoNumber: 1,
  };
}

export function newView(name: string, id?: string, type: ViewType = "grid"): View {
  return { id: id ?? newId("viw"), name, type };
}

/** Records that `by` changed the cell of `fieldId` at `now` (lastModifiedTime and lastModifiedBy fields). */
export function touchCell(record: StoredRecord, fieldId: string, now: string, by: string | undefined): void {
  record.modified.set(fieldId, now);
  if (by === undefined) record.modifiedBy.delete(fieldId);
  else record.modifiedBy.set(fieldId, by);
}

export function baseInfo(base: Base): BaseInfo {
  return {
    id: base.id,
    name: base.name,
    tables: base.tables.map((t) => ({
      id: t.id,
      name: t.name,
      primaryFieldId: t.primaryFieldId,
      fields: t.fields.map((f) => ({ id: f.id, name: f.name, type: f.type })),
      views: t.views.map((v) => ({ id: v.id, name: v.name })),
    })),
  };
}

export function assertNever(value: never): never {
  throw new ApiError(500, { error: { type: "SERVER_ERROR", message: `unexpected ${String(value)}` } });
}
