/**
 * Executes one operation against Airtable, batch by batch, with its event log as the only memory
 * (docs/architecture.md invariants 2 and 3). The same code runs in a BullMQ worker and in stdio's embedded runner.
 *
 * Each step: fold the log → `resumeDecision` → append `batch.started` → send → append the outcome — always
 * before the next batch starts, so a process that dies at any point leaves a log another process can resume
 * from: an update/upsert/delete in flight is re-sent, a create in flight is marked `in_doubt` and never re-sent
 * (unless it can be re-sent as an upsert on `fieldsToMergeOn`).
 *
 * Errors, by what they mean for the operation:
 * - one bad record (422, 404 "record not found" in a batch, or 403 INVALID_PERMISSIONS because one record writes a
 *   field or table the user may not edit): Airtable refuses the whole request, so the batch is split in halves
 *   until the refused records are isolated; the good ones are written and each refused one reports Airtable's own
 *   error type and message, and the remaining batches are still sent. With `onError: "stop"` the batch is not
 *   split and nothing after it is sent: the record(s) Airtable's message can be traced to fail with its error, and
 *   the others are recorded as not written because their request was refused as a whole (whole-request.ts); so is
 *   a request refused for an error type Airtable gives a whole request (WHOLE_REQUEST_TYPES), except that with
 *   `onError: "continue"` and its culprits known, they fail and the others are sent again in one request without
 *   them (#resendWithoutCulprits).
 * - an update or delete refused for a record the table does not have (an update's 422 ROW_DOES_NOT_EXIST, a
 *   delete's 404 NOT_FOUND naming the record, 404 MODEL_ID_NOT_FOUND: missing-records.ts): one read of which of the
 *   request's ids exist settles it instead of the split — the missing ones fail with a message saying so (or count as
 *   deleted, for a delete re-sent after a lost answer) and the rest is sent again in one request; when the read fails
 *   or finds every id, the batch is split as above. Under onError "stop" (not split) the same read names every
 *   missing record of the request (Airtable's message names the first only): they fail, the others are not written.
 * - a 422 UNKNOWN_FIELD_NAME naming a field id the call was checked against, which the table's schema, read once,
 *   no longer lists: the field was deleted after the write was accepted, and Airtable would refuse every remaining
 *   request that writes it. The refused request's records that write the field fail, naming it and the fix, its other
 *   records are not written (refused with their request, as above), and the operation fails at once, without
 *   sending the rest, with a reason naming the field (as the call named it, and its id) and the table. Only when
 *   records left to send write that field (or merge on it); else the refusal settles its records as above.
 * - a 403 explained by the user's access to the base: Airtable's 403 does not say whether the user's permission level
 *   refuses the write (it then refuses every request of the operation) or a field or table editing restriction does
 *   (only the requests that write it), so list bases is asked (one request per page of 1,000 bases; base-permissions.ts). When the base is no
 *   longer listed, or listed at a level below what the kind's `scope` needs (read-only or commenter writing records, an
 *   editor changing the schema), the operation fails at once, without splitting the batch or sending the rest, with
 *   a reason naming the level and what to do; this is what stops an import whose access was removed mid-way. Else
 *   the 403 is a restriction, handled as below.
 * - a 403 that refused every record sent so far (nothing written yet and at least one whole batch refused record
 *   by record): the permission evidently covers the whole write, so the operation fails for good with Airtable's
 *   message instead of sending every remaining batch only to be refused again. When the message names no field and
 *   the level allows the write, the table's own permission refused it: the reason names the table by name and id,
 *   what it limits for this kind, and what to do (table-limit.ts); each refused record's result points at it.
 * - outcome unknown on a create_records request (5xx / timeout / connection lost after sending): after the settle
 *   delay the table is read back (reconcile.ts) and `batch.reconciled` appended: found → written, confirmed
 *   absent → sent again, unclear → in doubt. Other creates (table, field, comment, attachment): `in_doubt` at once.
 * - 5xx / network after the client's own retries: `OperationRetryableError` — the caller retries the operation
 *   later with backoff (BullMQ attempts); the log makes the retry resume exactly where this one stopped.
 * - 429 after the client waited out the shared penalty several times: `OperationRateLimitedError`, retried
 *   after the penalty without counting as an attempt.
 * - the user's access is gone (sign-in ended, or 401 after a refresh), the base or table is gone or not shared (404,
 *   403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND), or Airtable
 *   refuses a schema change (422): the operation fails for good — `failed` is appended and
 *   `OperationFailedError` thrown.
 * - the server is misconfigured (the owner's stored sign-in cannot be decrypted: misconfiguration.ts): the same, at
 *   once (no retry can fix a setting), with errorType SERVER_MISCONFIGURED and the setting the operator must fix.
 *
 * Cancellation (cancel.ts): a `cancel_requested` another process appended is seen at no extra cost — an append
 * answers its seq, and a seq past this run's own count means the log grew behind its back, so it is read again — and
 * at once through `cancelSignal` when the runner relays it. Then nothing new is sent: a batch still waiting in the
 * limiter is dropped (`batch.failed`, not permanent, CANCELLED: never sent), a request in flight finishes and its
 * outcome is recorded (a lost create is still reconciled), and the run appends `cancelled` and returns.
 */
import { setTimeout as wait } from "node:timers/promises";
import { missingScopeFix, REFUSED_PERSONAL_ACCESS_TOKEN, type CredentialKind } from "../credential-kind.ts";
import {
  AirtableError,
  AirtableNetworkError,
  AirtableNotFoundError,
  AirtableOutcomeUnknownError,
  AirtablePermissionError,
  AirtableRateLimitError,
  AirtableValidationError,
} from "../airtable/errors.ts";
import type { AirtableClient } from "../airtable/client.ts";
import type { RateLimitPause } from "../airtable/transport.ts";
import type { BaseSchema } from "../airtable/schemas.ts";
import { RECORD_ID_IN_TEXT } from "../airtable/ids.ts";
import { accessRefusal, levelNeededFor, lookUpBaseAccess } from "../base-permissions.ts";
import type { Logger } from "../logger.ts";
import { formatCount } from "../format-count.ts";
import { misconfigurationOf } from "../misconfiguration.ts";
import type { SchemaCache } from "../schema-cache.ts";
import { airtableAccessLost } from "../tokens/access-lost.ts";
import { batchIndexes } from "./events.ts";
import type { ItemError, NewOperationEvent, Operation, OperationEvent } from "./events.ts";
import { foldOperation, isTerminal, notWrittenOf, resumeDecision } from "./fold.ts";
import { reconcileCreates, type ReconcileResult } from "./reconcile.ts";
import { explainSelectOptionRefusal } from "./select-option-refusal.ts";
import { explainCollaboratorRefusal } from "./collaborator-refusal.ts";
import { explainTypecastRefusal } from "./typecast-refusal.ts";
import {
  isMissingRecordRefusal,
  linkCellIds,
  missingLinkMessage,
  missingRecordMessage,
  type NamedTable,
  type RecordWhereabouts,
} from "./missing-records.ts";
import { culpritNote, resentNote, tracedCulprits, type RequestRecord } from "./whole-request.ts";
import { asSentence, sentence } from "./sentence.ts";
import { namesRestrictedField, tableLimitReason, tableNamedIn } from "./table-limit.ts";
import {
  isManyMatchesRefusal,
  manyMatchesFix,
  manyMatchesMessage,
  matchesByItem,
  matchFormula,
} from "./upsert-matches.ts";
import { formulaString } from "../tools/search-formula.ts";
import { cancelledEvent, completedEvent } from "./cancel.ts";
import {
  OperationFailedError,
  OperationRateLimitedError,
  OperationReleasedError,
  OperationRetryableError,
} from "./operation-errors.ts";
import type { OperationState } from "./fold.ts";
import type { OperationStore } from "./operation-store.ts";
import { writeKind, type KindSent, type WriteKind } from "./kinds/index.ts";

export interface ProcessorDeps {
  store: OperationStore;
  /** Acts as the operation's owner; every request passes the shared limiter. */
  airtable: AirtableClient;
  logger: Logger;
  /**
   * Invalidated after a schema change, so the next tool call sees the new table or field; told the owner's bases
   * when a 403 made this run ask list bases (the write tools then refuse, before queueing, what it showed refused).
   */
  schemas?: Pick<SchemaCache, "invalidate" | "rememberBases">;
  /** After every batch outcome (the worker relays it as job progress; errors here are logged, not fatal). */
  onProgress?(state: OperationState): void | Promise<void>;
  /** Aborted when the process is shutting down: stop at the next batch boundary (OperationReleasedError). */
  stopSignal?: AbortSignal;
  /**
   * Aborted when a cancel of this operation was requested (the runner's hint; the log's `cancel_requested` is the
   * truth): a batch waiting in the limiter is not sent, and the log is read again at the next batch boundary.
   */
  cancelSignal?: AbortSignal;
  /**
   * How long the runner waits before it runs the operation again after OperationRateLimitedError (the worker's
   * `rateLimitPenaltyMs`, the embedded runner's `rateLimitPauseMs`), in ms: the `batch.failed` of that 429 records
   * the pause's end as now + this (`rateLimitPause`), so that get_operation says when the write resumes. Without
   * it, nothing is recorded.
   */
  rateLimitPauseMs?: number;
  /**
   * How the owner's Airtable credential was granted (credential-kind.ts): a 403 for a missing scope or base names its
   * fix (sign in again, or edit the personal access token in stdio mode). Absent: "oauth".
   */
  credential?: CredentialKind;
  /**
   * RECONCILE_SETTLE_MS: how long after a create's answer was lost the table is read back (Airtable may still be
   * applying it). Default `DEFAULT_RECONCILE_SETTLE_MS`.
   */
  reconcileSettleMs?: number;
}

