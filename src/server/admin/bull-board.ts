/**
 * Bull Board for the operations queue: every write operation is one job (job id = operation id, job name = kind),
 * listed with its owner, base and progress. Read-only mode keeps the view and refuses every change (the board
 * answers 405 to retry, remove, promote, pause, clean…).
 */
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import type { RequestHandler } from "express";
import type { OperationProgress } from "../../shared/operations/fold.ts";
import type { OperationJobData } from "../../shared/queue/operation-queue.ts";

export const BULL_BOARD_PATH = "/admin/queues";

export interface BullBoardOptions {
  queue: Queue<OperationJobData>;
  readOnly: boolean;
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
    options: { uiConfig: { boardTitle: "Airtable MCP operations", hideDocsLink: true } },
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
