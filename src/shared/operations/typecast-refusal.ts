/**
 * Airtable's refusal of a value its typecast could not convert, explained for the agent.
 *
 * With `typecast` (the tools' default), text (or a number) the checks before queueing let through as something
 * Airtable may convert — any text with a digit for a number, a duration or a date (check-values.ts: how Airtable's
 * typecast reads text is not documented, so only text that cannot be a value is refused up front) — can still be
 * refused by Airtable with 422 INVALID_VALUE_FOR_COLUMN `Field "Qty" cannot accept the provided value`, which says
 * neither what was wrong nor what to give (a types trial, session 26: `"Qty": "3 units"`, `"Took": "1h30m"`, `"Day":
 * 20260304`). When the refused records' cells of that field hold such a scalar, the refusal adds that typecast could
 * not convert it and what to give instead. The operation keeps no field types: the value is quoted, and the field's
 * type is left to describe_table. Collaborator cells have their own explanation (collaborator-refusal.ts).
 */
import { refusedFieldValues } from "./collaborator-refusal.ts";

/**
 * The sentence added to Airtable's INVALID_VALUE_FOR_COLUMN `Field "X" cannot accept the provided value` when the
 * write had typecast on and the refused records' cells of X (`cells`, keyed by field id as the operation sends them;
 * `fieldNames` maps ids to the call's names) are text or numbers. The value is quoted when a single record of them
 * writes the field. Undefined for any other refusal, without typecast, or when a cell of X holds something else.
 */
export function explainTypecastRefusal(
  message: string,
  typecast: boolean,
  cells: readonly Record<string, unknown>[],
  fieldNames: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (!typecast) return undefined;
  const refused = refusedFieldValues(message, cells, fieldNames);
  if (refused === undefined || !refused.values.every((v) => typeof v === "string" || typeof v === "number")) {
    return undefined;
  }
  const { name, values } = refused;
  const given = values.length === 1 ? ` ${JSON.stringify(values[0])}` : " the values given";
  const field = JSON.stringify(name);
  return (
    ` Airtable's typecast could not convert${given} to the type of ${field}: give the value in the field's own ` +
    `format (describe_table shows its type): a plain number for a number, currency or percent (a fraction: 0.25 is ` +
    `25 %), a number of seconds for a duration, a date as "YYYY-MM-DD", a date and time as "YYYY-MM-DDTHH:mm".`
  );
}
