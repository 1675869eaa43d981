/**
 * MCP Tasks (the `io.modelcontextprotocol/tasks` extension of protocol revision 2026-07-28) over our write
 * operations: a write already is a durable operation with an event log, so a task is a view of it, not a second
 * record. The task id IS the operation id: `op_` + 128 random bits (operation-id.ts), which is the unguessable id
 * the extension asks for (its "Security Considerations"), and it lets `tasks/get` and `get_operation` agree on one
 * handle — an agent may use either. Nothing is stored for a task: every answer is folded from the operation log
 * (Redis OperationLog, SqliteOperationLog or MemoryOperationLog, through OperationReader), so any server instance
 * answers any task and a task lives exactly as long as its operation's log.
 *
 * Rules (spec: ext-tasks specification/2026-07-28/tasks.md, "Tasks", "Task Polling", "Error Handling"):
 * - Owner-bound: another user's task is unknown, exactly like a missing or expired one (one error for both), so
 *   a task id never reveals that it exists.
 * - Status: queued and running → `working`; completed and completed_with_errors → `completed`; failed →
 *   `completed` too, see below; cancelled → `cancelled`. `statusMessage` is the operation's one-line description
 *   (progress while working, the outcome once ended), the same sentence get_operation's `message` carries.
 * - A `completed` task's `result` is the CallToolResult that get_operation (without cursor) answers at that
 *   moment: status, progress and the results by input index (first page of 200; `nextCursor` pages on through
 *   get_operation). A failed operation is reported as `completed` with that result (its `status` is `failed`
 *   and `failure` says why), not as a `failed` task: the extension reserves `failed` for JSON-RPC errors and says
 *   "`failed` MUST NOT be used for non-JSON-RPC errors", and a tool call that waited for the same operation would
 *   have answered this result, not an error.
 * - `ttlMs` is what the log's retention gives the task, counted from its creation as the extension defines it:
 *   the log expires `retentionMs` after its latest event, so `ttlMs = updatedAt + retentionMs − createdAt`
 *   (it grows while the operation runs; the extension allows it to change).
 * - `pollIntervalMs` follows {@link pollIntervalFor}.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import type { CompletedTaskV2, DetailedTaskV2, TaskV2 } from "@modelcontextprotocol/ext-tasks/core/v2";
import type { OperationState } from "../operations/fold.ts";
import { isTerminal } from "../operations/fold.ts";
import type { OperationReader } from "../operations/operation-store.ts";
import { describeState, operationResult } from "../tools/operation-result.ts";
import { toolSuccessResult } from "../tools/tool-result.ts";

/** The extension's identifier, the key of its capability in `extensions` (client and server). */
export const TASKS_EXTENSION_ID = "io.modelcontextprotocol/tasks";

/** Bounds of `pollIntervalMs` (ms). */
export const MIN_POLL_INTERVAL_MS = 500;
export const MAX_POLL_INTERVAL_MS = 10_000;

/**
 * Cancels an operation as its owner: the operation's state after the request, or undefined when the operation is
 * unknown to this user (missing, expired or another user's). The shape of `OperationRunner.cancel`.
 */
export type CancelOperation = (operationId: string, ownerUserId: string) => Promise<OperationState | undefined>;

export interface OperationTaskStoreOptions {
  operations: OperationReader;
  /** OPERATION_RETENTION_HOURS in ms: how long a log is kept after its latest event. */
  retentionMs: number;
  /** AIRTABLE_BASE_RPS: requests per second one base admits (each request is one batch of ≤ 10 records). */
  baseRps: number;
  /**
   * Operations waiting in the queue for a worker, this one included (`waitingOperations`, queue/operation-queue.ts),
   * when a queue hands operations to a worker pool. Read for queued operations only. Absent: operations start at
   * once (embedded and stdio runners), nothing waits ahead.
   */
  queueDepth?: () => Promise<number>;
  /**
   * What `tasks/cancel` does: the runner's cancel, `(id, owner) => runner.cancel(id, owner, { source: "tasks/cancel" })`
   * (a queued operation never starts; a running one stops after the batch in flight; an ended one is unchanged).
   */
  cancel: CancelOperation;
}

/** The CreateTaskResult of a write tool call (`resultType: "task"`); see {@link OperationTaskStore.created}. */
export type CreateTaskToolResult = CallToolResult & TaskV2 & { resultType: "task" };

/**
 * The tasks of one deployment: `tasks/get`, `tasks/update`, `tasks/cancel` and the task-creation answer of a
 * write tool, each as the task's owner. Works on every OperationReader. Throws only what the store throws (e.g.
 * Redis unavailable), which the MCP layer answers as an internal error.
 */
export class OperationTaskStore {
  readonly #opts: OperationTaskStoreOptions;

  constructor(opts: OperationTaskStoreOptions) {
    this.#opts = opts;
  }

  /** `tasks/get`: the task with its status-specific fields, or undefined when unknown to this user. */
  async get(taskId: string, ownerUserId: string): Promise<DetailedTaskV2 | undefined> {
    const state = await this.#opts.operations.getForOwner(taskId, ownerUserId);
    return state === undefined ? undefined : this.#detailed(state, await this.#pollInterval(state));
  }

