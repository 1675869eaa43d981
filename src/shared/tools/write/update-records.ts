import { z } from "zod";
import { defineWriteTool, rewordInTurn } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { checkRecordCount, recordIdProblems } from "./check-records.ts";
import { checkRecordsAgainstSchema, derivedOptions } from "./plan-records.ts";
import {
  fieldsInput,
  onErrorInput,
  overwriteAnnotations,
  QUEUED_RECORDS_NOTE,
  recordIdItemInput,
  typecastInput,
  typecastOf,
  recordItemInput,
  unwrappedRecordIssues,
  recordIdKeyIssues,
  missingRecordIdIssues,
  recordListIssues,
  fieldsToMergeOnIssues,
} from "./write-inputs.ts";

export const updateRecords = defineWriteTool({
  name: "update_records",
  title: "Update records",
  description:
    "Changes cells of existing records, given by id: up to 5,000 per call by default (this server's limit is " +
    "in its instructions). Only the fields given change, unless replace is true. Safe to repeat: an update sent twice " +
    "leaves the same values. " +
    QUEUED_RECORDS_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    records: z
      .array(recordItemInput("update_records", { id: recordIdItemInput, fields: fieldsInput }))
      .describe(
        'The records to change, each once, e.g. [{"id": "recXXXXXXXXXXXXXX", "fields": {"Stage": "Customer"}}].',
      ),
    replace: z
      .boolean()
      .default(false)
      .describe(
        "true: replace each record's cells (fields not given are cleared). Default false: change only the fields given.",
      ),
    typecast: typecastInput,
    onError: onErrorInput,
  },
  outputSchema: operationResultShape,
  rewordIssues: rewordInTurn(
    recordListIssues("required"),
    unwrappedRecordIssues("update_records", "required"),
    recordIdKeyIssues("update_records", "required"),
    missingRecordIdIssues("update_records"),
    fieldsToMergeOnIssues("update_records", false),
  ),
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    checkRecordCount("update_records", "records", input.records.length, ctx.maxRecordsPerOperation);
    const idProblems = recordIdProblems(
      input.records.map((r) => r.id),
      (i) => `records[${i}].id`,
      "Give each record once (merge the fields of both entries into one).",
    );
    const checked = await checkRecordsAgainstSchema(ctx, {
      idProblems,
      baseId: input.baseId,
      typecast: input.typecast,
      tableId: input.tableId,
      records: input.records,
    });
    return {
      kind: "update_records",
      baseId: input.baseId,
      tableId: checked.tableId,
      input: input.records.map((record, i) => ({ id: record.id, fields: checked.cells[i] ?? {} })),
      fieldNames: checked.fieldNames,
      options: {
        typecast: typecastOf(input.typecast),
        onError: input.onError,
        ...(input.replace && { replace: true }),
        ...derivedOptions(checked),
      },
    };
  },
});
