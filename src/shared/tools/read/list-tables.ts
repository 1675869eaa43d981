import { z } from "zod";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, detailLevelInput, tableAt, tableOutput } from "../shapes.ts";

export const listTables = defineTool({
  name: "list_tables",
  title: "List tables",
  description:
    "Lists the tables of a base with their fields and views. Use detailLevel to keep the answer small on big " +
    "bases: tableIdentifiersOnly (ids and names), identifiersOnly (plus field and view ids and names), or full " +
    "(plus field types, options and descriptions; the default).",
  kind: "read",
  scopes: ["schema:read"],
  inputSchema: {
    baseId: baseIdInput,
    detailLevel: detailLevelInput.default("full"),
  },
  outputSchema: { baseId: z.string(), tables: z.array(tableOutput) },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const schema = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId);
    return { baseId: input.baseId, tables: schema.tables.map((t) => tableAt(t, input.detailLevel)) };
  },
});
