/**
 * The BullMQ side of operations, shared by the server (producer) and the worker (consumer): queue name, key
 * prefix, job data and job options. One job = one operation; the job id IS the operation id, so adding the same
 * operation twice is a no-op and any process can find the job of an operation.
 */
import type { JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
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

/**
 * The connection to give a BullMQ Queue or Worker: a duplicate of `redis` (same options), which the caller
 * disconnects after closing the Queue/Worker. Why not `redis` itself: BullMQ defines its Lua scripts (64 in
 * bullmq 6) as commands on the connection it is given, and ioredis copies every defined command onto each
 * pipeline or MULTI made on that connection afterwards (ioredis `Pipeline` constructor): 78 µs per pipeline
 * instead of 2 µs, measured here. The process's shared connection makes a pipeline on read tool calls (the
 * client-side cache's GET + PTTL, schema and token writes), so BullMQ stays off it. Costs one connection.
 */
export function bullmqConnection(redis: Redis): Redis {
  return redis.duplicate();
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
