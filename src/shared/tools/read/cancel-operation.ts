import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import { operationResult, operationResultShape } from "../operation-result.ts";
import { ToolInputError } from "../tool-input-error.ts";

/**
 * cancel_operation: stops one of the caller's write operations through the runner (OperationRunner.cancel, the
 * same path as `tasks/cancel` and Bull Board's remove). Answers what get_operation answers, right after the cancel
 * is recorded. Scopes: none of its own; the operation's, checked by the HTTP layer before the call runs — a token
 * must hold the scopes of the write tool that made the operation (catalog.ts scopesToCancel: schema:write for a
 * create_table, records:write for a record write), or it is answered 403 insufficient_scope naming them.
 */
export const cancelOperation = defineTool({
  name: "cancel_operation",
  title: "Cancel a write operation",
  description:
    "Stops a write operation (the operationId a write tool or list_operations gave). A queued operation never " +
    "starts: nothing is written. A running one stops after the batch of up to 10 records already sent to Airtable " +
    "(never mid-request); nothing after it is sent. The answer is get_operation's: status is cancelled once it has " +
    "stopped (while the batch in flight finishes: running with cancelRequested — poll get_operation), and results " +
    "list by index what was written (with its id) and what was not (notWritten). Safe to call again, and on a " +
    "finished operation, which is left as it was.",
  kind: "read",
  noAirtableRequest: true,
  // The operation's scopes are checked instead (scopesToCancel), once its kind is read: see mcp-router.ts.
  scopes: [],
  inputSchema: {
    operationId: z.string().min(1).describe("The operationId of the write to stop (op_…)."),
  },
  outputSchema: operationResultShape,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async handler(input, ctx) {
    if (ctx.operationRunner === undefined) throw new Error("cancel_operation needs the operation runner");
    const state = await ctx.operationRunner.cancel(input.operationId, ctx.userId, { source: "cancel_operation" });
    if (state === undefined) {
      // Someone else's operation answers the same as a missing one, so an id never reveals that it exists.
      throw new ToolInputError(
        `There is no operation ${JSON.stringify(input.operationId)} for you. Only its owner can cancel an ` +
          `operation, and operations are kept for 72 hours after their last change by default; ` +
          `list_operations lists yours.`,
      );
    }
    return operationResult(state);
  },
});
