import { SdkError, SdkErrorCode, type CallToolResult } from "@modelcontextprotocol/server";
import { batchCount, type Operation } from "../operations/events.ts";
import { notWrittenOf, type OperationProgress, type OperationState } from "../operations/fold.ts";
import type { OperationRunner } from "../operations/operation-runner.ts";
import type { OperationReader } from "../operations/operation-store.ts";
import type { RecentCalls } from "../operations/recent-calls.ts";
import { UnreadableOperationLogError } from "../operations/unreadable-log.ts";
import { operationFromPlan } from "../operations/plan.ts";
import type { OperationPlan } from "../operations/plan.ts";
import { inCurrentLogContext } from "../log-context.ts";
import { withTimeout } from "../readiness.ts";
import type { OperationTaskStore } from "../tasks/operation-task-store.ts";
import type { ToolContext, WriteToolDefinition } from "./define-tool.ts";
import { checkRecordCount } from "./write/check-records.ts";
import {
  doneWord,
  notWrittenCount,
  operationResult,
  rateLimitPauseOf,
  type OperationResultOutput,
} from "./operation-result.ts";
import { toolSuccessResult } from "./tool-result.ts";
import { formatCount } from "../format-count.ts";
import { ReadCallCancelledError } from "./read-call.ts";
import { untilAborted } from "../until-aborted.ts";

export interface WriteRunnerOptions {
  runner: OperationRunner;
  operations: OperationReader;
  /** WRITE_WAIT_MS: how long a call waits for its operation before answering with its id and progress. */
  waitMs: number;
  /**
   * The workers' liveness (worker-heartbeat.ts), when a worker pool runs the operations. A call made once readings
   * have seen no worker for a whole window (`absentForWindow`, 30 s) answers at once that no worker is running; a
   * call whose operation is still queued after the wait says so when no worker is alive, instead of a bare
   * "Queued".
   */
  workers?: { anyAlive(): Promise<boolean>; absentForWindow(): Promise<boolean> };
  /**
   * Aborted when this process begins to shut down: a call whose connection the shutdown closes was not cancelled by
   * its client, so its operation goes on (another instance or the next start finishes it). A call waiting for its
   * operation stops waiting then and answers at once with its operationId and progress, as after `waitMs`: within
   * the shutdown's grace for in-flight requests, instead of a connection closed with no id to poll.
   */
  shutdown?: AbortSignal;
  /**
   * The claims of recent create calls (../operations/recent-calls.ts): a create_records / create_record call
   * identical to one of the user's operations accepted within 10 minutes and still queued or running answers with
   * that operation instead of queueing the records again. Absent: every call queues its own operation.
   */
  recentCalls?: RecentCalls;
}

/**
 * How long past `waitMs` a call may take to read its operation's state before it answers with the operation id
 * alone: a wait on BullMQ or a read from Redis that hangs (Redis restarting mid-call) never hangs the call.
 */
export const WRITE_ANSWER_GRACE_MS = 5_000;

/**
 * A write tool call: its plan becomes an operation (durable once submitted), then the call waits up to
 * `waitMs`. Ended in time → the full result; otherwise `{operationId, status, progress}` and the agent polls
 * get_operation. With a progressToken, every batch sends notifications/progress (records settled of total; the
 * message says how many were written, failed or in doubt, and names the operation: progressMessage).
 * With `tasks` (the request declared the MCP Tasks extension, 2026-07-28), the call does not wait: once the
 * operation is durable it answers with a task whose id is the operation id (`resultType: "task"`, see
 * ../tasks/operation-task-store.ts), and the client polls `tasks/get` (or get_operation).
 *
 * A call cancelled while it waits cancels its operation (`runner.cancel`, recorded as the owner's cancel: what was
 * written stays written, the rest is not sent) and sends no more progress: on `notifications/cancelled` where it
 * reaches the call (stdio; over HTTP a 2025-era client's comes as another request, which the server matches to this
 * one by grant and id: src/server/mcp/call-cancels.ts), and when
 * a 2026-07-28 client closes the request's stream ("MUST be treated by the server as cancellation",
 * basic/transports/streamable-http; such a client then re-issues the request, which would otherwise write
 * everything twice). A 2025-era client that disconnects leaves its write running (those revisions: a disconnect
 * SHOULD NOT be taken as a cancel), and so does a call cut off by this process's shutdown (`shutdown`), a call
 * that has already answered, and a task, which outlives its request by design. A call cancelled before its
 * operation was queued queues nothing; a call whose request ends in any way (a 2025-era disconnect and the
 * shutdown included) while its plan is made never gets here (read-call.ts, register-tools.ts).
 */