/** The settle delay when none is configured (config.ts RECONCILE_SETTLE_MS has the same default). */
export const DEFAULT_RECONCILE_SETTLE_MS = 3_000;
/**
 * Records created up to this long before the request was sent are candidates too: Airtable's clock and ours may
 * differ, and CREATED_TIME() has whole seconds. Ids this operation already wrote are never candidates.
 */
export const RECONCILE_CLOCK_MARGIN_MS = 60_000;
/** Read-backs of one batch that may confirm an absence and re-send in one run; after that, BullMQ's backoff. */
const MAX_RECONCILE_ROUNDS = 3;
/**
 * After list bases showed that the user's level allows the operation (its 403s are restrictions), the next 403 of a
 * whole batch asks again only this much later: an import whose records each write a restricted field costs one
 * lookup per 30 s, not one per batch, and a level lowered during a long import is still noticed.
 */
const ACCESS_RECHECK_MS = 30_000;

/** Airtable error types that refuse a request for every record in it alike: splitting the batch cannot help. */
const WHOLE_REQUEST_TYPES = new Set([
  "UNKNOWN_FIELD_NAME",
  "INVALID_REQUEST_UNKNOWN",
  "INVALID_REQUEST_BODY",
  "INVALID_RECORDS",
  "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
]);

/**
 * Record ids an operation run looks up in the base's other tables when Airtable did not find them in its table
 * (Processor #whereabouts), at most: one get-record each, so a write of many wrong ids costs a few requests.
 */
const WHEREABOUTS_LOOKUPS = 10;

/** A field id in Airtable's message (`Unknown field name: "fldXXXXXXXXXXXXXX"`): "fld" and 14 letters or digits. */
const FIELD_ID = /\bfld[A-Za-z0-9]{14}\b/g;

interface Sent {
  results: { index: number; recordId: string }[];
  created?: string[];
  updated?: string[];
}

/**
 * The items of one refused request by input index, in the order sent, as the operation's kind reads them: parsed
 * once per refusal (#onSendError), for whichever explanation of it needs them.
 */
type RequestItems = ReadonlyMap<number, unknown>;

/** A field of the call that the table's schema, read after a refusal, no longer lists (#deletedField). */
interface DeletedField {
  id: string;
  /** As the call named it (Operation.fieldNames). */
  name: string;
  /** `"People" (tbl…)`: the table as the schema read showed it. */
  table: string;
}

/**
 * The records of a request refused as a whole that the refusal is traced to, and the error each of them gets (the
 * others of the request get the request's message: #refuseWhole).
 */
interface TracedCulprits {
  /** Input indexes, in request order. */
  culprits: number[];
  own(index: number): string;
}

/**
 * Runs the operation from wherever its log says until it ends (returns its final state) or must pause (throws
 * one of the errors above). Safe to call again at any time, from any process.
 */
export async function processOperation(operationId: string, deps: ProcessorDeps): Promise<OperationState> {
  const run = new OperationRun(operationId, deps);
  return run.start();
}

class OperationRun {
  readonly #id: string;
  readonly #deps: ProcessorDeps;
  /** The operation as accepted; it never changes, so reading it needs no fold. */
  #op!: Operation;
  /** What the operation's kind is and how it is sent (kinds/). */
  #kind!: WriteKind;
  #events: OperationEvent[] = [];
  /** The fold of #events, computed when read after an append (a batch appends 2–3 events between reads). */
  #folded: OperationState | undefined;
  readonly #log: Logger;
  /** Requests sent per batch in this log (sub-requests of a split included), for `batch.started.attempt`. */
  readonly #attempts = new Map<number, number>();
  /**
   * Sends batches: `deps.airtable`, dropping requests not yet sent when `cancelSignal` aborts, and telling
   * #notePause when a request waits out Airtable's 429 penalty. Reading a lost create back (#reconcile) goes through
   * `deps.airtable`, not this: a note there would copy a request a crashed run may have sent minutes before, and an
   * earlier worker, which reads the note as that request announced again, would read back from the note's time only
   * (less RECONCILE_CLOCK_MARGIN_MS) and create those records twice. The reads that do go through it follow this
   * run's own request, answered seconds before (a 422 looked into).
   */
  readonly #writer: AirtableClient;
  /** The pause note being appended, if any (#notePause); never rejects. */
  #pausing: Promise<void> = Promise.resolve();
  /** When list bases last showed that the owner's level on the base allows this operation (epoch ms; 0: never). */
  #accessAllowedAt = 0;
  /** The table's schema was read after an UNKNOWN_FIELD_NAME (#deletedField): once per run, not once per batch. */
  #fieldsLookedUp = false;
  /** The base's tables as #baseTables reads them, once per run (a failed read too), for naming tables in words. */
  #tables: Promise<BaseSchema["tables"]> | undefined;
  /** Record ids #whereabouts looked up in this run (at most WHEREABOUTS_LOOKUPS). */
  #idsLookedUp = 0;

  constructor(operationId: string, deps: ProcessorDeps) {
    this.#id = operationId;
    this.#deps = deps;
    const writer = deps.cancelSignal === undefined ? deps.airtable : deps.airtable.withCancelSignal(deps.cancelSignal);
    this.#writer = writer.withRateLimitPauses((pause) => this.#notePause(pause));
    // Callers run operations inside withLogContext({ operationId }): the id is on every line already.
    this.#log = deps.logger;
  }

  get #state(): OperationState {
    return (this.#folded ??= foldOperation(this.#events));
  }

