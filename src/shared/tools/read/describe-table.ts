import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, detailLevelInput, tableAt, tableIdInput, tableOutput } from "../shapes.ts";
import { withSchema } from "../with-schema.ts";

export const describeTable = defineTool({
  name: "describe_table",
  title: "Describe a table",
  description:
    "Describes one table: its fields (id, name, type, options such as select choices) and views. Call it " +
    "before filtering, sorting or searching so you use the real field names.",
  kind: "read",
  scopes: ["schema:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    detailLevel: detailLevelInput.default("full"),
  },
  outputSchema: { baseId: z.string(), table: tableOutput },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const table = await withSchema(ctx, input.baseId, (schema) => resolveTable(schema, input.tableId, input.baseId));
    return { baseId: input.baseId, table: tableAt(table, input.detailLevel) };
  },
});