export function createWriteRunner(opts: WriteRunnerOptions) {
  return async (
    tool: WriteToolDefinition,
    plan: OperationPlan,
    ctx: ToolContext,
    tasks?: OperationTaskStore,
  ): Promise<CallToolResult> => {
    // Every tool checks this before fetching a schema; this backstop holds for any write tool's plan.
    checkRecordCount(tool.name, "records", plan.input.length, ctx.maxRecordsPerOperation);
    const planned = operationFromPlan(plan, ctx.userId);
    // The client no longer waits for an answer; this one is for logs, /metrics ("cancelled") and a client that
    // reads it anyway.
    if (isClientCancel(ctx, opts.shutdown)) throw new ReadCallCancelledError(tool.name, "write_checks");
    const earlier = await findEarlierCall(opts.recentCalls, planned, ctx);
    const operation = earlier?.operation ?? planned;
    // A submit that throws keeps its claim: its operation is then absent (a retry waits HOLDER_WAIT_MS for it and
    // takes the claim over), ended `failed` (taken over at once), or may run after all (SubmitOutcomeUnknownError):
    // a retry is then rightly attached to it.
    if (earlier === undefined) await opts.runner.submit(operation);
    ctx.logger.info(
      { operationId: operation.operationId, kind: operation.kind, baseId: operation.baseId, items: plan.input.length },
      earlier === undefined
        ? "operation queued"
        : "identical to an unfinished earlier call: answering with its operation, nothing queued",
    );
    /** The answer's output, opened with the attached-call sentence when this call joined an earlier operation. */
    const answered = (output: OperationResultOutput): CallToolResult => {
      if (earlier !== undefined) output.message = `${earlierCallSentence(earlier)} ${output.message}`;
      return toolSuccessResult(output);
    };
    if (tasks !== undefined) {
      const created = await answerWithTask(tasks, operation, ctx);
      if (created !== undefined) return created;
    }
    let cancelledByClient = false;
    // Fired from outside this request (its client's cancel is a request of its own, or a Redis message from another
    // instance; a closed connection): bound to this call's log context, for its userId and requestId.
    const onAbort = inCurrentLogContext((): void => {
      if (!isClientCancel(ctx, opts.shutdown)) return;
      cancelledByClient = true;
      ctx.logger.info({ operationId: operation.operationId }, "the write call was cancelled: cancelling its operation");
      opts.runner
        .cancel(operation.operationId, ctx.userId, { source: "cancel_operation" })
        .catch((error: unknown) =>
          ctx.logger.warn({ err: error, operationId: operation.operationId }, "could not cancel"),
        );
    });
    // A call attached to an earlier call's operation did not start it: its end, even a cancel, leaves it running
    // (cancel_operation stops it).
    if (earlier === undefined) {
      if (ctx.signal?.aborted === true) onAbort();
      else ctx.signal?.addEventListener("abort", onAbort, { once: true });
    }
    const send = ctx.sendProgress;
    // "The `progress` value MUST increase with each notification" (basic/utilities/progress, 2025-06-18 to
    // 2026-07-28): a runner may relay the same count twice (a cancel recorded between batches), so only a larger
    // count is sent. Once cancelled, every item is accounted for (written, failed, in doubt or never sent): that
    // last notification counts them all, so it still increases and still says "cancelled".
    let lastSent = -1;
    const onProgress =
      send === undefined
        ? undefined
        : // Called by the runner's progress events (the queue's, outside this request): bound as onAbort is.
          inCurrentLogContext((p: OperationProgress) => {
            if (cancelledByClient) return; // nothing more is sent for a cancelled request

            const count = p.cancelled === true ? p.recordsTotal : settledCount(p);
            // A pause (Airtable's 429 penalty) settles nothing: its notification counts half a record more, so that
            // its progress still increases, once per count (the next record settled goes past it).
            const pause = p.cancelled === true ? undefined : rateLimitPauseOf({ status: "running", ...p }, Date.now());
            const settled = pause === undefined ? count : count + 0.5;
            if (settled <= lastSent) return;
            lastSent = settled;
            // Each message names the operation: a client whose call goes away (a dropped connection) still knows
            // what to ask get_operation about.
            const paused =
              pause === undefined
                ? ""
                : `; paused by Airtable's rate limit (429) on base ${pause.baseId} until ${pause.until} ` +
                  `(${formatCount(pause.secondsLeft)} s), then it resumes by itself with nothing lost: no need to cancel or send it again`;
            const message = `${progressMessage(p, operation.kind)}${paused} · operation ${operation.operationId}`;
            send(settled, p.recordsTotal, message).catch((error: unknown) =>
              ctx.logger.debug({ err: error }, "progress notification not delivered"),
            );
          });
    // From here on the operation exists and will run: whatever fails now, the answer must carry its id, or an
    // agent told "nothing was changed" would call again and write everything twice. Whatever hangs (a wait or a
    // read while Redis restarts), the call answers by waitMs + WRITE_ANSWER_GRACE_MS.
    const waitAndRead = async (): Promise<CallToolResult> => {
      // Waiting would only delay the news: with none seen for 30 s, no worker is about to take this write.
      const workers = opts.workers;
      const absent = workers !== undefined && (await readWorkers(() => workers.absentForWindow(), false, ctx));
      if (!absent) {
        const waiting = opts.runner.waitForEnd(operation.operationId, opts.waitMs, onProgress);
        // The process's shutdown ends the wait at once (the answer then carries the operation's id and progress);
        // the runner's wait runs on to its own timeout.
        const shutdown = opts.shutdown;
        await (shutdown === undefined
          ? waiting
          : untilAborted(waiting, shutdown).catch((error: unknown) => {
              if (!shutdown.aborted) throw error;
            }));
      }
      const state = await opts.operations.getForOwner(operation.operationId, ctx.userId);
      if (state === undefined) throw new Error(`operation ${operation.operationId} vanished right after it was queued`);
      const output = operationResult(state, { withResults: state.status !== "queued" && state.status !== "running" });
      const noneAlive = async () => workers !== undefined && !(await readWorkers(() => workers.anyAlive(), true, ctx));
      if (state.status === "queued" && (absent || (await noneAlive()))) {
        output.message = noWorkerMessage(operation.operationId);
      }
      return answered(output);
    };
    try {
      return await withTimeout(waitAndRead(), opts.waitMs + WRITE_ANSWER_GRACE_MS);
    } catch (error) {
      // A log this version cannot read (a newer version's event landed in it while the call waited: unreadable-log.ts)
      // has no status this server can show, so not "Queued, and it will run": the call answers what get_operation does.
      if (error instanceof UnreadableOperationLogError) throw error;
      ctx.logger.warn({ err: error, operationId: operation.operationId }, "queued, but its state could not be read");
      return answered(queuedWithoutState(operation));
    } finally {
      // Answered (perhaps with the operation still running): the request's later end is no cancellation.
      ctx.signal?.removeEventListener("abort", onAbort);
    }
  };
}

