import { z } from "zod";
import { RECORD_ID_PATTERN } from "../airtable/ids.ts";
import type { AirtableField, AirtableRecord, AirtableTable, AirtableView } from "../airtable/schemas.ts";

/**
 * Input and output pieces shared by the tools. Parameter names follow the reference Airtable MCP server
 * (baseId, tableId, recordId, fields, maxRecords, view) so agents used to it need no relearning.
 */
export const baseIdInput = z
  .string()
  .regex(/^app[A-Za-z0-9]{14}$/, "a base id looks like appXXXXXXXXXXXXXX (17 characters); find it with list_bases")
  .describe("The base id (app…), from list_bases.");
export const tableIdInput = z
  .string()
  .min(1)
  .describe(
    "The table id (tbl…) or its name, from list_tables: matched exactly, or ignoring case and surrounding spaces " +
      "when only one table matches.",
  );
export const recordIdInput = z
  .string()
  .regex(RECORD_ID_PATTERN, "a record id looks like recXXXXXXXXXXXXXX (17 characters)")
  .describe("The record id (rec…).");
export const cursorInput = z
  .string()
  .min(1)
  .max(8000)
  .optional()
  .describe("nextCursor from the previous answer, to continue where it stopped. Repeat the other arguments unchanged.");

export const recordOutput = z.object({
  id: z.string(),
  createdTime: z.string(),
  fields: z
    .record(z.string(), z.unknown())
    .describe(
      'Cells keyed by field name: Airtable\'s JSON values, or text with cellFormat "string"; empty cells are absent.',
    ),
  commentCount: z.number().optional(),
});
export type RecordOutput = z.infer<typeof recordOutput>;

export function toRecordOutput(record: AirtableRecord): RecordOutput {
  const out: RecordOutput = { id: record.id, createdTime: record.createdTime, fields: record.fields };
  if (record.commentCount !== undefined) out.commentCount = record.commentCount;
  return out;
}

export const detailLevelInput = z
  .enum(["tableIdentifiersOnly", "identifiersOnly", "full"])
  .describe(
    "tableIdentifiersOnly: table ids and names; identifiersOnly: also field and view ids and names; " +
      "full: also field types, options and descriptions.",
  );
export type DetailLevel = z.infer<typeof detailLevelInput>;

export const fieldOutput = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string().optional(),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
export const viewOutput = z.object({ id: z.string(), name: z.string(), type: z.string().optional() });
export const tableOutput = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  primaryFieldId: z.string().optional(),
  fields: z.array(fieldOutput).optional(),
  views: z.array(viewOutput).optional(),
});
export type TableOutput = z.infer<typeof tableOutput>;

function fieldAt(field: AirtableField, level: DetailLevel): z.infer<typeof fieldOutput> {
  if (level !== "full") return { id: field.id, name: field.name };
  const out: z.infer<typeof fieldOutput> = { id: field.id, name: field.name, type: field.type };
  if (field.description !== undefined) out.description = field.description;
  if (field.options !== undefined) out.options = field.options;
  return out;
}

function viewAt(view: AirtableView, level: DetailLevel): z.infer<typeof viewOutput> {
  return level === "full" ? { id: view.id, name: view.name, type: view.type } : { id: view.id, name: view.name };
}

/** A table as much as the detail level asks for: less detail keeps big bases within the agent's context. */
export function tableAt(table: AirtableTable, level: DetailLevel): TableOutput {
  if (level === "tableIdentifiersOnly") return { id: table.id, name: table.name };
  const out: TableOutput = {
    id: table.id,
    name: table.name,
    fields: table.fields.map((f) => fieldAt(f, level)),
    views: table.views.map((v) => viewAt(v, level)),
  };
  if (level === "full") {
    out.primaryFieldId = table.primaryFieldId;
    if (table.description !== undefined) out.description = table.description;
  }
  return out;
}
