import { z } from "zod";

/**
 * Shapes of Airtable's answers. Objects are loose (`z.looseObject`): Airtable adds properties over time and we
 * keep them; what we rely on is checked. Field options and cell values stay `unknown` (they depend on the type).
 */

/**
 * Cell values keyed by field name (or id with `returnFieldsByFieldId`). Empty cells are absent. Checked to be a JSON
 * object and kept as parsed, not rebuilt: `z.record(z.string(), z.unknown())` checks nothing more of JSON's output
 * (every key is a string, every value is allowed), yet copies each cell into a new object — ~10 µs and ~1 KB per
 * 10-record page, on every read call (issue 15).
 */
export const fieldsSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "expected an object of cells",
);

export const recordSchema = z.looseObject({
  id: z.string(),
  createdTime: z.string(),
  fields: fieldsSchema,
  commentCount: z.number().optional(),
});
export type AirtableRecord = z.infer<typeof recordSchema>;

export const listRecordsResponseSchema = z.looseObject({
  records: z.array(recordSchema),
  offset: z.string().optional(),
});
export type ListRecordsPage = z.infer<typeof listRecordsResponseSchema>;

export const recordsResponseSchema = z.looseObject({ records: z.array(recordSchema) });

export const upsertResponseSchema = z.looseObject({
  records: z.array(recordSchema),
  createdRecords: z.array(z.string()),
  updatedRecords: z.array(z.string()),
});
export type UpsertResult = z.infer<typeof upsertResponseSchema>;

export const deletedRecordSchema = z.looseObject({ id: z.string(), deleted: z.boolean() });
export type DeletedRecord = z.infer<typeof deletedRecordSchema>;
export const deleteResponseSchema = z.looseObject({ records: z.array(deletedRecordSchema) });

export const whoamiSchema = z.looseObject({
  id: z.string(),
  email: z.string().optional(),
  scopes: z.array(z.string()).optional(),
});
export type WhoAmI = z.infer<typeof whoamiSchema>;

export const baseSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  permissionLevel: z.string(),
});
export type AirtableBase = z.infer<typeof baseSchema>;

export const listBasesResponseSchema = z.looseObject({
  bases: z.array(baseSchema),
  offset: z.string().optional(),
});
export type ListBasesPage = z.infer<typeof listBasesResponseSchema>;

export const fieldSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
export type AirtableField = z.infer<typeof fieldSchema>;

/**
 * A view in the base schema: id, name, type ("grid", "form", "calendar", "gallery", "kanban", "timeline", "block").
 * `visibleFieldIds` comes only with `include=visibleFieldIds` and only on grid views ("Get view metadata":
 * "Available on grid views only"); getBaseSchema does not ask for it and no tool reads it, so it stays optional.
 */
export const viewSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  visibleFieldIds: z.array(z.string()).optional(),
});
export type AirtableView = z.infer<typeof viewSchema>;

export const tableSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  primaryFieldId: z.string(),
  description: z.string().optional(),
  fields: z.array(fieldSchema),
  views: z.array(viewSchema),
});
export type AirtableTable = z.infer<typeof tableSchema>;

export const baseSchemaResponseSchema = z.looseObject({ tables: z.array(tableSchema) });
export type BaseSchema = z.infer<typeof baseSchemaResponseSchema>;

export const commentSchema = z.looseObject({
  id: z.string(),
  text: z.string(),
  createdTime: z.string(),
  lastUpdatedTime: z.string().nullable().optional(),
  parentCommentId: z.string().optional(),
  author: z.looseObject({ id: z.string(), email: z.string().optional(), name: z.string().optional() }),
  mentioned: z.record(z.string(), z.unknown()).optional(),
});
export type AirtableComment = z.infer<typeof commentSchema>;

/** Airtable sends `offset: null` on the last page of comments; we normalise it to absent. */
export const listCommentsResponseSchema = z
  .looseObject({
    comments: z.array(commentSchema),
    offset: z.string().nullable().optional(),
  })
  .transform(({ offset, ...rest }) => (offset == null ? rest : { ...rest, offset }));
export type CommentsPage = { comments: AirtableComment[]; offset?: string };

export const thumbnailSchema = z.looseObject({ url: z.string(), width: z.number(), height: z.number() });

export const attachmentSchema = z.looseObject({
  id: z.string(),
  url: z.string(),
  filename: z.string(),
  size: z.number().optional(),
  type: z.string().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  thumbnails: z.record(z.string(), thumbnailSchema).optional(),
});
export type AirtableAttachment = z.infer<typeof attachmentSchema>;

/** `POST content.airtable.com/v0/{base}/{record}/{field}/uploadAttachment`: the record, cells keyed by field id. */
export const uploadAttachmentResponseSchema = z.looseObject({
  id: z.string(),
  createdTime: z.string(),
  fields: fieldsSchema,
});
export const attachmentListSchema = z.array(attachmentSchema);
export interface UploadAttachmentResult {
  /** The record id. */
  id: string;
  createdTime: string;
  /** Cells of the answer, keyed by field id. */
  fields: Record<string, unknown>;
  /** The attachment cell after the upload (all its attachments, the new one last), when Airtable sent it. */
  attachments: AirtableAttachment[] | undefined;
}
