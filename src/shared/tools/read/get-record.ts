import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, recordIdInput, recordOutput, tableIdInput, toRecordOutput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";

export const getRecord = defineTool({
  name: "get_record",
  title: "Get a record",
  description: "Gets one record by id with all its non-empty cells, keyed by field name.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: { baseId: baseIdInput, tableId: tableIdInput, recordId: recordIdInput },
  outputSchema: { record: recordOutput },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const table = await withSchema(ctx, input.baseId, (schema) => resolveTable(schema, input.tableId, input.baseId));
    const record = await ctx.airtable.getRecord(input.baseId, table.id, input.recordId);
    return { record: toRecordOutput(record) };
  },
});