  /**
   * The answer of a write tool call that becomes a task, for an operation just submitted (so `tasks/get` already
   * resolves it, as the extension requires before answering). Besides the task fields it carries the operation's
   * current state as `structuredContent` and text (what get_operation would say now, its message worded for a task:
   * "Poll tasks/get with this taskId (or get_operation with it as operationId)", as `statusMessage`): the MCP SDK
   * checks every tools/call answer against the tool's output schema, and a client that reads it gets the operation
   * id too. Undefined if the operation cannot be read as this owner.
   */
  async created(operationId: string, ownerUserId: string): Promise<CreateTaskToolResult | undefined> {
    const state = await this.#opts.operations.getForOwner(operationId, ownerUserId);
    if (state === undefined) return undefined;
    const task = this.#task(state, await this.#pollInterval(state));
    // Polled with tasks/get: its message says so, as the task's statusMessage does (not "Poll get_operation").
    const output = operationResult(state, { withResults: isTerminal(state.status), via: "task" });
    return { ...toolSuccessResult(output), ...task, resultType: "task" };
  }

  /** `tasks/update`: true when the task is known to this user (we never ask for input, so there is nothing to take). */
  async known(taskId: string, ownerUserId: string): Promise<boolean> {
    return (await this.#opts.operations.getForOwner(taskId, ownerUserId)) !== undefined;
  }

  /** `tasks/cancel`: true when the task is known to this user and the cancel was passed on (see `cancel` option). */
  async cancel(taskId: string, ownerUserId: string): Promise<boolean> {
    return (await this.#opts.cancel(taskId, ownerUserId)) !== undefined;
  }

  async #pollInterval(state: OperationState): Promise<number | undefined> {
    if (isTerminal(state.status)) return undefined;
    // The queue's count includes this operation's own job: the others are ahead of it. A count that cannot be read
    // is only a hint lost: the task is still answered (as if nothing waited ahead).
    const waiting =
      state.status === "queued" && this.#opts.queueDepth !== undefined
        ? await this.#opts.queueDepth().catch(() => 0)
        : 0;
    return pollIntervalFor(state, { queueDepth: Math.max(0, waiting - 1), baseRps: this.#opts.baseRps });
  }

  #task(state: OperationState, pollIntervalMs: number | undefined): TaskV2 {
    return {
      taskId: state.operation.operationId,
      status: taskStatusOf(state),
      statusMessage: describeState(state, "task"),
      createdAt: new Date(state.createdAt).toISOString(),
      lastUpdatedAt: new Date(state.updatedAt).toISOString(),
      ttlMs: Math.max(0, state.updatedAt + this.#opts.retentionMs - state.createdAt),
      ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
    };
  }

  #detailed(state: OperationState, pollIntervalMs: number | undefined): DetailedTaskV2 {
    const task = this.#task(state, pollIntervalMs);
    switch (task.status) {
      case "completed":
        return { ...task, status: "completed", result: completedResult(state) };
      case "cancelled":
        return { ...task, status: "cancelled" };
      default:
        return { ...task, status: "working" };
    }
  }
}

/** The task status of an operation (see the module rules). */
export function taskStatusOf(state: OperationState): "working" | "completed" | "cancelled" {
  if (state.status === "cancelled") return "cancelled";
  return isTerminal(state.status) ? "completed" : "working";
}

/** The CallToolResult of an ended operation as the 2026-07-28 wire carries it (`resultType: "complete"`). */
function completedResult(state: OperationState): CompletedTaskV2["result"] {
  return { ...toolSuccessResult(operationResult(state)), resultType: "complete" } as CompletedTaskV2["result"];
}

/**
 * `pollIntervalMs` of a task that has not ended: about when polling can show something new, from the limiter and
 * the queue. One batch is one Airtable request, and a base admits `baseRps` of them per second, so a batch takes at
 * least `1000 / baseRps` ms (200 ms at Airtable's 5 req/s). The interval is that spacing times
 * `queueDepth + max(1, ceil(remainingBatches / 10))`, bounded to [500 ms, 10 s]:
 * - `queueDepth` (queued only): the operations waiting ahead of this one in the queue, each of which sends at least
 *   one request first;
 * - `ceil(remainingBatches / 10)`: about a tenth of the remaining work, so a client polls some ten times over an
 *   operation's run, and never sooner than one batch could finish (a 2,000-record import, 200 batches: 4 s at
 *   first, 500 ms near its end).
 * While the operation waits out Airtable's 429 penalty (OperationState.rateLimitPause, its end after `now`), nothing
 * new can show before the pause ends: the interval is at least the time left, within the same bounds.
 * Pure. `queueDepth` ≥ 0; `baseRps` > 0; `now` epoch ms (default the clock).
 */
export function pollIntervalFor(
  state: OperationState,
  opts: { queueDepth: number; baseRps: number; now?: number },
): number {
  const spacingMs = 1000 / opts.baseRps;
  const remaining = Math.max(0, state.progress.batchesTotal - state.progress.batchesDone);
  const ahead = state.status === "queued" ? Math.max(0, opts.queueDepth) : 0;
  const requests = ahead + Math.max(1, Math.ceil(remaining / 10));
  const pauseLeft = state.status === "running" ? (state.rateLimitPause?.until ?? 0) - (opts.now ?? Date.now()) : 0;
  const ms = Math.max(Math.round(spacingMs * requests), pauseLeft);
  return Math.min(MAX_POLL_INTERVAL_MS, Math.max(MIN_POLL_INTERVAL_MS, ms));
}
