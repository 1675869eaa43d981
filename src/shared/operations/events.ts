/**
 * A write operation and the events of its append-only log (docs/architecture.md invariants 2 and 3).
 *
 * An operation's `input` is the list of items it writes, in the order the agent gave them: records for the
 * record kinds, exactly one payload for the others (a table, a field, a comment, an attachment). Items are cut
 * into batches of `batchSize` by position: batch `b` holds input indexes `[b * batchSize, (b + 1) * batchSize)`.
 * Every event names the input indexes it speaks about, so results map back to what the agent sent.
 *
 * Event semantics (see fold.ts for the exact rules):
 * - `batch.started`: a request for this batch is about to be sent. With `rateLimitPause`, not a new request: the
 *   one in flight waits out Airtable's 429 penalty on the base (see the field). `indexes` says which input indexes it
 *   carries; absent = the whole batch. A batch split to isolate a 422 (one bad value fails all 10) is sent as
 *   several sub-batches, each with its own `batch.started` and `indexes`, so a batch may settle through several
 *   partial `batch.succeeded` / `batch.failed` events. A worker starts a new attempt of a batch only once it
 *   knows the fate of the previous one (an answer, or an `in_doubt` verdict), so the latest `batch.started` of a
 *   batch is the only request that can be in flight.
 * - `batch.succeeded`: Airtable applied the request; one result per input index.
 * - `batch.failed`: Airtable certainly did not apply these items. `permanent: true` settles them as errors
 *   (422 per record, 404, …); `permanent: false` only records that the attempt was answered (e.g. 503 before
 *   applying) and leaves them to be retried.
 * - `batch.in_doubt`: a non-idempotent request (a create) was sent and its answer lost; never re-sent.
 * - `batch.reconciled`: a create_records request whose answer was lost was settled by reading the table back
 *   (reconcile.ts): each item it carried is `written` (found, with its record id), `absent` (confirmed not
 *   created, after the settle delay: it is sent again) or `inDoubt` (the read-back could not tell; with why).
 * - `completed` / `failed`: the operation ends (`failed` = an operation-level, permanent error such as 401/403).
 * - `cancel_requested`: its owner (cancel_operation, tasks/cancel) or an operator (Bull Board's remove) asked to
 *   stop it. Nothing new is sent after it; a request already in flight still finishes and its outcome is recorded
 *   (a create whose answer was lost is still reconciled), then whoever runs it appends `cancelled`.
 * - `cancelled`: the operation ends because it was cancelled; items with no outcome were never sent.
 */
import { z } from "zod";
import { findWriteKind, WRITE_KIND_NAMES, WRITE_KINDS, type WriteKindName } from "./kinds/index.ts";
import { operationOptionsSchema } from "./options.ts";

export { operationOptionsSchema } from "./options.ts";
export type { OperationOptions } from "./options.ts";

/** Airtable takes at most 10 records per create/update/upsert/delete request. */
export const MAX_BATCH_SIZE = 10;

/** Every write kind (kinds/index.ts is the registry; this list follows it). */
export const OPERATION_KINDS = WRITE_KIND_NAMES;
/** Kinds whose input is a list of records, sent in batches of up to `MAX_BATCH_SIZE`. */
export const RECORD_KINDS: readonly WriteKindName[] = WRITE_KINDS.filter((k) => !k.singleItem).map((k) => k.name);
/** Kinds whose operation takes exactly one input item: a table, a field, a comment, an attachment. */
export const SINGLE_ITEM_KINDS: readonly WriteKindName[] = WRITE_KINDS.filter((k) => k.singleItem).map((k) => k.name);

export const operationKindSchema = z.enum(OPERATION_KINDS);
export type OperationKind = z.infer<typeof operationKindSchema>;

/** A kind whose input is a list of records (see `RECORD_KINDS`). */
export function isRecordKind(kind: OperationKind): boolean {
  return findWriteKind(kind)?.singleItem === false;
}

/** `op_` + 128 random bits in base64url (22 characters): unguessable, safe in URLs and Redis keys. */
export const operationIdSchema = z
  .string()
  .regex(/^op_[A-Za-z0-9_-]{22}$/, "an operation id looks like op_ + 22 chars");

