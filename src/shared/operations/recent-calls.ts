/**
 * A create retried while the operation of its first, identical call is still unfinished is attached to that
 * operation instead of creating the records a second time.
 *
 * Why: a newcomer trial's agent sent create_records with 200 records; the server was killed (`kill -9`) 3 s in, so
 * the client got "fetch failed" and never saw an operationId; after the restart the operation resumed (by design:
 * its log was durable) and the agent re-sent the same call, as agents do. The table ended with every record twice.
 *
 * The rule: a create_records operation (create_record and create_records both queue one) whose fingerprint — the
 * SHA-256 of the canonical JSON of baseId, tableId, the records as queued and the options the call chose (typecast,
 * onError, fieldsToMergeOn…; not the select options typecast creates, derived from the schema, which the first
 * call's own batches change) — equals that of one of the
 * same user's operations accepted within RECENT_CALL_WINDOW_MS (10 min) that is still queued or running is not
 * queued: the call answers with that operation. A finished one is never reused (the agent may really want the
 * records twice: a second call after a first one's answer is not a retry). Updates, upserts and deletes need no
 * such rule: sent twice they end the same.
 *
 * How: one key per user and fingerprint in the deployment's KeyValueStore (Redis in distributed mode, shared by
 * every instance; SQLite in embedded mode and in stdio without Redis, so it survives the restart that caused the
 * retry; memory in a stdio copy that keeps its operations in memory),
 * `${keyPrefix}:recent-call:${userId}:${fingerprint}` → operation id, expiring after the window.
 * The call claims the key (setIfAbsent: atomic) before its operation is created, so of two identical calls at
 * once exactly one queues an operation. The other reads the holder's operation; the holder creates it right after
 * its claim, so an operation not there yet is waited for, up to HOLDER_WAIT_MS (2 s), then the claim is taken over
 * (a holder whose queueing failed before its log was written never creates it). The remaining window, stated
 * honestly: a holder whose create takes longer than that (a Redis stall) is taken over, and both calls queue.
 */
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { KeyValueStore } from "../kv/key-value-store.ts";
import type { Operation } from "./events.ts";
import type { OperationState } from "./fold.ts";
import { chosenOptions } from "./options.ts";
import type { OperationReader } from "./operation-store.ts";

/** How long after its acceptance an unfinished create takes an identical call in (10 minutes). */
export const RECENT_CALL_WINDOW_MS = 10 * 60_000;
/** How long a call waits for the operation of a holder that claimed the same fingerprint to exist (2 s). */
export const HOLDER_WAIT_MS = 2_000;
const HOLDER_POLL_MS = 50;
/** Claims tried before giving up and queueing (each round ends a holder that is gone or finished). */
const MAX_ROUNDS = 4;

/**
 * JSON with every object's keys sorted (arrays keep their order), so the same value always gives the same text
 * whatever order its keys were built or stored in. `undefined` members are left out, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The fingerprint of a create call: hex SHA-256 of the canonical JSON of `{ baseId, tableId, records, options }`,
 * records being the operation's input as queued (fields by id: a retry that names the table or a field by name
 * instead of id matches too) and options those the call chose (options.ts, chosenOptions): a retry checked after
 * the first call's first batch created a select option no longer derives that option as new, and is the same
 * call all the same. Undefined for every other kind (they are not attached to earlier operations).
 */
export function createCallFingerprint(operation: Operation): string | undefined {
  if (operation.kind !== "create_records") return undefined;
  const call = {
    baseId: operation.baseId,
    tableId: operation.tableId,
    records: operation.input,
    options: chosenOptions(operation.options),
  };
  return createHash("sha256").update(canonicalJson(call)).digest("hex");
}

export interface RecentCallsOptions {
  /** Where the claims live: the deployment's shared store (see the module's comment). */
  kv: KeyValueStore;
  /** REDIS_KEY_PREFIX (or the embedded store's): keeps deployments that share a store apart. */
  keyPrefix: string;
  /** Reads the holder's operation as its owner (the settling reader, so a never-queued one reads `failed`). */
  operations: OperationReader;
  /** How long after its acceptance an unfinished create takes an identical call in, in ms (RECENT_CALL_WINDOW_MS). */
  windowMs?: number;
  /**
   * How long, in ms, one findOrClaim waits in all for holders' operations to exist (HOLDER_WAIT_MS), polled every
   * HOLDER_POLL_MS: counted in polls, not by the clock, so it ends whatever `now` says.
   */
  holderWaitMs?: number;
  /** The clock for the window's test, epoch ms (Date.now; tests move it). */
  now?: () => number;
}

/** The claims of recent create calls: see the module's comment. */
export class RecentCalls {
  readonly #kv: KeyValueStore;
  readonly #prefix: string;
  readonly #operations: OperationReader;
  readonly #windowMs: number;
  readonly #holderWaitMs: number;
  readonly #now: () => number;

  constructor(opts: RecentCallsOptions) {
    this.#kv = opts.kv;
    this.#prefix = `${opts.keyPrefix}:recent-call`;
    this.#operations = opts.operations;
    this.#windowMs = opts.windowMs ?? RECENT_CALL_WINDOW_MS;
    this.#holderWaitMs = opts.holderWaitMs ?? HOLDER_WAIT_MS;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Before `operation` (not yet created) is queued: the state of the same owner's earlier identical create, when
   * one accepted within the window is still queued or running and not being cancelled — the caller then answers
   * with it and queues nothing — or undefined, and `operation` now holds the claim (the caller queues it). One being
   * cancelled (`cancel_requested` logged, its status still queued/running until a worker ends it) is no operation to
   * join: a client that cancelled (or closed a 2026-07-28 stream) and sends again wants the records.
   * Always undefined for kinds other than create_records. Waits for holders at most `holderWaitMs` in all, so it
   * ends within that plus MAX_ROUNDS × 3 store round trips. Errors of the store propagate (the caller decides).
   */
  async findOrClaim(operation: Operation): Promise<OperationState | undefined> {
    const fingerprint = createCallFingerprint(operation);
    if (fingerprint === undefined) return undefined;
    const key = this.#keyOf(operation.ownerUserId, fingerprint);
    const budget = { polls: Math.max(1, Math.ceil(this.#holderWaitMs / HOLDER_POLL_MS)) };
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const holder = await this.#kv.setIfAbsent(key, operation.operationId, this.#windowMs);
      if (holder === operation.operationId) return undefined;
      const state = await this.#holderState(holder, operation.ownerUserId, budget);
      const unfinished = state?.status === "queued" || state?.status === "running";
      const joinable = unfinished && state.cancellation === undefined;
      if (joinable && this.#now() - state.createdAt <= this.#windowMs) return state;
      // Finished (a new call is then wanted), being cancelled, or never created: the claim is stale. Only that
      // holder's is removed.
      await this.#kv.deleteIfEquals(key, holder);
    }
    return undefined;
  }

  #keyOf(userId: string, fingerprint: string): string {
    return `${this.#prefix}:${userId}:${fingerprint}`;
  }

  /**
   * The holder's operation; it is created right after its claim, so one not there yet is waited for a moment, from
   * `budget` (polls left for the whole findOrClaim, spent here).
   */
  async #holderState(
    operationId: string,
    ownerUserId: string,
    budget: { polls: number },
  ): Promise<OperationState | undefined> {
    for (;;) {
      const state = await this.#operations.getForOwner(operationId, ownerUserId);
      if (state !== undefined || budget.polls <= 0) return state;
      budget.polls -= 1;
      await sleep(HOLDER_POLL_MS);
    }
  }
}