/**
 * The unfinished operation of an earlier call identical to this one (recent-calls.ts), or undefined: this call
 * queues its own (and holds the claim). A store that cannot be read leaves the call as it was before the rule
 * (it queues), logged: refusing the write would be worse than the rare duplicate.
 */
async function findEarlierCall(
  recentCalls: RecentCalls | undefined,
  operation: Operation,
  ctx: ToolContext,
): Promise<OperationState | undefined> {
  if (recentCalls === undefined) return undefined;
  try {
    return await withTimeout(recentCalls.findOrClaim(operation), WRITE_ANSWER_GRACE_MS);
  } catch (error) {
    ctx.logger.warn({ err: error }, "could not look for an identical earlier call: queueing this one");
    return undefined;
  }
}

/** The sentence that opens the answer of a call attached to an earlier identical call's operation. */
export function earlierCallSentence(earlier: OperationState): string {
  return (
    `This is not a new operation: an identical call (same base, table, records and options) was accepted at ` +
    `${new Date(earlier.createdAt).toISOString()} as operation ${earlier.operation.operationId} and had not ` +
    "finished, so this call was attached to it and nothing was queued again (no record is created twice). To " +
    "create these records a second time on purpose, send the call again once that operation has finished."
  );
}

/**
 * The task answer for `operation`, just submitted. Undefined (the call then waits, as without tasks) when its state
 * cannot be read within WRITE_ANSWER_GRACE_MS: a task answer must be resolvable by `tasks/get`, and the wait path
 * already knows how to answer an operation it cannot read.
 */
