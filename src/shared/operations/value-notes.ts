/**
 * Notes on values a record write sends that Airtable takes but very likely stores as something the agent did not
 * mean (OperationOptions.valueNotes, recorded when the call was checked). Such a value is valid under Airtable's field
 * model, so refusing it would be stricter than Airtable; it is written, and every answer about the operation (its
 * first one, get_operation, tasks/get: operation-result.ts describeState) says what was stored and what to give if
 * something else was meant. One kind so far:
 * - a percent field given a number over 1 and at most 100 (`"Discount": 50`): Airtable's percent cell holds a
 *   fraction ("the underlying cell value for 12.3% is 0.123": https://airtable.com/developers/web/api/field-model,
 *   Percent), so 50 is stored as 5,000 %. A percent over 100 % is legal, hence a note and not a refusal; 1 and below
 *   (a fraction already, or 100 %) says nothing, nor does a number over 100, which is less likely a percent typed
 *   whole (the fields' description states the rule for every value: write-inputs.ts).
 *
 * Checked elsewhere and not noted here, per the field model: a rating over its max or not whole is refused before queueing
 * (check-values.ts, checkRating); a number with more decimals than the field's `precision` is stored as given
 * (`precision` is "the number of digits shown to the right of the decimal point", a display setting); a currency
 * given as "$12.50" is refused without typecast or with typecast left out, and converted with typecast: true given
 * (check-values.ts, checkFormattedNumber).
 */
import { formatCount } from "../format-count.ts";
import { isTerminal, type OperationState } from "./fold.ts";
import type { ValueNote } from "./options.ts";
import { indexList } from "./whole-request.ts";

/** Records one note names by index at most; beyond that they are counted. */
const RECORDS_LISTED = 10;

/** Whether `value`, written to a field of `type`, is a whole percent (50 for 50 %): see the top of this file. */
export function isWholePercent(type: string, value: unknown): value is number {
  return type === "percent" && typeof value === "number" && value > 1 && value <= 100;
}

/** A number as a message shows it: at most 10 significant digits (50 / 100 is 0.5, 33.3 × 100 is 3,330), grouped. */
export const shown = (n: number) => Number(n.toPrecision(10)).toLocaleString("en-US", { maximumFractionDigits: 10 });

/**
 * The whole percent record `index` of the operation's input gives `note`'s field, undefined when none. Cells are keyed
 * by field id (by name in operations stored by name).
 */
function noteValue(state: OperationState, note: ValueNote, index: number): number | undefined {
  const fields = (state.operation.input[index] as { fields?: unknown } | null | undefined)?.fields;
  if (typeof fields !== "object" || fields === null) return undefined;
  const cells = fields as Record<string, unknown>;
  const value = cells[note.fieldId] ?? (state.operation.fieldNames === undefined ? cells[note.field] : undefined);
  return isWholePercent("percent", value) ? value : undefined;
}

/**
 * One sentence per noted field, e.g. `"Discount" is a percent field, which holds a fraction (0.5 is 50 %): 50 is
 * stored as 5,000 % (results index 0); if you meant 50 %, give 0.5 (update the record with the number divided by
 * 100).` While the operation runs, or when every record was written, the records are those the call gave such a
 * value; once it has ended with records not written, only the written ones (nothing was stored for the others).
 * Empty when there is nothing to note.
 */
export function valueNotesSentence(state: OperationState): string {
  const notes = state.operation.options.valueNotes;
  if (notes === undefined) return "";
  const p = state.progress;
  const allGiven = !isTerminal(state.status) || p.recordsSucceeded === p.recordsTotal;
  const written = new Set(state.outcomes.filter((o) => "recordId" in o).map((o) => o.index));
  const said: string[] = [];
  for (const note of notes) {
    const indexes = state.operation.input
      .map((_, index) => index)
      .filter((index) => (allGiven || written.has(index)) && noteValue(state, note, index) !== undefined);
    if (indexes.length === 0) continue;
    const one = indexes.length === 1;
    const listed = indexList(indexes);
    const which =
      listed.split(", ").length > RECORDS_LISTED
        ? `${formatCount(indexes.length)} records given a number over 1 and up to 100`
        : `results index ${listed}`;
    const value = noteValue(state, note, indexes[0]!)!;
    said.push(
      `${JSON.stringify(note.field)} is a percent field, which holds a fraction (0.5 is 50 %): ${shown(value)} is ` +
        `stored as ${shown(value * 100)} % (${which}); if you meant ${shown(value)} %, give ${shown(value / 100)} ` +
        `(update ${one ? "the record" : "those records"} with ${one ? "the number" : "each number"} divided by 100).`,
    );
  }
  return said.join(" ");
}

/**
 * The notes of a call refused for other problems (plan-records.ts), one sentence per noted field, to end its refusal
 * after `Not refused, but check it before calling again:` (with the zone sentence, refusedCallZonelessTimes):
 * `"Discount" is a percent field, which holds a fraction (0.5 is 50 %): 50 would be stored as 5,000 %
 * (records[1].fields); if you meant 50 %, give 0.5 (each number divided by 100).` An
 * agent fixes what a refusal names and sends the call again; without this its whole percents were written, and it
 * heard of them only in the answer, after 5,000 % was stored (a newcomer trial's 25-record create_records). `cells` are
 * the checked records' cells, keyed by field id; `where` names record `index`'s place as the refusal's lines do. The
 * first RECORDS_LISTED places are named, the rest counted. Empty when there is nothing to note.
 */
export function refusedCallValueNotes(
  notes: readonly ValueNote[] | undefined,
  cells: readonly Record<string, unknown>[],
  where: (index: number) => string,
): string {
  if (notes === undefined) return "";
  const said: string[] = [];
  for (const note of notes) {
    const indexes = cells
      .map((_, index) => index)
      .filter((index) => isWholePercent("percent", cells[index]?.[note.fieldId]));
    if (indexes.length === 0) continue;
    const value = cells[indexes[0]!]![note.fieldId] as number;
    const places = indexes.slice(0, RECORDS_LISTED).map(where).join(", ");
    const more = indexes.length > RECORDS_LISTED ? `, … (${formatCount(indexes.length)} records in all)` : "";
    said.push(
      `${JSON.stringify(note.field)} is a percent field, which holds a fraction (0.5 is 50 %): ${shown(value)} would ` +
        `be stored as ${shown(value * 100)} % (${places}${more}); if you meant ${shown(value)} %, give ` +
        `${shown(value / 100)} (${indexes.length === 1 ? "the number" : "each number"} divided by 100).`,
    );
  }
  return said.join(" ");
}
