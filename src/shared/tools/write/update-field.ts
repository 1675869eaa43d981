import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { checkNewName, describeItem, FieldChecker, withWriteSchema } from "./check-fields.ts";
import { overwriteAnnotations, QUEUED_ITEM_NOTE, singleItemOptions } from "./write-inputs.ts";

export const updateField = defineWriteTool({
  name: "update_field",
  title: "Rename or describe a field",
  description:
    "Changes a field's name and/or description (its type and options cannot be changed this way). " + QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["schema:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    fieldId: z.string().min(1).describe("The field id (fld…) or its exact name, from describe_table."),
    name: z.string().min(1).optional().describe("The new name; unique in the table (case-insensitively)."),
    description: z.string().optional().describe('The new description ("" clears it).'),
  },
  outputSchema: operationResultShape,
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    if (input.name === undefined && input.description === undefined) {
      throw new ToolInputError("Nothing to change: give name, description, or both.");
    }
    const { table, field } = await withWriteSchema(ctx, input.baseId, (schema) => {
      const table = resolveTable(schema, input.tableId, input.baseId);
      const field = new FieldChecker(table).field(input.fieldId, "fieldId");
      if (input.name !== undefined) {
        checkNewName(table.fields, input.name, "field", `in table ${describeItem(table)}`, field.id);
      }
      return { table, field };
    });
    return {
      kind: "update_field",
      baseId: input.baseId,
      tableId: table.id,
      input: [
        {
          fieldId: field.id,
          ...(input.name !== undefined && { name: input.name }),
          ...(input.description !== undefined && { description: input.description }),
        },
      ],
      options: singleItemOptions,
    };
  },
});
