import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { checkRecordsAgainstSchema, derivedOptions } from "./plan-records.ts";
import {
  createAnnotations,
  fieldsInput,
  QUEUED_ITEM_NOTE,
  recordsToCreateRecordIssues,
  typecastInput,
  typecastOf,
} from "./write-inputs.ts";

export const createRecord = defineWriteTool({
  name: "create_record",
  title: "Create a record",
  description:
    "Creates one record; results[0].id is its id. For several records use create_records (one call, any " +
    "number up to 5,000). " +
    QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: { baseId: baseIdInput, tableId: tableIdInput, fields: fieldsInput, typecast: typecastInput },
  outputSchema: operationResultShape,
  rewordIssues: recordsToCreateRecordIssues,
  annotations: createAnnotations,
  async plan(input, ctx) {
    const checked = await checkRecordsAgainstSchema(ctx, {
      baseId: input.baseId,
      typecast: input.typecast,
      tableId: input.tableId,
      records: [{ fields: input.fields }],
      fieldsWhere: () => "fields",
    });
    return {
      kind: "create_records",
      baseId: input.baseId,
      tableId: checked.tableId,
      input: checked.cells.map((fields) => ({ fields })),
      fieldNames: checked.fieldNames,
      options: {
        typecast: typecastOf(input.typecast),
        onError: "continue",
        ...derivedOptions(checked),
      },
    };
  },
});
