import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { checkDescription, checkNewName, givenByName, withWriteSchemaForNames } from "./check-fields.ts";
import { overwriteAnnotations, QUEUED_ITEM_NOTE, singleItemOptions } from "./write-inputs.ts";

export const updateTable = defineWriteTool({
  name: "update_table",
  title: "Rename or describe a table",
  description: "Changes a table's name and/or description. " + QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["schema:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    name: z.string().min(1).optional().describe("The new name; unique in the base (case-insensitively)."),
    description: z.string().optional().describe('The new description, up to 20,000 characters ("" clears it).'),
  },
  outputSchema: operationResultShape,
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    if (input.name === undefined && input.description === undefined) {
      throw new ToolInputError("Nothing to change: give name, description, or both.");
    }
    checkDescription(input.description, "description", "table");
    const { table } = await withWriteSchemaForNames(
      ctx,
      input.baseId,
      (schema) => {
        const table = resolveTable(schema, input.tableId, input.baseId);
        if (input.name !== undefined)
          checkNewName(schema.tables, input.name, "table", `in base ${input.baseId}`, table.id);
        return { table };
      },
      givenByName(input),
    );
    return {
      kind: "update_table",
      baseId: input.baseId,
      tableId: table.id,
      input: [
        {
          ...(input.name !== undefined && { name: input.name }),
          ...(input.description !== undefined && { description: input.description }),
        },
      ],
      options: singleItemOptions,
    };
  },
});
