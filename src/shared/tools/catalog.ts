import type { AnyToolDefinition } from "./define-tool.ts";
import { describeTable } from "./read/describe-table.ts";
import { getRecord } from "./read/get-record.ts";
import { listBases } from "./read/list-bases.ts";
import { listComments } from "./read/list-comments.ts";
import { listRecords } from "./read/list-records.ts";
import { listTables } from "./read/list-tables.ts";
import { searchRecords } from "./read/search-records.ts";

/** Tools that run in the request. */
export const readTools: readonly AnyToolDefinition[] = [
  listBases,
  listTables,
  describeTable,
  listRecords,
  searchRecords,
  getRecord,
  listComments,
];

/** Every tool this server offers (write tools join with the write pipeline). */
export const allTools: readonly AnyToolDefinition[] = [...readTools];
