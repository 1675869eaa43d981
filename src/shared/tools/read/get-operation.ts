import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import type { ToolAnnotations } from "../define-tool.ts";
import { operationResult, operationResultShape } from "../operation-result.ts";
import { cursorInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { operationsNotKeptNote } from "./operations-not-kept.ts";

/** Reads this server's own operation logs, not Airtable: a closed world, and nothing changes. */
export const operationLogAnnotations: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
};

export const getOperation = defineTool({
  name: "get_operation",
  title: "Get a write operation",
  description:
    "Status, progress and per-record results of a write operation (the operationId a write tool answered " +
    "with). Poll it while done is false (every few seconds). Results come by input index, up to 200 per " +
    "answer: pass nextCursor back as cursor for the next ones. To poll a long write without reading the same " +
    "results again, pass the previous answer's sinceToken as since: only the results that changed after that " +
    "answer come back (and the last poll's, once done, lists the records not written). A result with inDoubt was sent but its answer " +
    "was lost: look the record up before writing it again. rateLimitPause: the write waits out Airtable's " +
    "429 penalty on the base until the time given, then resumes by itself with nothing lost (do not cancel or " +
    "re-send it).",
  kind: "read",
  noAirtableRequest: true,
  scopes: [],
  inputSchema: {
    operationId: z.string().min(1).describe("The operationId a write tool or list_operations gave (op_…)."),
    cursor: cursorInput,
    since: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "sinceToken from an earlier answer about this operation: list only the results that changed after it " +
          "(by index; with nextCursor, page through them with the same since). Left out: every result.",
      ),
  },
  outputSchema: operationResultShape,
  annotations: operationLogAnnotations,
  async handler(input, ctx) {
    const state = await ctx.operations.getForOwner(input.operationId, ctx.userId);
    if (state === undefined) {
      // Someone else's operation answers the same as a missing one, so an id never reveals that it exists.
      throw new ToolInputError(
        `There is no operation ${JSON.stringify(input.operationId)} for you. Operations are kept for ` +
          `72 hours after their last change by default, and only their owner sees ` +
          `them; list_operations lists yours.` +
          (ctx.operationsKeptSince === undefined
            ? ""
            : ` ${operationsNotKeptNote(ctx.operationsKeptSince, ctx.operationsInMemoryBecause)}`),
      );
    }
    return operationResult(state, {
      ...(input.cursor !== undefined && { cursor: input.cursor }),
      ...(input.since !== undefined && { since: input.since }),
    });
  },
});
