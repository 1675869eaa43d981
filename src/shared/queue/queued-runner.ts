/**
 * The server's OperationRunner: operations go to the BullMQ queue and the worker pool runs them. Waiting uses
 * one QueueEvents stream per process (not one connection per call): `waitUntilFinished` always with a ttl, and
 * `progress` events dispatched to the calls that wait for that operation.
 *
 * Cancelling (`cancel`): the request goes into the operation's log first (every process reads it), then the job is
 * removed if no worker holds it — so none ever starts it — and the operation ends `cancelled` here; a job a worker
 * holds stays, and that worker is told at once on the cancel channel (`cancelChannel`, Redis pub/sub) so a batch
 * waiting in its limiter is dropped; it appends `cancelled` after the batch in flight. A missed message costs only
 * time: the worker also sees the log's `cancel_requested` at its next append.
 *
 * An operation whose log was written but whose job may never have been added (the add's answer lost, or this
 * process gone before it learned it) is settled by `settleQueueing` (not-queued.ts): here right after the add, then
 * in the background until Redis answers (`#settleLater`), and by any instance that reads it once it is older than
 * the grace (`settleQueued`, called by operations/settling-reader.ts for get_operation, list_operations and tasks).
 */
import { configSchema } from "../config.ts";
import { blockingDuplicate } from "../redis-connection.ts";
import { isCommandTimeout, logSecondaryErrors, redisDoesNotAnswer } from "../redis-unavailable.ts";
import { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../logger.ts";
import { endCancelledIfIdle, recordCancelRequest } from "../operations/cancel.ts";
import type { Operation } from "../operations/events.ts";
import { isTerminal, type OperationProgress, type OperationState } from "../operations/fold.ts";
import {
  SubmitOutcomeUnknownError,
  type CancelOptions,
  type OperationRunner,
  type QueuedOperationRef,
} from "../operations/operation-runner.ts";
import type { OperationLog } from "../operations/operation-log.ts";
import { failOperation } from "../operations/fail-operation.ts";
import { ProgressListeners } from "../operations/progress-listeners.ts";
import {
  OPERATIONS_QUEUE,
  bullPrefix,
  bullmqConnection,
  cancelChannel,
  jobDataOf,
  jobOptions,
} from "./operation-queue.ts";
import type { JobPolicy, OperationJobData } from "./operation-queue.ts";
import { NOT_QUEUED, notQueuedGraceMs, settleQueueing } from "./not-queued.ts";

/** REDIS_COMMAND_TIMEOUT_MS's default (config.ts): the grace's base when the connection has no command timeout. */
const DEFAULT_COMMAND_TIMEOUT_MS = configSchema.shape.REDIS_COMMAND_TIMEOUT_MS.parse(undefined);
/**
 * How often a submit whose outcome is unknown asks Redis again (ms): every SETTLE_RETRY_MS for the first SETTLE_MS,
 * then every SETTLE_SLOW_RETRY_MS.
 */
const SETTLE_MS = 60_000;
const SETTLE_RETRY_MS = 1_000;
const SETTLE_SLOW_RETRY_MS = 10_000;

export interface QueuedRunnerOptions extends JobPolicy {
  /**
   * A fail-fast connection (the web tier answers people). The runner reads and writes operation logs over it; the
   * Queue and the events stream get duplicates of their own (bullmqConnection; XREAD BLOCK), closed by `close`.
   */
  redis: Redis;
  keyPrefix: string;
  /** The operations' logs in the same Redis (settling an operation checks its job and its log in one script). */
  store: OperationLog;
  logger: Logger;
  /**
   * How long after its `createdAt` an operation read `queued` with no job is left alone before it is ended NOT_QUEUED
   * (ms; `settleQueued`). Default `notQueuedGraceMs` (not-queued.ts, which says why) of `redis`'s command timeout
   * (REDIS_COMMAND_TIMEOUT_MS), or of 2 s when it has none: 34 s with the defaults.
   */
  notQueuedGraceMs?: number;
}

export class QueuedOperationRunner implements OperationRunner {
  readonly queue: Queue<OperationJobData>;
  readonly #events: QueueEvents;
  readonly #eventsRedis: Redis;
  readonly #queueRedis: Redis;
  readonly #opts: QueuedRunnerOptions;
  readonly #progressListeners = new ProgressListeners();
  /** See QueuedRunnerOptions.notQueuedGraceMs. */
  readonly notQueuedGraceMs: number;
  #closed = false;

  constructor(opts: QueuedRunnerOptions) {
    this.#opts = opts;
    this.notQueuedGraceMs =
      opts.notQueuedGraceMs ?? notQueuedGraceMs(opts.redis.options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT_MS);
    if (!Number.isFinite(this.notQueuedGraceMs) || this.notQueuedGraceMs < 0) {
      throw new Error(`QueuedOperationRunner: notQueuedGraceMs must be ≥ 0 (ms), got ${this.notQueuedGraceMs}`);
    }
    const prefix = bullPrefix(opts.keyPrefix);
    // A connection of its own (same fail-fast options), so that BullMQ's scripts stay off the shared one
    // (bullmqConnection in operation-queue.ts says why).
    this.#queueRedis = bullmqConnection(opts.redis);
    this.queue = new Queue<OperationJobData>(OPERATIONS_QUEUE, { connection: this.#queueRedis, prefix });
    // XREAD BLOCK needs a connection of its own, which must wait for Redis rather than fail, without the fail-fast
    // connection's command timeout (shorter than the 10 s block; redis-connection.ts).
    this.#eventsRedis = blockingDuplicate(opts.redis);
    this.#events = new QueueEvents(OPERATIONS_QUEUE, { connection: this.#eventsRedis, prefix });
    this.#events.setMaxListeners(0);
    this.#events.on("progress", ({ jobId, data }) => {
      if (isProgress(data)) this.#progressListeners.emit(jobId, data);
    });
    logSecondaryErrors(this.#events, opts.logger, "queue events error", "warn");
    logSecondaryErrors(this.queue, opts.logger, "queue error", "warn");
    logSecondaryErrors(this.#queueRedis, opts.logger, "queue connection error", "debug");
    logSecondaryErrors(this.#eventsRedis, opts.logger, "queue events connection error", "debug");
  }

  /** Resolves once the events stream listens (a completion before that would be missed by early waits). */
  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.#events.waitUntilReady()]);
  }

  /**
   * Writes the operation's log, then adds its job (OperationRunner.submit). When the add fails, what the caller may
   * say depends on whether Redis ran it:
   * - no answer in time (a stall: `Command timed out`; the add may still run when Redis answers again,
   *   redis-connection.ts): throws the error, answered "temporarily unavailable, nothing was changed", which stays
   *   true because the `cancel_requested` sent right behind it, on the log's own connection, runs first then;
   * - the connection broke with the add on its way (a failover, a reset: Redis ran it before the break or never
   *   will): Redis is asked once it is reachable again. The job is there → resolves (it runs, once); it is not → the
   *   log ends `failed` (nothing was written) and the error is thrown. Redis cannot be asked (still away) → throws
   *   SubmitOutcomeUnknownError, and keeps asking in the background until Redis answers (`#settleLater`) so that
   *   get_operation then tells which (and should this process exit first, the first read past the grace settles
   *   it: `settleQueued`);
   * - Redis refused it (full, loading): nothing was queued; the log ends `failed` and the error is thrown. (A
   *   READONLY reply arrives as a broken connection: reconnectOnReadonly closes the connection and the fail-fast
   *   options reject the command with it, redis-unavailable.ts.)
   */
  async submit(operation: Operation): Promise<void> {
    const { store } = this.#opts;
    const { operationId } = operation;
    try {
      await store.create(operation);
    } catch (error) {
      // The log may still be written later, and no job will ever be added for it: `failed` ends it then (or finds no
      // log and is refused).
      if (redisDoesNotAnswer(error)) {
        void store.append(operationId, { type: "failed", reason: NOT_QUEUED }).catch(() => undefined);
        // A broken connection: Redis wrote the log before the break or never will, and that append fails too while
        // Redis is away. Without a second try a log Redis did write stays `queued` with no job for good (shown by
        // list_operations), though the caller was rightly told nothing was changed: end it once Redis answers.
        if (!isCommandTimeout(error)) this.#settleLater(operationId);
      }
      throw error;
    }
    try {
      await this.queue.add(operation.kind, jobDataOf(operation), jobOptions(operation, this.#opts));
    } catch (error) {
      if (isCommandTimeout(error)) {
        // The job may still be added later, and a worker would run a write its caller was told failed. A cancel
        // request reaches the log before any worker can read it (both wait in Redis's input, and a worker reads the
        // log only after its BZPOPMIN returned): a worker that gets the job ends it `cancelled` and sends nothing.
        // Recorded as the owner's cancel, like a write call cancelled while it waits (events.ts cancelSourceSchema).
        void store.append(operationId, { type: "cancel_requested", source: "cancel_operation" }).catch(() => undefined);
        throw error;
      }
      if (redisDoesNotAnswer(error)) {
        let queued: boolean;
        try {
          queued = await this.#settleBrokenAdd(operationId);
        } catch {
          this.#settleLater(operationId);
          throw new SubmitOutcomeUnknownError(operationId, error);
        }
        if (!queued) throw error;
        this.#opts.logger.warn(
          { err: error, operationId },
          "the connection broke while queueing, but Redis had queued the job: it runs",
        );
        return;
      }
      // The log exists but no worker will ever see it: end it, so nobody polls an operation that cannot run.
      await failOperation(store, operationId, NOT_QUEUED).catch(() => undefined);
      throw error;
    }
  }

  /**
   * After a broken add: true when its job is in the queue (Redis ran the add before the break); false when it is not,
   * and the log now ends `failed` (an add that still ran later would find the log ended, and its worker sends
   * nothing). `settleQueueing`, which reads share. Throws what Redis throws.
   */
  async #settleBrokenAdd(operationId: string): Promise<boolean> {
    return (await settleQueueing(this.queue, this.#opts.store, operationId)).queued;
  }

  /**
   * OperationRunner.settleQueued: an operation read `queued` more than `notQueuedGraceMs` after its `createdAt` is
   * settled by `settleQueueing` — its job exists (left to the workers: undefined) or it now ends `failed` with
   * NOT_QUEUED (its new state). The case: the process that created it exited (a crash, a Cloud Run scale-in, a
   * SIGTERM) between its log and its job, or before Redis answered whether the add ran, so nobody else would ever
   * end it. Younger ones are left alone with no Redis command: their add may still be on its way.
   */
  async settleQueued(operation: QueuedOperationRef): Promise<OperationState | undefined> {
    if (operation.status !== "queued" || Date.now() - operation.createdAt < this.notQueuedGraceMs) return undefined;
    const outcome = await settleQueueing(this.queue, this.#opts.store, operation.operationId);
    if (outcome.queued) return undefined;
    if (outcome.ended) {
      this.#opts.logger.info(
        { operationId: operation.operationId, status: outcome.state?.status },
        "ended an operation read as queued that has no job (its queueing never finished)",
      );
    }
    return outcome.state;
  }

  /**
   * `#settleBrokenAdd`, tried until it answers: every SETTLE_RETRY_MS for the first SETTLE_MS, then every
   * SETTLE_SLOW_RETRY_MS, while the runner is open and the operation's log is kept (`retentionMs`). No shorter
   * deadline: the agent was told get_operation would say what became of the write, and an operation given up on
   * stays `queued` with no job until a read past the grace settles it — after an outage longer than a minute, or
   * on a server instance that gets no CPU between requests (Cloud Run with request-based billing,
   * deploy/server-service.yaml), where this loop sleeps once the call has answered and resumes with the instance's
   * next request, its wall-clock minute long gone. A process that exits before leaves the operation `queued`, maybe
   * with no job: the first read of it past the grace settles it then (`settleQueued`).
   */
  #settleLater(operationId: string): void {
    const started = performance.now();
    let warned = false;
    const attempt = (): void => {
      if (this.#closed) return;
      this.#settleBrokenAdd(operationId).then(
        (queued) =>
          this.#opts.logger.info({ operationId, queued }, "settled an operation whose queueing had an unknown outcome"),
        (error: unknown) => {
          const elapsed = performance.now() - started;
          if (elapsed >= this.#opts.retentionMs) {
            this.#opts.logger.warn({ err: error, operationId }, "could not settle an operation's queueing");
            return;
          }
          if (!warned && elapsed >= SETTLE_MS) {
            warned = true;
            this.#opts.logger.warn(
              { err: error, operationId },
              "still cannot ask Redis whether an operation was queued; asking every 10 s",
            );
          }
          setTimeout(attempt, elapsed < SETTLE_MS ? SETTLE_RETRY_MS : SETTLE_SLOW_RETRY_MS).unref();
        },
      );
    };
    setTimeout(attempt, SETTLE_RETRY_MS).unref();
  }

  async waitForEnd(
    operationId: string,
    timeoutMs: number,
    onProgress?: (progress: OperationProgress) => void,
  ): Promise<void> {
    const unsubscribe = onProgress === undefined ? undefined : this.#progressListeners.add(operationId, onProgress);
    let onRemoved: ((args: { jobId: string }) => void) | undefined;
    try {
      const job = await Job.fromId<OperationJobData>(this.queue, operationId);
      if (job === undefined || timeoutMs <= 0) return;
      // A job removed while waiting (a cancelled queued operation) never finishes: its removal ends the wait.
      const removed = new Promise<void>((resolve) => {
        onRemoved = ({ jobId }) => {
          if (jobId === operationId) resolve();
        };
        this.#events.on("removed", onRemoved);
      });
      const deadline = Date.now() + timeoutMs;
      // Rejects when the job failed or the ttl passed: either way the caller reads the operation's state.
      await Promise.race([job.waitUntilFinished(this.#events, timeoutMs).catch(() => undefined), removed]);
      // Removed by a cancel: the canceller appends `cancelled` right after the removal; answer once it has. Redis
      // trouble here only ends the wait (the caller reads the state and copes).
      await this.#untilCancelRecorded(operationId, deadline).catch(() => undefined);
    } finally {
      unsubscribe?.();
      if (onRemoved !== undefined) this.#events.off("removed", onRemoved);
    }
  }

  /** While the operation's job is gone and its log has not ended, polls the log (50 ms) until `deadline`. */
  async #untilCancelRecorded(operationId: string, deadline: number): Promise<void> {
    while (Date.now() < deadline && (await this.queue.getJobState(operationId)) === "unknown") {
      const state = await this.#opts.store.state(operationId);
      if (state === undefined || isTerminal(state.status)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** See OperationRunner.cancel; for this runner, the class comment says how a worker learns of it. */
  async cancel(
    operationId: string,
    ownerUserId: string,
    options: CancelOptions = {},
  ): Promise<OperationState | undefined> {
    const { store, redis } = this.#opts;
    const state = await recordCancelRequest(store, operationId, ownerUserId, options.source ?? "cancel_operation");
    if (state === undefined || isTerminal(state.status)) return state;
    if (await this.#heldByWorker(operationId)) {
      // A worker holds it: tell it now; it stops after the batch in flight.
      await redis.publish(cancelChannel(this.#opts.keyPrefix), operationId);
      return (await store.state(operationId)) ?? state;
    }
    const ended = await endCancelledIfIdle(store, operationId);
    if (!ended.settled && ended.state !== undefined) {
      // A crashed run left a request in flight (a create whose answer was lost): a worker settles it (reconciles)
      // before it appends `cancelled`, so the job goes back on the queue.
      await this.queue.add(
        ended.state.operation.kind,
        jobDataOf(ended.state.operation),
        jobOptions(ended.state.operation, this.#opts),
      );
      return ended.state;
    }
    // A job added after the removal (the operation was being submitted that very moment): gone too. Were it added
    // later still, a worker would find the log ended and send nothing.
    await this.queue.remove(operationId).catch(() => 0);
    return ended.state;
  }

  /**
   * Removes the operation's job unless a worker holds it: true when a worker holds it (active), false when the job
   * was removed or there is none (no worker will ever start it). A job that is neither removable nor active (taken
   * or released by a worker that very moment) is tried again.
   */
  async #heldByWorker(operationId: string): Promise<boolean> {
    for (let tries = 0; ; tries++) {
      // 1 = removed; 0 = locked by a worker, or no such job.
      if ((await this.queue.remove(operationId)) === 1) return false;
      const state = await this.queue.getJobState(operationId);
      if (state === "unknown") return false;
      if (state === "active" || tries >= 4) return true;
      await new Promise((resolve) => setTimeout(resolve, 10 * (tries + 1)));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([this.#events.close(), this.queue.close()]);
    this.#eventsRedis.disconnect();
    this.#queueRedis.disconnect();
  }
}

function isProgress(data: unknown): data is OperationProgress {
  return typeof data === "object" && data !== null && "recordsTotal" in data && "batchesDone" in data;
}
