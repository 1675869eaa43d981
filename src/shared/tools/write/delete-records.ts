import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";
import { checkRecordCount, checkRecordIds } from "./check-records.ts";
import { onErrorInputFor, overwriteAnnotations, QUEUED_DELETES_NOTE, recordIdListIssues } from "./write-inputs.ts";

export const deleteRecords = defineWriteTool({
  name: "delete_records",
  title: "Delete records",
  description:
    "Deletes records by id: up to 5,000 per call by default (this server's limit is in its instructions). " +
    "Deleted records go to the base's trash in Airtable. Safe to repeat. " +
    QUEUED_DELETES_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordIds: z.array(z.string()).describe("The ids (rec…) of the records to delete, each once."),
    onError: onErrorInputFor("deleted"),
  },
  outputSchema: operationResultShape,
  rewordIssues: recordIdListIssues,
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    checkRecordCount("delete_records", "recordIds", input.recordIds.length, ctx.maxRecordsPerOperation, "record id");
    checkRecordIds(input.recordIds, (i) => `recordIds[${i}]`);
    const table = await withSchema(ctx, input.baseId, (schema) => resolveTable(schema, input.tableId, input.baseId));
    return {
      kind: "delete_records",
      baseId: input.baseId,
      tableId: table.id,
      input: input.recordIds.map((id) => ({ id })),
      options: { typecast: false, onError: input.onError },
    };
  },
});
