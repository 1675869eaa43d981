import type { AirtableRecord, AirtableTable } from "../../airtable/schemas.ts";
import { resolveTable } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { baseIdInput, recordIdInput, recordOutput, tableIdInput, toRecordOutput } from "../shapes.ts";
import { schemaForRecords, withSchema } from "../with-schema.ts";
import { expandLinksInput } from "../listing.ts";
import { expandLinkCells } from "../linked-records.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { z } from "zod";
import { cellFormatInputs, fixedZoneNote, resolveCellFormat } from "../cell-format.ts";
import { setCell } from "../../airtable/cell-object.ts";
import { AirtableNotFoundError } from "../../airtable/errors.ts";

export const getRecord = defineTool({
  name: "get_record",
  title: "Get a record",
  description:
    "Gets one record by id with all its non-empty cells, keyed by field name. expandLinks: true adds the linked " +
    'records\' primary values to link fields. cellFormat "string" with timeZone and userLocale gives the cells as ' +
    "a person sees them in Airtable (dates in the field's format and zone, links as primary values).",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    recordId: recordIdInput,
    expandLinks: expandLinksInput(),
    ...cellFormatInputs,
  },
  // note: a string record's field shown in one zone for all collaborators other than timeZone (cell-format.ts).
  outputSchema: { record: recordOutput, note: z.string().optional() },
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    // Checked before any request (cell-format.ts).
    const format = resolveCellFormat(input);
    const cached = await withSchema(ctx, input.baseId, (schema) => ({
      table: resolveTable(schema, input.tableId, input.baseId),
      schema,
    }));
    // Cells keyed by field id, so the record's table is known for sure: Airtable answers a record of any table of
    // the base whatever table the path names (get-record), and a record of another table must not pass as this one.
    const byId = await ctx.airtable
      .getRecord(input.baseId, cached.table.id, input.recordId, { returnFieldsByFieldId: true, ...format })
      .catch((error: unknown) => {
        throw missingRecord(error, input.recordId, cached.table, input.baseId) ?? error;
      });
    const { schema, table, unknownKeys } = await schemaForRecords(ctx, input.baseId, cached, [byId], "id");
    // Refused only when another table holds its fields; a field no table shows yet (a schema read while the
    // field was being added or deleted) keeps its id as key. A record with no cells at all cannot be told apart.
    const owner =
      unknownKeys.length === 0
        ? undefined
        : schema.tables.find((t) => t.id !== table.id && unknownKeys.every((id) => t.fields.some((f) => f.id === id)));
    if (owner !== undefined) {
      throw new ToolInputError(
        `${input.recordId} is not a record of table ${JSON.stringify(table.name)} (${table.id}): it is a record ` +
          `of table ${JSON.stringify(owner.name)} (${owner.id}). Call get_record with tableId ` +
          `${JSON.stringify(owner.id)}. A record id belongs to one table.`,
      );
    }
    const record = keyedByName(byId, table);
    if (input.expandLinks) await expandLinkCells(ctx.airtable, input.baseId, schema, table, [record]);
    const note = fixedZoneNote(table, format, [record]);
    return { record: toRecordOutput(record), ...(note !== undefined && { note }) };
  },
});

/** The record with its cells keyed by field name, as every read tool answers (`fields` keyed by field id in). */
function keyedByName(record: AirtableRecord, table: AirtableTable): AirtableRecord {
  const names = new Map(table.fields.map((f) => [f.id, f.name]));
  const fields: Record<string, unknown> = {};
  for (const [id, value] of Object.entries(record.fields)) setCell(fields, names.get(id) ?? id, value);
  return { ...record, fields };
}

/**
 * Airtable's answer to a get of a record id no table of the base has, 404 MODEL_ID_NOT_FOUND "Record not found"
 * (src/sandbox/errors.ts recordNotFound says where it was seen), told with the id, the table and what to do. A
 * record of another table of the base is no such case: Airtable's get finds it whatever table the path names (the
 * handler then names its table), so the id is deleted, mistyped, or another base's. Undefined for any other error.
 */
function missingRecord(
  error: unknown,
  recordId: string,
  table: AirtableTable,
  baseId: string,
): ToolInputError | undefined {
  if (!(error instanceof AirtableNotFoundError) || error.type !== "MODEL_ID_NOT_FOUND") return undefined;
  return new ToolInputError(
    `Airtable found no record ${recordId} in table ${JSON.stringify(table.name)} (${table.id}), nor in any other ` +
      `table of base ${baseId} (${error.status} ${error.type}: ${error.message}): it was deleted, the id is ` +
      `mistyped, or it is a record of another base. Find the record with list_records or search_records (a ` +
      "filterByFormula on its primary field), then call get_record with the id they answer.",
  );
}
