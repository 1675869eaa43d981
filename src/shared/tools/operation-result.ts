/**
 * The answer of every write tool and of get_operation: an operation's status, progress and, once it has any,
 * one result per input record by index (its Airtable id, its error, or "in doubt" with the input to check).
 * Results come in pages of RESULT_PAGE_SIZE; `nextCursor` continues with get_operation.
 */
import { z } from "zod";
import { OPERATION_KINDS } from "../operations/events.ts";
import type { ItemOutcome, OperationProgress, OperationState, RefusedRequest } from "../operations/fold.ts";
import { errorsSaid, refusedRequestsSentence, refusedWithReason } from "../operations/whole-request.ts";
import { urlAttachmentsSentence } from "../operations/url-attachments.ts";
import { listsReplacedSentence } from "../operations/list-replacements.ts";
import { linkNameMatchesSentence } from "../operations/link-name-matches.ts";
import { valueNotesSentence } from "../operations/value-notes.ts";
import { zonelessTimesSentence } from "../operations/zoneless-times.ts";
import { isTerminal, notWrittenOf, OPERATION_STATUSES } from "../operations/fold.ts";
import { ToolInputError } from "./tool-input-error.ts";
import { formatCount } from "../format-count.ts";
import { MISSING_RECORD_TYPES, missingDeletesSentence } from "../operations/missing-records.ts";
import { MAX_CLOSE_RECORDS_LISTED, selectOptionNames, type NewSelectOptions } from "../operations/options.ts";

export const RESULT_PAGE_SIZE = 200;

export const progressOutput = z.object({
  batchesDone: z.number(),
  batchesTotal: z.number(),
  recordsTotal: z.number(),
  recordsSucceeded: z.number(),
  recordsFailed: z.number(),
  recordsInDoubt: z.number(),
  recordsNotWritten: z
    .number()
    .optional()
    .describe(
      "Records not written because the request carrying them was refused as a whole (Airtable refuses every record of a request when one is invalid), not for a fault of their own; only when there are any.",
    ),
});

/**
 * What an answer about a running operation says while its request waits out Airtable's 429 penalty on a base
 * (OperationState.rateLimitPause, recorded in the log by the worker that waits): which base, until when, and that the
 * write resumes by itself. Absent otherwise, and once the time has passed (the request was sent again).
 */
export const rateLimitPauseOutput = z
  .object({
    baseId: z.string().describe("The base Airtable answered 429 for: it refuses every request to it until `until`."),
    until: z.string().describe("When the penalty ends and the write resumes (ISO 8601, UTC)."),
    secondsLeft: z.number().describe("Seconds from this answer to `until`, rounded up."),
  })
  .describe(
    "Paused by Airtable's rate limit: a request to the base was answered 429 (more than 5 requests per second reached it; other apps and scripts using the base count too), and Airtable refuses the base's requests for 30 s. The write waits and resumes by itself with nothing lost: do not cancel it or send it again; poll again after `until`.",
  );
export type RateLimitPauseOutput = z.infer<typeof rateLimitPauseOutput>;

/**
 * The pause an answer shows (rateLimitPauseOutput) for a state or summary read at `now` (epoch ms): only while the
 * operation runs and the penalty's end is still ahead; undefined otherwise.
 */
export function rateLimitPauseOf(
  state: { status: OperationState["status"]; rateLimitPause?: { baseId: string; until: number } | undefined },
  now: number,
): RateLimitPauseOutput | undefined {
  const pause = state.rateLimitPause;
  if (pause === undefined || state.status !== "running" || pause.until <= now) return undefined;
  return {
    baseId: pause.baseId,
    until: new Date(pause.until).toISOString(),
    secondsLeft: Math.ceil((pause.until - now) / 1000),
  };
}

/** The sentence a running operation's message adds for its pause (see rateLimitPauseOutput); empty without one. */
export function rateLimitPauseSentence(pause: RateLimitPauseOutput | undefined): string {
  if (pause === undefined) return "";
  return (
    ` Paused by Airtable's rate limit: a request to base ${pause.baseId} was answered 429 (too many requests per ` +
    `second reached it; other apps and scripts using the base count too), and Airtable refuses the base's requests until ${pause.until} ` +
    `(${formatCount(pause.secondsLeft)} s from now). The write resumes by itself then, with nothing lost: no need ` +
    "to cancel it or send it again."
  );
}

