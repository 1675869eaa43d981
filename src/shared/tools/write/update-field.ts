import { z } from "zod";
import { resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import {
  checkDescription,
  checkNewName,
  describeItem,
  FieldChecker,
  givenByName,
  withWriteSchemaForNames,
} from "./check-fields.ts";
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
    fieldId: z
      .string()
      .min(1)
      .describe(
        "The field id (fld…) or its name, from describe_table: matched exactly, or ignoring case and surrounding " +
          "spaces when only one field matches.",
      ),
    name: z.string().min(1).optional().describe("The new name; unique in the table (case-insensitively)."),
    description: z.string().optional().describe('The new description, up to 20,000 characters ("" clears it).'),
    options: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        "Not changeable through the API. To add select options, write a record with the new option and " +
          "typecast: true; to rename or remove them, use the Airtable UI.",
      ),
    type: z.string().optional().describe("Not changeable through the API: change a field's type in the Airtable UI."),
  },
  outputSchema: operationResultShape,
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    refuseTypeOrOptions(input);
    if (input.name === undefined && input.description === undefined) {
      throw new ToolInputError("Nothing to change: give name, description, or both.");
    }
    checkDescription(input.description, "description", "field");
    const { table, field } = await withWriteSchemaForNames(
      ctx,
      input.baseId,
      (schema) => {
        const table = resolveTable(schema, input.tableId, input.baseId);
        const field = new FieldChecker(table).field(input.fieldId, "fieldId");
        if (input.name !== undefined) {
          checkNewName(table.fields, input.name, "field", `in table ${describeItem(table)}`, field.id);
        }
        return { table, field };
      },
      givenByName(input),
    );
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

/**
 * Airtable's update-field endpoint changes only `name` and `description`
 * (https://airtable.com/developers/web/api/update-field): a change of options or type is refused with the way to
 * make it instead of being silently dropped.
 */
function refuseTypeOrOptions(input: { options?: Record<string, unknown> | undefined; type?: string | undefined }) {
  if (input.options !== undefined) {
    const choices = "choices" in input.options;
    throw new ToolInputError(
      "A field's options cannot be changed through Airtable's API (update_field changes only name and " +
        "description). " +
        (choices
          ? "To add select options, write records with the new option values and typecast: true " +
            "(create_records / update_records): Airtable adds missing options to the field. To rename, recolour or " +
            "remove options, change the field in the Airtable UI."
          : "Change them in the Airtable UI, or create a new field with the options you want (create_field)."),
    );
  }
  if (input.type !== undefined) {
    throw new ToolInputError(
      "A field's type cannot be changed through Airtable's API (update_field changes only name and description). " +
        "Change it in the Airtable UI, or create a new field of the type you want (create_field) and copy the " +
        "values over with update_records.",
    );
  }
}