  async start(): Promise<OperationState> {
    this.#events = await this.#deps.store.read(this.#id);
    if (this.#events.length === 0) {
      throw new OperationFailedError(`operation ${this.#id} does not exist (its log expired or was never written)`);
    }
    this.#op = this.#state.operation;
    this.#kind = writeKind(this.#op.kind);
    for (const e of this.#events) {
      if (e.type === "batch.started")
        this.#attempts.set(e.batch, Math.max(this.#attempts.get(e.batch) ?? 0, e.attempt));
    }
    for (;;) {
      if (this.#deps.cancelSignal?.aborted && this.#state.cancellation === undefined) await this.#reload();
      const decision = resumeDecision(this.#state);
      if (decision.action === "cancel") {
        await this.#append(cancelledEvent(this.#state));
        this.#log.info({ ...this.#state.progress, via: this.#state.cancellation?.via }, "operation cancelled");
        await this.#progress();
        return this.#state;
      }
      if (decision.action === "done") {
        if (!isTerminal(this.#state.status)) {
          await this.#append(completedEvent(this.#state));
          this.#log.info({ ...this.#state.progress, status: this.#state.status }, "operation finished");
        }
        return this.#state;
      }
      if (decision.action === "mark_in_doubt") {
        await this.#append({
          type: "batch.in_doubt",
          batch: decision.batch,
          indexes: decision.indexes,
          reason: "a worker stopped after sending this batch and before recording Airtable's answer",
        });
        await this.#progress();
        continue;
      }
      if (this.#deps.stopSignal?.aborted) {
        throw new OperationReleasedError(`operation ${this.#id} released at batch ${decision.batch} (shutting down)`);
      }
      if (decision.action === "reconcile") {
        // A worker stopped (or a run ended) after sending this create and before recording its answer.
        await this.#reconcile(decision.batch, decision.indexes, decision.sentAt, decision.sentAt, {
          why: "a worker stopped after sending this batch and before recording Airtable's answer",
          applied: false,
        });
        await this.#progress();
        continue;
      }
      const resent = this.#state.unfinishedStartedBatch !== undefined;
      await this.#sendItems(decision.batch, decision.indexes, decision.action === "send_as_upsert", resent);
      await this.#progress();
    }
  }

  /** Sends `indexes` of `batch` as one request and records what became of them (splitting on a bad record). */
  async #sendItems(batch: number, indexes: number[], asUpsert: boolean, resent: boolean): Promise<void> {
    const attempt = (this.#attempts.get(batch) ?? 0) + 1;
    this.#attempts.set(batch, attempt);
    const whole = batchIndexes(this.#op, batch);
    const partial = indexes.length !== whole.length;
    await this.#append({
      type: "batch.started",
      batch,
      attempt,
      ...(partial ? { indexes } : {}),
      ...(asUpsert ? { asUpsert } : {}),
    });
    // A cancel that arrived since the last batch (seen by that append): this request is not sent.
    if (this.#state.cancellation !== undefined) return this.#notSentCancelled(batch, indexes);
    let sent: Sent;
    try {
      sent = await this.#send(indexes, asUpsert);
    } catch (error) {
      if (this.#deps.cancelSignal?.aborted && error === this.#deps.cancelSignal.reason) {
        // Dropped while it waited in the limiter: never sent.
        await this.#reload();
        return this.#notSentCancelled(batch, indexes);
      }
      return this.#onSendError(error, batch, indexes, asUpsert, resent);
    }
    await this.#append({ type: "batch.succeeded", batch, ...sent });
    // A schema write, or records whose typecast added select options (OperationOptions.addsSelectOptions, written
    // beside newSelectOptions; either says so).
    const options = this.#op.options;
    if (this.#kind.changesSchema || options.addsSelectOptions === true || options.newSelectOptions !== undefined) {
      await this.#deps.schemas?.invalidate(this.#op.baseId);
    }
  }

  async #onSendError(error: unknown, batch: number, indexes: number[], asUpsert: boolean, resent: boolean) {
    const op = this.#op;
    const kind = this.#kind;
    if (error instanceof AirtablePermissionError) {
      const refusal = await this.#accessRefusal(batch, indexes);
      if (refusal !== undefined) return this.#failOnAccess(error, refusal, batch, indexes);
      if (error.type === "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND" && this.#accessAllowedAt > 0) {
        // The base is listed at a level that allows the write: the table is gone, or the token lacks the scope
        // (create_table names no table, so only the scope is left).
        const gone =
          op.tableId === undefined || op.tableId === ""
            ? ""
            : `table ${op.tableId} no longer exists in it (list_tables shows its tables), or `;
        const lacks =
          this.#deps.credential === "personal access token"
            ? `the personal access token (AIRTABLE_TOKEN) lacks the scope ${kind.scope}: ` +
              `${missingScopeFix(this.#deps.credential, "it")}.`
            : `the Airtable sign-in lacks the scope ${kind.scope} ` +
              "(this server keeps one Airtable sign-in per user: a later sign-in from another of your MCP clients, " +
              "asking for other scopes, replaces it): sign in again from this client and grant it.";
        return this.#failOnAccess(
          error,
          `Base ${op.baseId} is listed for this ${this.#deps.credential === "personal access token" ? "token" : "sign-in"} ` +
            `at a level that allows this write, so ${gone}${lacks}`,
          batch,
          indexes,
        );
      }
    }
    if (!kind.singleItem && isRecordLevelRefusal(error)) {
      // The refused request's items, parsed once for whichever explanation below needs them.
      const items: RequestItems = new Map(indexes.map((index) => [index, kind.item.parse(op.input[index])]));
      // A re-send whose item is gone (a delete after a lost answer): the first request applied it.
      if (kind.appliedIdWhenGone && indexes.length === 1 && (resent || error.priorAttemptMayHaveApplied)) {
        const index = indexes[0]!;
        const id = kind.appliedIdWhenGone(items.get(index));
        await this.#append({ type: "batch.succeeded", batch, results: [{ index, recordId: id }] });
        return;
      }
      if (error.type === "UNKNOWN_FIELD_NAME") {
        // A field the call was checked against is gone (deleted in Airtable's interface): the cached schema that
        // let the call through still lists it for up to 60 s, and describe_table, which the message points to,
        // would show it. Forgotten here, the agent's next look and next call see the table as it is.
        await this.#deps.schemas?.invalidate(op.baseId).catch((invalidateError: unknown) => {
          this.#deps.logger.warn(
            { err: invalidateError },
            "could not forget the base's schema after UNKNOWN_FIELD_NAME",
          );
        });
        const deleted = await this.#deletedField(error, indexes);
        if (deleted !== undefined) return this.#failOnDeletedField(error, deleted, batch, items);
      }
      const split = indexes.length > 1 && op.options.onError === "continue" && !WHOLE_REQUEST_TYPES.has(error.type);
      // A record the table does not have, settled here (a split settles it in #settleMissingRecords): where it is.
      const named = split ? [] : missingOwnIds(error, op, items, kind);
      // A request of several records refused as a whole (onError stop) for a record the table does not have: Airtable
      // names the first such id only, and a second one would be told "send it again as it is" and refused on the next
      // call. One read of which of the request's ids exist names every one (nothing is sent or written by it).
      const unsplitMissing =
        named.length > 0 && indexes.length > 1 && !(resent || error.priorAttemptMayHaveApplied)
          ? await this.#missingIdsByRead(items)
          : undefined;
      const missing = unsplitMissing ?? named;
      // A link cell naming a record its linked table lacks: which table holds it, if any (an id of another table,
      // the usual mix-up, is then named with its table).
      const linked = split || missing.length > 0 ? [] : linkIdsOf(error, op, items);
      const where =
        missing.length > 0
          ? await this.#whereabouts(missing)
          : linked.length > 0
            ? await this.#whereabouts(linked, true)
            : undefined;
      // `named` is missingOwnIds of the same arguments unless split (then not computed above).
      const message = recordRefusalMessage(error, op, items, kind, where, split ? undefined : named);
      const errors = indexes.map((index): ItemError => ({ index, type: error.type, message }));
      if (!split) {
        if (indexes.length > 1 && (resent || error.priorAttemptMayHaveApplied)) {
          // A re-send after a lost answer: the lost request may have written these records (a create re-sent as an
          // upsert then matches the record it created twice), so none is said to be "not written, send it again as
          // it is" (#refuseWhole): each fails with the request's error, as before requests refused as a whole had
          // culprits. The truth is "in doubt"; that would change what onError stop stops on.
          await this.#append({ type: "batch.failed", batch, errors, permanent: true });
          return;
        }
        // An upsert whose record matches several existing records: which records match, read once.
        const upserted = op.kind === "upsert_records" || asUpsert;
        const matches = upserted && isManyMatchesRefusal(error) ? await this.#manyMatches(items) : undefined;
        if (indexes.length > 1) {
          // The records the read showed matching several existing records are the culprits, each with its matches.
          const idOf = (index: number) => kind.recordIdOf?.(items.get(index));
          const traced =
            matches !== undefined && matches.size > 0
              ? {
                  culprits: indexes.filter((index) => matches.has(index)),
                  own: (index: number) => this.#manyMatchesMessage(error, items.get(index), matches.get(index)!),
                }
              : unsplitMissing !== undefined
                ? {
                    culprits: indexes.filter((index) => unsplitMissing.includes(idOf(index) ?? "")),
                    own: (index: number) =>
                      missingRecordMessage(op.kind, op.tableId ?? "", [idOf(index)!], error, {
                        where,
                        missingInRequest: unsplitMissing,
                      }),
                  }
                : undefined;
          if (op.options.onError === "continue") {
            const sentAgain = await this.#resendWithoutCulprits(error, batch, items, errors, asUpsert, traced);
            if (sentAgain) return;
          }
          if (
            op.options.onError === "stop" &&
            error instanceof AirtablePermissionError &&
            indexes.length === batchIndexes(op, batch).length &&
            this.#limitedByTable(error)
          ) {
            // The table's own limit (no field named, the level allowing the write) refuses every record alike, as
            // a split under onError continue finds record by record: each fails with the request's error and the
            // write fails with the table's words (#failIfEverythingRefused), not "send again with onError
            // continue", which would meet the same limit.
            await this.#append({ type: "batch.failed", batch, errors, permanent: true });
            return this.#failIfEverythingRefused(error);
          }
          return this.#refuseWhole(error, batch, items, message, traced, where);
        }
        const index = indexes[0]!;
        const ids = matches?.get(index);
        const said = ids === undefined ? message : this.#manyMatchesMessage(error, items.get(index), ids);
        await this.#append({
          type: "batch.failed",
          batch,
          errors: [{ index, type: error.type, message: said }],
          permanent: true,
        });
        // A batch of one record (create_record, a one-record write) is not split, so the check a split batch
        // ends with is made here: a table's limit is then said as for a batch, not only as Airtable's bare 403.
        if (error instanceof AirtablePermissionError && batchIndexes(op, batch).length === 1) {
          await this.#failIfEverythingRefused(error);
        }
        return;
      }
      // Answered and not applied: recorded so a crash during the split re-sends instead of doubting.
      await this.#append({ type: "batch.failed", batch, errors, permanent: false });
      // The client's own retry after a lost answer got this refusal: the lost request may have been applied, so
      // the halves are re-sends too (a delete's 404 then means "already deleted").
      const mayHaveApplied = resent || error.priorAttemptMayHaveApplied;
      if (kind.recordIdOf !== undefined && isMissingRecordRefusal(error)) {
        if (await this.#settleMissingRecords(error, batch, items, asUpsert, mayHaveApplied)) return;
      }
      const half = Math.ceil(indexes.length / 2);
      await this.#sendItems(batch, indexes.slice(0, half), asUpsert, mayHaveApplied);
      await this.#sendItems(batch, indexes.slice(half), asUpsert, mayHaveApplied);
      if (error instanceof AirtablePermissionError && indexes.length === batchIndexes(op, batch).length) {
        await this.#failIfEverythingRefused(error);
      }
      return;
    }
    if (error instanceof AirtableOutcomeUnknownError) {
      const next = resumeDecision(this.#state);
      if (next.action === "reconcile") {
        await this.#reconcile(batch, next.indexes, next.sentAt, Date.now(), {
          why: `Airtable's answer was lost (${error.reason})`,
          applied: error.reason === "invalid_response",
        });
        return;
      }
      if (next.action === "mark_in_doubt") {
        await this.#append({
          type: "batch.in_doubt",
          batch,
          indexes: next.indexes,
          reason: `Airtable's answer was lost (${error.reason}); the request may or may not have been applied`,
        });
        return;
      }
      // Safe to re-send (as an upsert): after a backoff, the next run does it.
      throw new OperationRetryableError(`batch ${batch}: ${error.describe()}`, { cause: error });
    }
    if (error instanceof AirtableNetworkError && !error.priorAttemptMayHaveApplied) {
      // Never reached Airtable: recorded as answered, so the retry re-sends even a create.
      const errors = indexes.map((index): ItemError => ({ index, type: error.type, message: error.message }));
      await this.#append({ type: "batch.failed", batch, errors, permanent: false });
      throw new OperationRetryableError(`batch ${batch}: ${error.describe()}`, { cause: error });
    }
    if (error instanceof AirtableRateLimitError) {
      const pauseMs = this.#deps.rateLimitPauseMs;
      await this.#append({
        type: "batch.failed",
        batch,
        errors: indexes.map((index) => ({ index, type: error.type, message: error.message })),
        permanent: false,
        ...(pauseMs === undefined ? {} : { rateLimitPause: { baseId: op.baseId, until: Date.now() + pauseMs } }),
      });
      throw new OperationRateLimitedError(`batch ${batch}: Airtable keeps answering 429`, { cause: error });
    }
    const permanent = permanentFailure(error, op, this.#deps.credential);
    if (permanent !== undefined) {
      await this.#append({ type: "failed", reason: permanent.reason, errorType: permanent.errorType });
      const misconfigured = misconfigurationOf(error);
      if (misconfigured !== undefined) {
        this.#log.error(
          { err: error, errorType: permanent.errorType, setting: misconfigured.setting },
          `operation failed: this server is misconfigured (${misconfigured.setting})`,
        );
      } else this.#log.warn({ err: error, errorType: permanent.errorType }, "operation failed");
      throw new OperationFailedError(permanent.reason, { cause: error });
    }
    if (error instanceof AirtableError) {
      throw new OperationRetryableError(`batch ${batch}: ${error.describe()}`, { cause: error });
    }
    // Not from an HTTP exchange: the limiter, the token provider or Redis failed before this attempt was sent
    // (every earlier attempt of the call was answered), so nothing new can have been applied. Recorded, when
    // Redis lets us, so that the retry re-sends even a create instead of doubting it.
    await this.#append({
      type: "batch.failed",
      batch,
      errors: indexes.map((index) => ({ index, type: "NOT_SENT", message: errorMessage(error) })),
      permanent: false,
    }).catch(() => undefined);
    throw error;
  }

  /**
   * Settles a request of several records Airtable refused as a whole and that is not split (onError "stop", or a
   * WHOLE_REQUEST_TYPES error): Airtable does not say which record it refused, so the records the refusal can be
   * traced to fail with their own error — `traced` when the caller knows them (a read showed an upsert's records
   * matching several existing ones; a deleted field's writers), else those Airtable's message points at
   * (whole-request.ts tracedCulprits) — and every other one is recorded as not written because of its request
   * (`refusedAsWhole`: the fold counts it apart from the failed ones), carrying the request's `message`
   * (recordRefusalMessage over all of them). Permanent: none of them is sent again.
   */
  async #refuseWhole(
    error: AirtableError,
    batch: number,
    items: RequestItems,
    message: string,
    traced?: TracedCulprits,
    where?: RecordWhereabouts,
  ): Promise<void> {
    const op = this.#op;
    const indexes = [...items.keys()];
    const { culprits, own } = traced ?? this.#culpritsInMessage(error, items, where);
    const note = culpritNote(indexes, culprits, op.kind);
    const errors = indexes.map((index): ItemError => ({
      index,
      type: error.type,
      message: culprits.includes(index) ? `${asSentence(own(index))}${note}` : message,
    }));
    await this.#append({ type: "batch.failed", batch, errors, permanent: true, refusedAsWhole: { culprits } });
  }

  /**
   * The records of a request refused as a whole that Airtable's message points at (whole-request.ts tracedCulprits),
   * as input indexes in request order, each with its own error (recordRefusalMessage over that record alone, with
   * `where` the missing records were found to be, when looked up): for #refuseWhole and #resendWithoutCulprits when
   * the caller traced none itself.
   */
  #culpritsInMessage(error: AirtableError, items: RequestItems, where?: RecordWhereabouts): TracedCulprits {
    const op = this.#op;
    const kind = this.#kind;
    const indexes = [...items.keys()];
    return {
      culprits: tracedCulprits(error.type, error.message, requestRecords(items, kind), op.fieldNames).map(
        (at) => indexes[at]!,
      ),
      own: (index: number) => recordRefusalMessage(error, op, new Map([[index, items.get(index)]]), kind, where),
    };
  }

  /**
   * A request of several records refused as a whole (WHOLE_REQUEST_TYPES) for records the refusal can be traced to
   * (`traced`, else whole-request.ts tracedCulprits), with onError "continue": the culprits fail with their own error,
   * and the request's other records, which nothing was said against, are sent again at once in one request without
   * them, instead of being left "not written, send them again as they are" for the agent to do. Safe to send again:
   * Airtable answered the refused request (a 422: not applied; a request whose answer was lost never comes here), and
   * the re-send is recorded like a split's (`batch.failed` not permanent first, so a crash before it re-sends rather
   * than doubts). A re-send refused again is settled the same way, with fewer records each time. Answers false, having
   * appended nothing, when no culprit is known or every record is one (then #refuseWhole settles the request).
   */
  async #resendWithoutCulprits(
    error: AirtableError,
    batch: number,
    items: RequestItems,
    errors: ItemError[],
    asUpsert: boolean,
    traced: TracedCulprits | undefined,
  ): Promise<boolean> {
    const op = this.#op;
    const indexes = [...items.keys()];
    const { culprits, own } = traced ?? this.#culpritsInMessage(error, items);
    if (culprits.length === 0 || culprits.length === indexes.length) return false;
    const rest = indexes.filter((index) => !culprits.includes(index));
    await this.#append({ type: "batch.failed", batch, errors, permanent: false });
    const note = resentNote(indexes, culprits, op.kind);
    await this.#append({
      type: "batch.failed",
      batch,
      errors: culprits.map((index) => ({ index, type: error.type, message: `${asSentence(own(index))}${note}` })),
      permanent: true,
    });
    await this.#sendItems(batch, rest, asUpsert, false);
    return true;
  }

  /**
   * Which existing records each record of an upsert request refused with "More than one existing record matches the
   * fieldsToMergeOn values…" (upsert-matches.ts) matches, by one list-records request with `filterByFormula` on the
   * merge fields' values (the same client and limiter as the writes; a GET, or POST listRecords past Airtable's URL
   * limit): the input indexes matching two or more records, with their ids. Records with an id are left out (Airtable
   * ignores fieldsToMergeOn for them). Undefined when it cannot be read: a merge value a formula cannot compare
   * exactly, a read that fails (any error, a 429 or a cancel included) or answers more than one page; the refusal
   * then says what to do without the ids.
   */
  async #manyMatches(request: RequestItems): Promise<Map<number, string[]> | undefined> {
    const op = this.#op;
    const kind = this.#kind;
    const merge = op.options.fieldsToMergeOn;
    if (merge === undefined) return undefined;
    const typecast = op.options.typecast;
    const items = [...request]
      .filter(([, item]) => kind.recordIdOf?.(item) === undefined)
      .map(([index, item]) => ({ index, cells: recordFieldsOf(item) }));
    const formula = matchFormula(items, merge, op.fieldNames, typecast);
    if (formula === undefined) return undefined;
    try {
      const page = await this.#writer.listRecords(op.baseId, op.tableId ?? "", {
        filterByFormula: formula,
        fields: merge,
        // The cells (and merge fields) are keyed by id, except in operations stored by name.
        ...(op.fieldNames === undefined ? {} : { returnFieldsByFieldId: true }),
        pageSize: 100,
      });
      if (page.offset !== undefined) return undefined;
      return matchesByItem(items, merge, page.records, typecast);
    } catch (readError) {
      this.#log.info({ err: readError }, "reading which records an upsert matches failed; refused without the ids");
      return undefined;
    }
  }

  /** The error of the upsert record `item` (parsed) that matches the existing records `ids` (#manyMatches). */
  #manyMatchesMessage(error: AirtableError, item: unknown, ids: readonly string[]): string {
    const op = this.#op;
    return manyMatchesMessage(
      error.message,
      recordFieldsOf(item),
      ids,
      op.options.fieldsToMergeOn ?? [],
      op.fieldNames,
    );
  }

  /**
   * Settles a request of `batch` (`items`: its indexes and their parsed items; update_records, delete_records,
   * upsert_records: kinds with `recordIdOf`) that Airtable refused because a record it names is not in the table,
   * with ONE read instead of splitting the batch in halves
   * (~19 requests per batch of 10 with one stale id): list records with `filterByFormula`
   * `OR(RECORD_ID()="rec…",…)` on the operation's table (the same client and limiter; a GET, or POST listRecords
   * past Airtable's URL limit) says which ids exist. The missing ones are settled — failed, with a message naming
   * the id, saying the record is not in this table and what to do (missing-records.ts: for an update, how to find the
   * right id; for a delete, that nothing is left to delete); or, for a delete that `mayHaveApplied` (a re-send
   * after a lost answer), written, as appliedIdWhenGone says — and the existing ones, with the items that name no
   * record (an upsert's, matched on fieldsToMergeOn), are sent again in one request (which is settled like any
   * other, splitting included). The caller has recorded the refusal as answered
   * (`batch.failed`, not permanent), so a crash here re-sends the batch's unsettled items.
   *
   * Answers false, and the caller splits as before, when the read cannot settle it: it failed (any error, a 429
   * included), it found every id (a 422 ROW_DOES_NOT_EXIST about a link cell's record, or a record restored
   * meanwhile), no item names a record, or its answer had more than one page. A cancel during the read leaves the batch unsent (true).
   */
  async #settleMissingRecords(
    error: AirtableError,
    batch: number,
    items: RequestItems,
    asUpsert: boolean,
    mayHaveApplied: boolean,
  ): Promise<boolean> {
    const op = this.#op;
    const kind = this.#kind;
    const indexes = [...items.keys()];
    const ids = [...items.values()].map((item) => kind.recordIdOf!(item));
    const unique = [...new Set(ids.filter((id) => id !== undefined))];
    if (unique.length === 0) return false;
    let found: Set<string>;
    try {
      found = await this.#existingIds(unique);
    } catch (readError) {
      if (this.#deps.cancelSignal?.aborted && readError === this.#deps.cancelSignal.reason) {
        await this.#reload();
        await this.#notSentCancelled(batch, indexes);
        return true;
      }
      this.#log.info({ err: readError, batch }, "reading which records exist failed; the batch is split instead");
      return false;
    }
    // An item naming no record cannot be the missing one: it goes with the present ones.
    const isMissing = (i: number) => ids[i] !== undefined && !found.has(ids[i]);
    const missing = indexes.filter((_, i) => isMissing(i));
    if (missing.length === 0) return false;
    const present = indexes.filter((_, i) => !isMissing(i));
    const gone = kind.appliedIdWhenGone;
    if (mayHaveApplied && gone !== undefined) {
      // A delete re-sent after a lost answer: the first request deleted these (the split reached the same verdict
      // one record at a time).
      const results = missing.map((index) => ({ index, recordId: gone(items.get(index)) }));
      await this.#append({ type: "batch.succeeded", batch, results });
    } else {
      const missingIds = [...new Set(missing.map((index) => ids[indexes.indexOf(index)]!))];
      const where = await this.#whereabouts(missingIds);
      const errors = missing.map((index): ItemError => {
        const id = ids[indexes.indexOf(index)]!;
        const message = missingRecordMessage(op.kind, op.tableId ?? "", [id], error, {
          othersResent: present.length > 0,
          where,
          missingInRequest: missingIds,
        });
        return { index, type: error.type, message };
      });
      await this.#append({ type: "batch.failed", batch, errors, permanent: true });
    }
    this.#log.info(
      { batch, missing: missing.length, present: present.length, errorType: error.type },
      "records not in the table settled by one read; the others sent again",
    );
    if (present.length > 0) await this.#sendItems(batch, present, asUpsert, mayHaveApplied);
    return true;
  }

  /**
   * The ids of the records of a request Airtable refused for a record the table does not have (onError stop, not
   * split) that the table does not have, by one read (#existingIds), in request order; undefined when the read fails
   * (no read scope, a failure, a cancel: the refusal is then said with the id Airtable named) or finds none missing.
   */
  async #missingIdsByRead(items: RequestItems): Promise<string[] | undefined> {
    const kind = this.#kind;
    if (kind.recordIdOf === undefined || this.#op.tableId === undefined) return undefined;
    const ids = [
      ...new Set([...items.values()].map((item) => kind.recordIdOf!(item)).filter((id) => id !== undefined)),
    ];
    try {
      const found = await this.#existingIds(ids);
      const missing = ids.filter((id) => !found.has(id));
      return missing.length === 0 ? undefined : missing;
    } catch (readError) {
      this.#log.info({ err: readError }, "reading which records of a refused request exist failed");
      return undefined;
    }
  }

  /**
   * Which of the record ids `ids` (at most 10: one request's) the operation's table has: one list-records request
   * (`filterByFormula` `OR(RECORD_ID()=…)`) through the limiter. Throws what the read throws (no read scope, a
   * failure, the operation's cancel), and when it answers more than one page.
   */
  async #existingIds(ids: readonly string[]): Promise<Set<string>> {
    const op = this.#op;
    const formula = `OR(${ids.map((id) => `RECORD_ID()=${formulaString(id)}`).join(",")})`;
    const page = await this.#writer.listRecords(op.baseId, op.tableId ?? "", {
      filterByFormula: formula,
      pageSize: 100,
    });
    if (page.offset !== undefined) throw new Error("the read of the batch's records answered more than one page");
    return new Set(page.records.map((r) => r.id));
  }

  /**
   * Where the records `ids` that Airtable did not find in the operation's table are (missing-records.ts
   * RecordWhereabouts), for their error to name the table by name and id and, for each id, the other table holding
   * it (to call again with its tableId) or that no table does (deleted, or mistyped), as get_record names a record's
   * table. One schema read, then one get-record per id (Airtable answers a record of any table of the base, whatever
   * table the path names), through the limiter like every request; at most WHEREABOUTS_LOOKUPS ids per run, so that a
   * large write of wrong ids costs a few requests, not one more per record (the others keep the usual two causes,
   * with the table named). A delete's too, only when it failed (a delete re-sent after a lost answer is settled as
   * written, not looked up): an id of another table is then named with its table instead of "already deleted, or an
   * id from another table". Undefined when the schema cannot be read (no scope, a failure): the message is as
   * before. `linked`: the ids are a link cell's, which its linked table lacks (missing-records.ts missingLinkMessage),
   * so the operation's own table may hold them too (a Tasks id put in a link to People) and is named like any other.
   * A lookup that fails otherwise, or a cancel during it, leaves that id not looked up.
   */
  async #whereabouts(ids: readonly string[], linked = false): Promise<RecordWhereabouts | undefined> {
    const op = this.#op;
    if (op.tableId === undefined) return undefined;
    let tables: BaseSchema["tables"];
    try {
      tables = await this.#baseTables();
    } catch (readError) {
      this.#log.info({ err: readError }, "reading the schema to name a missing record's table failed");
      return undefined;
    }
    const table = tables.find((t) => t.id === op.tableId || t.name === op.tableId);
    if (table === undefined) return undefined;
    const elsewhere = new Map<string, NamedTable | null>();
    for (const id of ids) {
      if (this.#idsLookedUp >= WHEREABOUTS_LOOKUPS || this.#deps.cancelSignal?.aborted === true) break;
      this.#idsLookedUp++;
      try {
        const record = await this.#writer.getRecord(op.baseId, table.id, id, { returnFieldsByFieldId: true });
        const keys = Object.keys(record.fields);
        // Told by its cells' field ids, as get_record does; a record with no cells cannot be told.
        const owner =
          keys.length === 0
            ? undefined
            : tables.find(
                (t) => (linked || t.id !== table.id) && keys.every((key) => t.fields.some((f) => f.id === key)),
              );
        if (owner !== undefined) elsewhere.set(id, { id: owner.id, name: owner.name });
      } catch (readError) {
        if (readError instanceof AirtableNotFoundError) elsewhere.set(id, null);
        else this.#log.info({ err: readError }, "looking up a missing record in the base failed");
      }
    }
    return { table: { id: table.id, name: table.name }, elsewhere };
  }

  /**
   * Whether the owner's access to the base explains a 403 on `indexes` of `batch` (see the header): asks list bases
   * once and answers the sentence to fail the operation with, or undefined when the level allows the operation (the
   * 403 is a field or table restriction), when this is a part of a batch already looked into (a split), when the
   * level was found sufficient less than ACCESS_RECHECK_MS ago, or when list bases cannot be read (the 403 is then
   * handled as before: nothing is decided on a guess).
   */
  async #accessRefusal(batch: number, indexes: number[]): Promise<string | undefined> {
    const op = this.#op;
    if (!this.#kind.singleItem && indexes.length !== batchIndexes(op, batch).length) return undefined;
    if (Date.now() - this.#accessAllowedAt < ACCESS_RECHECK_MS) return undefined;
    let found: Awaited<ReturnType<typeof lookUpBaseAccess>>;
    try {
      found = await lookUpBaseAccess(this.#writer, op.baseId);
    } catch (error) {
      this.#log.info({ err: error }, "list bases failed while looking into a 403; handled as a restriction");
      return undefined;
    }
    await this.#deps.schemas?.rememberBases(op.ownerUserId, found.bases);
    const refusal = accessRefusal(
      found.access,
      levelNeededFor([this.#kind.scope]),
      op.kind.replace("_", " "),
      this.#deps.credential,
    );
    if (refusal === undefined) this.#accessAllowedAt = Date.now();
    return refusal;
  }

  /**
   * Ends the operation on a 403 its owner's access to the base explains (#accessRefusal): the refused request was
   * answered and not applied (its items are not written), nothing more is sent, and the reason says what to do.
   */
  async #failOnAccess(error: AirtablePermissionError, refusal: string, batch: number, indexes: number[]) {
    await this.#append({
      type: "batch.failed",
      batch,
      errors: indexes.map((index) => ({ index, type: error.type, message: error.message })),
      permanent: false,
    });
    const reason =
      `Airtable refused access (403 ${error.type}: ${sentence(error.message)}) ` +
      `${refusal} Nothing more of this operation was sent: get_operation lists each item as written (with its id) ` +
      "or notWritten.";
    await this.#append({ type: "failed", reason, errorType: error.type });
    this.#log.warn({ err: error, errorType: error.type }, "operation failed: the base's permission level refuses it");
    throw new OperationFailedError(reason, { cause: error });
  }

  /**
   * Whether a 422 UNKNOWN_FIELD_NAME is explained by a field of the call deleted from the table since the write was
   * accepted, while records the refused request did not carry (the remaining batches, or the other half of a split)
   * write that field too or merge on it. The field id Airtable's message names (`Unknown field name: "fld…"`: the
   * cells are sent by id) must be one the call was checked against (Operation.fieldNames), and the table's schema,
   * read once per run (`GET /v0/meta/bases/{baseId}/tables`, https://airtable.com/developers/web/api/get-base-schema),
   * must no longer list it. Answers the field and the table as that read shows it; undefined when no record left to
   * send writes the field, the message names no field of the call, the schema still lists the field or cannot be
   * read: the refusal is then settled as any other (nothing is decided on a guess).
   */
  async #deletedField(error: AirtableError, indexes: number[]): Promise<DeletedField | undefined> {
    const op = this.#op;
    const names = op.fieldNames;
    if (this.#fieldsLookedUp || names === undefined || op.tableId === undefined) return undefined;
    const id = error.message.match(FIELD_ID)?.find((candidate) => names[candidate] !== undefined);
    if (id === undefined) return undefined;
    // Records left to send that write the field (or merge on it) would each bring one more refused request; when
    // none does, the rest is sent as before and written.
    const settled = new Set([...this.#state.outcomes.map((o) => o.index), ...indexes]);
    // An upsert sends its merge fields with every request; a create sends them only when re-sent as one.
    const merged = op.kind === "upsert_records" && op.options.fieldsToMergeOn?.includes(id) === true;
    const doomed = op.input.some((item, index) => !settled.has(index) && (merged || id in recordFieldsOf(item)));
    if (!doomed) return undefined;
    this.#fieldsLookedUp = true;
    let tables: BaseSchema["tables"];
    try {
      ({ tables } = await this.#writer.getBaseSchema(op.baseId));
    } catch (readError) {
      this.#log.info({ err: readError }, "reading the schema after UNKNOWN_FIELD_NAME failed; settled per record");
      return undefined;
    }
    const table = tables.find((t) => t.id === op.tableId || t.name === op.tableId);
    // A table gone too is the next request's 403/404 to report (permanentFailure), not a field's.
    if (table === undefined || table.fields.some((f) => f.id === id)) return undefined;
    return { id, name: names[id]!, table: `${JSON.stringify(table.name)} (${table.id})` };
  }

  /**
   * Ends the operation on a request refused for a field deleted since the write was accepted (#deletedField): records
   * left to send write it too, and Airtable refuses a whole request for one unknown field (422 UNKNOWN_FIELD_NAME,
   * WHOLE_REQUEST_TYPES), so the remaining batches are not sent (they were one refused request each). The refused
   * request is settled as any request refused as a whole (#refuseWhole, whole-request.ts): its records that write the
   * field (every record, when an upsert merges on it) fail, each naming the field, the table and the fix; its other
   * records were refused only with their request and are not written, to send again as they are. What was written
   * stays written; the reason names the field as the call gave it, its id and the table, counts what was written,
   * what failed, what was not written and what was not sent, and says how to write the rest.
   */
  async #failOnDeletedField(
    error: AirtableError,
    field: DeletedField,
    batch: number,
    items: RequestItems,
  ): Promise<never> {
    const op = this.#op;
    const indexes = [...items.keys()];
    const merged = op.kind === "upsert_records" && op.options.fieldsToMergeOn?.includes(field.id) === true;
    const writers = indexes.filter((index) => merged || field.id in recordFieldsOf(items.get(index)));
    // Airtable named the field, so some record of the request writes it; every record, should none seem to.
    const culprits = writers.length > 0 ? writers : indexes;
    const own = deletedFieldMessage(error, field, op.fieldNames, merged);
    await this.#refuseWhole(error, batch, items, recordRefusalMessage(error, op, items, this.#kind), {
      culprits,
      own: () => own,
    });
    const p = this.#state.progress;
    const notSent = p.recordsTotal - p.recordsSucceeded - p.recordsFailed - p.recordsInDoubt - notWrittenOf(p);
    const named = JSON.stringify(field.name);
    const records = (n: number) => `${formatCount(n)} record${n === 1 ? "" : "s"}`;
    const written =
      p.recordsSucceeded === 0
        ? "Nothing was written before that"
        : `${records(p.recordsSucceeded)} ${p.recordsSucceeded === 1 ? "was" : "were"} written before that and ` +
          "stay written";
    const others = indexes.length - culprits.length;
    const refused =
      others === 0
        ? `the ${records(indexes.length)} of the refused request failed`
        : `the ${records(culprits.length)} of the refused request that write it failed, its ${formatCount(others)} ` +
          `other record${others === 1 ? " was" : "s were"} not written (the request was refused as a whole: send ` +
          `${others === 1 ? "it again as it is" : "them again as they are"})`;
    const reason =
      `The field ${named} (${field.id}) is no longer in table ${field.table}: it was deleted after this write ` +
      `was accepted (Airtable refused a request writing it with 422 ${error.type}, and the table's schema, read ` +
      `again, does not list it), so the remaining batches were not sent. ${written}; ${refused} and ` +
      `${formatCount(notSent)} more ${notSent === 1 ? "was" : "were"} not sent. To write them, call again for the ` +
      `records get_operation lists as failed or notWritten, without ${named} (describe_table shows the table's ` +
      `fields now), or recreate the field in Airtable first and name it in the call (a new field has a new id).`;
    await this.#append({ type: "failed", reason, errorType: error.type });
    this.#log.warn(
      { err: error, errorType: error.type, fieldId: field.id, notSent },
      "operation failed: a field it writes was deleted",
    );
    throw new OperationFailedError(reason, { cause: error });
  }

  /**
   * After a whole batch was split on a 403, or a batch of one record was refused with it: when no record of the
   * operation has been written and every record settled so far was refused with 403, the permission covers the whole
   * write (a table the user may not edit, a field every record sets), so the operation fails now, keeping Airtable's
   * message, rather than sending each remaining batch to be refused and split again. A table's own limit is said
   * with its name (table-limit.ts), for a write of one record too.
   */
  async #failIfEverythingRefused(error: AirtablePermissionError): Promise<void> {
    if (!this.#everythingRefused(error)) return;
    // Batches left unsent: the next one, or, once onError "stop" has stopped the write, any record not settled.
    const rest =
      this.#state.nextBatch !== undefined ||
      (this.#state.stopped && this.#state.outcomes.length < this.#op.input.length);
    // Airtable's message has no full stop of its own ("You are not permitted to perform this operation").
    const said = sentence(error.message);
    const table = this.#op.tableId ?? "";
    if (this.#limitedByTable(error)) {
      // No field named: the table's own permission (who can create or delete records) refuses the write. Said so
      // also when this batch was the only one: every record of the operation was refused alike.
      const shown = await this.#tableShown(table);
      const one = this.#op.input.length === 1;
      // Airtable names the table it refuses to create records in (its errors page): once it has, the aside that a
      // linked table's limit gives the same refusal has nothing left to guess.
      const aside = this.#op.options.typecast && tableNamedIn(error.message) === undefined;
      const reason = tableLimitReason(this.#op.kind, shown, error, aside, rest, one);
      await this.#append({ type: "failed", reason, errorType: error.type });
      this.#log.warn({ err: error, errorType: error.type }, "operation failed: the table limits this write (403)");
      throw new OperationFailedError(reason, { cause: error });
    }
    if (!rest) return;
    // With the level known to allow the write (#accessRefusal), only a restriction is left to explain the 403.
    const why =
      this.#accessAllowedAt > 0
        ? `Your permission level on the base allows this write, so a field or table editing restriction set by the ` +
          `base's owner refuses it: when Airtable's message names a field, leave that field out of the records; ` +
          `otherwise table ${table} limits who may create, edit or delete its records. Ask the base's owner for ` +
          "that access, "
        : `If list_bases shows your permissionLevel on this base as read or comment, you cannot write to it: ` +
          `ask the base's owner for edit access (to the base, or to table ${table} and its fields), `;
    const reason =
      `Airtable refused every record sent so far with 403 ${error.type}: ${said} The remaining batches were not ` +
      `sent. ${why}then retry the items get_operation lists as not written.`;
    await this.#append({ type: "failed", reason, errorType: error.type });
    this.#log.warn({ err: error, errorType: error.type }, "operation failed: every record refused (403)");
    throw new OperationFailedError(reason, { cause: error });
  }

  /** Whether no record of the operation has been written and every record settled so far was refused with `error`'s type. */
  #everythingRefused(error: AirtablePermissionError): boolean {
    const outcomes = this.#state.outcomes;
    return !outcomes.some((o) => "recordId" in o) && outcomes.every((o) => "error" in o && o.error.type === error.type);
  }

  /**
   * Whether `error`, a 403 refusing every record settled so far (#everythingRefused), is its table's own limit (who can
   * create or delete records: table-limit.ts): the user's level allows the write (#accessRefusal found it), the
   * operation names its table, and Airtable's message names no restricted field.
   */
  #limitedByTable(error: AirtablePermissionError): boolean {
    return (
      this.#everythingRefused(error) &&
      this.#accessAllowedAt > 0 &&
      (this.#op.tableId ?? "") !== "" &&
      !namesRestrictedField(error.message)
    );
  }

  /**
   * The base's tables, read once per run (one request) for naming tables in a failure's words (#whereabouts,
   * #tableShown). Throws what the read throws, and throws it again for the rest of the run without a new request:
   * a sign-in without schema.bases:read (a box left unticked) is refused it every time, and each batch with a missing
   * record (a delete of ids deleted already) would otherwise pay one more refused request (the client has already
   * retried what can pass on a retry). Not for #deletedField, which must see the schema as it is after the refusal it
   * explains.
   */
  #baseTables(): Promise<BaseSchema["tables"]> {
    this.#tables ??= this.#writer.getBaseSchema(this.#op.baseId).then((schema) => schema.tables);
    return this.#tables;
  }

  /**
   * `"Leads" (tbl…)`: the operation's table as the base's schema (#baseTables) names it; the id alone when
   * the read fails or does not list it. For a reason said once, as the operation fails.
   */
  async #tableShown(tableId: string): Promise<string> {
    try {
      const tables = await this.#baseTables();
      const table = tables.find((t) => t.id === tableId || t.name === tableId);
      return table === undefined ? tableId : `${JSON.stringify(table.name)} (${table.id})`;
    } catch (readError) {
      this.#log.info({ err: readError }, "reading the schema to name a table that limits a write failed");
      return tableId;
    }
  }

  /**
   * Settles the create request of `batch` carrying `indexes`, sent at `sentAt` and known lost at `lostAt` (epoch
   * ms), by reading the table back once the settle delay has passed since both; appends `batch.reconciled`.
   * Reading is idempotent: a run that dies here leaves the request unanswered in the log, and the next run
   * reconciles it again. Throws OperationRetryableError / OperationRateLimitedError when the read-back itself
   * cannot be done now, OperationReleasedError when shutting down during the settle delay.
   */
  async #reconcile(
    batch: number,
    indexes: number[],
    sentAt: number,
    lostAt: number,
    context: { why: string; applied: boolean },
  ): Promise<void> {
    const settleMs = this.#deps.reconcileSettleMs ?? DEFAULT_RECONCILE_SETTLE_MS;
    await sleepUntil(Math.max(sentAt, lostAt) + settleMs, this.#deps.stopSignal);
    if (this.#deps.stopSignal?.aborted) {
      throw new OperationReleasedError(`operation ${this.#id} released while reconciling batch ${batch}`);
    }
    const op = this.#op;
    const excludeIds = new Set(this.#state.outcomes.flatMap((o) => ("recordId" in o ? [o.recordId] : [])));
    let result: ReconcileResult;
    try {
      result = await reconcileCreates(this.#deps.airtable, {
        baseId: op.baseId,
        tableId: op.tableId ?? "",
        items: indexes.map((index) => ({ index, fields: recordFieldsOf(this.#kind.item.parse(op.input[index])) })),
        ...(op.fieldNames === undefined ? {} : { fieldNames: op.fieldNames }),
        since: sentAt - RECONCILE_CLOCK_MARGIN_MS,
        typecast: op.options.typecast,
        excludeIds,
        applied: context.applied,
      });
    } catch (error) {
      if (error instanceof AirtableRateLimitError) {
        throw new OperationRateLimitedError(`batch ${batch}: reading back hit 429`, { cause: error });
      }
      if (error instanceof AirtableError && (error.status === 0 || error.status >= 500)) {
        throw new OperationRetryableError(`batch ${batch}: reading the table back failed: ${error.describe()}`, {
          cause: error,
        });
      }
      if (airtableAccessLost(error) !== undefined) {
        const permanent = permanentFailure(error, op, this.#deps.credential)!;
        // The create being settled may have been applied: in doubt, never "not written" (failOperation's rule).
        await this.#append({
          type: "batch.in_doubt",
          batch,
          indexes,
          reason: `${context.why}; the table could not be read back before the operation stopped (Airtable access lost)`,
        });
        await this.#append({ type: "failed", reason: permanent.reason, errorType: permanent.errorType });
        throw new OperationFailedError(permanent.reason, { cause: error });
      }
      if (!(error instanceof AirtableError)) throw error;
      // Airtable refused the read itself (permissions, a formula it rejects): the create stays in doubt.
      const reason = `${context.why}; reading the table back failed (${error.type}: ${error.message})`;
      result = { written: [], absent: [], inDoubt: indexes.map((index) => ({ index, reason })) };
    }
    result.inDoubt = result.inDoubt.map((d) => ({ index: d.index, reason: `${context.why}; ${d.reason}` }));
    await this.#append({ type: "batch.reconciled", batch, ...result });
    this.#log.info(
      { batch, written: result.written.length, absent: result.absent.length, inDoubt: result.inDoubt.length },
      "create with a lost answer reconciled by reading the table back",
    );
    const rounds = this.#events.filter((e) => e.type === "batch.reconciled" && e.batch === batch).length;
    if (result.absent.length > 0 && rounds >= MAX_RECONCILE_ROUNDS) {
      // Airtable keeps losing this batch's answers: back off before sending it again.
      throw new OperationRetryableError(`batch ${batch}: ${rounds} answers lost in a row; retrying after a backoff`);
    }
  }

  /** A started request that was never sent because of a cancel: answered (not in flight), its items left unsent. */
  async #notSentCancelled(batch: number, indexes: number[]): Promise<void> {
    await this.#append({
      type: "batch.failed",
      batch,
      errors: indexes.map((index) => ({ index, type: "CANCELLED", message: "cancelled before it was sent" })),
      permanent: false,
    });
  }

  /** One Airtable request for these input items, through the operation's kind. */
  async #send(indexes: number[], asUpsert: boolean): Promise<Sent> {
    const op = this.#op;
    const kind = this.#kind;
    const items = indexes.map((i) => kind.item.parse(op.input[i]));
    const { ids, ...upserted }: KindSent = await kind.send(this.#writer, {
      baseId: op.baseId,
      tableId: op.tableId ?? "",
      items,
      options: op.options,
      asUpsert,
    });
    if (ids.length !== indexes.length) {
      throw new AirtableError({
        status: 200,
        type: "INVALID_RESPONSE",
        message: `Airtable answered ${ids.length} records for ${indexes.length} sent`,
        request: { operation: op.kind, method: "", path: "" },
      });
    }
    return { results: indexes.map((index, i) => ({ index, recordId: ids[i]! })), ...upserted };
  }

  /**
   * A request of this run waits out Airtable's 429 penalty on a base (the limiter's, whoever met the 429): recorded in
   * the log as a `batch.started` with `rateLimitPause` copying the request in flight, so that get_operation, in any
   * process, says the write is paused until when and resumes by itself. Called synchronously by the limiter while
   * #send awaits; the append is queued (#pausing) and every later #append waits for it, so the log keeps the order
   * things happened in. Not recorded when no request of the log is in flight, or when the pause already recorded
   * ends as late. A failed append is logged and forgotten: the note is for readers, the run does not depend on it.
   */
  #notePause(pause: RateLimitPause): void {
    this.#log.debug({ baseId: pause.baseId, until: new Date(pause.until).toISOString() }, "waiting out a 429 penalty");
    this.#pausing = this.#pausing
      .then(async () => {
        const state = this.#state;
        const inFlight = state.unfinishedStartedBatch;
        if (inFlight === undefined || isTerminal(state.status)) return;
        const recorded = state.rateLimitPause;
        if (recorded !== undefined && recorded.baseId === pause.baseId && recorded.until >= pause.until - 1_000) return;
        const whole = batchIndexes(this.#op, inFlight.batch).length === inFlight.indexes.length;
        await this.#appendNow({
          type: "batch.started",
          batch: inFlight.batch,
          attempt: inFlight.attempt,
          ...(whole ? {} : { indexes: inFlight.indexes }),
          ...(inFlight.asUpsert ? { asUpsert: true } : {}),
          rateLimitPause: { baseId: pause.baseId, until: Math.round(pause.until) },
        });
        await this.#progress();
      })
      .catch((error: unknown) => this.#log.warn({ err: error }, "could not record the 429 pause in the log"));
  }

  async #append(event: NewOperationEvent): Promise<void> {
    // A pause note on its way goes first (#notePause).
    await this.#pausing;
    return this.#appendNow(event);
  }

  async #appendNow(event: NewOperationEvent): Promise<void> {
    const at = Date.now();
    const seq = await this.#deps.store.append(this.#id, { ...event, at });
    this.#folded = undefined;
    // Another process appended since this run last looked (a `cancel_requested`, a late worker's outcome): read the
    // log again, so every decision is taken on all of it. Costs nothing when the log is this run's alone.
    if (seq !== this.#lastSeq() + 1) return this.#reload();
    this.#events.push({ ...event, seq, at } as OperationEvent);
  }

  #lastSeq(): number {
    return this.#events.at(-1)?.seq ?? 0;
  }

  /** Reads the whole log again (see #append). */
  async #reload(): Promise<void> {
    this.#events = await this.#deps.store.read(this.#id);
    this.#folded = undefined;
  }

  async #progress(): Promise<void> {
    try {
      await this.#deps.onProgress?.(this.#state);
    } catch (error) {
      this.#log.warn({ err: error }, "progress report failed");
    }
  }
}

