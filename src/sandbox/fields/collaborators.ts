/**
 * Collaborator fields (https://airtable.com/developers/web/api/field-model#collaborator and #multicollaborator).
 * A cell is stored as user ids and read as `{id, email, name}` objects. Writes: singleCollaborator takes
 * `{id}` or `{email}`; multipleCollaborators takes an array of user ids (the documented write format) — the sandbox
 * also takes `{id}`/`{email}` objects there. With typecast a string is read as an id or an email. The user must be
 * a collaborator on the base (any permission level but "none"); anyone else is refused (422).
 */
import { badValue } from "../errors.ts";
import type { Field, User } from "../store.ts";
import type { Collaborator } from "./cell-values.ts";
import { EMPTY, type CellResult } from "./empty.ts";
import type { WriteContext } from "./write-context.ts";

function resolveUser(field: Field, item: unknown, ctx: WriteContext, strings: boolean): string {
  let key: string | undefined;
  if (typeof item === "string" && (strings || ctx.typecast)) key = item.trim();
  else if (typeof item === "object" && item !== null && !Array.isArray(item)) {
    const entry = item as Record<string, unknown>;
    if (typeof entry.id === "string") key = entry.id;
    else if (typeof entry.email === "string") key = entry.email;
  }
  if (key === undefined) throw badValue(field.name);
  const lower = key.toLowerCase();
  for (const user of ctx.source.users.values()) {
    if (user.id !== key && user.email.toLowerCase() !== lower) continue;
    const level = ctx.source.base.access.get(user.id);
    if (level === undefined || level === "none") break;
    return user.id;
  }
  throw badValue(field.name);
}

export function writeCollaborators(field: Field, value: unknown, ctx: WriteContext): CellResult {
  if (field.type === "singleCollaborator") {
    if (value === "" && ctx.typecast) return EMPTY;
    return resolveUser(field, value, ctx, false);
  }
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (ctx.typecast && typeof value === "string") items = value.split(",").filter((s) => s.trim() !== "");
  else throw badValue(field.name);
  const ids: string[] = [];
  for (const item of items) {
    const id = resolveUser(field, item, ctx, true);
    if (!ids.includes(id)) ids.push(id);
  }
  return ids.length === 0 ? EMPTY : ids;
}

export function renderCollaborator(users: ReadonlyMap<string, User>, id: string): Collaborator {
  const user = users.get(id);
  return user === undefined ? { id } : { id, email: user.email, name: user.name };
}
