/**
 * A request of several records that Airtable refused as a whole and that was not split: onError "stop" (the agent
 * asked for nothing after a failing batch), or an error type Airtable gives for a request as a whole
 * (processor.ts WHOLE_REQUEST_TYPES). Airtable applies a create, update, upsert or delete request whole or not at all
 * ("Create records": "a request of up to 10 records"; one invalid record refuses the request, and the error names
 * no record: https://airtable.com/developers/web/api/errors), so reporting Airtable's error on each of its records
 * would blame records nothing was said against, and an agent would "fix" good ones.
 *
 * What this module gives (processor.ts records it, fold.ts settles it, operation-result.ts renders it):
 * - {@link tracedCulprits}: the record(s) of the request Airtable's message points at, when it can be told from the
 *   message alone (a record id or an email it names, held by them; a field it names, written by one record only);
 * - the wording, one for every such refusal (the stale-id case of missing-records.ts included): the records not at
 *   fault are "not written" because their request was "(one request, refused as a whole)", the culprit keeps its
 *   error, and Airtable's error is said once (on the culprit, or in the operation's message when none is known).
 */
import { asSentence } from "./sentence.ts";
import { RECORD_ID_IN_TEXT } from "../airtable/ids.ts";
import { formatCount } from "../format-count.ts";
import type { Operation } from "./events.ts";
import type { RefusedRequest } from "./fold.ts";

/** A record of a refused request as it was sent: its own id (updates, upserts, deletes) and its cells. */
export interface RequestRecord {
  id?: string;
  cells: Readonly<Record<string, unknown>>;
}

/** Email addresses inside a longer text (a collaborator Airtable could not find may be quoted by its email). */
const EMAIL_IN_TEXT = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** A field id inside a longer text: "fld" and 14 letters or digits. */
const FIELD_ID_IN_TEXT = /\bfld[A-Za-z0-9]{14}\b/g;

/**
 * The positions in `records` (the refused request's records, in the order sent) of the records Airtable's refusal
 * (`errorType`, `message`) is about, or [] when it cannot be told. Tried in order, the first that settles it wins:
 * 1. values the message names — record ids (`Record ID rec… does not exist`: a link cell's record, or an update's
 *    own id) and email addresses (case-insensitively): the records whose own id or any text in their cells is one
 *    of them. Such a value is what Airtable refused, so every record holding it is at fault (all of them); none →
 *    the next rule. An id that is the own id of a record and in the cells of another is not traced ([]): the
 *    message does not say whether the update's own id or the link value was refused (422 ROW_DOES_NOT_EXIST is
 *    Airtable's answer to both).
 * 2. fields the message names — by id (`fld…`), else by name in quotes (`Field "Account manager" cannot accept
 *    the provided value`), else after "field " (`Invalid attachment for field Invoice PDF: …`): the records that
 *    write one of them (or merge on it: every record of an upsert carries its merge fields). For UNKNOWN_FIELD_NAME
 *    every such record is at fault (the field is not there for any of them); otherwise exactly one → it, several →
 *    [] (one bad value among several writes of the field: Airtable does not say whose).
 * `names` are the fields' names by id (Operation.fieldNames); without them, cell keys are names already.
 */
export function tracedCulprits(
  errorType: string,
  message: string,
  records: readonly RequestRecord[],
  names: Readonly<Record<string, string>> | undefined,
): number[] {
  const ids = new Set(message.match(RECORD_ID_IN_TEXT) ?? []);
  const emails = new Set((message.match(EMAIL_IN_TEXT) ?? []).map((e) => e.toLowerCase()));
  if (ids.size + emails.size > 0) {
    const holds = (text: string) => ids.has(text) || emails.has(text.toLowerCase());
    const own = positions(records, (r) => r.id !== undefined && ids.has(r.id));
    const inCells = positions(records, (r) => textsIn(r.cells).some(holds));
    // An id that is one record's own id and a cell value of another (a link to a record of this table from a
    // field linking elsewhere): Airtable's message does not say which use it refused, so neither is blamed.
    if (own.length > 0 && inCells.some((at) => !own.includes(at))) return [];
    const holding = [...new Set([...own, ...inCells])].sort((x, y) => x - y);
    if (holding.length > 0) return holding;
  }
  const keys = [...new Set(records.flatMap((r) => Object.keys(r.cells)))];
  // The most precise way the message names a field decides: its id, else its name in quotes, else "field Name".
  const ways = [byId(message), quoted(message), afterWordField(message)];
  for (const namesIt of ways) {
    const named = new Set(keys.filter((key) => namesIt(key, names?.[key] ?? key)));
    if (named.size === 0) continue;
    const writing = positions(records, (r) => Object.keys(r.cells).some((key) => named.has(key)));
    return writing.length === 1 || errorType === "UNKNOWN_FIELD_NAME" ? writing : [];
  }
  return [];
}