export const itemResultOutput = z.object({
  index: z.number().describe("Position of the item in the call's input (0-based)."),
  id: z.string().optional().describe("The Airtable id written (record, table, field, comment or attachment)."),
  action: z
    .enum(["created", "updated", "deleted"])
    .optional()
    .describe("Upserts: whether the record was created or updated. Deletes: deleted."),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
  inDoubt: z
    .literal(true)
    .optional()
    .describe(
      "Sent to Airtable, but the answer was lost: it may or may not exist. Check before writing it again; never re-sent automatically.",
    ),
  reason: z.string().optional(),
  // Every kind's input item is an object (kinds/*: item). Typed, so the schema constrains something: a typeless
  // one is `true` spelled as an object, which the MCP Inspector CLI reports as a portability warning for every write
  // tool and which Codex reads as a string.
  input: z.record(z.string(), z.unknown()).optional().describe("For in-doubt items: what was sent, to look it up."),
  notWritten: z
    .literal(true)
    .optional()
    .describe(
      "Not written: its request was refused as a whole because of another record (or Airtable did not say which), onError was stop and an earlier record failed, the operation failed, or it was cancelled before this item was sent (reason says which).",
    ),
  pending: z.literal(true).optional().describe("Not written yet; the operation is still running."),
});
export type ItemResult = z.infer<typeof itemResultOutput>;

export const operationResultShape = {
  operationId: z.string().describe("Pass to get_operation to poll or page through results."),
  // The operation's kind, not the tool called: one kind per Airtable write endpoint, stored in operation logs
  // (never renamed: README "Adding a write kind"); create_record plans a create_records operation of one record.
  kind: z
    .enum(OPERATION_KINDS)
    .describe(
      "The operation's kind: the write tool's name, except create_record's, which is create_records (an operation " +
        "of one record, as get_operation and list_operations name it).",
    ),
  baseId: z.string(),
  tableId: z.string().optional(),
  status: z.enum(OPERATION_STATUSES),
  done: z.boolean().describe("true once the operation has ended; otherwise poll get_operation."),
  message: z
    .string()
    .describe("What happened, in a few sentences (and, when results is one page of several, where the rest are)."),
  progress: progressOutput,
  failure: z.object({ reason: z.string(), errorType: z.string().optional() }).optional(),
  rateLimitPause: rateLimitPauseOutput.optional(),
  cancelRequested: z
    .literal(true)
    .optional()
    .describe(
      "A cancel was asked for (cancel_operation): nothing new is sent; the batch in flight finishes, then status becomes cancelled.",
    ),
  results: z.array(itemResultOutput).optional().describe("One per input item, by index, from the page's start."),
  nextCursor: z.string().optional().describe("More results: call get_operation with operationId and this cursor."),
  sinceToken: z
    .string()
    .optional()
    .describe(
      "While the operation runs (and in every answer to a call that gave since): pass it as since to get_operation " +
        "to get only the results that changed after this answer.",
    ),
};
export type OperationResultOutput = z.infer<z.ZodObject<typeof operationResultShape>>;

export interface ResultPageOptions {
  /** The time the answer is given at (epoch ms; default now): whether a rate-limit pause is still ahead. */
  now?: number;
  /** A nextCursor from an earlier answer. */
  cursor?: string;
  /**
   * A sinceToken from an earlier answer (`op_…@seq`): only the items whose result changed after it (settled by a
   * later event, or not written once the operation ended or stopped after it) are listed, still by index and in pages.
   */
  since?: string;
  /** Leave results out (a write tool's answer while the operation is still running). */
  withResults?: boolean;
  pageSize?: number;
  /**
   * Where the agent reads this answer: a tool answer (get_operation, a write call), or the answer of a write call
   * that became an MCP task, which is polled with `tasks/get` (describeState's `via`). Default "tool".
   */
  via?: "tool" | "task";
}

