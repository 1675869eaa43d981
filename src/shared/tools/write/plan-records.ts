import { AirtableValidationError } from "../../airtable/errors.ts";
import type { AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { levelAllows } from "../../base-permissions.ts";
import { resolveTable } from "../../schema-cache.ts";
import type { ToolContext } from "../define-tool.ts";
import { resolveLinkNames } from "../linked-records.ts";
import { isPlainObject, ToolInputError } from "../tool-input-error.ts";
import {
  checkMergeValues,
  closeOptionsRefusal,
  describeItem,
  FieldChecker,
  readOnlyFieldsRefusal,
  selectVariantsRefusal,
  valueProblems,
  withWriteSchema,
  type ReadOnlyUse,
  type SelectVariantUse,
  type ValueProblem,
} from "./check-fields.ts";
import type { NewSelectOptions, OperationOptions } from "../../operations/options.ts";
import { keysShown, namedRecords, typecastOf } from "./write-inputs.ts";

export interface RecordToWrite {
  id?: string;
  fields: Record<string, unknown>;
}

export interface CheckedRecords {
  /** The resolved table's id (Airtable is addressed by id: a rename cannot redirect a queued write). */
  tableId: string;
  /** Each record's cells keyed by field id, in input order. */
  cells: Record<string, unknown>[];
  /** The ids of fieldsToMergeOn, when given. */
  fieldsToMergeOn?: string[];
  /**
   * The exact name of every field of `cells` and `fieldsToMergeOn`, by id, as the schema had it when the call was
   * checked: answers about the operation show these names (Operation.fieldNames).
   */
  fieldNames: Record<string, string>;
  /** A value is a select option its field does not have yet, which typecast adds (OperationOptions). */
  addsSelectOptions: boolean;
  /** Those options, per field, for the write's answer (OperationOptions.newSelectOptions); undefined: none. */
  newSelectOptions?: NewSelectOptions[];
}

/**
 * The operation options that record what a checked write's typecast creates (OperationOptions: `addsSelectOptions`
 * for the schema cache, `newSelectOptions` for the answer), to spread into the operation's options; none when it
 * creates no option.
 */
export function selectOptionsCreated(
  checked: CheckedRecords,
): Pick<OperationOptions, "addsSelectOptions" | "newSelectOptions"> {
  if (!checked.addsSelectOptions) return {};
  return {
    addsSelectOptions: true,
    ...(checked.newSelectOptions !== undefined && { newSelectOptions: checked.newSelectOptions }),
  };
}

export interface CheckRecordsInput {
  baseId: string;
  tableId: string;
  records: readonly RecordToWrite[];
  /**
   * The call's typecast as the call gave it; undefined: not given, so on (typecastOf). With it, Airtable converts
   * values, so fewer are refused here (check-values.ts). Left to its default, a new select option close to an
   * existing one is refused (closeOptionsRefusal); given as true, it is created and named in the answer.
   */
  typecast: boolean | undefined;
  /** Names `records[i].fields` in messages; create_record has a single `fields`. */
  fieldsWhere?: (index: number) => string;
  fieldsToMergeOn?: readonly string[];
  /** Ends the message refusing two records with the same merge values: what would go wrong. */
  duplicateMergeWhy?: string;
}

/**
 * Resolves the table and every record's field keys against the base's schema (see check-fields.ts), then link
 * cells naming linked records by primary value ("Acme") to record ids (linked-records.ts: reads the linked table,
 * refuses a name matching no record or several).
 *
 * The cells and merge fields come back keyed by field id, the form the operation stores and the worker sends:
 * a queued write may wait minutes (fairness, the rate limit, a long import) and the cached schema may already be
 * up to 60 s old, so a field renamed in Airtable meanwhile would make a write by name fail for every record
 * (UNKNOWN_FIELD_NAME). Airtable takes ids wherever it takes names here: create records, "cell values, keyed by
 * either field name or field id" (https://airtable.com/developers/web/api/create-records); update record, the
 * same (https://airtable.com/developers/web/api/update-record); and `performUpsert.fieldsToMergeOn`, "at least
 * one and at most three field names or IDs" (https://airtable.com/developers/web/api/update-multiple-records).
 * Throws ToolInputError / SchemaLookupError naming what to fix.
 */
export async function checkRecordsAgainstSchema(ctx: ToolContext, input: CheckRecordsInput): Promise<CheckedRecords> {
  const where = input.fieldsWhere ?? ((i: number) => `records[${i}].fields`);
  // Only a creator may add a select option: an editor's level, as list_bases showed it (remembered, no request),
  // refuses an unknown option here, before queueing, rather than in a failed record (check-values.ts). A lower
  // level refuses the whole write before queueing anyway (run-write.ts), with the message that fits it.
  const known = ctx.knownBaseAccess;
  const access = known?.baseId === input.baseId ? known.access : await ctx.schemas.baseAccess(ctx.userId, input.baseId);
  const level = access?.level;
  const nonCreator =
    level !== undefined && levelAllows(level, "edit") && !levelAllows(level, "create") ? access : undefined;
  const typecast = typecastOf(input.typecast);
  let seen: { schema: BaseSchema; table: AirtableTable } | undefined;
  const checked = await withWriteSchema(ctx, input.baseId, (schema) => {
    const checker = new FieldChecker(resolveTable(schema, input.tableId, input.baseId), nonCreator);
    seen = { schema, table: checker.table };
    checkWrappedTwice(checker.table, input.records, where);
    // The merge fields first: one that cannot be merged on (computed) is the problem to name, not its values.
    const mergeFields = input.fieldsToMergeOn === undefined ? undefined : checker.mergeFields(input.fieldsToMergeOn);
    // Every wrong value of the call at once (one line per field), not one per call; every read-only field too,
    // before the values (a record written back as it was read names several computed fields).
    // Select values that are an option but for case or spaces too, all at once (selectVariantsRefusal).
    const problems: ValueProblem[] = [];
    const readOnly: ReadOnlyUse[] = [];
    const variants: SelectVariantUse[] = [];
    const cells = input.records.map((record, i) =>
      checker.cells(record.fields, where(i), typecast, { problems, readOnly, variants, index: i }),
    );
    const readOnlyRefused = readOnlyFieldsRefusal(readOnly);
    if (readOnlyRefused !== undefined) throw readOnlyRefused;
    // Wrong values, variants and (typecast left to its default) new options close to an existing one: all in one
    // answer, so that one more call can fix them all.
    const refusals = [
      valueProblems(problems),
      selectVariantsRefusal(variants),
      input.typecast === undefined ? closeOptionsRefusal(checker.closeNewOptions()) : undefined,
    ].filter((refusal) => refusal !== undefined);
    if (refusals.length === 1) throw refusals[0]!;
    if (refusals.length > 1) throw new ToolInputError(refusals.map((r) => r.message).join("\n"));
    const newSelectOptions = checker.newSelectOptions();
    const out: CheckedRecords = {
      tableId: checker.table.id,
      cells,
      fieldNames: checker.namesById(),
      addsSelectOptions: checker.addsSelectOptions,
      ...(newSelectOptions !== undefined && { newSelectOptions }),
    };
    if (mergeFields !== undefined) {
      checkMergeValues(
        input.records.map((record, i) => ({
          ...(record.id !== undefined && { id: record.id }),
          fields: cells[i] ?? {},
        })),
        mergeFields,
        input.duplicateMergeWhy ?? "they would write the same record. Give each record once.",
      );
      out.fieldsToMergeOn = mergeFields.map((f) => f.id);
    }
    return out;
  });
  if (seen === undefined) return checked;
  const { table } = seen;
  const resolve = (schema: BaseSchema, inTable: AirtableTable) =>
    resolveLinkNames(ctx.airtable, input.baseId, schema, inTable, checked.cells, where);
  try {
    await resolve(seen.schema, table);
  } catch (error) {
    // Names are looked up with a formula on the linked table's primary field, by name (formulas know no field ids):
    // one renamed in Airtable since the schema was cached is refused, so the lookup is made once more with a fresh
    // schema rather than telling the agent to fix a formula it never wrote. Cells already resolved are record ids
    // by then, which a second pass leaves alone.
    if (!(error instanceof AirtableValidationError && error.type === "INVALID_FILTER_BY_FORMULA")) throw error;
    const fresh = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId, { fresh: true });
    await resolve(fresh, fresh.tables.find((t) => t.id === table.id) ?? table);
  }
  return checked;
}

