/**
 * Runs operations inside this process: the embedded mode (`npm start` without REDIS_URL) and stdio mode without
 * Redis, where no queue and no worker are needed. The same processor as the worker pool, with the same retry
 * rules; operations run concurrently (each one's batches in order), and the limiter keeps every base at its own
 * 5 req/s, so an import on one base never holds back a write on another. An operation the process stopped in the
 * middle of (shutdown, crash) is continued with `resume` when it starts again, as a worker resumes a stalled job.
 * `cancel` records the request in the log and aborts the operation's own signal: a batch waiting in the limiter or a
 * retry's backoff ends at once, the batch in flight finishes, and the processor appends `cancelled`.
 *
 * Two stores when the log is in Redis (stdio with REDIS_URL): `store` for what a tool call waits on (submit's
 * create, cancel), over a fail-fast connection, and `runStore` for the runs' own reads and appends, over a waiting
 * one, as a worker's (src/stdio/run-stdio.ts says why).
 */
import { setTimeout as wait } from "node:timers/promises";
import { withLogContext } from "../log-context.ts";
import type { Logger } from "../logger.ts";
import { isCommandTimeout, redisDoesNotAnswer } from "../redis-unavailable.ts";
import { endCancelledIfIdle, recordCancelRequest } from "./cancel.ts";
import type { Operation } from "./events.ts";
import { isTerminal, type OperationProgress, type OperationState } from "./fold.ts";
import type { CancelOptions, OperationRunner } from "./operation-runner.ts";
import type { OperationStore } from "./operation-store.ts";
import { ProgressListeners, progressUpdateOf } from "./progress-listeners.ts";
import {
  OperationFailedError,
  OperationRateLimitedError,
  OperationReleasedError,
  OperationRetryableError,
} from "./operation-errors.ts";
import { failOperation, finalReason } from "./fail-operation.ts";
import { processOperation } from "./processor.ts";
import type { ProcessorDeps } from "./processor.ts";

export interface EmbeddedRunnerOptions {
  /** Where submit writes an operation's log and cancel records a cancel: what tool calls wait on. */
  store: OperationStore;
  /**
   * Where the runs read their logs and append their events (the processor, and a run's final `failed`): the same
   * logs as `store`, perhaps over another connection. Default `store`.
   */
  runStore?: OperationStore;
  logger: Logger;
  /**
   * The processor's Airtable client and schema cache for this operation's owner (and how its credential was granted,
   * when not by OAuth: stdio's personal access token).
   */
  processorDeps(operation: Operation): Pick<ProcessorDeps, "airtable" | "schemas" | "credential">;
  /** Runs of one operation before it is failed (retryable errors only). Default 8. */
  maxAttempts?: number;
  /** First backoff; doubles per attempt, full jitter, capped at 60 s. Default 1,000. */
  backoffMs?: number;
  /** How long to wait after Airtable kept answering 429. Default 30,000. */
  rateLimitPauseMs?: number;
}

/**
 * Why an operation whose log Redis wrote only after its call was told "temporarily unavailable" ended: what
 * get_operation and list_operations show.
 */
export const NOT_RECORDED =
  "The operation could not be recorded in time (Redis did not answer) and was never started. Nothing was written; call again.";

export class EmbeddedOperationRunner implements OperationRunner {
  readonly #opts: EmbeddedRunnerOptions;
  readonly #running = new Map<string, Promise<void>>();
  /** Per running operation: aborted by `cancel`. */
  readonly #cancels = new Map<string, AbortController>();
  readonly #listeners = new ProgressListeners();
  readonly #stop = new AbortController();