type NamesField = (key: string, name: string) => boolean;

/** The message names the field by id (`fld…`: cells are sent keyed by id). */
function byId(message: string): NamesField {
  const ids = new Set(message.match(FIELD_ID_IN_TEXT) ?? []);
  return (key) => ids.has(key);
}

/** The message names the field in quotes, as Airtable does (`Field "Account manager" cannot accept …`). */
function quoted(message: string): NamesField {
  return (_key, name) => message.includes(JSON.stringify(name));
}

/** The message names the field after the word "field", unquoted (`Invalid attachment for field Invoice PDF: …`). */
function afterWordField(message: string): NamesField {
  return (_key, name) => {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`\\b[Ff]ield ${escaped}(?=[\\s:.,;)]|$)`).test(message);
  };
}

function positions(records: readonly RequestRecord[], test: (r: RequestRecord) => boolean): number[] {
  return records.flatMap((r, i) => (test(r) ? [i] : []));
}

/** Every text inside a cell value (strings of arrays and objects included: `{ email }`, link ids). */
function textsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(textsIn);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(textsIn);
  return [];
}

/**
 * Input indexes as an agent reads them: runs of consecutive ones as "0–4", the rest listed ("0–2, 5, 7–9").
 * `indexes` ascending.
 */
export function indexList(indexes: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j]! + 1) j++;
    const from = formatCount(indexes[i]!);
    runs.push(
      j === i ? from : j === i + 1 ? `${from}, ${formatCount(indexes[j]!)}` : `${from}–${formatCount(indexes[j]!)}`,
    );
    i = j + 1;
  }
  return runs.join(", ");
}

/** "records 0–4" / "record 3". */
const recordsWord = (indexes: readonly number[]) => `record${indexes.length === 1 ? "" : "s"} ${indexList(indexes)}`;

/** "record 3", "records 3 and 7", "records 1, 3 and 7". */
function culpritsWord(culprits: readonly number[]): string {
  const said = culprits.map((i) => formatCount(i));
  if (said.length === 1) return `record ${said[0]}`;
  return `records ${said.slice(0, -1).join(", ")} and ${said.at(-1)}`;
}

/**
 * Why a request was not split, as one sentence: "onError was stop, so the request was not split: none of its
 * records was written." (the words missing-records.ts gives a stale id's refusal too), or, for an error type
 * Airtable gives for a whole request, that splitting cannot help.
 */
export function notSplitSentence(kind: string, onError: Operation["options"]["onError"], errorType: string): string {
  const done = kind === "delete_records" ? "deleted" : "written";
  return onError === "stop"
    ? `onError was stop, so the request was not split: none of its records was ${done}.`
    : `Airtable gives ${errorType} for a request as a whole, so it was not split: none of its records was ${done}.`;
}

/** "records 0–4 (one request, refused as a whole)": the words every such refusal is told in (missing-records.ts too). */
export const refusedWhole = (indexes: readonly number[]) => `${recordsWord(indexes)} (one request, refused as a whole)`;

const othersWere = (n: number) => `${formatCount(n)} other record${n === 1 ? " was" : "s were"}`;

/**
 * The sentence added to a culprit's own error: its request was refused for it, and the others of that request
 * were not written and can be sent again as they are. Empty when every record of the request is a culprit.
 */
export function culpritNote(request: readonly number[], culprits: readonly number[], kind: string): string {
  const others = request.length - culprits.length;
  if (others === 0) return "";
  const done = kind === "delete_records" ? "deleted" : "written";
  const forWhom = culprits.length === 1 ? "this record" : culpritsWord(culprits);
  return (
    ` Airtable refused ${refusedWhole(request)} for ${forWhom}: the ${othersWere(others)} not ${done}, and can ` +
    `be sent again as ${others === 1 ? "it is" : "they are"}.`
  );
}

/**
 * The sentence added to a culprit's own error when the other records of its request were sent again without it
 * (processor.ts #resendWithoutCulprits): their own results say whether they were written.
 */
