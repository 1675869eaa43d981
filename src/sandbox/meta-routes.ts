/**
 * The meta API: whoami, list bases, base schema, create/update tables and fields.
 *
 * Fields are described with their options as the field model documents them (fields/definitions.ts); creating a
 * link field also creates its inverse field on the linked table (schema.ts).
 *
 * Error choices: unknown or unshared base, unknown table, missing scope → 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND
 * (as for records); schema changes need the "create" permission level (403 INVALID_PERMISSIONS otherwise);
 * invalid definitions → 422 with a specific type (DUPLICATE_OR_EMPTY_FIELD_NAME, DUPLICATE_TABLE_NAME,
 * UNSUPPORTED_FIELD_TYPE, INVALID_FIELD_TYPE_OPTIONS) or INVALID_REQUEST_UNKNOWN for unknown keys / wrong types, and
 * for a table's or field's description over 20,000 characters (an empty one on create table; schema.ts
 * checkDescription, from Airtable's create-table, update-table and update-field pages).
 * The specific type names are the sandbox's best guess: Airtable does not publish them.
 */
import { invalidRequest, typed } from "./errors.ts";
import { isId } from "./ids.ts";
import { addField, buildApiTable, checkDescription, checkFieldName } from "./schema.ts";
import {
  json,
  jsonBody,
  onlyKeys,
  openBase,
  principalOf,
  requireScope,
  type Reply,
  type RequestCtx,
  type RouteMatch,
} from "./context.ts";
import { findField, findTable, type Field, type Table } from "./store.ts";

function renderField(field: Field): Record<string, unknown> {
  const out: Record<string, unknown> = { id: field.id, name: field.name, type: field.type };
  if (field.description !== undefined) out.description = field.description;
  if (field.options !== undefined) out.options = structuredClone(field.options);
  return out;
}

/**
 * A table as the meta API shows it. A view is id, name, type (its filter and sort are not part of it); with
 * `visibleFieldIds` (the `include=visibleFieldIds` query) a grid view also lists the fields it does not hide, in the
 * table's order, and other views get nothing: "Available on grid views only" ("Get base schema", "Get view
 * metadata", https://airtable.com/developers/web/api/get-view-metadata).
 */
export function renderTable(table: Table, visibleFieldIds = false): Record<string, unknown> {
  const out: Record<string, unknown> = { id: table.id, name: table.name, primaryFieldId: table.primaryFieldId };
  if (table.description !== undefined) out.description = table.description;
  out.fields = table.fields.map(renderField);
  out.views = table.views.map((v) => {
    const shown: Record<string, unknown> = { id: v.id, name: v.name, type: v.type };
    if (visibleFieldIds && v.type === "grid") {
      const hidden = new Set(v.hiddenFieldIds);
      shown.visibleFieldIds = table.fields.filter((f) => !hidden.has(f.id)).map((f) => f.id);
    }
    return shown;
  });
  return out;
}

/**
 * `GET /v0/meta/whoami` (Airtable, "Get user ID & scopes"): the user's id; `email` only with `user.email:read`;
 * `scopes` "only returned if accessing via an OAuth access token", so not for a personal access token.
 */
function whoami(ctx: RequestCtx): Reply {
  if ([...ctx.query.keys()].length > 0) throw invalidRequest();
  const { token, user } = principalOf(ctx);
  const out: Record<string, unknown> = { id: user.id };
  if (token.kind === "oauth") out.scopes = [...token.scopes];
  if (token.scopes.includes("user.email:read")) out.email = user.email;
  return json(out);
}

function listBases(ctx: RequestCtx): Reply {
  requireScope(ctx, "schema.bases:read");
  let start = 0;
  const all = ctx.env.store.basesOf(principalOf(ctx).token);
  for (const [key, value] of ctx.query) {
    if (key !== "offset") throw invalidRequest();
    start = all.findIndex((b) => b.base.id === value);
    if (start < 0) throw typed(422, "INVALID_OFFSET_VALUE", `The value of offset ${value} is invalid`);
  }
  const size = ctx.env.basesPageSize;
  const page = all.slice(start, start + size);
  const next = all[start + size];
  const out: Record<string, unknown> = {
    bases: page.map(({ base, level }) => ({ id: base.id, name: base.name, permissionLevel: level })),
  };
  if (next !== undefined) out.offset = next.base.id;
  return json(out);
}

