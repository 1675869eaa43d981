/**
 * The BullMQ Worker: one job = one operation. Per job: take a slot on the operation's base (fairness), build an
 * Airtable client acting as the owner, run the shared processor, and map how it ended onto BullMQ:
 * - done → job completed (the log holds the result);
 * - the base is at its cap → parked (DelayedError), promoted when a slot frees;
 * - shutting down → released between batches (moveToWait), another worker resumes from the log;
 * - Airtable kept answering 429 → delayed by the penalty, not counted as an attempt;
 * - retryable (5xx, network, Redis) → thrown: BullMQ retries with backoff; the last attempt appends `failed`;
 * - permanent → UnrecoverableError (the processor already appended `failed`);
 * - a log this version cannot read (unreadable-log.ts) → retried like a retryable failure (a newer worker may take it).
 * While it runs, the worker publishes a heartbeat (worker-heartbeat.ts): the server tells agents and /readyz when
 * writes wait and no worker is alive.
 *
 * Cancels: the worker subscribes to the cancel channel (operation-queue.ts `cancelChannel`, one extra connection per
 * process, nothing per request) and aborts the job it holds through BullMQ's own job signal (`Worker.cancelJob`),
 * which the processor receives as its `cancelSignal`: a batch waiting in the limiter is dropped. A cancelled run
 * returns normally (the job completes, its return value's status is `cancelled`).
 */
