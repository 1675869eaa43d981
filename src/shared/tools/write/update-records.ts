import { z } from "zod";
import { defineWriteTool, rewordInTurn } from "../define-tool.ts";
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
    const checked = await checkRecordsAgainstSchema(ctx, {
      idProblems,
      baseId: input.baseId,
      typecast: input.typecast,
      tableId: input.tableId,
      records: input.records,
    });
    const cells = checked.cells;
    // Lists are read only when the call sets one, and not when replace or addToLists: false says what is meant.
    // addToLists: true is kept with replace: true too (the fields not given are cleared, the lists given are added
    // to): the call said to add, and replacing anyway would drop what it asked to keep.
    if (input.addToLists === true || (!input.replace && input.addToLists !== false)) {
      const schema = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId);
      const table = schema.tables.find((t) => t.id === checked.tableId);
      const fields = table === undefined ? [] : listFieldsSet(table, cells, input.addToLists);
      if (table !== undefined && fields.length > 0) {
        const ids = input.records.map((r) => r.id);
        const fieldIds = fields.map((f) => f.id);
        const held = await readCellsById(ctx.airtable, input.baseId, table.id, ids, fieldIds);
        const dropped = settleListCells(fields, cells, (i) => held.get(ids[i]!), input.addToLists);
        if (dropped.length > 0) {
          const where = (i: number) => `records[${i}].fields`;
          throw await listCellsRefusal(ctx.airtable, input.baseId, schema, table, dropped, ids, where);
        }
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
