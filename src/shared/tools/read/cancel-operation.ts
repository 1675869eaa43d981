import { z } from "zod";
import { defineTool } from "../define-tool.ts";
import { isTerminal, type OperationState } from "../../operations/fold.ts";
import { operationResult, operationResultShape } from "../operation-result.ts";
import { ToolInputError } from "../tool-input-error.ts";

/**
 * cancel_operation: stops one of the caller's write operations through the runner (OperationRunner.cancel, the
 * same path as `tasks/cancel` and Bull Board's remove). Answers what get_operation answers, right after the cancel
 * is recorded, its message starting with what the cancel did when it did nothing ({@link cancelOutcome}: the
 * operation had already ended, or had already been cancelled). Not an error: the cancel is idempotent and an
 * ended operation is a normal answer (its status and results are the point). Scopes: none of its own; the
 * operation's, checked by the HTTP layer before the call runs — a token must hold the scopes of the write tool that
 * made the operation (catalog.ts scopesToCancel: schema:write for a create_table, records:write for a record
 * write), or it is answered 403 insufficient_scope naming them.
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
    "finished operation, which is left as it was: the message then says it had already ended (or been cancelled), " +
    "so nothing was cancelled, and what it did.",
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
    // Read first: the runner answers an operation that had already ended unchanged, and only the state before the
    // cancel tells "it had ended, nothing was cancelled" from "cancelled now".
    const before = await ctx.operations.getForOwner(input.operationId, ctx.userId);
    const state =
      before === undefined
        ? undefined
        : await ctx.operationRunner.cancel(input.operationId, ctx.userId, { source: "cancel_operation" });
    if (before === undefined || state === undefined) {
      // Someone else's operation answers the same as a missing one, so an id never reveals that it exists.
      throw new ToolInputError(
        `There is no operation ${JSON.stringify(input.operationId)} for you. Only its owner can cancel an ` +
          `operation, and operations are kept for 72 hours after their last change by default; ` +
          `list_operations lists yours.`,
      );
    }
    const answer = operationResult(state);
    answer.message = `${cancelOutcome(before, state)}${answer.message}`;
    return answer;
  },
});

/**
 * What a cancel did, as the first sentence(s) of cancel_operation's message (ending with a space), from the
 * operation's state just `before` the cancel and `after` it; empty when the cancel took effect or is taking effect
 * (the state's own message says which: "Cancelled …", "Cancelling: …"). The operation's own summary follows it.
 * - it had already ended (completed, completed_with_errors, failed): nothing was cancelled, and what it did;
 * - it was already cancelled: nothing more to stop;
 * - it ended between the read and the cancel (its last batch was in flight) other than cancelled: the cancel came
 *   too late;
 * - a cancel had already been asked for (it is stopping after its batch in flight): this one added nothing.
 */
export function cancelOutcome(before: OperationState, after: OperationState): string {
  if (before.status === "cancelled") {
    return "This operation had already been cancelled before this call: nothing more was stopped. ";
  }
  if (isTerminal(before.status)) {
    return (
      `This operation had already ended (status ${before.status}) before this cancel, so nothing was cancelled. ` +
      "What it did: "
    );
  }
  if (isTerminal(after.status) && after.status !== "cancelled") {
    return (
      `This operation ended (status ${after.status}) before the cancel could take effect, so nothing was ` +
      "cancelled. What it did: "
    );
  }
  if (before.cancellation !== undefined && !isTerminal(after.status)) {
    return "A cancel had already been asked for: this call added nothing. ";
  }
  return "";
}