export const operationSchema = z
  .object({
    operationId: operationIdSchema,
    ownerUserId: z.string().min(1),
    kind: operationKindSchema,
    baseId: z.string().min(1),
    tableId: z.string().min(1).optional(),
    /** The items to write, in the agent's order; exactly one for the single-item kinds. */
    input: z.array(z.unknown()).min(1),
    options: operationOptionsSchema,
    /**
     * Record kinds: the exact name of each field the input names by id (`{ fld…: "Name" }`), as the schema had it
     * when the call was checked. The input is sent by id, which a rename in Airtable does not change; answers show
     * these names, the ones the agent's call used. Absent in operations queued before field ids were stored (their
     * input is keyed by name, shown and sent as it is).
     */
    fieldNames: z.record(z.string(), z.string()).optional(),
    batchSize: z.number().int().min(1).max(MAX_BATCH_SIZE),
    /** Epoch ms. */
    createdAt: z.number().int().nonnegative(),
  })
  .superRefine((op, ctx) => {
    const kind = findWriteKind(op.kind);
    if (kind === undefined) return;
    for (const option of kind.requiredOptions ?? []) {
      if (op.options[option] === undefined) {
        ctx.addIssue({ code: "custom", path: ["options", option], message: `${op.kind} needs ${option}` });
      }
    }
    if (kind.singleItem && op.input.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["input"], message: `${op.kind} takes exactly one input item` });
    }
  });
export type Operation = z.infer<typeof operationSchema>;

/** Number of batches the operation's input is cut into. */
export function batchCount(op: Pick<Operation, "input" | "batchSize">): number {
  return Math.ceil(op.input.length / op.batchSize);
}

/** The input indexes of batch `batch`, in order (empty when the batch does not exist). */
export function batchIndexes(op: Pick<Operation, "input" | "batchSize">, batch: number): number[] {
  const start = batch * op.batchSize;
  const end = Math.min(start + op.batchSize, op.input.length);
  const indexes: number[] = [];
  for (let i = start; i < end; i++) indexes.push(i);
  return indexes;
}

const index = z.number().int().nonnegative();
const batch = z.number().int().nonnegative();
const eventBase = {
  /** Position in the log, 1-based, assigned by the log on append (1 is always `accepted`). */
  seq: z.number().int().positive(),
  /** Epoch ms, the appender's clock. */
  at: z.number().int().nonnegative(),
};

export const acceptedEventSchema = z.object({
  ...eventBase,
  type: z.literal("accepted"),
  operation: operationSchema,
  batchesTotal: z.number().int().positive(),
});

/**
 * A wait out of Airtable's 429 penalty, as `batch.started` and `batch.failed` record it: the base whose requests are
 * refused, and until when (epoch ms, the worker's clock). See each event's field for what it means there.
 */
const rateLimitPauseSchema = z.object({
  baseId: z.string().min(1),
  until: z.number().int().nonnegative(),
});

export const batchStartedEventSchema = z.object({
  ...eventBase,
  type: z.literal("batch.started"),
  batch,
  /** 1-based count of requests sent for this batch, this one included. */
  attempt: z.number().int().positive(),
  /** A create_records batch re-sent as an upsert (on `fieldsToMergeOn`) after a crash. */
  asUpsert: z.boolean().optional(),
  /** The input indexes this request carries, for a split (sub-)batch; absent = the whole batch. */
  indexes: z.array(index).min(1).optional(),
  /**
   * Present: this is no new request. The request the batch's latest `batch.started` announced (same batch, attempt,
   * indexes and asUpsert, copied) has not been sent yet (or is to be sent again after its own 429) and waits out
   * Airtable's 429 penalty on `baseId` until `until` (epoch ms, the worker's clock), then goes by itself: whichever
   * request met the 429, this operation's or another's on the base (the penalty is shared by every process). The fold
   * shows it as `rateLimitPause` until the next event. A reader that predates the field drops it (zod strips unknown
   * keys) and reads the same request announced again: nothing settles and the request in flight stays the one in
   * flight, so an earlier server or worker during a rolling deploy folds the log as it did (a new event type would
   * fail its strict parse). Its `at` is later than the request's `batch.started`, and an earlier worker that reconciles
   * a lost create from it reads back records created since that time less RECONCILE_CLOCK_MARGIN_MS (60 s): safe,
   * because the note is recorded as the request starts its wait, before it is sent (or sent again after its own 429,
   * which applied nothing), so what it creates is created after the note's `at`, the time its append takes within the
   * margin. The other waits the processor notes are of reads after its own request was answered with a 422 (nothing
   * created); reading a lost create back goes around the note (processor.ts `#writer`). The current fold keeps the
   * request's own `at`.
   */
  rateLimitPause: rateLimitPauseSchema.optional(),
});

export const batchSucceededEventSchema = z.object({
  ...eventBase,
  type: z.literal("batch.succeeded"),
  batch,
  /** One per input index the request carried; `recordId` is the Airtable id written (record, table, field, …). */
  results: z.array(z.object({ index, recordId: z.string().min(1) })).min(1),
  /** Upserts: which of the result ids Airtable created and which it updated. */
  created: z.array(z.string()).optional(),
  updated: z.array(z.string()).optional(),
});

export const itemErrorSchema = z.object({
  index,
  /** Airtable's error type (e.g. `INVALID_VALUE_FOR_COLUMN`) or ours. */
  type: z.string().min(1),
  message: z.string(),
});
export type ItemError = z.infer<typeof itemErrorSchema>;

