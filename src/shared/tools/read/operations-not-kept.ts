/**
 * What list_operations and get_operation add where the operation logs live only in this process's memory (a stdio
 * process without REDIS_URL that could not claim its state directory: ToolContext.operationsKeptSince). The MCP
 * client starts a new stdio process whenever it reconnects or restarts, and this one knows nothing of the writes
 * of the one before. The instructions tell an agent whose write call got no answer to look for it with
 * list_operations before calling again; an empty list would read as "never ran" and the records that were written
 * would be written twice. `because` (ToolContext.operationsInMemoryBecause): why, and what to do, one or more
 * sentences; without it the note ends by naming REDIS_URL.
 */
export function operationsNotKeptNote(keptSince: number, because?: string): string {
  return (
    `This stdio server keeps write operations in its memory only, since it started at ` +
    `${new Date(keptSince).toISOString()}: a write made before that, by an earlier run of it (the MCP client starts ` +
    `a new one when it reconnects or restarts), is not known here. Such a write was stopped when its run ended, ` +
    `after writing some of its records or none: look them up in the table (search_records or list_records) before ` +
    `writing them again. ` +
    (because ?? `To keep operations across restarts, set REDIS_URL in the server's configuration.`)
  );
}
