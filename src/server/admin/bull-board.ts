/**
 * Bull Board for the operations queue: every write operation is one job (job id = operation id, job name = kind),
 * listed with its owner, base and progress. Read-only mode keeps the view and refuses every change (the board
 * answers 405 to retry, remove, promote, pause, clean…).
 *
 * Removing a job cancels its operation (OperationRunner.cancel, source `bull_board`), through the board's own
 * handler hooks (`handlerHooks`, @bull-board/api) rather than a patched adapter:
 * - remove one job (`PUT /api/queues/:queueName/:jobId/clean`): the board removes a job no worker holds, then the
 *   hook cancels its operation (its log ends `cancelled`; nothing of it was or will be sent). A job a worker holds
 *   cannot be removed (the board would answer 409): the hook cancels the operation instead — it stops after the
 *   batch in flight and its job then completes — and answers 204.
 * - empty the queue, obliterate it, or clean its waiting / delayed / prioritized jobs: before the board
 *   drops them, the hook cancels each of those jobs' operations, so none is left queued with no job to run it.
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { JobType, Queue } from "bullmq";
import type { RequestHandler } from "express";
import type { BoardHooks, HookContext } from "@bull-board/api/typings/app";
import { notWrittenOf, type OperationProgress } from "../../shared/operations/fold.ts";
import type { OperationRunner } from "../../shared/operations/operation-runner.ts";
import type { OperationStore } from "../../shared/operations/operation-store.ts";
import type { OperationJobData } from "../../shared/queue/operation-queue.ts";

export const BULL_BOARD_PATH = "/admin/queues";

export interface BullBoardOptions {
  queue: Queue<OperationJobData>;
  readOnly: boolean;
  /** What a removal cancels through (absent: removals are Bull Board's plain ones — tests of the view only). */
  cancel?: { runner: Pick<OperationRunner, "cancel">; store: Pick<OperationStore, "state"> };
}

const REMOVE_JOB_ROUTE = "/api/queues/:queueName/:jobId/clean";
/** Routes that drop jobs wholesale, and which job states each drops that may hold an unfinished operation. */
const UNFINISHED: JobType[] = ["waiting", "delayed", "prioritized"];
const BULK_DROPS: Record<string, (params: Record<string, string>) => JobType[]> = {
  "/api/queues/:queueName/empty": () => UNFINISHED,
  "/api/queues/:queueName/obliterate": () => UNFINISHED,
  "/api/queues/:queueName/clean/:queueStatus": ({ queueStatus }) =>
    queueStatus === "wait" ? ["waiting"] : UNFINISHED.includes(queueStatus as JobType) ? [queueStatus as JobType] : [],
};

/** The board's hooks that turn a removal into a cancel (see the module comment). */
export function cancelOnRemoveHooks(
  queue: Queue<OperationJobData>,
  cancel: NonNullable<BullBoardOptions["cancel"]>,
): BoardHooks {
  const cancelOperation = async (operationId: string): Promise<void> => {
    const state = await cancel.store.state(operationId);
    if (state !== undefined)
      await cancel.runner.cancel(operationId, state.operation.ownerUserId, { source: "bull_board" });
  };
  const isPut = (context: HookContext) => context.method.toLowerCase() === "put";
  return {
    async before(context) {
      const drops = BULK_DROPS[context.route];
      if (!isPut(context) || drops === undefined) return;
      const types = drops(context.request.params as Record<string, string>);
      if (types.length === 0) return;
      const jobs = await queue.getJobs(types);
      for (const job of jobs) if (job?.id !== undefined) await cancelOperation(job.id);
    },
    async after(context, result) {
      if (!isPut(context) || context.route !== REMOVE_JOB_ROUTE) return result;
      const jobId = String(context.request.params.jobId);
      // 204: removed (no worker held it). 409: a worker holds it — cancelled instead, it stops after its batch.
      if (result.status !== 204 && result.status !== 409) return result;
      await cancelOperation(jobId);
      return { status: 204, body: {} };
    },
  };
}

/** The board's router (UI and its JSON API), to mount at BULL_BOARD_PATH behind the admin check. */
export function createBullBoardRouter(opts: BullBoardOptions): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const adapter = new BullMQAdapter(opts.queue as Queue, {
    readOnlyMode: opts.readOnly,
    allowRetries: !opts.readOnly,
    description:
      "Write operations: one job per operation (job id = operation id). The operation's own log is the lasting " +
      "record; jobs disappear after OPERATION_RETENTION_HOURS.",
  });
  adapter.setFormatter("name", jobTitle);
  createBullBoard({
    queues: [adapter],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: "Airtable MCP operations", hideDocsLink: true },
      ...(opts.cancel !== undefined &&
        !opts.readOnly && { handlerHooks: cancelOnRemoveHooks(opts.queue, opts.cancel) }),
    },
  });
  return serverAdapter.getRouter() as RequestHandler;
}

interface JobJson {
  name?: string;
  data?: Partial<OperationJobData>;
  progress?: unknown;
}

/** What the board's job list shows: kind · owner · base · progress (the full progress object is in the job's tab). */
export function jobTitle(job: JobJson): string {
  const data = job.data ?? {};
  const parts = [job.name || data.kind || "operation"];
  if (data.ownerUserId !== undefined) parts.push(`owner ${data.ownerUserId}`);
  if (data.baseId !== undefined) parts.push(`base ${data.baseId}`);
  const progress = asProgress(job.progress);
  if (progress !== undefined) {
    let done = `batch ${progress.batchesDone}/${progress.batchesTotal}, ${progress.recordsSucceeded}/${progress.recordsTotal} written`;
    if (progress.recordsFailed > 0) done += `, ${progress.recordsFailed} failed`;
    if (progress.recordsInDoubt > 0) done += `, ${progress.recordsInDoubt} in doubt`;
    if (notWrittenOf(progress) > 0) done += `, ${notWrittenOf(progress)} not written (request refused)`;
    parts.push(done);
  } else if (data.items !== undefined) {
    parts.push(`${data.items} items, not started`);
  }
  return parts.join(" · ");
}

function asProgress(value: unknown): OperationProgress | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const p = value as Partial<OperationProgress>;
  return typeof p.batchesDone === "number" && typeof p.batchesTotal === "number" ? (p as OperationProgress) : undefined;
}