/** The tool answer for `state`. Throws ToolInputError for a cursor that is not this operation's. */
export function operationResult(state: OperationState, opts: ResultPageOptions = {}): OperationResultOutput {
  const op = state.operation;
  const total = op.input.length;
  const pageSize = opts.pageSize ?? RESULT_PAGE_SIZE;
  const start = opts.cursor === undefined ? 0 : parseCursor(opts.cursor, op.operationId, total);
  const now = opts.now ?? Date.now();
  const pause = rateLimitPauseOf(state, now);
  const out: OperationResultOutput = {
    operationId: op.operationId,
    kind: op.kind,
    baseId: op.baseId,
    ...(op.tableId === undefined ? {} : { tableId: op.tableId }),
    status: state.status,
    done: isTerminal(state.status),
    message: describeState(state, opts.via ?? "tool", now),
    progress: state.progress,
    ...(pause === undefined ? {} : { rateLimitPause: pause }),
    ...(state.failure === undefined ? {} : { failure: state.failure }),
    ...(state.cancellation === undefined || isTerminal(state.status) ? {} : { cancelRequested: true as const }),
  };
  const since = opts.since === undefined ? undefined : parseSince(opts.since, op.operationId, state.lastSeq);
  const token = (shown: (index: number) => boolean): void => {
    if (since === undefined && isTerminal(state.status)) return;
    out.sinceToken = `${op.operationId}@${shownUpTo(state, shown, since ?? -1)}`;
  };
  if (opts.withResults === false) {
    token(() => false);
    return out;
  }
  const byIndex = new Map<number, ItemOutcome>(state.outcomes.map((o) => [o.index, o]));
  const said = errorsSaid(state.refusedRequests);
  if (since !== undefined) {
    // The log's last event when the first page of this `since` was answered (carried by nextCursor): the pages
    // before this one listed every result before `start` that changed after `since` up to it.
    const firstPageSeq = opts.cursor === undefined ? state.lastSeq : carriedPageSeq(opts.cursor, since, state.lastSeq);
    const listed = withChangedResults(out, state, since, start, pageSize, byIndex, said, firstPageSeq);
    const shownBefore = (index: number): boolean =>
      firstPageSeq !== undefined && index < start && (state.settledSeq.get(index) ?? state.lastSeq) <= firstPageSeq;
    token((index) => listed.has(index) || shownBefore(index));
    return out;
  }
  const end = Math.min(total, start + pageSize);
  token((index) => index >= start && index < end);
  const results: ItemResult[] = [];
  for (let index = start; index < end; index++) {
    results.push(itemResult(index, byIndex.get(index), state, said));
  }
  out.results = results;
  if (end < total) {
    out.nextCursor = `${op.operationId}:${end}`;
    // Said in the message too: an agent that reads only the text sees a page of results and might take the rest
    // for missing (and write them again).
    out.message +=
      ` The results field lists items ${formatCount(start)}–${formatCount(end - 1)} of ` +
      `${formatCount(total)}: call get_operation with this operationId and cursor set to nextCursor ` +
      "for the rest.";
  }
  return out;
}

/**
 * Fills `out` with the results of the items whose result changed after the log's event `since` (a seq): settled by a
 * later event (OperationState.settledSeq), or, when the operation ended or stopped after it, not written; by index
 * from `start`, at most `pageSize`, with nextCursor (and a sentence in the message) when more changed. The cursor
 * carries `since` and `firstPageSeq` (the log's last event when the first page was answered) when known, so that a
 * later page's sinceToken counts the earlier pages' results as seen (carriedPageSeq). Answers the indexes listed.
 */
function withChangedResults(
  out: OperationResultOutput,
  state: OperationState,
  since: number,
  start: number,
  pageSize: number,
  byIndex: ReadonlyMap<number, ItemOutcome>,
  said: ReadonlySet<RefusedRequest>,
  firstPageSeq: number | undefined,
): Set<number> {
  const op = state.operation;
  const ended = (isTerminal(state.status) || state.stopped) && state.lastSeq > since;
  const changed: number[] = [];
  for (let index = start; index < op.input.length; index++) {
    const seq = state.settledSeq.get(index);
    if (seq === undefined ? ended : seq > since) changed.push(index);
  }
  const page = changed.slice(0, pageSize);
  out.results = page.map((index) => itemResult(index, byIndex.get(index), state, said));
  const shown = `${formatCount(page.length)} item${page.length === 1 ? "" : "s"}`;
  out.message += ` The results field lists only the ${shown} whose result changed since the sinceToken given.`;
  if (changed.length > pageSize) {
    const next = changed[pageSize]!;
    out.nextCursor = `${op.operationId}:${next}${firstPageSeq === undefined ? "" : `:${since}:${firstPageSeq}`}`;
    out.message +=
      ` ${formatCount(changed.length - pageSize)} more changed: call get_operation with the same since and cursor ` +
      "set to nextCursor for them.";
  }
  return new Set(page);
}