/**
 * Refuses cells wrapped in "fields" twice (`fields: { "fields": { "Name": "X" } }`, or a record of the records
 * tools `{ "fields": { "fields": { … } } }`) when `table` has no field that the key "fields" names (exactly, or
 * ignoring case and surrounding spaces, as field keys are resolved): the check of each key would otherwise answer
 * `Unknown field "fields"` with the table's whole field list, not saying what went wrong. A table with a field named
 * "fields" is left alone: the key is then that field. Throws one ToolInputError naming every such record (the first
 * five, the rest counted) and the first one rewritten; runs inside withWriteSchema, so a "fields" field added in
 * Airtable since the schema was cached is found on its retry against a fresh schema.
 * @param where how messages name a record's cells: `records[i].fields`, or `fields` for create_record
 */
function checkWrappedTwice(table: AirtableTable, records: readonly RecordToWrite[], where: (i: number) => string) {
  if (table.fields.some((f) => f.name.trim().toLowerCase() === "fields")) return;
  const wrapped = records.flatMap((record, i) => (isPlainObject(record.fields.fields) ? [i] : []));
  if (wrapped.length === 0) return;
  const index = wrapped[0]!;
  const record = records[index]!;
  const inner = Object.keys(record.fields.fields as Record<string, unknown>);
  const cells = inner.length === 0 ? "{ … }" : keysShown(inner);
  const why = `table ${describeItem(table)} has no field named "fields"`;
  if (where(index) === "fields") {
    throw new ToolInputError(
      `fields holds a "fields" of its own: the cells were wrapped in "fields" twice (${why}). Give them directly ` +
        `under one "fields": "fields": ${cells}.`,
    );
  }
  const id = record.id === undefined ? "" : `"id": ${JSON.stringify(record.id)}, `;
  const subject = wrapped.length === 1 ? `${where(index)} holds` : `the fields of ${namedRecords(wrapped)} hold`;
  throw new ToolInputError(
    `${subject} a "fields" of ${wrapped.length === 1 ? "its" : "their"} own: the cells were wrapped in "fields" ` +
      `twice (${why}). Give them directly under one "fields": records[${index}] is { ${id}"fields": ${cells} }.`,
  );
}