export const batchFailedEventSchema = z.object({
  ...eventBase,
  type: z.literal("batch.failed"),
  batch,
  errors: z.array(itemErrorSchema).min(1),
  /** true: these items are settled as errors. false: answered but retryable; they stay pending. */
  permanent: z.boolean(),
  /**
   * A permanent refusal of a request of several records that was not split (onError "stop", or an error type
   * Airtable gives for a request as a whole): Airtable refuses every record of a request when one of them is
   * invalid, without saying which. `culprits` are the indexes the refusal could be traced to (Airtable's message
   * names a value found in that record alone, or a read showed it: whole-request.ts); their errors are their own.
   * Every other index of `errors` was not written because its request was refused, not for a fault of its own
   * (the fold settles it as not written, with the request's error). Absent on earlier logs (every index failed).
   */
  refusedAsWhole: z.object({ culprits: z.array(index) }).optional(),
  /**
   * A 429 the client stopped waiting out (it met the penalty several times in a row: AirtableRateLimitError), on a
   * non-permanent failure: the run stops, and its runner runs the operation again at `until` (epoch ms, the worker's
   * clock: now + the runner's pause, ProcessorDeps.rateLimitPauseMs), when these items are sent again. The fold shows
   * it as `rateLimitPause`, like the note on `batch.started`. Absent on earlier logs; an earlier reader drops it.
   */
  rateLimitPause: rateLimitPauseSchema.optional(),
});

export const batchInDoubtEventSchema = z.object({
  ...eventBase,
  type: z.literal("batch.in_doubt"),
  batch,
  indexes: z.array(index).min(1),
  reason: z.string(),
});

export const batchReconciledEventSchema = z.object({
  ...eventBase,
  type: z.literal("batch.reconciled"),
  batch,
  /** Found in the table: created since the request was sent, with every written field equal to the input. */
  written: z.array(z.object({ index, recordId: z.string().min(1) })),
  /** Confirmed not created (no record matches, after the settle delay): these items are sent again. */
  absent: z.array(index),
  /** The read-back could not tell (several candidates, fields it cannot compare, …): settled in doubt. */
  inDoubt: z.array(z.object({ index, reason: z.string() })),
});

export const operationSummarySchema = z.object({
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  inDoubt: z.number().int().nonnegative(),
  /**
   * Records not written because their request was refused as a whole (fold.ts `recordsNotWritten`); only when there
   * are any. Absent on earlier logs; an earlier reader drops it (zod strips unknown keys).
   */
  notWritten: z.number().int().positive().optional(),
});

export const completedEventSchema = z.object({
  ...eventBase,
  type: z.literal("completed"),
  /** What the worker saw; informational — the fold derives its own counts from the batch events. */
  summary: operationSummarySchema,
});

export const failedEventSchema = z.object({
  ...eventBase,
  type: z.literal("failed"),
  /** A sentence for the agent, e.g. "Airtable refused the token (401) and refreshing it failed". */
  reason: z.string().min(1),
  /** Machine-readable cause, e.g. Airtable's error type. */
  errorType: z.string().optional(),
});

/**
 * Who asked to stop an operation: its owner through a tool (cancel_operation, or the write call itself cancelled
 * while it waited: run-write.ts) or the tasks extension, or an operator. A new value would break older readers of
 * the log during a rolling deploy (a strict enum), so a cancelled write call is recorded as "cancel_operation".
 */
export const cancelSourceSchema = z.enum(["cancel_operation", "tasks/cancel", "bull_board"]);
export type CancelSource = z.infer<typeof cancelSourceSchema>;

export const cancelRequestedEventSchema = z.object({
  ...eventBase,
  type: z.literal("cancel_requested"),
  source: cancelSourceSchema,
});

export const cancelledEventSchema = z.object({
  ...eventBase,
  type: z.literal("cancelled"),
  /** A sentence for the agent, e.g. "cancelled by its owner after 40 of 200 records were written". */
  reason: z.string().min(1),
});

export const operationEventSchema = z.discriminatedUnion("type", [
  acceptedEventSchema,
  batchStartedEventSchema,
  batchSucceededEventSchema,
  batchFailedEventSchema,
  batchInDoubtEventSchema,
  batchReconciledEventSchema,
  completedEventSchema,
  failedEventSchema,
  cancelRequestedEventSchema,
  cancelledEventSchema,
]);
export type OperationEvent = z.infer<typeof operationEventSchema>;
export type OperationEventType = OperationEvent["type"];
export type AcceptedEvent = z.infer<typeof acceptedEventSchema>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as an appender writes it: the log assigns `seq`; `at` defaults to now. */
export type NewOperationEvent = DistributiveOmit<Exclude<OperationEvent, AcceptedEvent>, "seq" | "at"> & {
  at?: number;
};