/**
 * The seq a sinceToken of this answer names: the last event up to which every result that changed after `since`
 * (-1: any) is among those the answer lists (`shown`), so that a poll with it lists every result the agent has not
 * seen (and may list again a few it has), never skipping one. A result not shown that changed at seq n caps it at
 * n - 1; a record not written because the operation ended (or stopped) counts as changed at the last event.
 */
function shownUpTo(state: OperationState, shown: (index: number) => boolean, since: number): number {
  const ended = isTerminal(state.status) || state.stopped;
  let upTo = state.lastSeq;
  for (let index = 0; index < state.operation.input.length; index++) {
    if (shown(index)) continue;
    const changedAt = state.settledSeq.get(index) ?? (ended ? state.lastSeq : undefined);
    if (changedAt !== undefined && changedAt > since) upTo = Math.min(upTo, changedAt - 1);
  }
  return Math.max(upTo, 0);
}

/**
 * The log's last event when the first page of `since` was answered, as a since answer's nextCursor carries it
 * (`op_…:<index>:<since>:<seq>`): a later page's sinceToken then counts the results before it that changed up to that
 * event as seen, since the pages before listed them. Without it, a poll with the last page's token listed again every
 * result of the earlier pages, and the next paging gave the same token: an agent polling a long import that way got
 * the same results on every poll (h-review29). Undefined for a cursor without it (a page of another `since`, or of an
 * answer without `since`): then only this page's results count as seen.
 */
function carriedPageSeq(cursor: string, since: number, lastSeq: number): number | undefined {
  const [, , carriedSince, seq] = cursor.split(":");
  const first = Number(seq);
  if (carriedSince === undefined || Number(carriedSince) !== since) return undefined;
  return Number.isInteger(first) && first >= since && first <= lastSeq ? first : undefined;
}

/** The seq a sinceToken (`op_…@seq`) names. Throws ToolInputError for one that is not this operation's. */
function parseSince(token: string, operationId: string, lastSeq: number): number {
  const at = token.lastIndexOf("@");
  const seq = Number(token.slice(at + 1));
  if (at < 0 || token.slice(0, at) !== operationId || !Number.isInteger(seq) || seq < 0 || seq > lastSeq) {
    throw new ToolInputError(
      `The since ${JSON.stringify(token)} does not belong to operation ${operationId}. Use the sinceToken of an ` +
        "answer about this operation, or leave since out to get every result.",
    );
  }
  return seq;
}

/** A record's error the failure's reason quotes is told by this instead (itemResult). */
export const SAID_IN_FAILURE = "Refused with the other records: failure.reason says why, once, and what to do.";
/** SAID_IN_FAILURE for a write of one record, which has no other records. */
export const SAID_IN_FAILURE_ONE = "Refused: failure.reason says why and what to do.";
/** Shorter errors are repeated as they are: pointing elsewhere would not save the reader anything. */
const SAID_ONCE_MIN = 40;

/** `said`: the refused requests whose error the operation's message states (whole-request.ts errorsSaid). */
function itemResult(
  index: number,
  outcome: ItemOutcome | undefined,
  state: OperationState,
  said: ReadonlySet<RefusedRequest>,
): ItemResult {
  if (outcome === undefined) {
    if (state.status === "cancelled") return { index, notWritten: true, reason: "cancelled before it was sent" };
    return isTerminal(state.status) || state.stopped ? { index, notWritten: true } : { index, pending: true };
  }
  if ("recordId" in outcome) {
    if (state.operation.kind === "delete_records") return { index, id: outcome.recordId, action: "deleted" };
    // `action` tells an upsert's created records from its updated ones. A plain create has only "created", which
    // only a batch settled by reading the table back (after a crash) would say: its results look like the others.
    const merged = state.operation.kind === "upsert_records" || state.operation.options.fieldsToMergeOn !== undefined;
    return outcome.action === undefined || (outcome.action === "created" && !merged)
      ? { index, id: outcome.recordId }
      : { index, id: outcome.recordId, action: outcome.action };
  }
  if ("refusedWith" in outcome && outcome.refusedWith !== undefined) {
    const reason = refusedWithReason(outcome.refusedWith, state.operation, said.has(outcome.refusedWith));
    return { index, notWritten: true, reason };
  }
  if ("error" in outcome) {
    // An error the operation's failure reason quotes (every record refused alike: processor.ts
    // #failIfEverythingRefused) is said once, there, not again in each record's result.
    const failure = state.failure?.reason;
    if (
      failure !== undefined &&
      outcome.error.message.length >= SAID_ONCE_MIN &&
      failure.includes(outcome.error.message)
    )
      return {
        index,
        error: {
          type: outcome.error.type,
          message: state.operation.input.length === 1 ? SAID_IN_FAILURE_ONE : SAID_IN_FAILURE,
        },
      };
    return { index, error: outcome.error };
  }
  const input = namedFields(state.operation.input[index], state.operation.fieldNames);
  return { index, inDoubt: true, reason: outcome.reason, ...(input === undefined ? {} : { input }) };
}

