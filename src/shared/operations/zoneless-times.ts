/**
 * What a record write's answer says about the dates and times it gave without a zone (OperationOptions.zonelessTimes).
 * Airtable reads "ambiguous string inputs like "2020-09-05T07:00:00" and "2020-09-08"" in the dateTime field's time
 * zone, "instead of utc", and as UTC when that zone is `utc` or `client` (field model, Date and time;
 * src/shared/airtable/date-time-input.ts). The cells' description says so before a write, but an answer said only
 * "Done": a trial wrote "2026-12-09T09:00", meant as 9 am in Los Angeles, into a field shown in each viewer's zone, and
 * it was stored as 09:00 UTC (01:00 there) without a word (Session 29 agent trial). Every answer about the operation
 * (its first one, get_operation, tasks/get) now names, per field, the records given such a value and the zone it was
 * read in, and how to give another; and the records whose text, left to typecast, carries a zone in letters ("5:00 PM
 * EST": zoneInLetters), whose reading Airtable does not document. A call refused for other problems says both at the
 * end of its refusal (refusedCallZonelessTimes).
 */
import { formatCount } from "../format-count.ts";
import type { OperationOptions } from "./options.ts";
import { isTerminal, type OperationState } from "./fold.ts";
import { indexList } from "./whole-request.ts";

/** Records one field's clause names by index at most; beyond that they are counted. */
const RECORDS_LISTED = 10;

/** A date alone, or a date and time without a zone: the ISO 8601 text the field model calls "ambiguous". */
const ZONELESS = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)?$/;

/** Whether `value`, sent to a dateTime field, is a date alone or a date and time without a zone. */
export function isZonelessDateTime(value: unknown): value is string {
  return typeof value === "string" && ZONELESS.test(value);
}

/**
 * A time (H:MM, or an hour with AM/PM) followed by a time zone written in letters ("Dec 24, 2026 5:00 PM EST",
 * "2026-12-24 17:00 CET", "5pm (PST)", "5:00 pm est"): group 1 the letters, in either case. "AM" and "PM" are no
 * zone; "Z" (one letter) is ISO 8601's UTC; letters after a date alone ("2026-12-24 TBD") name no zone.
 */
const LETTER_ZONE =
  /(?:\d:[0-5]\d(?::[0-5]\d)?(?:\s*[AaPp]\.?[Mm]\.?)?|\d\s*[AaPp]\.?[Mm]\.?)\s*\(?([A-Za-z]{2,5})\)?\s*$/;

/**
 * Zone abbreviations taken in lower or mixed case too ("5:00 pm est"): letters in capitals after a time are taken
 * for a zone whatever they are, but a word after a time ("5:00 pm sharp", "9:00 today") is not one. The
 * abbreviations in common use in English for the zones of North America, Europe, India, East Asia and Australia.
 */
const LOWERCASE_ZONES: ReadonlySet<string> = new Set(
  (
    "EST EDT CST CDT MST MDT PST PDT AKST AKDT HST AST ADT NST NDT ET CT MT PT BST IST CET CEST EET EEST WET WEST " +
    "MSK JST KST HKT SGT AEST AEDT ACST ACDT AWST NZST NZDT"
  ).split(" "),
);

/**
 * Zones written in letters that name offset +00:00 exactly, ambiguous in nothing: no zone to warn of, and a time
 * ending in one is sent with Z (check-values.ts UTC_SUFFIX is built from these).
 */
export const UTC_ZONES: ReadonlySet<string> = new Set(["UTC", "GMT", "UT"]);

/**
 * The zone abbreviation a dateTime cell's text ends with ("EST" for "Dec 24, 2026 5:00 PM EST", and for "5:00 pm
 * est"), or undefined. Such text is left to Airtable's typecast (check-values.ts wordedDateTime does not convert it),
 * which documents no reading of it, and abbreviations are ambiguous (CST: US Central or China Standard Time; IST:
 * India, Ireland or Israel): the answer names it (zonelessTimesSentence), as it names a zoneless time. UTC and GMT are
 * not: they are +00:00 (wordedDateTime sends such a time with Z). Lower or mixed case is taken only for the
 * abbreviations of LOWERCASE_ZONES.
 */