/** The cells of a create_records item (`{ fields }`, checked by the kind's schema already). */
function recordFieldsOf(item: unknown): Record<string, unknown> {
  const fields = (item as { fields?: unknown }).fields;
  return typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {};
}

/** Resolves at `until` (epoch ms), or at once when `signal` aborts. */
async function sleepUntil(until: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = until - Date.now();
  if (ms <= 0 || signal?.aborted) return;
  await wait(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
}

function errorMessage(error: unknown): string {
  return error instanceof Error && error.message !== "" ? error.message : String(error);
}

/**
 * A refusal about the records in the batch (a bad value, a record that does not exist, a field or table the user
 * may not edit: 403 INVALID_PERMISSIONS is per request, https://airtable.com/developers/web/api/errors), not about
 * the base or table as a whole (403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND).
 */
function isRecordLevelRefusal(error: unknown): error is AirtableError {
  if (error instanceof AirtableValidationError) return error.status !== 0;
  if (error instanceof AirtablePermissionError) return error.type === "INVALID_PERMISSIONS";
  return error instanceof AirtableNotFoundError && isMissingRecordRefusal(error);
}

/**
 * A record-level refusal's message for the items `indexes` of one request: Airtable's own, and for a record
 * Airtable does not find in the table (missing-records.ts isMissingRecordRefusal) the id(s) and what the agent
 * should do, in the words a missing record settled by a read gets (missing-records.ts). Record ids belong to one
 * table, and an id read from another table of the base is the usual cause, besides a record deleted meanwhile.
 * Not for 422 ROW_DOES_NOT_EXIST, which Airtable also gives for a link cell naming a record its linked table lacks:
 * this table is not the one to search, so such a refusal names the link field instead (missingLinkMessage).
 * A select value that is not an option (422 INVALID_MULTIPLE_CHOICE_OPTIONS) names the field and why: only a
 * creator may add options (select-option-refusal.ts). A collaborator the base does not have (422
 * INVALID_VALUE_FOR_COLUMN on a cell holding collaborators) says that only the base's collaborators may be named,
 * and where to find them (collaborator-refusal.ts); text or a number typecast could not convert, what to give
 * (typecast-refusal.ts). A field the call wrote that Airtable no longer knows (422
 * UNKNOWN_FIELD_NAME) is named as the call named it, with what to do: send the record(s) again without it.
 * `items`: the refused request's items (RequestItems), parsed by the caller. `ownIds`: missingOwnIds of these same
 * error, operation, items and kind when the caller has it already (it is not computed again).
 */
function recordRefusalMessage(
  error: AirtableError,
  op: Operation,
  items: RequestItems,
  kind: WriteKind,
  where?: RecordWhereabouts,
  ownIds?: readonly string[],
): string {
  const refused = [...items.values()];
  if (error.type === "INVALID_MULTIPLE_CHOICE_OPTIONS") {
    const cells = refused.map(recordFieldsOf);
    const explained = explainSelectOptionRefusal(error.message, op.options.typecast, cells, op.fieldNames);
    if (explained !== undefined) return explained;
  }
  if (error.type === "INVALID_VALUE_FOR_COLUMN") {
    // A collaborator the base does not have: who may be named, and where to find them.
    const cells = refused.map(recordFieldsOf);
    const more = explainCollaboratorRefusal(error.message, op.options.typecast, cells, op.fieldNames);
    if (more !== undefined) return `${sentence(withFieldNames(error.message, op.fieldNames))}${more}`;
    // Text or a number Airtable's typecast could not convert: what to give instead.
    const typecastMore = explainTypecastRefusal(error.message, op.options.typecast, cells, op.fieldNames);
    if (typecastMore !== undefined) return `${sentence(withFieldNames(error.message, op.fieldNames))}${typecastMore}`;
  }
  if (error.type === "ROW_DOES_NOT_EXIST") {
    // A link cell naming a record its linked table lacks: the field named (Airtable's message names only the id).
    const explained = missingLinkMessage(error, refused.map(recordFieldsOf), op.fieldNames, where);
    if (explained !== undefined) return explained;
  }
  const count = items.size;
  const message = withFieldNames(error.message, op.fieldNames);
  if (isManyMatchesRefusal(error) && op.options.fieldsToMergeOn !== undefined) {
    // Which record, and which existing records, Airtable does not say (#manyMatches reads it when it can).
    return `${sentence(message)} ${manyMatchesFix(op.options.fieldsToMergeOn, op.fieldNames)}`;
  }
  if (error.type === "UNKNOWN_FIELD_NAME" && message !== error.message) {
    // A field id the call was checked against, gone by the time the request was sent (a deletion #deletedField
    // confirmed has deletedFieldMessage's words instead).
    const again = count === 1 ? "send this record again without it" : "send the records writing it again without it";
    return (
      `${message}: this field is no longer in table ${op.tableId ?? ""} (deleted since the write was accepted?); ` +
      `see describe_table, and ${again} (or recreate the field in Airtable first)`
    );
  }
  if (!isMissingRecordRefusal(error) || op.tableId === undefined) return message;
  const ids = ownIds ?? missingOwnIds(error, op, items, kind);
  if (ids.length > 0) {
    // update_records, delete_records, upsert_records: the id(s) named, in the words #settleMissingRecords gives a
    // missing record. A request of several records refused as a whole (onError stop: not split) names them all:
    // Airtable does not say which one it did not find (an upsert's items without id cannot be it).
    return missingRecordMessage(op.kind, op.tableId, ids, error, { wholeRequest: count > 1, where });
  }
  // A 422 ROW_DOES_NOT_EXIST naming no record of the request (a link given as text with typecast): Airtable's words.
  if (error.type !== "MODEL_ID_NOT_FOUND") return message;
  // A request of several records refused as a whole (onError stop: not split) says so, not "this id".
  const which = count === 1 ? "no record with this id" : "a record of this request is not";
  return (
    `${message} (${which} in table ${op.tableId}: deleted, or an id from another table; record ids belong ` +
    "to one table: find the record with search_records in this table)"
  );
}

/**
 * The ids of the records of a refused request (`items`) that Airtable did not find in the operation's table: for 404
 * MODEL_ID_NOT_FOUND ("Record not found", naming none) every id the request's items name (`kind.recordIdOf`); for
 * 422 ROW_DOES_NOT_EXIST ("Record ID rec… does not exist in this table", Airtable's answer to an update naming a
 * record it lacks: https://github.com/domdomegg/airtable-mcp-server/issues/28) and 404 NOT_FOUND (`Could not find a
 * record with ID "rec…".`, a delete's, naming only the first missing id) the items' ids its message names, unless a
 * link cell names them (missingLinkMessage's case). Empty for any other error, and for kinds naming no record
 * (create).
 */
function missingOwnIds(error: AirtableError, op: Operation, items: RequestItems, kind: WriteKind): string[] {
  if (kind.recordIdOf === undefined || !isMissingRecordRefusal(error)) return [];
  const refused = [...items.values()];
  const ids = [...new Set(refused.map((item) => kind.recordIdOf!(item)).filter((id) => id !== undefined))];
  if (error.type === "MODEL_ID_NOT_FOUND") return ids;
  if (missingLinkMessage(error, refused.map(recordFieldsOf), op.fieldNames) !== undefined) return [];
  const named = new Set(error.message.match(RECORD_ID_IN_TEXT) ?? []);
  return ids.filter((id) => named.has(id));
}

/**
 * The record ids a 422 ROW_DOES_NOT_EXIST names that the refused records' link cells hold (missing-records.ts
 * linkCellIds), each once: ids of records the linked table lacks, looked up by #whereabouts to name their table.
 * Empty for any other error.
 */
function linkIdsOf(error: AirtableError, op: Operation, items: RequestItems): string[] {
  if (error.type !== "ROW_DOES_NOT_EXIST") return [];
  const cells = [...items.values()].map(recordFieldsOf);
  return [...new Set(linkCellIds(error, cells, op.fieldNames).map((found) => found.id))];
}

/**
 * The error of a record that writes (or, `merged`, merges on) `field`, a field of the call deleted from the table
 * after the write was accepted (#deletedField read the schema to be sure): Airtable's message with the field as the
 * call named it, that it was deleted, and the fix — send the record again without it (or merging on fields the table
 * has), or recreate the field first (a new field has a new id, which the call must name).
 */
function deletedFieldMessage(
  error: AirtableError,
  field: DeletedField,
  names: Readonly<Record<string, string>> | undefined,
  merged: boolean,
): string {
  const named = JSON.stringify(field.name);
  const fix = merged
    ? `Send this record again with fieldsToMergeOn naming fields the table has, not ${named}`
    : `Send this record again without ${named}`;
  return (
    `${withFieldNames(error.message, names)}: the field ${named} (${field.id}) was deleted from table ${field.table} ` +
    `after this write was accepted. ${fix} (describe_table shows the table's fields now), or recreate the field ` +
    "in Airtable first and name it in the call (a new field has a new id)."
  );
}

/** A refused request's records as whole-request.ts reads them: each one's own id (update, upsert, delete) and cells. */
function requestRecords(items: RequestItems, kind: WriteKind): RequestRecord[] {
  return [...items.values()].map((item) => {
    const id = kind.recordIdOf?.(item);
    return { ...(id === undefined ? {} : { id }), cells: recordFieldsOf(item) };
  });
}

/**
 * Airtable's message with each field id of the operation's input (`"fld…"`: the input is sent by id) followed by
 * the field's name in the agent's call (Operation.fieldNames), e.g. `Unknown field name: "fldX…" ("Notes" in this
 * write)`: the agent named its fields, and an id alone would be a stranger to it.
 */
function withFieldNames(message: string, names: Readonly<Record<string, string>> | undefined): string {
  if (names === undefined) return message;
  // A message that already names the field is left as it is: a restriction, `…write cell values in field Notes
  // (fld…)` (Airtable's errors page, the name unquoted) or, in older words, `the field "Notes" (fld…)`.
  return message.replace(/"?\b(fld[A-Za-z0-9]{14})\b"?/g, (match, id: string) =>
    names[id] === undefined || message.includes(JSON.stringify(names[id])) || message.includes(`${names[id]} (${id})`)
      ? match
      : `${match} (${JSON.stringify(names[id])} in this write)`,
  );
}

/**
 * Errors that retrying cannot fix, as a sentence for the agent; undefined when a retry may help. `credential`: how
 * the owner's Airtable access was granted (a refused personal access token is replaced, not signed in again).
 */
function permanentFailure(
  error: unknown,
  op: Operation,
  credential?: CredentialKind,
): { reason: string; errorType: string } | undefined {
  const misconfigured = misconfigurationOf(error);
  if (misconfigured !== undefined) {
    return {
      reason:
        `This server is misconfigured: ${misconfigured.problem}, so nothing more of this operation can be written. ` +
        `${misconfigured.fix} Once it is fixed, check with get_operation which items were written and call again ` +
        `for the rest.`,
      errorType: misconfigured.errorType,
    };
  }
  const lost = airtableAccessLost(error);
  if (lost !== undefined) {
    // Two losses, told apart because the first is by far the more common and the person can act on its cause: the
    // sign-in itself ended (access revoked in Airtable's Integrations page, or its refresh token expired), or a
    // token renewed for this very request was still refused (access-lost.ts).
    if (credential === "personal access token") {
      // stdio: a token, not a sign-in (no refresh either: it is refused at once).
      return {
        reason:
          `${REFUSED_PERSONAL_ACCESS_TOKEN} Then check with get_operation which items were written and retry the ` +
          "rest.",
        errorType: lost.errorType,
      };
    }
    const what =
      lost.kind === "sign_in_ended"
        ? "This user's Airtable sign-in has ended (Airtable refused to renew it: access revoked in Airtable, or the sign-in expired)."
        : "Airtable no longer accepts this user's sign-in (401 after a refresh).";
    return {
      reason: `${what} Sign in again, then check with get_operation which items were written and retry the rest.`,
      errorType: lost.errorType,
    };
  }
  if (
    error instanceof AirtableNotFoundError &&
    error.type === "MODEL_ID_NOT_FOUND" &&
    (op.kind === "create_comment" || op.kind === "upload_attachment")
  ) {
    // The record (or parent comment) the operation names is not there; the base and table are (a missing table
    // or base is NOT_FOUND / INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, below). Record batches settle a missing
    // record per item (isRecordLevelRefusal); other single-item kinds keep the message below.
    const comment = op.kind === "create_comment" ? " and a parentCommentId with list_comments" : "";
    return {
      reason: `Airtable found no such record in table ${op.tableId ?? ""} (${error.status} ${error.type}: ${error.message}). Check recordId with list_records or search_records${comment}.`,
      errorType: error.type,
    };
  }
  const table = op.tableId === undefined || op.tableId === "" ? "" : ` or its table ${op.tableId}`;
  if (error instanceof AirtablePermissionError && error.type === "INVALID_PERMISSIONS") {
    // The base answered, so it exists and this sign-in reaches it; what it may do there is less than this needs.
    return {
      reason:
        `Airtable refused this ${op.kind.replace("_", " ")} (${error.status} ${error.type}: ${sentence(error.message)}) ` +
        `Your access to base ${op.baseId}${table} does not allow it: a field or table editing restriction set by the ` +
        "base's owner, or a permission level too low (list_bases shows yours). Ask the base's owner for the access.",
      errorType: error.type,
    };
  }
  if (error instanceof AirtablePermissionError || error instanceof AirtableNotFoundError) {
    return {
      reason: `Airtable refused access (${error.status} ${error.type}: ${sentence(error.message)}) Base ${op.baseId}${table} does not exist or this sign-in cannot reach it. Check baseId with list_bases and tableId with list_tables.`,
      errorType: error.type,
    };
  }
  if (error instanceof AirtableValidationError) {
    return {
      reason: `Airtable refused the ${op.kind.replace("_", " ")} request: ${error.message} (${error.type}).`,
      errorType: error.type,
    };
  }
  return undefined;
}