/**
 * A record item as the agent's call named its fields: the cells are stored and sent by field id (plan-records.ts),
 * and shown under the names the call used (Operation.fieldNames), so that the agent recognises what it sent.
 * Not the current names: get_operation answers from the log without asking Airtable, and the same result should
 * read the same on every poll. Items without names (other kinds, operations stored by name) are left as they are.
 * Every kind's item is an object (kinds/*); anything else (a corrupt log) is left out: undefined.
 */
function namedFields(
  item: unknown,
  names: Readonly<Record<string, string>> | undefined,
): Record<string, unknown> | undefined {
  if (typeof item !== "object" || item === null || Array.isArray(item)) return undefined;
  const record = item as Record<string, unknown>;
  if (names === undefined) return record;
  const fields = record.fields;
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) return record;
  const named = Object.entries(fields).map(([key, value]) => [names[key] ?? key, value]);
  return { ...item, fields: Object.fromEntries(named) };
}

function parseCursor(cursor: string, operationId: string, total: number): number {
  const [id, offset] = cursor.split(":");
  const start = Number(offset);
  if (id !== operationId || !Number.isInteger(start) || start < 0 || start >= total) {
    throw new ToolInputError(
      `The cursor ${JSON.stringify(cursor)} does not belong to operation ${operationId}. Use the nextCursor of an answer about this operation, or leave cursor out to start from the first result.`,
    );
  }
  return start;
}

/** What happened to a succeeded item of an operation of `kind`: "deleted" for deletes, "written" otherwise. */
export const doneWord = (kind: string): "deleted" | "written" => (kind === "delete_records" ? "deleted" : "written");

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;

/**
 * One or two sentences an agent can act on. `via`: where the agent reads it, which decides how it is told to look
 * again: a tool answer (get_operation) or an MCP task's `statusMessage` (tasks/get; a cancelled task carries no
 * result, so it points at get_operation for the items). While it runs and its request waits out Airtable's 429 penalty
 * (OperationState.rateLimitPause, its end still ahead of `now`, epoch ms), it says so: which base, until when, and
 * that the write resumes by itself (rateLimitPauseSentence). Once it has ended, a record write that sent attachments by
 * URL also says that Airtable fetches them after the write, and to read the records back (url-attachments.ts). After
 * the select options a write's typecast creates come its notes on values stored as something the agent very likely
 * did not mean (value-notes.ts: a percent of 50 stored as 5,000 %), the zone its dates and times without one were
 * read in (zoneless-times.ts), for an upsert, the list cells of the records it updated that it replaced
 * (list-replacements.ts), and the link names it matched only ignoring case, with the records they linked
 * (link-name-matches.ts).
 */
export function describeState(state: OperationState, via: "tool" | "task" = "tool", now = Date.now()): string {
  const added = [
    newSelectOptionsSentence(state),
    valueNotesSentence(state),
    zonelessTimesSentence(state),
    listsReplacedSentence(state),
    linkNameMatchesSentence(state),
  ].filter((sentence) => sentence !== "");
  return [stateSentence(state, via, now), ...added].join(" ");
}

