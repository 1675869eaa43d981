/**
 * The sandbox's state: users, tokens, bases with their tables, fields, views, records and comments. Plain in-memory
 * objects; every mutation goes through the route handlers (over HTTP) or the setup helpers in index.ts.
 * Cells are keyed by field id so that renaming a field (meta API) keeps the data, as in Airtable.
 */
import { ApiError, modelNotFound } from "./errors.ts";
import { newId } from "./ids.ts";

export type PermissionLevel = "read" | "comment" | "edit" | "create";
const LEVEL_RANK: Record<PermissionLevel, number> = { read: 1, comment: 2, edit: 3, create: 4 };

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
  options?: Record<string, unknown>;
}

export interface View {
  id: string;
  name: string;
  type: string;
}

export interface Comment {
  id: string;
  authorId: string;
  text: string;
  createdTime: string;
  lastUpdatedTime: string | null;
}

export interface StoredRecord {
  id: string;
  createdTime: string;
  autoNumber: number;
  /** Non-empty cells keyed by field id, in Airtable's JSON cell format. */
  cells: Map<string, unknown>;
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
  /** Creation order, which is also the default ("Grid view") order. */
  records: StoredRecord[];
  nextAutoNumber: number;
}

export interface Base {
  id: string;
  name: string;
  tables: Table[];
  /** Users who can see the base, and how much they may do. */
  access: Map<string, PermissionLevel>;
}

export interface Token {
  value: string;
  userId: string;
  scopes: string[];
  kind: "pat" | "oauth";
  /** ms since epoch; OAuth access tokens only. */
  expiresAt?: number;
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
  /** Extra views besides the default "Grid view". */
  views?: { id?: string; name: string }[];
  /** Seed records, cells keyed by field name or id; validated like an API create without typecast. */
  records?: Record<string, unknown>[];
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

  /** Bases the user can see, in creation order. */
  basesOf(userId: string): { base: Base; level: PermissionLevel }[] {
    const out: { base: Base; level: PermissionLevel }[] = [];
    for (const base of this.bases.values()) {
      const level = base.access.get(userId);
      if (level !== undefined) out.push({ base, level });
    }
    return out;
  }

  /** The base and the user's level on it; unknown and unshared bases look the same (403), as in Airtable. */
  baseFor(baseId: string, userId: string): { base: Base; level: PermissionLevel } {
    const base = this.bases.get(baseId);
    const level = base?.access.get(userId);
    if (base === undefined || level === undefined) throw modelNotFound();
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
    const record = table.records.find((r) => r.id === recordId);
    if (record !== undefined) return { table, record };
  }
  return undefined;
}

export function newView(name: string, id?: string): View {
  return { id: id ?? newId("viw"), name, type: "grid" };
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