export function zoneInLetters(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const letters = LETTER_ZONE.exec(value)?.[1];
  if (letters === undefined) return undefined;
  const zone = letters.toUpperCase();
  if (zone === "AM" || zone === "PM" || UTC_ZONES.has(zone)) return undefined;
  return letters === zone || LOWERCASE_ZONES.has(zone) ? letters : undefined;
}

/** The value record `index` gives `fieldId` (by `field` name in operations stored by name). */
function cellValue(state: OperationState, index: number, fieldId: string, field: string): unknown {
  const fields = (state.operation.input[index] as { fields?: unknown } | null | undefined)?.fields;
  if (typeof fields !== "object" || fields === null) return undefined;
  const cells = fields as Record<string, unknown>;
  return cells[fieldId] ?? (state.operation.fieldNames === undefined ? cells[field] : undefined);
}

/** The clause of a field whose records give a zone in letters: `"Start" (results index 1: "EST")`. */
function letteredClause(field: string, which: string, zones: readonly string[]): string {
  const named = [...new Set(zones)].map((zone) => JSON.stringify(zone)).join(", ");
  return `${JSON.stringify(field)} (${which}: ${named})`;
}

/**
 * The sentence naming text with a zone in letters, after `clauses` (letteredClause): `refused` words it for a call
 * refused before anything was sent.
 */
function letteredSentence(clauses: readonly string[], refused: boolean): string {
  return (
    `Dates and times with a zone in letters ${refused ? "would be" : "were"} left to Airtable's typecast, which does ` +
    `not document how it reads one (CST may be US Central or China Standard Time): ${clauses.join("; ")}. ` +
    (refused
      ? "To be sure of the time, give it in ISO form with its offset, "
      : "If the time stored is not the one meant, update those records in ISO form with the offset, ") +
    `such as "2026-12-24T17:00-05:00" (5 pm US Eastern in winter).`
  );
}

/** How a zoneless value of a field with `timeZone` was read (or, `would`, will be), for the sentence. */
function readAs(timeZone: string | undefined, would = false): string {
  const read = would ? "would be read" : "read";
  if (timeZone === undefined || timeZone === "utc") return `${read} as UTC`;
  if (timeZone === "client") return `${read} as UTC, though the field shows each viewer's own time zone`;
  return `${read} in the field's time zone, ${timeZone}`;
}

/** The example of a value with its offset, for `example` (a date alone gets midnight). */
function withOffset(example: string): string {
  return `${example.length === 10 ? `${example}T00:00` : example}-08:00`;
}

/**
 * `Dates and times given without a zone: "Start" (results index 0, 2) read as UTC, though the field shows each
 * viewer's own time zone; "Due" (results index 1) read in the field's time zone, Europe/Berlin. If another zone was
 * meant, update those records with the offset, such as "2026-12-09T09:00-08:00" (Los Angeles in winter).` While the
 * operation runs, or when every record was written, the records are those the call gave such a value; once it has
 * ended with records not written, only the written ones. Then, for text with a zone in letters (zoneInLetters):
 * `Dates and times with a zone in letters were left to Airtable's typecast, … "Start" (results index 0: "EST"). If the
 * time stored is not the one meant, update those records in ISO form with the offset, …`. Empty when there is
 * nothing to say.
 */