/**
 * What a record write's typecast adds to the base's design (OperationOptions.newSelectOptions, recorded when the
 * call was checked), said in every answer about the operation — its first answer, get_operation, tasks/get — so that
 * a new option is never added silently: `New select options, which Airtable creates because typecast is on:
 * "Stage": "Custmer" (existing: "Lead", "Customer", "Churned").`, then for each new option close to an existing one
 * (closeOption in check-fields.ts) `"Custmer" is close to "Customer"; to use the existing option, update these
 * records with "Customer": results index 0 (…)`.
 *
 * Airtable creates an option with the request that writes a record giving it, and applies a request whole or not at
 * all ("Create records", https://airtable.com/developers/web/api/errors), so once the operation has ended with
 * records not written (failed, refused with their request, never sent, in doubt), each option is said as the
 * outcomes of the records giving it (selectOptionNames over the operation's input) show it: created (a written
 * record gives it; the close-option advice lists only written records), perhaps created (only records in doubt give
 * it: `New select options given only by records in doubt, which Airtable created if those records were written:
 * …`), or not created (`Not created, as no record giving them was written: "Stage": "Custmer".`, said beside the
 * others only). Options beyond the listed ones (`moreOptions`) are counted as "up to" so many. Empty when the write
 * adds none, and for an ended operation none of whose options was created or may have been.
 */
export function newSelectOptionsSentence(state: OperationState): string {
  const fields = state.operation.options.newSelectOptions;
  if (fields === undefined) return "";
  const p = state.progress;
  // Running (the records left may still create them all), or every record written: the options as the call gave them.
  if (!isTerminal(state.status) || p.recordsSucceeded === p.recordsTotal) {
    return createdSentence(fields.map((f) => ({ f, options: f.options, more: f.moreOptions, upTo: false })));
  }
  const outcomes = new Map<number, ItemOutcome>(state.outcomes.map((o) => [o.index, o]));
  const created: FieldOptions[] = [];
  const maybe: FieldOptions[] = [];
  const not: FieldOptions[] = [];
  for (const f of fields) {
    const givers = optionGivers(state, f);
    const writtenBy = (name: string) =>
      (givers.get(name) ?? []).filter((index) => {
        const outcome = outcomes.get(index);
        return outcome !== undefined && "recordId" in outcome;
      });
    const inDoubt = (name: string) =>
      (givers.get(name) ?? []).some((index) => {
        const outcome = outcomes.get(index);
        return outcome !== undefined && "inDoubt" in outcome;
      });
    const made: NewSelectOptions["options"] = [];
    const perhaps: NewSelectOptions["options"] = [];
    const none: NewSelectOptions["options"] = [];
    for (const o of f.options) {
      const written = writtenBy(o.name);
      if (written.length > 0) {
        // The advice to use the existing option names only records that were written with the new one.
        const close =
          o.close === undefined
            ? undefined
            : {
                existing: o.close.existing,
                records: written.slice(0, MAX_CLOSE_RECORDS_LISTED),
                recordCount: written.length,
              };
        made.push(close === undefined ? { name: o.name } : { name: o.name, close });
      } else if (inDoubt(o.name)) perhaps.push({ name: o.name });
      else none.push({ name: o.name });
    }
    // Options beyond those listed: which of them a written record gives is not known here.
    const more = p.recordsSucceeded > 0 ? f.moreOptions : undefined;
    if (made.length > 0 || more !== undefined) created.push({ f, options: made, more, upTo: true });
    if (perhaps.length > 0) maybe.push({ f, options: perhaps, more: undefined, upTo: false });
    if (none.length > 0) not.push({ f, options: none, more: undefined, upTo: false });
  }
  const said = [
    createdSentence(created),
    maybe.length === 0
      ? ""
      : "New select options given only by records in doubt, which Airtable created if those records were " +
        `written: ${maybe.map(fieldOptions).join("; ")}.`,
  ].filter((sentence) => sentence !== "");
  if (said.length === 0) return "";
  if (not.length > 0) {
    const names = not.map(({ f, options }) => `${JSON.stringify(f.field)}: ${optionNamesList(options)}`);
    said.push(`Not created, as no record giving them was written: ${names.join("; ")}.`);
  }
  return said.join(" ");
}

/** One field's new options as an answer names them: all, or those of one kind (created, perhaps created, not). */
interface FieldOptions {
  f: NewSelectOptions;
  options: NewSelectOptions["options"];
  /** Options beyond those named: counted. */
  more: number | undefined;
  /** The count is at most `more` ("and up to 3 more"): some records giving options were not written. */
  upTo: boolean;
}

