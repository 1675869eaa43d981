import { z } from "zod";
import type { AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { defineWriteTool, rewordInTurn, type ToolContext } from "../define-tool.ts";
import type { ToolInputError } from "../tool-input-error.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { checkRecordCount, recordIdProblems } from "./check-records.ts";
import { readCellsById } from "../cells-by-id.ts";
import { listCellsRefusal, listFieldsSet, settleListCells } from "./list-cells.ts";
import { checkRecordsAgainstSchema, derivedOptions } from "./plan-records.ts";
import {
  fieldsInput,
  onErrorInput,
  overwriteAnnotations,
  QUEUED_RECORDS_NOTE,
  recordIdItemInput,
  typecastInput,
  typecastOf,
  recordItemInput,
  unwrappedRecordIssues,
  recordIdKeyIssues,
  missingRecordIdIssues,
  recordListIssues,
  fieldsToMergeOnIssues,
} from "./write-inputs.ts";

/**
 * The list cells `cells` (keyed by field id, record i's id `ids[i]`) set, settled against what the records hold now
 * (list-cells.ts: one read per 100 records, only when a list is set): with `addToLists` true, `cells` become the
 * lists added to (in place); left out, answers the refusal naming the items the call would remove, or undefined.
 */
async function listRemovals(
  ctx: ToolContext,
  baseId: string,
  schema: BaseSchema,
  table: AirtableTable,
  cells: Record<string, unknown>[],
  ids: readonly string[],
  addToLists: boolean | undefined,
): Promise<ToolInputError | undefined> {
  const fields = listFieldsSet(table, cells, addToLists);
  if (fields.length === 0) return undefined;
  const held = await readCellsById(
    ctx.airtable,
    baseId,
    table.id,
    ids,
    fields.map((f) => f.id),
  );
  const dropped = settleListCells(fields, cells, (i) => held.get(ids[i]!), addToLists);
  if (dropped.length === 0) return undefined;
  return listCellsRefusal(ctx.airtable, baseId, schema, table, dropped, ids, (i) => `records[${i}].fields`);
}

export const updateRecords = defineWriteTool({
  name: "update_records",
  title: "Update records",
  description:
    "Changes cells of existing records, given by id: up to 5,000 per call by default (this server's limit is " +
    "in its instructions). Only the fields given change, unless replace is true. A list cell (links, multiple " +
    "selects, attachments, collaborators) is set to the list given, not added to: see addToLists. Safe to repeat: an " +
    "update sent twice leaves the same values. " +
    QUEUED_RECORDS_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    records: z
      .array(recordItemInput("update_records", { id: recordIdItemInput, fields: fieldsInput }))
      .describe(
        'The records to change, each once, e.g. [{"id": "recXXXXXXXXXXXXXX", "fields": {"Stage": "Customer"}}].',
      ),
    replace: z
      .boolean()
      .default(false)
      .describe(
        "true: replace each record's cells (fields not given are cleared). Default false: change only the fields given.",
      ),
    addToLists: z
      .boolean()
      .optional()
      .describe(
        "For list cells (links, multiple selects, attachments, collaborators). true: add the items given to what each " +
          "cell holds (e.g. one more tag or linked record). false: set each cell to exactly the list given, removing " +
          "the items it held that are not in it. Left out: a call that would remove items a cell holds is refused, " +
          "naming them (nothing is written), so that adding a tag never wipes the others by mistake.",
      ),
    typecast: typecastInput,
    onError: onErrorInput,
  },
  outputSchema: operationResultShape,
  rewordIssues: rewordInTurn(
    recordListIssues("required"),
    unwrappedRecordIssues("update_records", "required"),
    recordIdKeyIssues("update_records", "required"),
    missingRecordIdIssues("update_records"),
    fieldsToMergeOnIssues("update_records", false),
  ),
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    checkRecordCount("update_records", "records", input.records.length, ctx.maxRecordsPerOperation);
    const idProblems = recordIdProblems(
      input.records.map((r) => r.id),
      (i) => `records[${i}].id`,
      "Give each record once (merge the fields of both entries into one).",
    );
    const ids = input.records.map((r) => r.id);
    // Lists are read only when the call sets one, and not when replace or addToLists: false says what is meant.
    // addToLists: true is kept with replace: true too (the fields not given are cleared, the lists given are added
    // to): the call said to add, and replacing anyway would drop what it asked to keep.
    const readsLists = input.addToLists === true || (!input.replace && input.addToLists !== false);
    const checked = await checkRecordsAgainstSchema(ctx, {
      idProblems,
      baseId: input.baseId,
      typecast: input.typecast,
      tableId: input.tableId,
      records: input.records,
      // A call refused for a link name (or any other problem) is told in the same refusal what its lists would
      // remove: else an agent fixing the name meets that refusal on its next call (h-agent32's trial).
      ...(readsLists &&
        input.addToLists === undefined && {
          alsoRefused: async (cells, schema, table) =>
            (await listRemovals(ctx, input.baseId, schema, table, cells, ids, undefined))?.message,
        }),
    });
    const cells = checked.cells;
    if (readsLists) {
      const schema = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId);
      const table = schema.tables.find((t) => t.id === checked.tableId);
      if (table !== undefined) {
        const refused = await listRemovals(ctx, input.baseId, schema, table, cells, ids, input.addToLists);
        if (refused !== undefined) throw refused;
      }
    }
    return {
      kind: "update_records",
      baseId: input.baseId,
      tableId: checked.tableId,
      input: input.records.map((record, i) => ({ id: record.id, fields: cells[i] ?? {} })),
      fieldNames: checked.fieldNames,
      options: {
        typecast: typecastOf(input.typecast),
        onError: input.onError,
        ...(input.replace && { replace: true }),
        ...derivedOptions(checked),
      },
    };
  },
});