  /** How long a run given up on Airtable's 429 waits before the next (the sleep, and the end it records). */
  get #rateLimitPauseMs(): number {
    return this.#opts.rateLimitPauseMs ?? 30_000;
  }

  /** close's `endRunning`, for a submit whose create was still waiting on Redis when close ran. */
  #endReason: string | undefined;

  constructor(opts: EmbeddedRunnerOptions) {
    this.#opts = opts;
  }

  /**
   * Writes the operation's log and starts it (OperationRunner.submit). When Redis does not answer the create, throws
   * its error (the call answers "temporarily unavailable, nothing was changed") and nothing runs; a create that Redis
   * still runs later is ended `failed` (NOT_RECORDED) behind it, so the log never shows a write that will never run
   * as queued (`#endUnrecorded`).
   */
  async submit(operation: Operation): Promise<void> {
    if (this.#stop.signal.aborted) throw new Error("the operation runner is shutting down");
    try {
      await this.#opts.store.create(operation);
    } catch (error) {
      if (redisDoesNotAnswer(error)) this.#endUnrecorded(operation.operationId, error);
      throw error;
    }
    if (this.#stop.signal.aborted && this.#endReason !== undefined) {
      // close() ran while the create waited on Redis: nothing will run or resume this one (stdio), so its log ends
      // now, before anything was sent, rather than `queued` forever.
      await failOperation(this.#runStore(), operation.operationId, this.#endReason, "PROCESS_ENDED").catch(
        () => undefined,
      );
      throw new Error("the operation runner is shutting down");
    }
    this.#start(operation);
  }

  /**
   * After a create Redis did not answer: appends `failed` in the background, which ends the log if Redis ran (or
   * still runs) the create, and is refused (no such operation, ignored) if it never does. A timed-out create may
   * still be run when Redis answers again (redis-connection.ts): the append goes right behind it on the same
   * connection, so Redis runs it after the create. A broken connection: Redis ran the create before the break or
   * never will, and the append waits for Redis on `runStore` (a waiting connection in stdio; with one store, it
   * fails while Redis is away and the log, if any, stays `queued`).
   */
  #endUnrecorded(operationId: string, error: unknown): void {
    const store = isCommandTimeout(error) ? this.#opts.store : this.#runStore();
    void store.append(operationId, { type: "failed", reason: NOT_RECORDED }).catch(() => undefined);
  }

  /**
   * Continues an operation whose log already exists but has not ended (accepted before a restart): the
   * processor reads the log and goes on from there (a create whose answer was lost is reported in doubt, never
   * re-sent blindly). Does nothing for an operation this runner is already running.
   */
  resume(operation: Operation): void {
    if (this.#stop.signal.aborted || this.#running.has(operation.operationId)) return;
    this.#start(operation);
  }

  #start(operation: Operation): void {
    const id = operation.operationId;
    const cancel = new AbortController();
    this.#cancels.set(id, cancel);
    // The owner in the log context, for every line of the run (the processor's, its Airtable client's), once: a run
    // started by a write call inherits the call's context, which holds the caller's userId already (app.ts), and a
    // resumed one has none. Loggers given to the run bind no userId of their own (a key bound twice is written twice).
    const context = { operationId: id, userId: operation.ownerUserId };
    const run = withLogContext(context, () => this.#run(operation, cancel.signal)).finally(() => {
      this.#running.delete(id);
      this.#cancels.delete(id);
    });
    this.#running.set(id, run);
  }

  /**
   * See OperationRunner.cancel. Running here: the run's signal is aborted and, when it had sent nothing yet, the
   * answer waits (≤ 1 s) for it to end, so a write cancelled before its first request answers `cancelled`. Not
   * running here (accepted before a restart, not resumed): ended at once, or resumed to settle a request left in
   * flight first.
   */
  async cancel(
    operationId: string,
    ownerUserId: string,
    options: CancelOptions = {},
  ): Promise<OperationState | undefined> {
    const { store } = this.#opts;
    const state = await recordCancelRequest(store, operationId, ownerUserId, options.source ?? "cancel_operation");
    if (state === undefined || isTerminal(state.status)) return state;
    const run = this.#running.get(operationId);
    if (run !== undefined) {
      this.#cancels.get(operationId)?.abort();
      if (state.status !== "queued") return state;
      await Promise.race([run, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      return (await store.state(operationId)) ?? state;
    }
    const ended = await endCancelledIfIdle(store, operationId);
    if (!ended.settled && ended.state !== undefined) this.resume(ended.state.operation);
    return ended.state;
  }

  async waitForEnd(
    operationId: string,
    timeoutMs: number,
    onProgress?: (progress: OperationProgress) => void,
  ): Promise<void> {
    const run = this.#running.get(operationId);
    if (run === undefined) return;
    const unsubscribe = onProgress === undefined ? undefined : this.#listeners.add(operationId, onProgress);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([run, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    } finally {
      clearTimeout(timer);
      unsubscribe?.();
    }
  }

  /**
   * Stops every operation at its next batch boundary (a request in flight finishes and is recorded). By default their
   * logs keep where they stopped, for `resume` when the process starts again (npm start's embedded mode, stdio with its
   * SQLite file), and close waits for the runs to stop. With `endRunning`, nothing will resume them (stdio with Redis
   * or in memory: each MCP client starts its own process, which runs only what it is given), so each is ended `failed`
   * with that reason once it has stopped (failOperation: a request whose answer has not come is reported in doubt, a
   * cancel asked for ends it `cancelled`), instead of a log that says `running` to every later get_operation; a submit
   * still creating its log is ended the same way. `waitMs` bounds the wait for the runs, and then again the endings (a
   * process being stopped by its client has seconds, and a Redis that does not answer must not hold it). Throws
   * nothing; an ending Redis refuses is logged.
   */
  async close(options: { endRunning?: string; waitMs?: number } = {}): Promise<void> {
    const stopped = [...this.#running.keys()];
    this.#endReason = options.endRunning;
    this.#stop.abort();
    const within = (work: Promise<unknown>): Promise<unknown> =>
      options.waitMs === undefined
        ? work
        : Promise.race([work, wait(options.waitMs, undefined, { ref: false }).catch(() => undefined)]);
    await within(Promise.allSettled([...this.#running.values()]));
    const reason = options.endRunning;
    if (reason === undefined) return;
    const store = this.#runStore();
    await within(
      Promise.allSettled(
        stopped.map((id) =>
          failOperation(store, id, reason, "PROCESS_ENDED").catch((error: unknown) => {
            this.#opts.logger.warn(
              { operationId: id, err: error },
              "could not end an operation stopped by the shutdown",
            );
          }),
        ),
      ),
    );
  }

  /** Where the runs read and append (runStore, else store). */
  #runStore(): OperationStore {
    return this.#opts.runStore ?? this.#opts.store;
  }

  async #run(operation: Operation, cancelSignal: AbortSignal): Promise<void> {
    const { logger } = this.#opts;
    const store = this.#runStore();
    const id = operation.operationId;
    const maxAttempts = this.#opts.maxAttempts ?? 8;
    const deps: ProcessorDeps = {
      store,
      logger,
      ...this.#opts.processorDeps(operation),
      stopSignal: this.#stop.signal,
      cancelSignal,
      // The sleep below (OperationRateLimitedError), recorded so that get_operation says when the write resumes.
      rateLimitPauseMs: this.#rateLimitPauseMs,
      onProgress: (state) => {
        this.#listeners.emit(id, progressUpdateOf(state));
      },
    };
    for (let attempt = 1; ;) {
      try {
        await processOperation(id, deps);
        return;
      } catch (error) {
        if (error instanceof OperationFailedError || error instanceof OperationReleasedError) return;
        if (error instanceof OperationRateLimitedError) {
          await this.#sleep(this.#rateLimitPauseMs, cancelSignal);
        } else if (error instanceof OperationRetryableError && attempt < maxAttempts) {
          const cap = Math.min(60_000, (this.#opts.backoffMs ?? 1_000) * 2 ** (attempt - 1));
          logger.warn({ operationId: id, attempt, err: error }, "operation will be retried");
          attempt += 1;
          await this.#sleep(Math.floor(Math.random() * cap), cancelSignal);
        } else {
          logger.error({ operationId: id, err: error }, "operation failed");
          await failOperation(store, id, finalReason(error, attempt)).catch(() => undefined);
          return;
        }
        if (this.#stop.signal.aborted) return;
      }
    }
  }

  /** Sleeps `ms`, or until the runner closes or `cancelSignal` aborts (the next run then appends `cancelled`). */
  async #sleep(ms: number, cancelSignal: AbortSignal): Promise<void> {
    await wait(ms, undefined, { signal: AbortSignal.any([this.#stop.signal, cancelSignal]) }).catch(() => undefined);
  }
}