/**
 * `New select options, which Airtable creates because typecast is on: …`, with the close-option advice and the
 * note that a new option stays; empty for no field.
 */
function createdSentence(fields: readonly FieldOptions[]): string {
  if (fields.length === 0) return "";
  const listed = fields.map(fieldOptions).join("; ");
  const close = fields.flatMap(({ options }) =>
    options.flatMap((o) => {
      if (o.close === undefined) return [];
      const shown = o.close.records.join(", ");
      const more = o.close.recordCount - o.close.records.length;
      const records = more > 0 ? `${shown} and ${formatCount(more)} more` : shown;
      const existing = JSON.stringify(o.close.existing);
      return [
        `${JSON.stringify(o.name)} is close to ${existing}; to use the existing option, update these records with ` +
          `${existing}: results index ${records}.`,
      ];
    }),
  );
  const stays =
    close.length === 0
      ? ""
      : " A new option stays in its field after the records are updated: remove it in Airtable's interface.";
  return (
    `New select options, which Airtable creates because typecast is on: ${listed}.` +
    (close.length === 0 ? "" : ` ${close.join(" ")}${stays}`)
  );
}

/**
 * For each new option of the field `f`, the input indexes of the records whose cell gives it (selectOptionNames),
 * ascending. Cells are keyed by field id (by name in operations stored by name).
 */
function optionGivers(state: OperationState, f: NewSelectOptions): Map<string, number[]> {
  const wanted = new Set(f.options.map((o) => o.name));
  const byName = state.operation.fieldNames === undefined;
  const givers = new Map<string, number[]>();
  state.operation.input.forEach((item, index) => {
    const fields = (item as { fields?: unknown } | null)?.fields;
    if (typeof fields !== "object" || fields === null) return;
    const cells = fields as Record<string, unknown>;
    const value = cells[f.fieldId] ?? (byName ? cells[f.field] : undefined);
    for (const name of new Set(selectOptionNames(value, f.multiple))) {
      if (wanted.has(name)) givers.set(name, [...(givers.get(name) ?? []), index]);
    }
  });
  return givers;
}

/** `"Custmer", "Prospect"`. */
const optionNamesList = (options: NewSelectOptions["options"]) => options.map((o) => JSON.stringify(o.name)).join(", ");

/**
 * `"Stage": "Custmer", "Prospect" (existing: "Lead", "Customer")`: one field's entry of newSelectOptionsSentence
 * (`up to 3 more` when only some of the options beyond those named may have been created).
 */
function fieldOptions({ f, options, more, upTo }: FieldOptions): string {
  const counted = more === undefined ? "" : `${upTo ? "up to " : ""}${formatCount(more)} more`;
  const names =
    options.length === 0 ? counted : `${optionNamesList(options)}${counted === "" ? "" : ` and ${counted}`}`;
  const existingNames = f.existing.map((e) => JSON.stringify(e)).join(", ");
  const existing =
    f.existing.length === 0
      ? "it had no options"
      : `existing: ${existingNames}${f.moreExisting === undefined ? "" : ` and ${formatCount(f.moreExisting)} more`}`;
  return `${JSON.stringify(f.field)}: ${names} (${existing})`;
}

