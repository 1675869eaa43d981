import { z } from "zod";
import { OPERATION_KINDS } from "../../operations/events.ts";
import { OPERATION_STATUSES } from "../../operations/fold.ts";
import { isOperationId } from "../../operations/operation-id.ts";
import { isUnreadable, unreadableOperationSentence } from "../../operations/unreadable-log.ts";
import { defineTool } from "../define-tool.ts";
import { progressOutput, rateLimitPauseOf, rateLimitPauseOutput } from "../operation-result.ts";
import { cursorInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { operationLogAnnotations } from "./get-operation.ts";
import { operationsNotKeptNote } from "./operations-not-kept.ts";

export const operationSummaryOutput = z.object({
  operationId: z.string().describe("Pass to get_operation for the results."),
  kind: z
    .enum(OPERATION_KINDS)
    .describe("The write: the tool's name, except create_record, which is listed as create_records."),
  baseId: z.string(),
  tableId: z.string().optional().describe("The table's id (tbl…), also when the call named the table."),
  status: z.enum(OPERATION_STATUSES),
  progress: progressOutput.describe("recordsTotal is the number of items the call carried (records, or 1)."),
  rateLimitPause: rateLimitPauseOutput.optional(),
  createdAt: z.string().describe("When the operation was queued (ISO 8601, UTC)."),
  updatedAt: z.string().describe("Its latest event (ISO 8601, UTC)."),
});

/** An operation of the page whose log this server's version cannot read (operations/unreadable-log.ts). */
export const unreadableOperationOutput = z.object({
  operationId: z.string(),
  kind: z.enum(OPERATION_KINDS).optional(),
  baseId: z.string().optional(),
  tableId: z.string().optional(),
  createdAt: z.string().optional().describe("When the operation was queued (ISO 8601, UTC), when known."),
  message: z.string().describe("Why its status cannot be shown, and what to do before writing its records again."),
});

export const listOperations = defineTool({
  name: "list_operations",
  title: "List my write operations",
  description:
    "Lists your recent write operations, newest first: kind, base, table, status, progress (recordsTotal: its " +
    "record count), createdAt, and rateLimitPause while a write waits out Airtable's 429 penalty on its base (it " +
    "resumes by itself). Use it to find an operationId you lost — a write call that got no answer may " +
    "still be running: find it here before calling again — then get_operation for its results. Operations are kept for 72 hours after " +
    "their last change by default (the server's operator may set another time). An operation whose log this " +
    "server's version cannot read is named in `unreadable` instead: look its records up before writing them again.",
  kind: "read",
  noAirtableRequest: true,
  scopes: [],
  inputSchema: {
    limit: z.number().int().min(1).max(100).default(20).describe("Operations per answer (1–100, default 20)."),
    cursor: cursorInput,
  },
  outputSchema: {
    operations: z.array(operationSummaryOutput),
    unreadable: z
      .array(unreadableOperationOutput)
      .optional()
      .describe(
        "Operations of this page whose log this server's version cannot read (written by a newer version, or " +
          "damaged): their status and results cannot be shown. Present only when there are any.",
      ),
    nextCursor: z.string().optional(),
    note: z
      .string()
      .optional()
      .describe("Where this server keeps operations only since it started: writes before that are not listed."),
  },
  annotations: operationLogAnnotations,
  async handler(input, ctx) {
    if (input.cursor !== undefined && !isOperationId(input.cursor)) {
      throw new ToolInputError(
        `The cursor ${JSON.stringify(input.cursor)} is not a nextCursor of list_operations. Pass the nextCursor of the previous answer, or leave cursor out to start from your newest operation.`,
      );
    }
    const summaries = await ctx.operations.listForOwner(ctx.userId, {
      limit: input.limit,
      ...(input.cursor !== undefined && { before: input.cursor }),
    });
    const now = Date.now();
    const operations = [];
    const unreadable = [];
    for (const entry of summaries) {
      if (isUnreadable(entry)) {
        // Named, not dropped: an agent looking for a write that got no answer must not read its absence as "never
        // ran". Its other operations are listed as usual.
        const { operationId, kind, baseId, tableId, createdAt, reason } = entry;
        ctx.logger.warn({ operationId, reason }, "an operation's log cannot be read by this version");
        unreadable.push({
          operationId,
          ...(kind === undefined ? {} : { kind }),
          ...(baseId === undefined ? {} : { baseId }),
          ...(tableId === undefined ? {} : { tableId }),
          ...(createdAt === undefined ? {} : { createdAt: new Date(createdAt).toISOString() }),
          message: unreadableOperationSentence(entry),
        });
        continue;
      }
      const { rateLimitPause: recorded, ...s } = entry;
      // Shown only while the penalty's end is ahead (rateLimitPauseOf), in the answer's own shape.
      const pause = rateLimitPauseOf({ status: s.status, rateLimitPause: recorded }, now);
      operations.push({
        ...s,
        ...(pause === undefined ? {} : { rateLimitPause: pause }),
        createdAt: new Date(s.createdAt).toISOString(),
        updatedAt: new Date(s.updatedAt).toISOString(),
      });
    }
    const last = summaries.at(-1);
    const note =
      ctx.operationsKeptSince === undefined
        ? {}
        : { note: operationsNotKeptNote(ctx.operationsKeptSince, ctx.operationsInMemoryBecause) };
    // A full page may have more after it; the next page starts after its last operation, readable or not.
    return {
      operations,
      ...(unreadable.length === 0 ? {} : { unreadable }),
      ...(summaries.length === input.limit && last !== undefined ? { nextCursor: last.operationId } : {}),
      ...note,
    };
  },
});