export function resentNote(request: readonly number[], culprits: readonly number[], kind: string): string {
  const others = request.length - culprits.length;
  const forWhom = culprits.length === 1 ? "this record" : culpritsWord(culprits);
  return (
    ` Airtable refused ${refusedWhole(request)} for ${forWhom}: the ${othersWere(others)} sent again without ` +
    `${culprits.length === 1 ? "it" : "them"} (${others === 1 ? "its result says" : "their results say"} whether ` +
    `${others === 1 ? "it was" : "they were"} ${kind === "delete_records" ? "deleted" : "written"}).`
  );
}

/**
 * The `reason` of a record not written because its request (`refused`) was refused as a whole: which request, who
 * was at fault when it is known (that record's error says why) or that Airtable did not say (its error is in the
 * operation's message, once, when `saidInMessage`: errorsSaid; else in this reason), why it was not split, and what
 * to do.
 */
export function refusedWithReason(
  refused: RefusedRequest,
  op: Pick<Operation, "kind" | "options">,
  saidInMessage = true,
): string {
  const done = op.kind === "delete_records" ? "deleted" : "written";
  const whole = `Not ${done}: Airtable refused ${refusedWhole(refused.indexes)}`;
  const notSplit = notSplitSentence(op.kind, op.options.onError, refused.error.type);
  if (refused.culprits.length > 0) {
    const one = refused.culprits.length === 1;
    return (
      `${whole} because of ${culpritsWord(refused.culprits)} (${one ? "its error says" : "their errors say"} why). ` +
      `${notSplit} Nothing was said against this record: send it again as it is.`
    );
  }
  const next =
    op.options.onError === "stop"
      ? "To have the good records written and the bad one named, send them again with onError continue (the default): the request is then split."
      : "Fix what Airtable's message says, then send them again.";
  // Its error is said once, in the operation's message, when that message states it (errorsSaid); else here.
  const error = saidInMessage
    ? `${refused.error.type} (its message is in this answer's message)`
    : `${refused.error.type} (${withoutEnd(refused.error.message)})`;
  return `${whole} with ${error} and did not say which of them is at fault. ${notSplit} ${next}`;
}

/** A message without its final full stop, to be quoted inside a sentence. */
function withoutEnd(message: string): string {
  return message.trim().replace(/\.$/, "");
}

/**
 * The requests of `refused` (an operation's, in log order) with no culprit whose error {@link refusedRequestsSentence}
 * states: the first REQUESTS_DESCRIBED, and every later one refused with an error said for one of those (same type
 * and message). The reason of a record of any other such request carries the error itself (refusedWithReason), so
 * that Airtable's error is never left out of the answer.
 */
export function errorsSaid(refused: readonly RefusedRequest[]): ReadonlySet<RefusedRequest> {
  const described = refused.slice(0, REQUESTS_DESCRIBED).filter((r) => r.culprits.length === 0);
  const key = (r: RefusedRequest) => `${r.error.type}\u0000${r.error.message}`;
  const said = new Set(described.map(key));
  return new Set(refused.filter((r) => r.culprits.length === 0 && said.has(key(r))));
}

/** At most this many refused requests are described one by one in an operation's message; the rest are counted. */
const REQUESTS_DESCRIBED = 3;

/**
 * The sentences an operation's message adds for its requests refused as a whole (`refused`, in log order): for each,
 * the culprit(s), or Airtable's error once when none is known; empty when there are none.
 */
export function refusedRequestsSentence(refused: readonly RefusedRequest[], kind: string): string {
  const done = kind === "delete_records" ? "deleted" : "written";
  const said = refused.slice(0, REQUESTS_DESCRIBED).map((r) => {
    const others = r.indexes.length - r.culprits.length;
    if (r.culprits.length > 0) {
      const see = r.culprits.length === 1 ? "its error" : "their errors";
      return (
        ` Airtable refused ${refusedWhole(r.indexes)} because of ${culpritsWord(r.culprits)} (see ${see}): the ` +
        `${othersWere(others)} not ${done}, though nothing was said against ${others === 1 ? "it" : "them"}.`
      );
    }
    return (
      ` Airtable refused ${refusedWhole(r.indexes)} and did not say which of them is at fault: none was ${done}. ` +
      `Its error: ${r.error.type}: ${asSentence(r.error.message)}`
    );
  });
  const more = refused.length - REQUESTS_DESCRIBED;
  if (more > 0) {
    said.push(
      ` ${formatCount(more)} more request${more === 1 ? " was" : "s were"} refused as a whole (each record's ` +
        "result in results says why).",
    );
  }
  return said.join("");
}