/** describeState's account of the status and counts, before what the write adds to the base's design. */
function stateSentence(state: OperationState, via: "tool" | "task", now: number): string {
  const poll =
    via === "task"
      ? "Poll tasks/get with this taskId (or get_operation with it as operationId)"
      : "Poll get_operation with this operationId";
  const itemsAt =
    via === "task"
      ? "get_operation with this id lists each item by index"
      : "Each item's result is in results, by index";
  const p = state.progress;
  const items = state.operation.kind.endsWith("_records") ? "record" : "item";
  const counts =
    `${plural(p.recordsSucceeded, items)} ${doneWord(state.operation.kind)}` +
    (p.recordsFailed > 0 ? `, ${formatCount(p.recordsFailed)} failed` : "") +
    (p.recordsInDoubt > 0 ? `, ${formatCount(p.recordsInDoubt)} in doubt` : "") +
    notWrittenCount(p) +
    ` of ${formatCount(p.recordsTotal)}`;
  // Requests refused as a whole, in every answer that can have them: with no culprit, Airtable's error is said only
  // here (the records' reasons point to this message), so it is never left out (whole-request.ts errorsSaid).
  const refused = refusedRequestsSentence(state.refusedRequests, state.operation.kind);
  switch (state.status) {
    case "queued":
      return `Queued (${plural(p.recordsTotal, items)}). ${poll} for the result.`;
    case "running":
      if (state.cancellation !== undefined) {
        return `Cancelling: ${counts}; nothing more is sent, the batch in flight finishes.${refused} ${poll} for the final result.`;
      }
      return `Running: ${counts}.${rateLimitPauseSentence(rateLimitPauseOf(state, now))}${refused} ${poll} for the result.`;
    case "cancelled": {
      // The reason counts what was written and what was never sent (cancelledEvent); failed and in-doubt items
      // are added, since an agent must look the latter up before writing them again.
      const reason = state.cancellation?.reason;
      const more = [
        ...(p.recordsFailed > 0 ? [`${formatCount(p.recordsFailed)} failed`] : []),
        ...(p.recordsInDoubt > 0
          ? [`${formatCount(p.recordsInDoubt)} in doubt (sent, answer lost: look them up before writing them again)`]
          : []),
        // Sent, and listed as notWritten too: not among the items the reason says were never sent.
        ...(notWrittenOf(p) > 0
          ? [`${formatCount(notWrittenOf(p))} not written because their request was refused as a whole`]
          : []),
      ];
      const said =
        reason === undefined
          ? `Cancelled (${counts}).`
          : more.length > 0
            ? `${reason} Also ${more.join(", ")}.`
            : reason;
      const notWritten =
        notWrittenOf(p) > 0
          ? "notWritten if it was never sent or its request was refused (its reason says which)"
          : "notWritten if it was never sent";
      // A delete's items were deleted: its results carry the id with action "deleted", never "written".
      const done = doneWord(state.operation.kind);
      return `${said}${refused} ${itemsAt}: an id if it was ${done}, ${notWritten}.${urlAttachmentsSentence(state)}`;
    }
    case "completed":
      return `Done: ${counts}.${urlAttachmentsSentence(state)}`;
    case "completed_with_errors": {
      const inDoubt =
        p.recordsInDoubt > 0
          ? " Items in doubt were sent but the answer was lost: look them up (e.g. search_records) before writing them again."
          : "";
      // The records after the failing batch were never sent: counted here, since the counts before say only what was
      // written, failed, in doubt or refused with its request (a trial summed "10 written, 1 failed, 9 not written
      // of 25" and missed 5).
      const unsent = p.recordsTotal - p.recordsSucceeded - p.recordsFailed - p.recordsInDoubt - notWrittenOf(p);
      const never = unsent > 0 ? ` (${plural(unsent, items)} after it never sent, listed as notWritten)` : "";
      const stopped = state.stopped ? ` onError was stop: nothing after the failing batch was written${never}.` : "";
      const each =
        p.recordsFailed > 0
          ? " Each failed item's error is in results, by index."
          : refused === ""
            ? ""
            : " Each item's result is in results, by index.";
      const urls = urlAttachmentsSentence(state);
      return `Done with errors: ${counts}.${missingDeletes(state)}${refused}${each}${stopped}${inDoubt}${urls}`;
    }
    case "failed":
      return `Failed: ${state.failure?.reason ?? "the operation could not run"} (${counts}).${refused}${urlAttachmentsSentence(state)}`;
  }
}

/**
 * ", 4 not written (their request was refused)" when records were refused with their request (whole-request.ts),
 * else empty: counted apart from the failed ones, which Airtable's error is about.
 */
export function notWrittenCount(p: OperationProgress): string {
  const n = notWrittenOf(p);
  return n > 0 ? `, ${formatCount(n)} not written (their request was refused)` : "";
}

/**
 * For a delete_records operation, the sentence saying how many of its failed records Airtable refused as not in the
 * table (missing-records.ts): they no longer exist there, so the agent knows the goal is reached for them rather
 * than reading "12 failed" as 12 records still to delete. Not for a delete stopped by onError "stop": a request
 * refused as a whole fails every record of it, the existing ones too. Empty for other kinds.
 */
function missingDeletes(state: OperationState): string {
  if (state.operation.kind !== "delete_records" || state.stopped) return "";
  const missing = state.outcomes.filter((o) => "error" in o && MISSING_RECORD_TYPES.has(o.error.type)).length;
  return missingDeletesSentence(missing, state.progress.recordsFailed);
}
