import type { Scope } from "../auth/scopes.ts";
import { OPERATION_KINDS, type OperationKind } from "../operations/events.ts";
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
 * Tools over the caller's own write operations (our logs, not Airtable); they run in the request. None needs a scope
 * of its own; cancel_operation needs the scopes of the tool that made the operation it stops ({@link scopesToCancel}).
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

/** Each kind's scopes to cancel (scopesToCancel), built once; a kind without a write tool of its name fails here. */
const cancelScopesByKind: ReadonlyMap<OperationKind, readonly Scope[]> = new Map(
  OPERATION_KINDS.map((kind) => {
    const tool = writeTools.find((t) => t.name === kind);
    if (tool === undefined) {
      throw new Error(
        `write kind ${kind} has no write tool of the same name in tools/catalog.ts: cancelling its operations needs ` +
          `the scopes of the tool that makes them (README, "Adding a write kind")`,
      );
    }
    return [kind, tool.scopes];
  }),
);

/**
 * The scopes a token needs to cancel an operation of `kind` (cancel_operation, `tasks/cancel`): those of the write
 * tool that made it, so a token that may make a write may stop it and one that may not make it may not stop it
 * either — a create_table operation needs schema:write (records:write is not enough), a create_comment one
 * comments:write, a record write records:write. The HTTP layer checks them (src/server/mcp/mcp-router.ts) and answers
 * a token without them 403 insufficient_scope naming them (RFC 6750 §3.1; MCP 2025-11-25 authorization, "Scope
 * Challenge Handling"). An operation's log keeps its kind, not its tool: each kind is made by the write tool of the
 * same name, and create_record also makes create_records operations, with the same scopes (the catalog's tests check
 * that every tool of a kind needs the scope that kind's Airtable request needs).
 */
export function scopesToCancel(kind: OperationKind): readonly Scope[] {
  const scopes = cancelScopesByKind.get(kind);
  if (scopes === undefined) throw new Error(`unknown operation kind ${JSON.stringify(kind)}`);
  return scopes;
}

/** Every scope some cancel can need: what a request naming too many operations to look up must hold (mcp-router.ts). */
export const ALL_CANCEL_SCOPES: readonly Scope[] = [...new Set([...cancelScopesByKind.values()].flat())];
