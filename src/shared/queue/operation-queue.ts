/**
 * The BullMQ side of operations, shared by the server (producer) and the worker (consumer): queue name, key
 * prefix, job data and job options. One job = one operation; the job id IS the operation id, so adding the same
 * operation twice is a no-op and any process can find the job of an operation.
 */
import type { JobsOptions, Queue } from "bullmq";
import type { Operation, OperationKind } from "../operations/events.ts";

export const OPERATIONS_QUEUE = "operations";

/** What the worker needs to pick the job up; everything else is in the operation's log. */
export interface OperationJobData {
  operationId: string;
  ownerUserId: string;
  baseId: string;
  kind: OperationKind;
  items: number;
}

/**
 * The Redis pub/sub channel on which a server tells the worker pool that a running operation was cancelled (the
 * message is its operation id): each worker process subscribes once and aborts the job if it holds it.
 */
export function cancelChannel(keyPrefix: string): string {
  return `${keyPrefix}:operations:cancel`;
}

/** BullMQ's keys live under the deployment's prefix, next to ours: `${REDIS_KEY_PREFIX}:bull:operations:…`. */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}:bull`;
}

export function jobDataOf(operation: Operation): OperationJobData {
  return {
    operationId: operation.operationId,
    ownerUserId: operation.ownerUserId,
    baseId: operation.baseId,
    kind: operation.kind,
    items: operation.input.length,
  };
}

export interface JobPolicy {
  /** WORKER_ATTEMPTS: runs ending in a retryable error before the operation fails. */
  attempts: number;
  /** How long finished jobs stay visible (Bull Board); the operation's log is the lasting record. */
  retentionMs: number;
}

export function jobOptions(operation: Operation, policy: JobPolicy): JobsOptions {
  const age = Math.ceil(policy.retentionMs / 1000);
  return {
    jobId: operation.operationId,
    attempts: policy.attempts,
    // 5xx / network: exponential from 2 s with jitter, so workers retrying the same outage do not stampede.
    backoff: { type: "exponential", delay: 2_000, jitter: 0.5 },
    removeOnComplete: { age },
    removeOnFail: { age },
  };
}

/**
 * Operations waiting for a worker: BullMQ's waiting, prioritized and delayed jobs (delayed: parked by the per-base
 * fairness cap, or backing off before a retry). What MCP tasks' `pollIntervalMs` counts as "ahead in the queue"
 * (../tasks/operation-task-store.ts). One pipelined Redis round trip.
 */
export function waitingOperations(queue: Queue<OperationJobData>): Promise<number> {
  return queue.getJobCountByTypes("waiting", "prioritized", "delayed");
}
