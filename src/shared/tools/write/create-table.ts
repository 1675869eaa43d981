import { z } from "zod";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import {
  checkCreatableType,
  newDescription,
  checkNewName,
  checkPrimaryFieldType,
  checkRequiredOptions,
  missingDisplayOptions,
  withLinkedTableId,
  withWriteSchema,
} from "./check-fields.ts";
import {
  createAnnotations,
  fieldSpecForAirtable,
  fieldSpecInput,
  QUEUED_ITEM_NOTE,
  singleItemOptions,
} from "./write-inputs.ts";

export const createTable = defineWriteTool({
  name: "create_table",
  title: "Create a table",
  description:
    "Creates a table with the given fields; the first field becomes the primary field (use a text, number or " +
    "date type for it). results[0].id is the new table's id. " +
    QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["schema:write"],
  inputSchema: {
    baseId: baseIdInput,
    name: z.string().min(1).describe("The table's name; unique in the base (case-insensitively)."),
    description: z
      .string()
      .optional()
      .describe("Shown to people in Airtable under the table's name; up to 20,000 characters."),
    fields: z
      .array(fieldSpecInput)
      .describe('At least one field, the primary field first, e.g. [{"name": "Name", "type": "singleLineText"}].'),
  },
  outputSchema: operationResultShape,
  annotations: createAnnotations,
  async plan(input, ctx) {
    if (input.fields.length === 0) {
      throw new ToolInputError("fields is empty: a table needs at least one field (its primary field comes first).");
    }
    const description = newDescription(input.description, "description");
    const firstIndex = new Map<string, number>();
    input.fields.forEach((field, i) => {
      const key = field.name.trim().toLowerCase();
      if (key === "") throw new ToolInputError(`fields[${i}].name is blank: give each field a name.`);
      checkCreatableType(field.type, `fields[${i}].type`);
      checkRequiredOptions(field.type, field.options, `fields[${i}].options`);
      const first = firstIndex.get(key);
      if (first !== undefined) {
        throw new ToolInputError(
          `fields[${i}].name ${JSON.stringify(field.name)} repeats fields[${first}].name (Airtable compares field ` +
            `names case-insensitively): give each field its own name.`,
        );
      }
      firstIndex.set(key, i);
    });
    checkPrimaryFieldType(input.fields[0]!);
    const fields = await withWriteSchema(ctx, input.baseId, (schema) => {
      checkNewName(schema.tables, input.name, "table", `in base ${input.baseId}`);
      // Every field missing display options in one answer: a table of several number and date fields is common.
      const missing = input.fields.flatMap((field, i) => {
        const problem = missingDisplayOptions(field.type, field.options, `fields[${i}].options`);
        return problem === undefined ? [] : [problem];
      });
      if (missing.length === 1) throw new ToolInputError(missing[0]!);
      if (missing.length > 1) {
        throw new ToolInputError(
          `${missing.length} fields need options they were not given; nothing was queued. Fix them all, then call ` +
            `again:\n${missing.map((m) => `- ${m}`).join("\n")}`,
        );
      }
      // A link names its table by id in Airtable's API; a name (as tableId takes everywhere here) is resolved now.
      return input.fields.map((field, i) => withLinkedTableId(field, schema, input.baseId, `fields[${i}].options`));
    });
    return {
      kind: "create_table",
      baseId: input.baseId,
      input: [
        {
          name: input.name,
          ...(description !== undefined && { description }),
          fields: fields.map(fieldSpecForAirtable),
        },
      ],
      options: singleItemOptions,
    };
  },
});