function getSchema(ctx: RequestCtx, baseId: string): Reply {
  requireScope(ctx, "schema.bases:read");
  const base = openBase(ctx, baseId, "read");
  let visible = false;
  for (const [key, value] of ctx.query) {
    if ((key === "include[]" || key === "include") && value === "visibleFieldIds") visible = true;
    else throw invalidRequest();
  }
  return json({ tables: base.tables.map((t) => renderTable(t, visible)) });
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidRequest();
  return value;
}

function createTable(ctx: RequestCtx, baseId: string): Reply {
  requireScope(ctx, "schema.bases:write");
  const base = openBase(ctx, baseId, "create");
  const table = buildApiTable(jsonBody(ctx), base.tables);
  base.tables.push(table);
  return json(renderTable(table));
}

function updateTable(ctx: RequestCtx, baseId: string, tableKey: string): Reply {
  requireScope(ctx, "schema.bases:write");
  const base = openBase(ctx, baseId, "create");
  const table = findTable(base, tableKey);
  const body = jsonBody(ctx);
  onlyKeys(body, ["name", "description"]);
  const name = optionalString(body, "name");
  const description = optionalString(body, "description");
  if (name === undefined && description === undefined) throw invalidRequest();
  if (description !== undefined) checkDescription(description, false);
  if (name !== undefined) {
    if (name.trim() === "") throw typed(422, "INVALID_TABLE_NAME", "Table names must be non-empty");
    if (base.tables.some((t) => t !== table && t.name.toLowerCase() === name.trim().toLowerCase())) {
      throw typed(422, "DUPLICATE_TABLE_NAME", `A table named ${JSON.stringify(name)} already exists`);
    }
    table.name = name.trim();
  }
  if (description !== undefined) {
    if (description === "") delete table.description;
    else table.description = description;
  }
  return json(renderTable(table));
}

function createField(ctx: RequestCtx, baseId: string, tableKey: string): Reply {
  requireScope(ctx, "schema.bases:write");
  const base = openBase(ctx, baseId, "create");
  const table = findTable(base, tableKey);
  const field = addField(jsonBody(ctx), table, base.tables);
  return json(renderField(field));
}

function updateField(ctx: RequestCtx, baseId: string, tableKey: string, fieldKey: string): Reply {
  requireScope(ctx, "schema.bases:write");
  const base = openBase(ctx, baseId, "create");
  const table = findTable(base, tableKey);
  const field = findField(table, fieldKey);
  if (field === undefined) throw typed(404, "NOT_FOUND", `Field ${fieldKey} not found`);
  const body = jsonBody(ctx);
  // Airtable's update-field endpoint changes name and description only.
  onlyKeys(body, ["name", "description"]);
  const name = optionalString(body, "name");
  const description = optionalString(body, "description");
  if (name === undefined && description === undefined) throw invalidRequest();
  if (description !== undefined) checkDescription(description, false);
  if (name !== undefined) {
    checkFieldName(table, name, field);
    field.name = name.trim();
  }
  if (description !== undefined) {
    if (description === "") delete field.description;
    else field.description = description;
  }
  return json(renderField(field));
}

/** Routes under /v0/meta/…; `segs` excludes "v0" and "meta". */
export function matchMetaRoutes(method: string, segs: string[]): RouteMatch | undefined {
  const api = (run: RouteMatch["run"], baseId?: string): RouteMatch =>
    baseId === undefined ? { kind: "api", run } : { kind: "api", baseId, run };
  const [first, baseId, third, tableKey, fifth, fieldKey] = segs;
  if (segs.length === 1 && first === "whoami" && method === "GET") return api(whoami);
  if (first !== "bases") return undefined;
  if (segs.length === 1 && method === "GET") return api(listBases);
  if (baseId === undefined || !isId(baseId, "app") || third !== "tables") return undefined;
  if (segs.length === 3) {
    if (method === "GET") return api((ctx) => getSchema(ctx, baseId), baseId);
    if (method === "POST") return api((ctx) => createTable(ctx, baseId), baseId);
    return undefined;
  }
  if (tableKey === undefined) return undefined;
  if (segs.length === 4 && method === "PATCH") return api((ctx) => updateTable(ctx, baseId, tableKey), baseId);
  if (fifth !== "fields") return undefined;
  if (segs.length === 5 && method === "POST") return api((ctx) => createField(ctx, baseId, tableKey), baseId);
  if (segs.length === 6 && fieldKey !== undefined && method === "PATCH") {
    return api((ctx) => updateField(ctx, baseId, tableKey, fieldKey), baseId);
  }
  return undefined;
}