async function answerWithTask(
  tasks: OperationTaskStore,
  operation: Operation,
  ctx: ToolContext,
): Promise<CallToolResult | undefined> {
  try {
    return await withTimeout(tasks.created(operation.operationId, ctx.userId), WRITE_ANSWER_GRACE_MS);
  } catch (error) {
    ctx.logger.warn({ err: error, operationId: operation.operationId }, "queued, but its task could not be read");
    return undefined;
  }
}

/**
 * Reads the workers' heartbeats with `read`; when they cannot be read, `assumed` — the answer that is never
 * wrong: a worker is alive (a plain "Queued"), the deployment has not been without one (the call waits).
 */
async function readWorkers(read: () => Promise<boolean>, assumed: boolean, ctx: ToolContext): Promise<boolean> {
  try {
    return await read();
  } catch (error) {
    ctx.logger.debug({ err: error }, "worker heartbeats could not be read");
    return assumed;
  }
}

/** The message of a write that cannot start: it is kept, and runs once the operator starts a worker. */
export function noWorkerMessage(operationId: string): string {
  return (
    `Queued; no worker is running — the operator must start one. The write is kept as operation ${operationId} ` +
    "and runs when a worker starts: do not call again; poll get_operation with this operationId."
  );
}

/**
 * The `message` of a write call's progress notification (basic/utilities/progress: "human-readable progress
 * information"), without the operation id the caller appends. Failed and in-doubt items are settled too (they count
 * in `progress`) but were not written, so they are named as what they are: "2 of 2 done: 0 written, 2 failed (batch
 * 1/1)", as the final answer says "0 records written, 2 failed of 2". Only when every settled item was written does
 * it say "150 of 1,200 written (batch 3/120)". A cancelled operation's last notification counts what was written
 * (and what failed or is in doubt) of the total: "cancelled: 38 of 200 written, 2 failed; the rest were not sent".
 * @param p the operation's progress as the runner relays it (counts of items; `cancelled` once a cancel ended it)
 * @param kind the operation's kind: a delete's items are "deleted", every other kind's "written" (doneWord)
 */
export function progressMessage(p: OperationProgress, kind: string): string {
  const n = formatCount;
  const notWritten =
    (p.recordsFailed > 0 ? `, ${n(p.recordsFailed)} failed` : "") +
    (p.recordsInDoubt > 0 ? `, ${n(p.recordsInDoubt)} in doubt` : "") +
    notWrittenCount(p);
  if (p.cancelled === true) {
    return `cancelled: ${n(p.recordsSucceeded)} of ${n(p.recordsTotal)} ${doneWord(kind)}${notWritten}; the rest were not sent`;
  }
  const settled = settledCount(p);
  const batch = `(batch ${p.batchesDone}/${p.batchesTotal})`;
  if (notWritten === "") return `${n(settled)} of ${n(p.recordsTotal)} ${doneWord(kind)} ${batch}`;
  return `${n(settled)} of ${n(p.recordsTotal)} done: ${n(p.recordsSucceeded)} ${doneWord(kind)}${notWritten} ${batch}`;
}

/** Items with an outcome: written, failed, in doubt, or not written because their request was refused. */
function settledCount(p: OperationProgress): number {
  return p.recordsSucceeded + p.recordsFailed + p.recordsInDoubt + notWrittenOf(p);
}

/** The answer for an operation that is queued but whose state cannot be read right now. */
function queuedWithoutState(operation: Operation): OperationResultOutput {
  return {
    operationId: operation.operationId,
    kind: operation.kind,
    baseId: operation.baseId,
    ...(operation.tableId === undefined ? {} : { tableId: operation.tableId }),
    status: "queued",
    done: false,
    message:
      "Queued, and it will run, but its progress could not be read just now. Do not call again: poll get_operation with this operationId.",
    progress: {
      batchesDone: 0,
      batchesTotal: batchCount(operation),
      recordsTotal: operation.input.length,
      recordsSucceeded: 0,
      recordsFailed: 0,
      recordsInDoubt: 0,
    },
  };
}

/**
 * Whether the call's request was cancelled by its client: its signal aborted, not by this process's shutdown, and
 * not by a closed connection of a 2025-era request (see createWriteRunner).
 */
function isClientCancel(ctx: ToolContext, shutdown: AbortSignal | undefined): boolean {
  if (ctx.signal?.aborted !== true || shutdown?.aborted === true) return false;
  const reason: unknown = ctx.signal.reason;
  const disconnected = reason instanceof SdkError && reason.code === SdkErrorCode.ConnectionClosed;
  return !disconnected || ctx.modernEra === true;
}
