/**
 * Airtable's refusal of a collaborator it cannot find among the base's collaborators, explained for the agent.
 *
 * A collaborator field takes `{id}` or `{email}` (a multiple collaborator field, a list of user or group ids; the field
 * model, https://airtable.com/developers/web/api/field-model#collaborator), and the user must be a collaborator of
 * the base: anyone else is refused with 422 INVALID_VALUE_FOR_COLUMN `Field "Account manager" cannot accept the
 * provided value` (the sandbox's answer, src/sandbox/fields/collaborators.ts), which says neither that the person is
 * the problem nor where valid ones are found (a newcomer trial: `{"email": "nobody@example.com"}`). The shape of a
 * value was checked before the write was queued (check-values.ts), so such a refusal of a cell holding a
 * collaborator (an `{id}` / `{email}` object, a user or group id, or, with typecast, an email given as text) is about
 * who it names. The operation keeps no field types: the cell's value is what says it is a collaborator field.
 */

/** `Field "Name" …`: the field Airtable's refusal names, in quotes. */
const FIELD_NAMED = /^Field ("(?:[^"\\]|\\.)*") cannot accept the provided value/;

/**
 * The field Airtable's INVALID_VALUE_FOR_COLUMN `Field "X" cannot accept the provided value` names, as the call named
 * it, and the refused records' cells of it (`cells` keyed by field id as the operation sends them; `fieldNames` maps
 * ids to the call's names). Undefined for any other message, or when no refused record writes the field. Shared with
 * typecast-refusal.ts.
 */
export function refusedFieldValues(
  message: string,
  cells: readonly Record<string, unknown>[],
  fieldNames: Readonly<Record<string, string>> | undefined,
): { name: string; values: unknown[] } | undefined {
  const quoted = FIELD_NAMED.exec(message)?.[1];
  if (quoted === undefined) return undefined;
  let name: string;
  try {
    name = JSON.parse(quoted) as string;
  } catch {
    return undefined;
  }
  const key = Object.entries(fieldNames ?? {}).find(([, n]) => n === name)?.[0] ?? name;
  const values = cells.filter((record) => Object.hasOwn(record, key)).map((record) => record[key]);
  return values.length === 0 ? undefined : { name, values };
}
const COLLABORATOR_ID = /^(usr|ugp)[0-9A-Za-z]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Whether `value` names collaborators the way a collaborator cell is written (see the module comment). */
function holdsCollaborators(value: unknown, typecast: boolean): boolean {
  if (Array.isArray(value)) return value.length > 0 && value.every((item) => holdsCollaborators(item, typecast));
  if (typeof value === "string") return COLLABORATOR_ID.test(value) || (typecast && EMAIL.test(value.trim()));
  if (typeof value !== "object" || value === null) return false;
  const { id, email } = value as { id?: unknown; email?: unknown };
  return (typeof id === "string" && COLLABORATOR_ID.test(id)) || typeof email === "string";
}

/**
 * The sentences added to Airtable's INVALID_VALUE_FOR_COLUMN `Field "X" cannot accept the provided value` when the
 * refused records' cells of X (`cells`, keyed by field id as the operation sends them; `fieldNames` maps ids to the
 * call's names) hold collaborators: the value(s) must name collaborators of the base, Airtable refuses anyone else,
 * and where valid ones are found (list_records on that field shows those already set, with their ids and emails;
 * list_comments shows who commented). The value given is quoted when a single record of them writes the field.
 * Undefined for any other refusal, or when a cell of X holds something else.
 */
export function explainCollaboratorRefusal(
  message: string,
  typecast: boolean,
  cells: readonly Record<string, unknown>[],
  fieldNames: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const refused = refusedFieldValues(message, cells, fieldNames);
  if (refused === undefined || !refused.values.every((value) => holdsCollaborators(value, typecast))) return undefined;
  const { name, values } = refused;
  const given = values.length === 1 ? ` (${JSON.stringify(values[0])})` : "";
  const field = JSON.stringify(name);
  return (
    ` ${field} is a collaborator field: the email or user id given${given} must belong to a collaborator of this ` +
    "base (someone it is shared with), and Airtable refuses anyone else. list_records with fields: " +
    `[${field}] shows the collaborators already set in it, with their ids and emails (list_comments shows who ` +
    "commented); to name someone else, share the base with them in Airtable first."
  );
}