import { logSecondaryErrors } from "../shared/redis-unavailable.ts";
import { DelayedError, Job, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { AirtableClientFactory } from "../shared/airtable/client-factory.ts";
import { withLogContext } from "../shared/log-context.ts";
import type { Logger } from "../shared/logger.ts";
import type { Metrics } from "../shared/metrics/index.ts";
import { isTerminal, type OperationState, type OperationStatus } from "../shared/operations/fold.ts";
import { MAX_BATCH_SIZE } from "../shared/operations/events.ts";
import type { OperationStore } from "../shared/operations/operation-store.ts";
import {
  OperationFailedError,
  OperationRateLimitedError,
  OperationReleasedError,
} from "../shared/operations/operation-errors.ts";
import { failOperation, finalReason } from "../shared/operations/fail-operation.ts";
import { processOperation } from "../shared/operations/processor.ts";
import { progressUpdateOf } from "../shared/operations/progress-listeners.ts";
import { OPERATIONS_QUEUE, bullPrefix, cancelChannel } from "../shared/queue/operation-queue.ts";
import { blockingDuplicate } from "../shared/redis-connection.ts";
import { WorkerHeartbeat } from "../shared/queue/worker-heartbeat.ts";
import type { OperationJobData } from "../shared/queue/operation-queue.ts";
import type { SchemaCache } from "../shared/schema-cache.ts";
import type { BaseFairness } from "./base-fairness.ts";

/** A parked job comes back by itself after this long if the promotion that should wake it was missed. */
const PARK_SAFETY_MS = 5_000;

export interface OperationWorkerOptions {
  /** A connection that waits for Redis (maxRetriesPerRequest: null), as BullMQ workers need. */
  redis: Redis;
  keyPrefix: string;
  concurrency: number;
  /**
   * WORKER_LOCK_MS: the BullMQ lock, renewed every quarter of it; the stalled-job check runs every half of it, so
   * a killed worker's job is handed on within about 1.5 × lockMs.
   */
  lockMs: number;
  /** RECONCILE_SETTLE_MS (processor.ts); default DEFAULT_RECONCILE_SETTLE_MS. */
  reconcileSettleMs?: number;
  store: OperationStore;
  fairness: BaseFairness;
  /** Builds the Airtable client acting as an operation's owner (createAirtableAccess's `clients`). */
  airtableClients: AirtableClientFactory;
  schemas: SchemaCache;
  /** The owner's Airtable access token (refreshed under the shared lock when `rejected` is given). */
  accessToken(userId: string, rejected?: string): Promise<string>;
  /** How long Airtable's 429 penalty lasts (AIRTABLE_RATE_LIMIT_PENALTY_MS): a job that kept meeting it waits this long. */
  rateLimitPenaltyMs: number;
  logger: Logger;
  /** Airtable requests, records written and operation durations go here (/metrics on the health port). */
  metrics?: Metrics;
  /** How often the heartbeat is published (ms); default HEARTBEAT_INTERVAL_MS (10 s). */
  heartbeatIntervalMs?: number;
}

export interface OperationWorker {
  worker: Worker<OperationJobData>;
  /** Stops taking jobs; running operations finish their current batch and are released to other workers. */
  close(): Promise<void>;
}

export function createOperationWorker(opts: OperationWorkerOptions): OperationWorker {
  const { store, fairness, logger } = opts;
  const stop = new AbortController();
  const prefix = bullPrefix(opts.keyPrefix);

  const processJob = async (job: Job<OperationJobData>, token: string | undefined, cancelSignal: AbortSignal) => {
    const { operationId, ownerUserId, baseId } = job.data;
    const jobId = job.id ?? operationId;
    // Small writes (one batch) and bulk imports have separate caps on a base, so an agent's quick write is never
    // stuck behind its own imports on the same base — and neither kind can take every worker slot.
    const slot = fairnessLane(baseId, job.data.items);
    // operationId comes with every line from the log context (see the Worker below).
    const log = logger.child({ baseId, userId: ownerUserId });
    if (!(await fairness.acquire(slot, jobId))) {
      log.debug("base at its cap of running operations: parked");
      await job.moveToDelayed(Date.now() + PARK_SAFETY_MS, token);
      throw new DelayedError();
    }
    const renew = setInterval(
      () =>
        void fairness.renew(slot, jobId).catch((error: unknown) => log.warn({ err: error }, "lease renewal failed")),
      Math.max(500, Math.floor(fairness.leaseMs / 3)),
    );
    let observed: RunObserver | undefined;
    try {
      observed = opts.metrics && (await RunObserver.start(opts.metrics, store, job));
      const airtable = opts.airtableClients({
        userId: ownerUserId,
        getAccessToken: (rejected) => opts.accessToken(ownerUserId, rejected),
        logger: log,
        // A 429 is waited out in place (the shared penalty) and never counts as a failed attempt.
        retry: { maxRateLimitWaits: 10 },
        ...(opts.metrics && { onAttempt: opts.metrics.onAirtableAttempt }),
      });
      const state = await processOperation(operationId, {
        store,
        airtable,
        logger: log,
        schemas: opts.schemas,
        stopSignal: stop.signal,
        cancelSignal,
        // The delay below (OperationRateLimitedError), recorded so that get_operation says when the write resumes.
        rateLimitPauseMs: opts.rateLimitPenaltyMs,
        ...(opts.reconcileSettleMs === undefined ? {} : { reconcileSettleMs: opts.reconcileSettleMs }),
        onProgress: (s) => {
          observed?.progress(s);
          return job.updateProgress(progressUpdateOf(s));
        },
      });
      observed?.ended(state);
      return { status: state.status, ...state.progress };
    } catch (error) {
      if (error instanceof OperationReleasedError) {
        // Says where the operation went: with one worker (ROLE=all on one machine) there is no "another worker" until
        // this one starts again, and the person stopping it should not think the write was dropped.
        log.info(
          "released at a batch boundary (shutting down): back in the queue; another worker, or this one when it starts again, continues it",
        );
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (error instanceof OperationRateLimitedError) {
        await job.moveToDelayed(Date.now() + opts.rateLimitPenaltyMs, token);
        throw new DelayedError();
      }
      if (error instanceof OperationFailedError) {
        observed?.endedWith("failed");
        throw new UnrecoverableError(error.message);
      }
      // A log this version cannot read (unreadable-log.ts) is retried like any other failure, not ended: the likely
      // cause is a rolling deploy, where a newer version's event is in the log and a newer worker, taking a retry,
      // can run it; every attempt leaves the log as it is (a damaged log fails after WORKER_ATTEMPTS, ~4 min).
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      if (attempt >= attempts) {
        // A cancel asked for meanwhile ends it `cancelled` (fail-operation.ts): the metric counts what the log says.
        const status = await failOperation(store, operationId, finalReason(error, attempt)).catch(() => undefined);
        observed?.endedWith(status ?? "failed");
        // The end of the operation, at error level: an alert on severity >= ERROR must see it (the embedded
        // runner logs the same line).
        log.error({ err: error, attempt, attempts, status: status ?? "failed" }, "operation failed: attempts used up");
        throw error;
      }
      log.warn({ err: error, attempt, attempts }, "operation run failed; BullMQ retries it with backoff");
      throw error;
    } finally {
      clearInterval(renew);
      const next = await fairness.release(slot, jobId).catch(() => undefined);
      if (next !== undefined) await promote(next, log);
    }
  };

  // BullMQ's scripts go on a connection of their own (bullmqConnection says why); the shared one keeps the rest. A
  // waiting one whatever `opts.redis` is: BullMQ duplicates it for BZPOPMIN, which no command timeout may cut short.
  const workerRedis = blockingDuplicate(opts.redis);
  let worker: Worker<OperationJobData>;
  try {
    worker = new Worker<OperationJobData>(
      OPERATIONS_QUEUE,
      // Three parameters: BullMQ then gives each job an AbortSignal, aborted by `worker.cancelJob`.
      (job, token, signal) =>
        withLogContext({ operationId: job.data.operationId }, () =>
          processJob(job, token, signal ?? new AbortController().signal),
        ),
      {
        connection: workerRedis,
        prefix,
        concurrency: opts.concurrency,
        lockDuration: opts.lockMs,
        // Renewed four times per lock period (BullMQ's default is twice): a slow Redis round trip or a busy event
        // loop can miss one renewal without losing the lock of a healthy job.
        lockRenewTime: Math.max(250, Math.floor(opts.lockMs / 4)),
        // A killed worker's lock expires ≤ lockMs after its last renewal; the check finds it within lockMs / 4 more.
        // With the defaults (8 s lock, 3 s reconcile settle for the create in flight) the operation then makes
        // progress again within ~13.5 s of the kill, under issue 13's 15 s; every lockMs / 2 (4 s) that worst
        // case was ~15.5 s, and CI once measured 16.4 s (tests/e2e/worker-recovery-time.test.ts). One BullMQ
        // script per worker per interval, idle or not.
        stalledInterval: Math.max(500, Math.floor(opts.lockMs / 4)),
        // Resuming is safe (the log decides what may be re-sent), so a job may stall several times.
        maxStalledCount: 10,
      },
    );
  } catch (error) {
    // BullMQ refuses some connection settings synchronously (e.g. an ioredis keyPrefix): close what is ours.
    workerRedis.disconnect();
    throw error;
  }

  async function promote(jobId: string, log: Logger): Promise<void> {
    try {
      const parked = await Job.fromId(worker, jobId);
      if (parked !== undefined && (await parked.isDelayed())) await parked.promote();
    } catch (error) {
      // Already promoted or picked up: nothing to do. The park delay is the safety net.
      log.debug({ err: error, jobId }, "promotion skipped");
    }
  }

  worker.on("failed", (job, error) => {
    if (job === undefined) return;
    const final =
      error instanceof UnrecoverableError ||
      job.attemptsMade >= (job.opts.attempts ?? 1) ||
      /stalled/i.test(error.message);
    if (final)
      void failOperation(store, job.data.operationId, finalReason(error, job.attemptsMade)).catch(() => undefined);
  });
  logSecondaryErrors(worker, logger, "worker error", "error");

  // Cancels of running operations, told by the server that recorded them (the log stays the truth; see above).
  const cancels = blockingDuplicate(opts.redis);
  cancels.on("message", (_channel: string, operationId: string) => {
    if (worker.cancelJob(operationId))
      logger.info({ operationId }, "cancel requested: stopping after the batch in flight");
  });
  logSecondaryErrors(cancels, logger, "cancel channel error", "warn");
  const subscribed = cancels
    .subscribe(cancelChannel(opts.keyPrefix))
    .catch((error: unknown) => logger.warn({ err: error }, "could not subscribe to the cancel channel"));

  const heartbeat = new WorkerHeartbeat({
    redis: opts.redis,
    keyPrefix: opts.keyPrefix,
    logger,
    ...(opts.heartbeatIntervalMs !== undefined && { intervalMs: opts.heartbeatIntervalMs }),
  });
  heartbeat.start();

  return {
    worker,
    async close() {
      stop.abort();
      try {
        await worker.close();
      } finally {
        // Right after the Worker: once closed it no longer listens for its connection's errors.
        workerRedis.disconnect();
        await heartbeat.stop();
        await subscribed;
        cancels.disconnect();
      }
    },
  };
}

/** The fairness slot group of an operation: per base, one lane for single-batch writes, one for bulk. */
export function fairnessLane(baseId: string, items: number): string {
  return `${baseId}:${items <= MAX_BATCH_SIZE ? "small" : "bulk"}`;
}

/**
 * /metrics for one run of one job: records this run wrote (counted after every batch, so a released or resumed
 * operation is counted once across workers), and the operation's duration when this run ended it.
 */
class RunObserver {
  readonly #metrics: Metrics;
  readonly #kind: string;
  readonly #createdAt: number;
  /** Ended before this run started (a re-delivered job): its end was observed by whoever ended it. */
  readonly #alreadyEnded: boolean;
  #succeeded: number;

  private constructor(metrics: Metrics, kind: string, before: OperationState | undefined, jobTimestamp: number) {
    this.#metrics = metrics;
    this.#kind = kind;
    this.#createdAt = before?.createdAt ?? jobTimestamp;
    this.#alreadyEnded = before !== undefined && isTerminal(before.status);
    this.#succeeded = before?.progress.recordsSucceeded ?? 0;
  }

  static async start(metrics: Metrics, store: OperationStore, job: Job<OperationJobData>): Promise<RunObserver> {
    // Metrics never stop a job: without the state, this run counts from zero.
    const before = await store.state(job.data.operationId).catch(() => undefined);
    return new RunObserver(metrics, job.data.kind, before, job.timestamp);
  }

  progress(state: OperationState): void {
    const succeeded = state.progress.recordsSucceeded;
    this.#metrics.recordsWrittenBy(this.#kind, succeeded - this.#succeeded);
    this.#succeeded = Math.max(this.#succeeded, succeeded);
  }

  ended(state: OperationState): void {
    this.progress(state);
    this.#observeEnd(state.status);
  }

  /** The run ended the operation without a final state in hand: `status` is what its log says now. */
  endedWith(status: OperationStatus): void {
    this.#observeEnd(status);
  }

  #observeEnd(status: string): void {
    if (this.#alreadyEnded) return;
    this.#metrics.operationEnded(this.#kind, status, (Date.now() - this.#createdAt) / 1000);
  }
}
