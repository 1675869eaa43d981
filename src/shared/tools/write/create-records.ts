import { z } from "zod";
import { defineWriteTool, rewordInTurn } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { checkRecordCount } from "./check-records.ts";
import { checkRecordsAgainstSchema, derivedOptions } from "./plan-records.ts";
import {
  createAnnotations,
  fieldsInput,
  onErrorInput,
  QUEUED_RECORDS_NOTE,
  recordItemInput,
  unwrappedRecordIssues,
  recordIdKeyIssues,
  recordListIssues,
  fieldsToMergeOnIssues,
  typecastInput,
  typecastOf,
} from "./write-inputs.ts";

export const createRecords = defineWriteTool({
  name: "create_records",
  title: "Create records",
  description:
    "Creates records in one table: up to 5,000 per call by default (this server's limit is in its instructions); no need to " +
    "split them into groups of 10 yourself. " +
    QUEUED_RECORDS_NOTE +
    " Give fieldsToMergeOn (fields whose values identify a record, e.g. an email) to make the call safe against " +
    "duplicates: if a batch's answer is lost, it is re-sent as an upsert on those fields, so no record is " +
    "created twice.",
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    records: z
      .array(recordItemInput("create_records", { fields: fieldsInput }))
      .describe('The records to create, e.g. [{"fields": {"Name": "Ada"}}, {"fields": {"Name": "Ben"}}].'),
    typecast: typecastInput,
    onError: onErrorInput,
    fieldsToMergeOn: z
      .array(z.string().min(1))
      .min(1)
      .max(3)
      .optional()
      .describe(
        'Optional, a list of 1–3 field names or ids whose values identify a record, e.g. ["Email"]. Each record ' +
          "must have values for them, unique within the call. Used only if a batch's answer is lost: that batch is " +
          "re-sent as an upsert on these fields (updating what the lost request created) instead of being reported " +
          "in doubt.",
      ),
  },
  outputSchema: operationResultShape,
  rewordIssues: rewordInTurn(
    recordListIssues("no"),
    unwrappedRecordIssues("create_records", "no"),
    recordIdKeyIssues("create_records", "no"),
    fieldsToMergeOnIssues("create_records", true),
  ),
  annotations: createAnnotations,
  async plan(input, ctx) {
    checkRecordCount("create_records", "records", input.records.length, ctx.maxRecordsPerOperation);
    const checked = await checkRecordsAgainstSchema(ctx, {
      baseId: input.baseId,
      typecast: input.typecast,
      tableId: input.tableId,
      records: input.records,
      ...(input.fieldsToMergeOn !== undefined && { fieldsToMergeOn: input.fieldsToMergeOn }),
      duplicateMergeWhy:
        "if a batch had to be re-sent as an upsert, they would be merged into one record. Make the values " +
        "unique, or leave fieldsToMergeOn out.",
    });
    return {
      kind: "create_records",
      baseId: input.baseId,
      tableId: checked.tableId,
      input: checked.cells.map((fields) => ({ fields })),
      fieldNames: checked.fieldNames,
      options: {
        typecast: typecastOf(input.typecast),
        onError: input.onError,
        ...(checked.fieldsToMergeOn !== undefined && { fieldsToMergeOn: checked.fieldsToMergeOn }),
        ...derivedOptions(checked),
      },
    };
  },
});
