import { resolveTable } from "../../schema-cache.ts";
import type { ToolContext } from "../define-tool.ts";
import { checkMergeValues, FieldChecker, withWriteSchema } from "./check-fields.ts";

export interface RecordToWrite {
  id?: string;
  fields: Record<string, unknown>;
}

export interface CheckedRecords {
  /** The resolved table's id (Airtable is addressed by id: a rename cannot redirect a queued write). */
  tableId: string;
  /** Each record's cells keyed by exact field names, in input order. */
  cells: Record<string, unknown>[];
  /** The exact names of fieldsToMergeOn, when given. */
  fieldsToMergeOn?: string[];
}

export interface CheckRecordsInput {
  baseId: string;
  tableId: string;
  records: readonly RecordToWrite[];
  /** The call's typecast: with it, Airtable converts values, so fewer are refused here (check-values.ts). */
  typecast: boolean;
  /** Names `records[i].fields` in messages; create_record has a single `fields`. */
  fieldsWhere?: (index: number) => string;
  fieldsToMergeOn?: readonly string[];
  /** Ends the message refusing two records with the same merge values: what would go wrong. */
  duplicateMergeWhy?: string;
}

/** Resolves the table and every record's field keys and checks its values against the base's schema (check-fields.ts). */
export function checkRecordsAgainstSchema(ctx: ToolContext, input: CheckRecordsInput): Promise<CheckedRecords> {
  const where = input.fieldsWhere ?? ((i: number) => `records[${i}].fields`);
  return withWriteSchema(ctx, input.baseId, (schema) => {
    const checker = new FieldChecker(resolveTable(schema, input.tableId, input.baseId));
    const cells = input.records.map((record, i) => checker.cells(record.fields, where(i), input.typecast));
    const out: CheckedRecords = { tableId: checker.table.id, cells };
    if (input.fieldsToMergeOn !== undefined) {
      const mergeFields = checker.mergeFields(input.fieldsToMergeOn);
      checkMergeValues(
        input.records.map((record, i) => ({
          ...(record.id !== undefined && { id: record.id }),
          fields: cells[i] ?? {},
        })),
        mergeFields,
        input.duplicateMergeWhy ?? "they would write the same record. Give each record once.",
      );
      out.fieldsToMergeOn = mergeFields.map((f) => f.name);
    }
    return out;
  });
}
