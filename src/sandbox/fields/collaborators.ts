/**
 * Collaborator fields (https://airtable.com/developers/web/api/field-model#collaborator and #multicollaborator).
 * A cell is stored as user ids and read as `{id, email, name}` objects.
 *
 * Writes, as the field model's "Cell format (write)" documents them:
 * - singleCollaborator: "any of the below objects": `{id}` ("The user id, group id of the user") or `{email}`
 *   ("The user's email address"). `id` is looked up among user ids only and `email` among emails only (case
 *   insensitively): `{"id": "ada@example.com"}` names no one. An object carrying both (the `{id, email, name}` a
 *   read gives) is found by its `id`. Text is refused without typecast.
 * - multipleCollaborators: "array of strings: Array of user or group ids", so a string item must be a user id
 *   (an email string is refused without typecast). The sandbox also takes `{id}` / `{email}` objects as items, by
 *   the single collaborator's rules: it is what a read gives back and the form clients widely write (pyairtable's
 *   WritableFieldValue lists `List[CollaboratorDict]` and `List[CollaboratorEmailDict]`); the field model does not
 *   document it, so this is the sandbox's choice.
 * - With typecast, text (a single collaborator, an item, or "a, b" for a multiple one) is read as an id or an
 *   email: typecast converts strings ("best-effort automatic data conversion from string values", Web API
 *   "Update multiple records").
 * The user must be a collaborator on the base (any permission level but "none"); anyone else, and every value of
 * another shape, is refused with 422 INVALID_VALUE_FOR_COLUMN `Field "Owner" cannot accept the provided value`.
 */
import { badValue } from "../errors.ts";
import type { Field, User } from "../store.ts";
import type { Collaborator } from "./cell-values.ts";
import { EMPTY, type CellResult } from "./empty.ts";
import type { WriteContext } from "./write-context.ts";

/** How a collaborator is looked up: by user id, by email, or (typecast text) by either. */
type Lookup = { by: "id" | "email" | "either"; key: string };

/** How `item` names a user, or undefined when it names no one in a form this field takes (see the module comment). */
function lookupOf(item: unknown, ctx: WriteContext, idStrings: boolean): Lookup | undefined {
  if (typeof item === "string") {
    if (ctx.typecast) return { by: "either", key: item.trim() };
    return idStrings ? { by: "id", key: item } : undefined;
  }
  if (typeof item !== "object" || item === null || Array.isArray(item)) return undefined;
  const entry = item as Record<string, unknown>;
  if (typeof entry.id === "string") return { by: "id", key: entry.id };
  if (typeof entry.email === "string") return { by: "email", key: entry.email };
  return undefined;
}

function resolveUser(field: Field, item: unknown, ctx: WriteContext, idStrings: boolean): string {
  const lookup = lookupOf(item, ctx, idStrings);
  if (lookup === undefined) throw badValue(field.name);
  const lower = lookup.key.toLowerCase();
  for (const user of ctx.source.users.values()) {
    const byId = lookup.by !== "email" && user.id === lookup.key;
    const byEmail = lookup.by !== "id" && user.email.toLowerCase() === lower;
    if (!byId && !byEmail) continue;
    const level = ctx.source.base.access.get(user.id);
    if (level === undefined || level === "none") break;
    return user.id;
  }
  throw badValue(field.name);
}

/** The stored ids of a collaborator cell written with `value`, EMPTY to clear it; throws ApiError (module comment). */
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
