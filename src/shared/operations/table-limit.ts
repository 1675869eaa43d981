/**
 * A write refused because its table limits who may do it: Airtable's table permissions let a base's creators limit,
 * per table, who can create records and who can delete them (and its field permissions, who can edit each field:
 * https://support.airtable.com/docs/field-and-table-editing-permissions). The Web API refuses such a request with 403
 * INVALID_PERMISSIONS, per request. Its errors page (https://airtable.com/developers/web/api/errors, 403) gives "You
 * are not permitted to create records in table TABLE_NAME (TABLE_ID)" for a create limit — "returned both when
 * creating records directly, and when creating linked records while updating cell values", so the table named may be
 * a linked one that typecast would create records in — and "You are not permitted to write cell values in field
 * FIELD_NAME (FIELD_ID)" for a restricted field. Older answers (and a delete limit, which the page does not show)
 * say "You are not permitted to perform this operation because the field or table has been configured to limit who
 * can perform this operation", naming neither, or name a field as `the field "Notes" (fld…)`; both forms are read.
 *
 * When such a 403 refused every record of an operation sent so far while the user's permission level allows the
 * write (processor.ts #failIfEverythingRefused), the operation fails with one reason that names the table by name and
 * id, what it limits for this kind of write, Airtable's words (quoted once: each refused record's result points here,
 * operation-result.ts), and what to do. Which table permission refused is inferred from the write's kind: Airtable's
 * message does not say (a guess, as is the wording of its interface's setting, "who can create records").
 */
import type { AirtablePermissionError } from "../airtable/errors.ts";
import type { OperationKind } from "./events.ts";
import { sentence } from "./sentence.ts";

/**
 * Airtable's 403 naming a restricted field: `…write cell values in field Notes (fld…)` (the errors page's words, the
 * name unquoted) or, in an older wording, `…because the field "Notes" (fld…) has been configured…`.
 */
const RESTRICTED_FIELD = [
  /\bthe field "[^]*?" \(fld[A-Za-z0-9]+\)/,
  /\bwrite cell values in field [^]*?\(fld[A-Za-z0-9]+\)/,
];

/** Airtable's 403 naming the table records may not be created in: `…create records in table Leads (tbl…)`. */
const CREATE_LIMITED_TABLE = /\bcreate records in table [^]*?\((tbl[A-Za-z0-9]+)\)\s*\.?$/;

/** Whether Airtable's 403 message names a field (a field's editing permission), rather than the table's own. */
export function namesRestrictedField(message: string): boolean {
  return RESTRICTED_FIELD.some((pattern) => pattern.test(message));
}

/**
 * The id of the table Airtable's 403 says records may not be created in (`You are not permitted to create records in
 * table Leads (tbl…)`); undefined when the message names no table (a delete limit, the older wording). It is the
 * written table, or a linked table typecast would create records in (which this server's writes never ask for: link
 * names are resolved to record ids before queueing, and a name no record has is refused).
 */
export function tableNamedIn(message: string): string | undefined {
  return CREATE_LIMITED_TABLE.exec(message)?.[1];
}

/** What a table's permission limits, for each record write, as "who can …" would end; undefined for other kinds. */
const LIMITED: Partial<Record<OperationKind, string>> = {
  create_records: "create records",
  delete_records: "delete records",
  update_records: "edit its records (every field it sets is limited to other people)",
  upsert_records: "create or edit records",
};

/**
 * The reason of an operation every request of which its table refused (see the top of this file): `table` as shown
 * (`"Leads" (tbl…)`, or the id when the schema could not be read), Airtable's `error` quoted once, and what to do:
 * ask a base creator to change the table's permission, or write to another table. `typecast`: whether to add that a
 * link naming a record that does not exist would create that record in the linked table, whose own limit gives the
 * same 403 — for a typecast write whose 403 names no table (the older wording; the processor passes false when
 * Airtable named the table). `rest`: batches were left unsent (false: the refused batch was the only one).
 * `oneRecord`: the write had one record (create_record, or a list of one), which the reason calls "the record" and
 * "it" rather than "every record" and "these records".
 */
export function tableLimitReason(
  kind: OperationKind,
  table: string,
  error: Pick<AirtablePermissionError, "type" | "message">,
  typecast: boolean,
  rest = true,
  oneRecord = false,
): string {
  const limited = LIMITED[kind] ?? "write to it";
  const fields = "the editing permissions of the fields the records set";
  const setting =
    kind === "delete_records"
      ? `let you delete records in that table (its "who can delete records" permission`
      : kind === "update_records"
        ? `let you edit these records (${fields}`
        : kind === "upsert_records"
          ? `let you create records in that table (its "who can create records" permission, or ${fields}`
          : `let you create records in that table (its "who can create records" permission`;
  const [refused, them, subject, links] = oneRecord
    ? ["the record of this write", "it", "the record", "links"]
    : [`every record ${rest ? "sent so far" : "of this write"}`, "them", "the records", "link"];
  const linked =
    typecast && kind !== "delete_records"
      ? ` (If ${subject} ${links} to records by a name that does not exist yet, typecast would create them in the ` +
        `linked table, and that table's limit gives the same refusal: link existing records instead.)`
      : "";
  const again = oneRecord ? "send it again" : "send again the records get_operation lists as failed or notWritten";
  return (
    `Table ${table} limits who can ${limited}, and your Airtable account is not among them: Airtable refused ` +
    `${refused} (403 ${error.type}: "${sentence(error.message)}")` +
    `${rest ? ", so the remaining batches were not sent" : ""}. ` +
    `To write ${oneRecord ? "it" : "these records"}, ask a creator of the base to ${setting}, in Airtable's ` +
    `interface), or write ${them} to another table; then ${again}.${linked}`
  );
}
