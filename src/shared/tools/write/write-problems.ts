/**
 * One refusal for every problem a record write's checks found, of every kind and in every record, so that an agent
 * fixes them all in one more call rather than one per call: a newcomer trial's 30-record create_records with four
 * mistakes of four kinds (an unknown field, a misspelt select option, a linked record name that does not exist, a
 * computed field) took four rounds when each check refused the call on its own.
 *
 * Each check words its problems as it always has (the sentence a call with that problem alone is refused with);
 * plan-records.ts gathers them as {@link ProblemLine}s, and {@link gatheredRefusal} lists them in the order of the
 * records, the first MAX_LISTED_PROBLEMS of them, the rest counted, under one line saying how many there are and
 * that nothing was queued.
 */
import { formatCount } from "../../format-count.ts";
import { ToolInputError } from "../tool-input-error.ts";

/** One problem of a refused record write, as one line of the gathered refusal. */
export interface ProblemLine {
  /**
   * Input index of the first record the problem concerns, which orders the lines; -1 for the call's own arguments
   * (fieldsToMergeOn), listed first.
   */
  first: number;
  /** Input index of every record it concerns (the refusal counts them); empty for the call's own arguments. */
  records: readonly number[];
  /** The line: a sentence naming where the problem is, what is wrong and what to give instead. */
  text: string;
}

/** How many problems one gathered refusal lists; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 20;

/**
 * The refusal naming every one of `lines` (at least two), in the order of the records they concern (the call's own
 * arguments first; lines of the same record in the order given):
 * `4 problems in 4 records; nothing was queued. Fix them all, then call again:` and one `- ` line each, the first
 * MAX_LISTED_PROBLEMS of them, then `- …and N more problems.`; `trailer`, when given, ends the refusal on a line of
 * its own (what several lines refer to, said once: a table's field names).
 */
export function gatheredRefusal(lines: readonly ProblemLine[], trailer?: string): ToolInputError {
  const ordered = [...lines].sort((a, b) => a.first - b.first);
  const records = new Set(lines.flatMap((line) => line.records)).size;
  const callLevel = lines.some((line) => line.records.length === 0);
  const where =
    records === 0 || callLevel ? "in this call" : `in ${formatCount(records)} record${records === 1 ? "" : "s"}`;
  const listed = ordered.slice(0, MAX_LISTED_PROBLEMS).map((line) => line.text);
  const more = ordered.length - listed.length;
  return new ToolInputError(
    `${formatCount(lines.length)} problems ${where}; nothing was queued. Fix them all, then call again:\n- ` +
      listed.join("\n- ") +
      (more > 0 ? `\n- …and ${formatCount(more)} more problem${more === 1 ? "" : "s"}.` : "") +
      (trailer === undefined ? "" : `\n${trailer}`),
  );
}

/** How many other places a line names after its own; the rest are counted. */
const OTHER_PLACES_NAMED = 5;

/**
 * ` Also given in records[4].fields, records[9].fields.`: the other places a problem's line is given in (the first
 * OTHER_PLACES_NAMED, then `… (12 in all)`), to append to its sentence; "" when there are none.
 */
export function alsoGivenIn(others: readonly string[]): string {
  if (others.length === 0) return "";
  const named = others.slice(0, OTHER_PLACES_NAMED).join(", ");
  const rest = others.length > OTHER_PLACES_NAMED ? `, … (${formatCount(others.length)} in all)` : "";
  return ` Also given in ${named}${rest}.`;
}
