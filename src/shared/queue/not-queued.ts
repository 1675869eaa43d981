/**
 * Settling an operation whose job may never have been added: its log says `queued`, and whether BullMQ holds its job
 * is unknown to whoever created it (the add's answer was lost with a broken connection; or the process that created
 * it exited, crashed or was scaled in between the log and the job, or before it could ask Redis). The job id IS the
 * operation id (operation-queue.ts `jobOptions`), so Redis can be asked: the job is there → it runs, once; it is
 * not → the operation ends `failed` with NOT_QUEUED (nothing was written), so nobody polls an operation that can
 * never run. One function, `settleQueueing`, for every caller: the runner that lost the add's answer
 * (QueuedOperationRunner.submit and its background retries) and the reads that find such an operation long after
 * (`QueuedOperationRunner.settleQueued`, through operations/settling-reader.ts).
 */
import { Job, type Queue } from "bullmq";
import { cancelledEvent } from "../operations/cancel.ts";
import type { NewOperationEvent } from "../operations/events.ts";
import { foldOperation, type OperationState } from "../operations/fold.ts";
import type { OperationLog } from "../operations/operation-log.ts";
import type { OperationJobData } from "./operation-queue.ts";

/**
 * Why an operation that was never queued ended: what get_operation, list_operations' status and a task's
 * statusMessage show the agent. True for each way it happens: Redis did not answer the add, or the server process
 * that handled the call stopped before the job was added (or before it could learn whether it was).
 */
export const NOT_QUEUED =
  "The operation could not be queued (Redis did not answer, or the server handling the call stopped first). " +
  "Nothing was written; call again.";

/**
 * Added to twice the command timeout to make NOT_QUEUED_GRACE (ms): clock skew between the instance that created
 * the operation (its `createdAt`) and the one reading it, and an event loop or CPU held up between the log's write
 * and the job's add (a busy process, a garbage collection, a Cloud Run instance throttled).
 */
const NOT_QUEUED_MARGIN_MS = 30_000;

/**
 * How long after its `createdAt` (epoch ms) a `queued` operation with no job is left alone by reads (ms), for a
 * deployment whose Redis commands time out after `commandTimeoutMs` (REDIS_COMMAND_TIMEOUT_MS, config.ts): the
 * call that created it writes its log and then adds its job, each command bounded by that timeout
 * (redis-connection.ts `failFastRedisOptions`), so by `createdAt` + 2 × the timeout that call has either added the
 * job or stopped waiting for Redis; NOT_QUEUED_MARGIN_MS on top. 34 s with the default 2 s. Settling earlier would
 * not be wrong (the guarded append cannot fail an operation whose job exists, and a job added after it finds the
 * log ended and its worker sends nothing) but would end a healthy write whose add was still on its way: its call,
 * told it was queued, would then report it failed. An operation with no job past this is one nobody will ever add.
 */
export function notQueuedGraceMs(commandTimeoutMs: number): number {
  if (!Number.isFinite(commandTimeoutMs) || commandTimeoutMs <= 0) {
    throw new Error(`notQueuedGraceMs: commandTimeoutMs must be a positive number (ms), got ${commandTimeoutMs}`);
  }
  return 2 * commandTimeoutMs + NOT_QUEUED_MARGIN_MS;
}

/**
 * What `settleQueueing` found: the job is in the queue (it runs, or ran), or it is not, with the operation's state
 * after: `ended` when this call ended it (`failed`, or `cancelled`), else as read (not `queued`; undefined: no log).
 */
export type QueueingOutcome = { queued: true } | { queued: false; ended: boolean; state: OperationState | undefined };

/**
 * Asks BullMQ whether the operation's job exists (over the queue's own connection, the one an add uses), and ends
 * the operation when it does not and its log still says `queued`: with `failed` (reason NOT_QUEUED), or `cancelled`
 * when a cancel was already asked for (as failOperation ends a cancel-requested operation; submit asks for one after
 * an add that timed out). A `queued` log has no batch in flight, so nothing else can be owed.
 *
 * Atomic: the end is appended by one script that checks again that the job's key does not exist and that the log
 * has not changed since it was read (OperationLog.appendIf). A job added at that very moment is either seen (the
 * operation is left to its worker, `queued: true`) or added after the log ended, and the worker that takes it
 * reads an ended log and sends nothing (processor.ts: a terminal state is "done"). A log that changed meanwhile (a
 * cancel request, a worker's first event) is looked at again. A log that is not `queued` (running, ended) is left
 * as it is. Throws what Redis throws (unreachable, timed out): nothing was appended then.
 */
export async function settleQueueing(
  queue: Queue<OperationJobData>,
  log: OperationLog,
  operationId: string,
): Promise<QueueingOutcome> {
  // BullMQ keeps a job as a hash at this key (Job.fromId reads it with HGETALL), from its add until its removal.
  const jobKey = queue.toKey(operationId);
  for (;;) {
    if ((await Job.fromId(queue, operationId)) !== undefined) return { queued: true };
    const events = await log.read(operationId);
    // No log: its create never ran, so no job was ever added after it.
    if (events.length === 0) return { queued: false, ended: false, state: undefined };
    const state = foldOperation(events);
    if (state.status !== "queued") return { queued: false, ended: false, state };
    const end: NewOperationEvent =
      state.cancellation === undefined ? { type: "failed", reason: NOT_QUEUED } : cancelledEvent(state);
    const appended = await log.appendIf(operationId, end, { length: events.length, absentKey: jobKey });
    if (appended === "key_exists") return { queued: true };
    if (appended !== "changed") return { queued: false, ended: true, state: await log.state(operationId) };
  }
}