export function zonelessTimesSentence(state: OperationState): string {
  const noted = state.operation.options.zonelessTimes;
  if (noted === undefined) return "";
  const p = state.progress;
  const allGiven = !isTerminal(state.status) || p.recordsSucceeded === p.recordsTotal;
  const written = new Set(state.outcomes.filter((o) => "recordId" in o).map((o) => o.index));
  const given = state.operation.input.map((_, index) => index).filter((index) => allGiven || written.has(index));
  const which = (indexes: number[]) => {
    const listed = indexList(indexes);
    return listed.split(", ").length > RECORDS_LISTED
      ? `${formatCount(indexes.length)} records`
      : `results index ${listed}`;
  };
  return timesSentences(noted, given, (index, fieldId, field) => cellValue(state, index, fieldId, field), which, false);
}

/**
 * The sentence of a call refused for other problems (plan-records.ts), as refusedCallValueNotes says its percents:
 * `Dates and times given without a zone: "Start" (records[0].fields, records[2].fields) would be read as UTC, though
 * the field shows each viewer's own time zone. If another zone was meant, give the offset, such as
 * "2026-12-09T09:00-08:00" (Los Angeles in winter).` An agent fixes what a refusal names and sends the call again;
 * without this it heard of the zone only after the records were written. `cells` are the checked records' cells,
 * keyed by field id, as sent (a space for the T already made a T); `where` names record `index`'s place as the
 * refusal's lines do. The first RECORDS_LISTED places are named, the rest counted. Empty when there is nothing to say.
 */
export function refusedCallZonelessTimes(
  noted: OperationOptions["zonelessTimes"],
  cells: readonly Record<string, unknown>[],
  where: (index: number) => string,
): string {
  if (noted === undefined) return "";
  const placesOf = (indexes: number[]) =>
    indexes.slice(0, RECORDS_LISTED).map(where).join(", ") +
    (indexes.length > RECORDS_LISTED ? `, … (${formatCount(indexes.length)} records in all)` : "");
  const all = cells.map((_, index) => index);
  return timesSentences(noted, all, (index, fieldId) => cells[index]?.[fieldId], placesOf, true);
}

/**
 * The sentences of zonelessTimesSentence (`refused` false: the operation's answers) and refusedCallZonelessTimes
 * (`refused` true: a call refused before anything was sent), over the records `indexes`: per noted field, those whose
 * value (`valueAt`) is a zoneless date or time and those whose text ends in a zone in letters, each placed by
 * `places`. Empty when there is nothing to say.
 */
function timesSentences(
  noted: NonNullable<OperationOptions["zonelessTimes"]>,
  indexes: readonly number[],
  valueAt: (index: number, fieldId: string, field: string) => unknown,
  places: (indexes: number[]) => string,
  refused: boolean,
): string {
  const clauses: string[] = [];
  const lettered: string[] = [];
  let example: string | undefined;
  for (const { fieldId, field, timeZone } of noted) {
    const values = indexes.map((index) => ({ index, value: valueAt(index, fieldId, field) }));
    const withZone = values.flatMap(({ index, value }) => {
      const zone = zoneInLetters(value);
      return zone === undefined ? [] : [{ index, zone }];
    });
    if (withZone.length > 0) {
      lettered.push(
        letteredClause(
          field,
          places(withZone.map((z) => z.index)),
          withZone.map((z) => z.zone),
        ),
      );
    }
    const zoneless = values.filter(({ value }) => isZonelessDateTime(value));
    if (zoneless.length === 0) continue;
    example ??= zoneless[0]!.value as string;
    clauses.push(`${JSON.stringify(field)} (${places(zoneless.map((z) => z.index))}) ${readAs(timeZone, refused)}`);
  }
  const said: string[] = [];
  if (clauses.length > 0 && example !== undefined) {
    said.push(
      `Dates and times given without a zone: ${clauses.join("; ")}. If another zone was meant, ` +
        `${refused ? "give the offset" : "update those records with the offset"}, such as ` +
        `${JSON.stringify(withOffset(example))} (Los Angeles in winter).`,
    );
  }
  if (lettered.length > 0) said.push(letteredSentence(lettered, refused));
  return said.join(" ");
}
