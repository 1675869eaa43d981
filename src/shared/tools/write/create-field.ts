import { findByIdOrName, resolveTable } from "../../schema-cache.ts";
import { defineWriteTool } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import {
  checkCreatableType,
  checkNewName,
  checkRequiredOptions,
  describeItem,
  givenByName,
  missingDisplayOptions,
  withLinkedTableId,
  withWriteSchemaForNames,
} from "./check-fields.ts";
import {
  createAnnotations,
  fieldSpecForAirtable,
  fieldSpecInput,
  QUEUED_ITEM_NOTE,
  singleItemOptions,
} from "./write-inputs.ts";

export const createField = defineWriteTool({
  name: "create_field",
  title: "Create a field",
  description: "Adds a field (column) to a table. results[0].id is the new field's id. " + QUEUED_ITEM_NOTE,
  kind: "write",
  scopes: ["schema:write"],
  inputSchema: { baseId: baseIdInput, tableId: tableIdInput, ...fieldSpecInput.shape },
  outputSchema: operationResultShape,
  annotations: createAnnotations,
  async plan(input, ctx) {
    checkCreatableType(input.type, "type");
    checkRequiredOptions(input.type, input.options, "options");
    // A link's linked table as the call gave it (an id or a name); withLinkedTableId resolves only a link's.
    const givenLinkedTable = input.type === "multipleRecordLinks" ? linkedTableOf(input) : undefined;
    const { table, spec } = await withWriteSchemaForNames(
      ctx,
      input.baseId,
      (schema) => {
        const table = resolveTable(schema, input.tableId, input.baseId);
        checkNewName(table.fields, input.name, "field", `in table ${describeItem(table)}`);
        const missing = missingDisplayOptions(input.type, input.options, "options");
        if (missing !== undefined) throw new ToolInputError(missing);
        const spec = withLinkedTableId(
          {
            name: input.name,
            type: input.type,
            ...(input.description !== undefined && { description: input.description }),
            ...(input.options !== undefined && { options: input.options }),
          },
          schema,
          input.baseId,
          "options",
        );
        return { table, spec };
      },
      // The table, or the table a link field links to (options.linkedTableId), given by name.
      {
        named: ({ table, spec }) => table.id !== input.tableId || linkedTableOf(spec) !== givenLinkedTable,
        movedIn: (fresh, { table, spec }) =>
          givenByName(input).movedIn(fresh, { table }) ||
          (givenLinkedTable !== undefined &&
            (findByIdOrName(fresh.tables, givenLinkedTable)?.id ?? linkedTableOf(spec)) !== linkedTableOf(spec)),
      },
    );
    return {
      kind: "create_field",
      baseId: input.baseId,
      tableId: table.id,
      input: [fieldSpecForAirtable(spec)],
      options: singleItemOptions,
    };
  },
});

/** `options.linkedTableId` of a field spec when it is text (a table's id or name), else undefined. */
function linkedTableOf(spec: { options?: Record<string, unknown> }): string | undefined {
  const key = spec.options?.linkedTableId;
  return typeof key === "string" ? key : undefined;
}
