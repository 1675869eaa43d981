/**
 * Cell writes, per field type, strictly as Airtable checks them and as `typecast` converts them; the per-family
 * rules are in fields/ (scalars, links, attachments, collaborators), reads in fields/reader.ts, field definitions in
 * fields/definitions.ts.
 *
 * Common rules (https://airtable.com/developers/web/api/field-model):
 * - Empty values (null, "", [], false) clear the cell; empty cells are omitted from answers.
 * - Computed fields (formula, lookup, rollup, count, createdTime, lastModifiedTime, autoNumber, button) refuse
 *   every value, even null: 422 INVALID_VALUE_FOR_COLUMN "…because the field is computed".
 * - Without typecast, strings are never converted.
 */
import { computedField } from "./errors.ts";
import type { Field } from "./store.ts";
import { writeAttachments } from "./fields/attachments.ts";
import { writeCollaborators } from "./fields/collaborators.ts";
import { EMPTY, type CellResult } from "./fields/empty.ts";
import { writeLinks } from "./fields/links.ts";
import { COMPUTED_TYPES } from "./fields/registry.ts";
import { writeScalar } from "./fields/scalars.ts";
import type { WriteContext } from "./fields/write-context.ts";

export { COMPUTED_TYPES, SUPPORTED_TYPES } from "./fields/registry.ts";
export { isEmptyResult, type CellResult } from "./fields/empty.ts";
export { WriteContext } from "./fields/write-context.ts";
export type { Attachment } from "./fields/cell-values.ts";

/**
 * The stored form of `value` written to `field`, EMPTY to clear the cell, or a thrown ApiError.
 * `existing` is the cell's current value (attachments keep entries referenced by id).
 */
export function writeCell(field: Field, value: unknown, ctx: WriteContext, existing: unknown): CellResult {
  if (COMPUTED_TYPES.has(field.type)) throw computedField(field.name);
  if (value === null || value === undefined) return EMPTY;
  switch (field.type) {
    case "multipleAttachments":
      return writeAttachments(field, value, existing, ctx);
    case "multipleRecordLinks":
      return writeLinks(field, value, ctx);
    case "singleCollaborator":
    case "multipleCollaborators":
      return writeCollaborators(field, value, ctx);
    default:
      return writeScalar(field, value, ctx);
  }
}
