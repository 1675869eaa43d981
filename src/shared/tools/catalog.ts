import type { AnyToolDefinition } from "./define-tool.ts";
import { describeTable } from "./read/describe-table.ts";
import { getOperation } from "./read/get-operation.ts";
import { getRecord } from "./read/get-record.ts";
import { listBases } from "./read/list-bases.ts";
import { listComments } from "./read/list-comments.ts";
import { listOperations } from "./read/list-operations.ts";
import { listRecords } from "./read/list-records.ts";
import { listTables } from "./read/list-tables.ts";
import { searchRecords } from "./read/search-records.ts";
import { cancelOperation } from "./read/cancel-operation.ts";
import { createComment } from "./write/create-comment.ts";
import { createField } from "./write/create-field.ts";
import { createRecord } from "./write/create-record.ts";
import { createRecords } from "./write/create-records.ts";
import { createTable } from "./write/create-table.ts";
import { deleteRecords } from "./write/delete-records.ts";
import { updateField } from "./write/update-field.ts";
import { updateRecords } from "./write/update-records.ts";
import { updateTable } from "./write/update-table.ts";
import { uploadAttachment } from "./write/upload-attachment.ts";
import { upsertRecords } from "./write/upsert-records.ts";

/** Tools that run in the request against Airtable. */
export const readTools: readonly AnyToolDefinition[] = [
  listBases,
  listTables,
  describeTable,
  listRecords,
  searchRecords,
  getRecord,
  listComments,
];

/**
 * Tools over the caller's own write operations (our logs, not Airtable); they run in the request. cancel_operation
 * changes an operation (it stops it), so it needs the write scope records:write.
 */
export const operationTools: readonly AnyToolDefinition[] = [getOperation, listOperations, cancelOperation];

/** Tools whose calls become queued operations (see run-write.ts). */
export const writeTools: readonly AnyToolDefinition[] = [
  createRecord,
  createRecords,
  updateRecords,
  upsertRecords,
  deleteRecords,
  createTable,
  updateTable,
  createField,
  updateField,
  createComment,
  uploadAttachment,
];

/** Every tool this server offers. */
export const allTools: readonly AnyToolDefinition[] = [...readTools, ...operationTools, ...writeTools];
