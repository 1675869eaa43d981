import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, recordIdInput, recordOutput, tableIdInput, toRecordOutput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";
import { expandLinksInput } from "../listing.ts";
import { expandLinkCells } from "../linked-records.ts";

export const getRecord = defineTool({
  name: "get_record",
  title: "Get a record",
  description:
    "Gets one record by id with all its non-empty cells, keyed by field name. expandLinks: true adds the linked " +
    "records' primary values to link fields.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordId: recordIdInput,
    expandLinks: expandLinksInput(),
  },
  outputSchema: { record: recordOutput },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const { table, schema } = await withSchema(ctx, input.baseId, (schema) => ({
      table: resolveTable(schema, input.tableId, input.baseId),
      schema,
    }));
    const record = await ctx.airtable.getRecord(input.baseId, table.id, input.recordId);
    if (input.expandLinks) await expandLinkCells(ctx.airtable, input.baseId, schema, table, [record]);
    return { record: toRecordOutput(record) };
  },
});
