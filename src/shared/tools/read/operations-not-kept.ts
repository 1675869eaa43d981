/**
 * What list_operations and get_operation add where the operation logs live only in this process's memory (stdio
 * without REDIS_URL, ToolContext.operationsKeptSince). The MCP client starts a new stdio process whenever it
 * reconnects or restarts, and the new one knows nothing of the writes of the one before, which was stopped where it
 * was when it ended. The instructions tell an agent whose write call got no answer to look for it with
 * list_operations before calling again; an empty list would read as "never ran" and the records that were written
 * would be written twice.
 */
export function operationsNotKeptNote(keptSince: number): string {
  return (
    `This stdio server keeps write operations in its memory only, since it started at ` +
    `${new Date(keptSince).toISOString()}: a write made before that, by an earlier run of it (the MCP client starts ` +
    `a new one when it reconnects or restarts), is not known here. Such a write was stopped when its run ended, ` +
    `after writing some of its records or none: look them up in the table (search_records or list_records) before ` +
    `writing them again. To keep operations across restarts, set REDIS_URL in the server's configuration.`
  );
}
