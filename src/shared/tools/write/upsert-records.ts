import { z } from "zod";
import { defineWriteTool, rewordInTurn } from "../define-tool.ts";
import { operationResultShape } from "../operation-result.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { checkRecordCount, recordIdProblems } from "./check-records.ts";
import { listFieldsSet, readUpsertListCells, settleListCells } from "./list-cells.ts";
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
  recordListIssues,
  fieldsToMergeOnIssues,
} from "./write-inputs.ts";

export const upsertRecords = defineWriteTool({
  name: "upsert_records",
  title: "Upsert records",
  description:
    "Creates or updates records matched on fieldsToMergeOn (1–3 fields whose values identify a record, e.g. an " +
    "email): a record whose values match an existing record updates it, otherwise it is created; each result " +
    "says action created or updated. Up to 5,000 per call by default (the limit is in the instructions). Safe " +
    "to repeat: use it rather than create_records when a call may be retried. " +
    QUEUED_RECORDS_NOTE,
  kind: "write",
  scopes: ["records:write"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    records: z
      .array(recordItemInput("upsert_records", { id: recordIdItemInput.optional(), fields: fieldsInput }))
      .describe(
        'The records, e.g. [{"fields": {"Email": "ada@example.com", "Stage": "Lead"}}]. A record without id ' +
          "must carry a value for every field of fieldsToMergeOn; with an id it updates that record (never creates it: " +
          "an id the table lacks fails).",
      ),
    fieldsToMergeOn: z
      .array(z.string().min(1))
      .min(1)
      .max(3)
      .describe(
        'A list of 1–3 field names or ids whose values identify a record, e.g. ["Email"] (a list even for one ' +
          "field); unique within the call.",
      ),
    addToLists: z
      .boolean()
      .optional()
      .describe(
        "For list cells (links, multiple selects, attachments, collaborators) of records that already exist. true: " +
          "add the items given to what each cell holds (e.g. one more tag). Left out or false: set each cell to " +
          "exactly the list given, as Airtable does (the items it held that are not in it are removed).",
      ),
    typecast: typecastInput,
    onError: onErrorInput,
  },
  outputSchema: operationResultShape,
  rewordIssues: rewordInTurn(
    recordListIssues("optional"),
    unwrappedRecordIssues("upsert_records", "optional"),
    recordIdKeyIssues("upsert_records", "optional"),
    fieldsToMergeOnIssues("upsert_records", true),
  ),
  annotations: overwriteAnnotations,
  async plan(input, ctx) {
    checkRecordCount("upsert_records", "records", input.records.length, ctx.maxRecordsPerOperation);
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
      fieldsToMergeOn: input.fieldsToMergeOn,
      duplicateMergeWhy: "both would write the same record. Give each record once (merge their fields).",
    });
    const cells = checked.cells;
    let listsReplaced: { fieldId: string; field: string }[] = [];
    if (input.addToLists !== true) {
      const schema = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId);
      const table = schema.tables.find((t) => t.id === checked.tableId);
      listsReplaced =
        table === undefined ? [] : listFieldsSet(table, cells).map((f) => ({ fieldId: f.id, field: f.name }));
    }
    if (input.addToLists === true) {
      const schema = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId);
      const table = schema.tables.find((t) => t.id === checked.tableId);
      const fields = table === undefined ? [] : listFieldsSet(table, cells, true);
      if (table !== undefined && fields.length > 0) {
        const records = input.records.map((r, i) => ({
          ...(r.id !== undefined && { id: r.id }),
          cells: cells[i] ?? {},
        }));
        const merge = checked.fieldsToMergeOn ?? [];
        const typecast = typecastOf(input.typecast);
        const held = await readUpsertListCells(
          ctx.airtable,
          input.baseId,
          table.id,
          records,
          fields,
          merge,
          checked.fieldNames,
          typecast,
        );
        settleListCells(fields, cells, (i) => held.get(i), true);
      }
    }
    return {
      kind: "upsert_records",
      baseId: input.baseId,
      tableId: checked.tableId,
      input: input.records.map((record, i) => ({
        ...(record.id !== undefined && { id: record.id }),
        fields: cells[i] ?? {},
      })),
      fieldNames: checked.fieldNames,
      options: {
        typecast: typecastOf(input.typecast),
        onError: input.onError,
        fieldsToMergeOn: checked.fieldsToMergeOn ?? input.fieldsToMergeOn,
        ...derivedOptions(checked),
        ...(listsReplaced.length > 0 && { listsReplaced }),
      },
    };
  },
});
