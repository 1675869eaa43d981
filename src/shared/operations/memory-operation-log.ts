/**
 * The operation log in this process's memory, for a stdio process without Redis that could not claim its account's
 * state directory (src/stdio/state-dir.ts: another copy holds it, or it cannot be used): one local user, operations
 * that live as long as the process. Same semantics as the Redis OperationLog (one contract suite tests both).
 */
import { batchCount, operationEventSchema, operationSchema } from "./events.ts";
import type { NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import { foldOperation } from "./fold.ts";
import type { OperationState } from "./fold.ts";
import { isOperationId } from "./operation-id.ts";
import {
  DEFAULT_MAX_EVENTS,
  MAX_LIST_LIMIT,
  OperationExistsError,
  OperationLogFullError,
  OperationNotFoundError,
} from "./operation-log.ts";
import type { ListOptions } from "./operation-store.ts";
import type { OperationStore } from "./operation-store.ts";
import { summarizeOperation } from "./summary.ts";
import type { OperationSummary } from "./summary.ts";

interface Entry {
  owner: string;
  createdAt: number;
  events: OperationEvent[];
  expiresAt: number;
}

export class MemoryOperationLog implements OperationStore {
  readonly #entries = new Map<string, Entry>();
  readonly #retentionMs: number;
  readonly #maxEvents: number;
  readonly #now: () => number;

  constructor(opts: { retentionMs: number; maxEvents?: number; now?: () => number }) {
    this.#retentionMs = opts.retentionMs;
    this.#maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#now = opts.now ?? Date.now;
  }

  async create(operation: Operation): Promise<void> {
    const op = operationSchema.parse(operation);
    if (this.#live(op.operationId) !== undefined)
      throw new OperationExistsError(`operation ${op.operationId} already exists`);
    const at = this.#now();
    this.#entries.set(op.operationId, {
      owner: op.ownerUserId,
      createdAt: op.createdAt,
      events: [{ seq: 1, at, type: "accepted", operation: op, batchesTotal: batchCount(op) }],
      expiresAt: at + this.#retentionMs,
    });
  }

  async append(operationId: string, event: NewOperationEvent): Promise<number> {
    const entry = this.#live(operationId);
    if (entry === undefined) throw new OperationNotFoundError(`operation ${operationId} does not exist (or expired)`);
    if (entry.events.length >= this.#maxEvents) {
      throw new OperationLogFullError(`operation ${operationId} has ${this.#maxEvents} events, the most a log keeps`);
    }
    const seq = entry.events.length + 1;
    const parsed = operationEventSchema.safeParse({ ...event, seq, at: event.at ?? this.#now() });
    if (!parsed.success)
      throw new Error(`MemoryOperationLog.append(${operationId}): invalid event: ${parsed.error.message}`);
    if (parsed.data.type === "accepted")
      throw new Error("MemoryOperationLog.append: `accepted` is written by create()");
    entry.events.push(parsed.data);
    entry.expiresAt = this.#now() + this.#retentionMs;
    return seq;
  }

  async read(operationId: string): Promise<OperationEvent[]> {
    return [...(this.#live(operationId)?.events ?? [])];
  }

  async state(operationId: string): Promise<OperationState | undefined> {
    const entry = this.#live(operationId);
    return entry === undefined ? undefined : foldOperation(entry.events);
  }

  async getForOwner(operationId: string, ownerUserId: string): Promise<OperationState | undefined> {
    if (!isOperationId(operationId)) return undefined;
    const entry = this.#live(operationId);
    return entry?.owner === ownerUserId ? foldOperation(entry.events) : undefined;
  }

  async listForOwner(ownerUserId: string, opts: ListOptions): Promise<OperationSummary[]> {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > MAX_LIST_LIMIT) {
      throw new Error(`listForOwner: limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${opts.limit}`);
    }
    const mine = [...this.#entries.entries()]
      .filter(([id, e]) => e.owner === ownerUserId && this.#live(id) !== undefined)
      .sort(([idA, a], [idB, b]) => b.createdAt - a.createdAt || (idB > idA ? 1 : -1));
    let start = 0;
    if (opts.before !== undefined) {
      const at = mine.findIndex(([id]) => id === opts.before);
      if (at < 0) return [];
      start = at + 1;
    }
    return mine.slice(start, start + opts.limit).map(([, e]) => summarizeOperation(foldOperation(e.events)));
  }

  #live(operationId: string): Entry | undefined {
    const entry = this.#entries.get(operationId);
    if (entry !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(operationId);
      return undefined;
    }
    return entry;
  }
}
