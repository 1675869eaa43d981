/**
 * Checks on a write's list of records that need no schema: run first, so a call that cannot be queued is refused
 * before the base's schema is even fetched. Every message names the list position and says what to do.
 */
import { isRecordId } from "../../airtable/ids.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { formatCount } from "../../format-count.ts";
import type { ProblemLine } from "./write-problems.ts";

/** Refuses an empty list, and a list over MAX_RECORDS_PER_OPERATION before looking at any of its records. */
export function checkRecordCount(
  tool: string,
  list: string,
  count: number,
  maxRecordsPerOperation: number,
  what = "record",
): void {
  if (count === 0) throw new ToolInputError(`${list} is empty: give at least one ${what}.`);
  if (count > maxRecordsPerOperation) {
    const max = formatCount(maxRecordsPerOperation);
    throw new ToolInputError(
      `${tool} takes at most ${max} ${what}s per call on this server; this call has ` +
        `${formatCount(count)}. Split it into several calls of at most ${max}.`,
    );
  }
}

/** `where` names the value, e.g. `records[3].id`. */
export function checkRecordId(id: string, where: string): void {
  const refused = recordIdRefusal(id, where);
  if (refused !== undefined) throw refused;
}

function recordIdRefusal(id: string, where: string): ToolInputError | undefined {
  if (isRecordId(id)) return undefined;
  return new ToolInputError(
    `${where} ${JSON.stringify(id)} is not a record id: record ids look like recXXXXXXXXXXXXXX (rec and 14 ` +
      `letters or digits). Get them from list_records or search_records.`,
  );
}

/**
 * Checks each id's format and that no id appears twice: Airtable refuses a batch naming a record twice, and two
 * writes to one record in one call would leave it in whichever state came last.
 * `whereAt(i)` names the i-th id, e.g. `records[3].id`; undefined ids (upserts without id) are skipped.
 * Throws the first refusal (recordIdProblems answers them all).
 */
export function checkRecordIds(
  ids: readonly (string | undefined)[],
  whereAt: (index: number) => string,
  fix = "Give each record once.",
): void {
  const [first] = recordIdProblems(ids, whereAt, fix);
  if (first !== undefined) throw new ToolInputError(first.text);
}

/**
 * Every id checkRecordIds refuses, as lines of a gathered refusal (write-problems.ts), in input order: a malformed
 * id, and an id repeating an earlier one (named with it).
 */
export function recordIdProblems(
  ids: readonly (string | undefined)[],
  whereAt: (index: number) => string,
  fix = "Give each record once.",
): ProblemLine[] {
  const firstIndex = new Map<string, number>();
  const lines: ProblemLine[] = [];
  ids.forEach((id, index) => {
    if (id === undefined) return;
    const malformed = recordIdRefusal(id, whereAt(index));
    if (malformed !== undefined) {
      lines.push({ first: index, records: [index], text: malformed.message });
      return;
    }
    const first = firstIndex.get(id);
    if (first !== undefined) {
      lines.push({
        first: index,
        records: [index],
        text:
          `${whereAt(index)} ${JSON.stringify(id)} repeats ${whereAt(first)}: Airtable refuses a write naming a ` +
          `record twice. ${fix}`,
      });
      return;
    }
    firstIndex.set(id, index);
  });
  return lines;
}
