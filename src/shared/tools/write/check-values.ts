/**
 * Cell-value checks of the record writes, against the field's type in the base's schema: a value Airtable is sure to
 * refuse is refused before anything is queued, with a message naming the field, its type and what to give
 * (`"Employees" is a number field: give a number such as 42, not "lots"`), instead of a failed record minutes later.
 *
 * Only what the schema decides is checked, and never more strictly than Airtable (Web API field model,
 * https://airtable.com/developers/web/api/field-model, and the per-base API docs' cell formats), except where a value
 * Airtable's typecast may take would be written as a day nobody asked for (a day that does not exist, a local numeric
 * date whose day and month could be swapped) or as a second option beside an existing one:
 * - null clears a cell of any writable type: always allowed. "" and [] clear only where they are a value of the
 *   type: "" a text or single select cell (with typecast, any cell Airtable converts text for: not an attachment
 *   cell), [] a cell whose value is a list (multiple select, links, multiple collaborators, attachments). Elsewhere
 *   Airtable answers 422 INVALID_VALUE_FOR_COLUMN ("" is not a number, [] not a text), so they are refused with
 *   "give null to clear it";
 * - number, currency, percent (a decimal: 0.25 is 25%), rating (a whole number up to the field's max) and duration
 *   (seconds) take JSON numbers. With typecast (the tools' default) Airtable converts strings, so a string is
 *   refused only when it holds no digit at all ("lots"); booleans, objects and arrays never convert;
 * - checkbox takes true/false; with typecast Airtable converts text and numbers too, so only objects and arrays
 *   are refused then, and, with typecast left to its default, text other than "true" and "false" (checkCheckboxText:
 *   how typecast reads "yes", "no" or "maybe" is not documented);
 * - date takes "YYYY-MM-DD" and dateTime an ISO 8601 timestamp, with or without a zone ("ambiguous string inputs like
 *   "2020-09-05T07:00:00" … will be interpreted according to the timeZone of the field"); with typecast any text with
 *   a digit may convert, except a date in a local numeric format ("03/11/2026", "13.11.2026": checkLocalDate), refused
 *   with or without typecast since its day and month may be read in either order;
 * - singleSelect takes an option's name, multipleSelects an array of names: "if the choice string does not exactly
 *   match an existing option, the request will fail with an INVALID_MULTIPLE_CHOICE_OPTIONS error unless the
 *   typecast parameter is enabled" (Airtable), so without typecast an unknown name is refused, listing the options;
 *   an option's id (sel…) is refused with typecast (an id Airtable does not resolve would become a new option
 *   named "sel…") and left to Airtable without it (the field model documents names only). Typecast creates an
 *   option only for a base creator: anyone else gets 422 INVALID_MULTIPLE_CHOICE_OPTIONS "Insufficient
 *   permissions to create new select option" (https://github.com/Airtable/airtable.js/issues/138, Airtable's
 *   answer there: adding an option is "configuring a field"), so when list bases has shown a level below creator
 *   (`nonCreator`), an unknown name is refused with or without typecast, naming the level and the options. A name
 *   that is an existing option but for case, spaces or Unicode composition ("customer", "Lead ", "LEAD" for
 *   "Customer" and "Lead": optionKey) is refused with or without typecast, naming the option to give
 *   (SelectVariantError): a second option differing only in case or spaces is a data-quality mistake, never what
 *   was meant (Airtable's own default is no typecast, "to ensure data integrity": create-records, `typecast`);
 * - text types (single line, long, rich text, email, url, phone) take strings (Airtable does not check email, url or
 *   phone formats); with typecast numbers and booleans convert, objects and arrays never;
 * - multipleRecordLinks takes an array of record ids (rec…) or of the linked records' primary field values,
 *   which plan-records.ts resolves to ids before queueing (linked-records.ts); non-text items are refused;
 * - multipleAttachments takes an array of objects ("Cell format (write)" in the field model's Attachment): a new
 *   file is `{url, filename?}` (url https:// or http://: Airtable requires it), a kept one `{id}`, which may carry
 *   what a read gives (`url`, `filename`, `size`, `type`, `width`, `height`, `thumbnails`: "include the existing
 *   array of attachment objects"). An item that is not an object with a url or an id, a url that is not http(s) and
 *   a new file's filename that is not text are refused here; other properties are left to Airtable (its answer to
 *   them is not documented: a kept item carries what a read gave, and refusing here could block a valid write).
 * - singleCollaborator takes `{id}` or `{email}` ("Cell format (write)" in the field model's Collaborator), and
 *   multipleCollaborators an array of user or group ids (the field model's write format; `{id}`/`{email}` objects are
 *   left to Airtable, as a record read back gives them): a collaborator is found by id or email, so an object with
 *   neither (`{"name": "Ada Park"}`) or an empty one (`{"id": ""}`, `""` in a list) is refused, as is a value of
 *   another shape. `id` is a user id (usr…) or group id (ugp…) and `email` an address: an email given as `id`, or an
 *   id as `email`, names no one and is refused, naming the key to use. Without typecast a text item of a multiple
 *   collaborator cell must be an id (an email or a name is not one: pass typecast: true for Airtable to convert an
 *   email); with typecast, text (an id or an email) is left to Airtable to convert. Text that is neither, a person's
 *   name ("Demo User"), is refused with or without typecast, in either field, saying to give `{"email": …}` or
 *   `{"id": "usr…"}` and where ids and emails are read: the field model finds a collaborator by id or email only, and
 *   typecast is documented as "best-effort automatic data conversion from string values" (create-records,
 *   `typecast`), with no lookup by name; the sandbox refuses a name as Airtable refuses a person it cannot find (422
 *   INVALID_VALUE_FOR_COLUMN "cannot accept the provided value", what a newcomer trial got in the worker for
 *   `"Account manager": "Demo User"`). Whether the person is a collaborator of the base is Airtable's to say.
 * - date and dateTime text with typecast that names a day only in part, no day ("Mar 2027", "2027-03", "Q1 2027",
 *   "2027") or no year ("March 15", "12/25", "5pm"), is refused, naming the days it may mean (checkPartialDate):
 *   typecast would complete it with a day or year of its own choosing (the sandbox wrote 2001-03-15);
 * - a dateTime given with a space for the T ("2026-03-04 10:00") is sent with the T (dateTimeWithT), read in the field's
 *   time zone as the field model says; so is one with a 12-hour time or an English month name ("2026-12-24 5pm",
 *   "Dec 24, 2026 5:00 PM", "24 December 2026": wordedDateTime), and a date field's date in words as its day alone
 *   ("Dec 24, 2026" → "2026-12-24", the cell format the field model documents);
 * - number, currency and percent text with typecast whose comma can only be a decimal comma ("12,50 €",
 *   "1.234,5") is refused, naming the number meant (checkDecimalComma): a parser may read it as a thousands separator;
 * - percent with typecast: a number written as text without a percent sign ("25") is refused, naming its two
 *   readings (25 % or 2,500 %: checkPercentText); "25%" and JSON numbers are taken;
 * - number, currency and percent text written as a person writes it, with a symbol, grouping commas or a percent
 *   sign ("$1,200.50", "1,200", "12%"), or grouping points ("1.200.000"), is refused without typecast and with
 *   typecast left to its default, naming the number to send (1200.5, 1200, 0.12, 1200000: checkFormattedNumber). Airtable documents typecast only as "best-effort
 *   automatic data conversion from string values" (create-records, `typecast`): which symbols and separators it
 *   reads is not, and a trial (session 29) saw "$1,200.50" queued and refused inside the operation. Given
 *   `typecast: true` explicitly, such text is left to Airtable (a guess at what is safe, not a documented rule);
 * - number, currency and percent text whose one point or comma is followed by exactly three digits ("1.200",
 *   "12.500 €", "1,200") is refused without typecast and with typecast left out, naming both readings, a decimal or a
 *   thousands separator (1.2 or 1200: checkAmbiguousSeparator), as a local numeric date names both days; given
 *   `typecast: true` explicitly it is sent as before;
 * - duration text other than a plain number or h:mm[:ss] ("2h", "90 minutes", "1h 30m", "PT2H") is refused without
 *   typecast and with typecast left to its default, naming the seconds to send (7200, 5400: checkDurationText): the
 *   cell holds seconds, and which unit words typecast reads is not documented; given `typecast: true` explicitly it is
 *   sent as before;
 * - barcode takes `{text, type?}` (field model, Barcode); with typecast, text or a number converts to its text. Text,
 *   numbers, booleans and lists otherwise are refused, naming the object to give; an object's keys are Airtable's.
 * Other types (unknown future ones) are left to Airtable. Read-only types are refused earlier
 * (check-fields.ts).
 */
import type { AirtableField } from "../../airtable/schemas.ts";
import { shown } from "../../operations/value-notes.ts";
import { UTC_ZONES } from "../../operations/zoneless-times.ts";
import { baseLabel, roleOf, type BaseAccess } from "../../base-permissions.ts";
import { formatCount } from "../../format-count.ts";
import { quotedValue, ToolInputError } from "../tool-input-error.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** An ISO 8601 date and time, with a zone or without one ("ambiguous", read in the field's time zone: field model). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;
/** Options listed in a message at most; the rest are counted (describe_table lists them all). */
const MAX_LISTED_OPTIONS = 25;

const NUMERIC_TYPES = new Set(["number", "currency", "percent", "rating", "duration"]);
const TEXT_TYPES = new Set(["singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"]);
/** Types whose cell value is a list: [] clears them. */
const LIST_TYPES = new Set(["multipleSelects", "multipleRecordLinks", "multipleCollaborators", "multipleAttachments"]);
/** Writable types whose value is neither text nor a list: "" (without typecast) and [] are not values of them. */
const OTHER_KNOWN_TYPES = new Set([
  ...NUMERIC_TYPES,
  "checkbox",
  "date",
  "dateTime",
  "singleSelect",
  "singleCollaborator",
  "barcode",
]);

/**
 * How each checked type is named in messages, and what to give, worded as a kind of value with an example ("a number
 * such as 42"): an agent copies a bare example ("give 42") literally.
 */
const TYPE_WORDS: Record<string, { what: string; example: string }> = {
  number: { what: "a number field", example: "a number such as 42" },
  currency: { what: "a currency field", example: "a plain number such as 1250.5 (no currency symbol)" },
  percent: { what: "a percent field", example: "a decimal such as 0.25 (0.25 is 25%)" },
  duration: { what: "a duration field", example: "a number of seconds such as 5400 (1 h 30 min)" },
  checkbox: { what: "a checkbox field", example: "true or false" },
  date: { what: "a date field", example: 'a date as YYYY-MM-DD, such as "2026-03-14"' },
  dateTime: { what: "a date and time field", example: 'an ISO 8601 date and time such as "2026-03-14T15:30:00.000Z"' },
  singleLineText: { what: "a text field", example: "a string" },
  multilineText: { what: "a long text field", example: "a string" },
  richText: { what: "a rich text field", example: 'a Markdown string such as "some **text**"' },
  email: { what: "an email field", example: 'a string such as "ada@example.com"' },
  url: { what: "a URL field", example: 'a string such as "https://example.com"' },
  phoneNumber: { what: "a phone number field", example: 'a string such as "+1 415 555 0100"' },
  multipleRecordLinks: {
    what: "a link field",
    example: 'an array of record ids such as ["rec0123456789abcd"] (from list_records or search_records)',
  },
  multipleAttachments: {
    what: "an attachment field",
    example:
      'an array such as [{"url": "https://example.com/file.pdf"}] (optionally with "filename"; to keep a file ' +
      'already there: {"id": "att…"})',
  },
  rating: { what: "a rating field", example: "a whole number of stars such as 3" },
  singleSelect: { what: "a single select field", example: 'an option\'s name such as "Lead"' },
  multipleSelects: { what: "a multiple select field", example: 'an array of option names such as ["Lead", "VIP"]' },
  singleCollaborator: {
    what: "a collaborator field",
    example: 'an object such as {"id": "usr…"} or {"email": "ada@example.com"}',
  },
  multipleCollaborators: {
    what: "a multiple collaborator field",
    example: 'an array of user or group ids such as ["usr…"]',
  },
  barcode: { what: "a barcode field", example: 'an object such as {"text": "0123456789"}' },
};

/**
 * A value that starts like an ISO date (YYYY-MM-DD, month and day of one or two digits, then the end, a time after
 * `T`, `t` or a space; surrounding spaces allowed) must name a day that exists: "2026-02-30" or "2026-13-01" is
 * refused, whatever typecast says, rather than left to a parser that may roll it over to another day (the
 * sandbox's, like JavaScript's Date, makes 2026-02-30 into March 2) and so write a date nobody asked for.
 */
function checkCalendarDate(value: string, where: string, name: string): void {
  const match = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?=$|[Tt ]|\s*$)/.exec(value);
  if (match === null) return;
  const day = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  refuseMissingDay(value, where, name, day, { year: match[1]!, month: match[2]! });
}

/**
 * Refuses `value` when the day it names (`named`) does not exist in the proleptic Gregorian calendar, saying why:
 * the month's length, or that there is no such month. `written`: the year and month as the text wrote them (e.g.
 * "0999", "13"), for the message; the numbers otherwise.
 */
function refuseMissingDay(
  value: string,
  where: string,
  name: string,
  named: { year: number; month: number; day: number },
  written: { year: string; month: string } = { year: String(named.year), month: String(named.month) },
): void {
  const days = daysInMonth(named.year, named.month);
  if (named.day >= 1 && named.day <= days) return;
  const why =
    days === 0 ? `there is no month ${written.month}` : `${monthName(named.month)} ${written.year} has ${days} days`;
  throw new ToolInputError(`${where}: ${name} is given ${quotedValue(value)}, a day that does not exist (${why}).`);
}

/**
 * A date written in a local, all-numeric format: day and month of one or two digits in either order, then the year
 * (four digits, or two), separated by "/", "." or "-" ("03/11/2026", "13.11.2026", "3-11-26"), optionally followed by
 * a time. Airtable's date cell format is "YYYY-MM-DD" (field model, Date); what its typecast makes of other text is not
 * documented, and a numeric date's order is the writer's locale: "03/11/2026" is 3 November in most of the world and
 * March 11 in the US, and the sandbox (JavaScript's Date) stores it as 2026-03-11 without a word. So, with or without
 * typecast, such a value is refused unless both orders name the same day ("05/05/2026"), naming the date(s) it can
 * mean as YYYY-MM-DD; one that names no day either way is refused as no date. A newcomer trial wrote "03/11/2026"
 * (meant day first) as March 11, and "13/11/2026" failed in the worker with Airtable's bare "cannot accept the provided
 * value".
 */
const LOCAL_NUMERIC_DATE = /^\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?=$|[Tt ,]|\s*$)(.*)$/s;

/** `{year}-{month}-{day}` with two-digit month and day: the ISO 8601 date Airtable takes. */
const isoDate = (year: number, month: number, day: number): string =>
  `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;

/** "3 November 2026": a day in words that no locale reads in another order, for messages. */
const dayInWords = (year: number, month: number, day: number): string => `${day} ${monthName(month)} ${year}`;

/**
 * Refuses a date in a local numeric format (LOCAL_NUMERIC_DATE) for a date or dateTime field, with the ISO 8601 form
 * of each day it can mean; for a dateTime field given a time ("03/11/2026 15:30"), the suggestion keeps it
 * ("2026-11-03T15:30", read in the field's time zone as the field model says of a time without a zone). Allows
 * everything else, and a numeric date whose two orders name the same day.
 */
function checkLocalDate(field: AirtableField, value: string, where: string): void {
  const match = LOCAL_NUMERIC_DATE.exec(value);
  if (match === null) return;
  const [first, second] = [Number(match[1]), Number(match[3])];
  const shortYear = match[4]!.length === 2;
  const year = shortYear ? 2000 + Number(match[4]) : Number(match[4]);
  const readings: Reading[] = [];
  if (second >= 1 && first >= 1 && first <= daysInMonth(year, second)) {
    readings.push({ order: "day first", month: second, day: first });
  }
  if (first >= 1 && second >= 1 && second <= daysInMonth(year, first)) {
    readings.push({ order: "month first", month: first, day: second });
  }
  if (readings.length === 2 && first === second) return;
  const rest = (match[5] ?? "").replace(/^[Tt,]/, "").trim();
  const clock = field.type === "dateTime" ? clockTime(rest) : undefined;
  const withTime = clock === undefined ? undefined : `T${clock}`;
  // A dateTime given a time this cannot read ("noon"): the suggestion cannot carry it, and a date alone would be
  // written at midnight, so the message says the time is still to be added rather than offering the bare day.
  const timeLeft =
    field.type === "dateTime" && rest !== "" && clock === undefined
      ? ` Its time, ${JSON.stringify(rest)}, is not in that form: add it as THH:mm (24-hour), since a date alone is ` +
        "written as midnight."
      : "";
  const iso = (r: Reading) => JSON.stringify(isoDate(year, r.month, r.day) + (withTime ?? ""));
  const form =
    field.type !== "dateTime"
      ? "YYYY-MM-DD"
      : withTime === undefined
        ? "YYYY-MM-DD, or with a time as YYYY-MM-DDTHH:mm"
        : "YYYY-MM-DDTHH:mm (read in the field's time zone; add Z or an offset for another)";
  const yearNote = shortYear ? `, taking the year as ${year}` : "";
  const start = `${where}: ${JSON.stringify(field.name)} is given ${quotedValue(value)}, a date in a local format`;
  const [a, b] = readings;
  if (a === undefined) {
    throw new ToolInputError(
      `${start} that names no day in either order (day/month or month/day). Give the date as ${form}.`,
    );
  }
  if (b === undefined) {
    throw new ToolInputError(
      `${start} (${a.order}: ${dayInWords(year, a.month, a.day)}${yearNote}). Airtable's API takes ${form}: ` +
        `give ${iso(a)}.${timeLeft}`,
    );
  }
  throw new ToolInputError(
    `${start} that reads as ${dayInWords(year, a.month, a.day)} (${a.order}) or ${dayInWords(year, b.month, b.day)} ` +
      `(${b.order})${yearNote}, and Airtable may store either. Give the one meant as ${form}: ${iso(a)} or ` +
      `${iso(b)}.${timeLeft}`,
  );
}

/** A timestamp with a zone: the day written (1–3), the time (4–6) and the zone (7), "Z" or an offset. */
const ZONED_TIMESTAMP =
  /^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([Zz]|[+-]\d{2}:?\d{2})\s*$/;

/**
 * Refuses, for a date field (a day, no time), a timestamp with a zone whose day in UTC is not the day written:
 * "2026-12-20T23:30:00-08:00" is 2026-12-21 in UTC. Airtable keeps a date cell as a "UTC date" (field model, Date),
 * and typecast reads such a timestamp as an instant (the sandbox stores 2026-12-21 for it), so the cell would show a
 * day after (or before) the one written, without a word: a trial setting a project's deadline from a Los Angeles
 * evening met it. The message names both days as YYYY-MM-DD. A timestamp whose UTC day is the day written, and
 * every other value, pass.
 */
function checkZonedDay(field: AirtableField, value: string, where: string): void {
  const m = ZONED_TIMESTAMP.exec(value);
  if (m === null) return;
  const written = `${m[1]}-${m[2]}-${m[3]}`;
  const zone = m[7]!.toUpperCase() === "Z" ? "Z" : `${m[7]!.slice(0, 3)}:${m[7]!.slice(-2)}`;
  const instant = Date.parse(`${written}T${m[4]}:${m[5]}:${m[6] ?? "00"}${zone}`);
  if (Number.isNaN(instant)) return;
  const utcDay = new Date(instant).toISOString().slice(0, 10);
  if (utcDay === written) return;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is a date field (a day, no time) given ${quotedValue(value)}, a time ` +
      `with a zone: that instant is ${utcDay} in UTC, the day Airtable stores for a date cell (a "UTC date"), not ` +
      `the ${written} written. Give the day meant as YYYY-MM-DD: "${written}" or "${utcDay}".`,
  );
}

/**
 * The 24-hour "HH:mm" (or "HH:mm:ss") of a clock time written after a local date: "15:30", "9:05:10", or 12-hour
 * with am/pm ("5pm", "5:30 PM", "12 a.m."). undefined for anything else ("noon", "25:00", "13pm"), and for a bare
 * hour without am/pm ("17": an hour or a day count?). A trial wrote "12/24/2026 5pm" into a dateTime field and was
 * told to give "2026-12-24", which would have written midnight.
 */
function clockTime(text: string): string | undefined {
  const m = /^(\d{1,2})(?::([0-5]\d)(?::([0-5]\d))?)?\s*(?:([AaPp])\.?\s*[Mm]\.?)?$/.exec(text);
  if (m === null || (m[2] === undefined && m[4] === undefined)) return undefined;
  let hour = Number(m[1]);
  if (m[4] !== undefined) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (m[4].toLowerCase() === "p" ? 12 : 0);
  } else if (hour > 23) return undefined;
  return `${String(hour).padStart(2, "0")}:${m[2] ?? "00"}${m[3] === undefined ? "" : `:${m[3]}`}`;
}

/** One day a local numeric date can name: its order ("day first", "month first"), month (1–12) and day. */
interface Reading {
  order: string;
  month: number;
  day: number;
}

/** A month's English name ("February"), for messages. */
const monthName = (month: number): string =>
  new Date(Date.UTC(2000, month - 1, 1)).toLocaleString("en-US", { month: "long", timeZone: "UTC" });

/** Days in `month` (1–12) of `year` in the proleptic Gregorian calendar; 0 for a month that does not exist. */
function daysInMonth(year: number, month: number): number {
  if (month < 1 || month > 12) return 0;
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** What checkCellValue answers for a value that adds no select option. */
const NO_NEW_OPTIONS: readonly string[] = Object.freeze([]);

/**
 * The form two select option names are compared in to tell a variant of the same option: Unicode-composed (NFC:
 * "é" typed as e + accent is "é"), trimmed, inner runs of whitespace made one space, lowercased. "Lead ", "LEAD"
 * and "lead" are all "lead". Airtable itself matches the exact name (field model, Single select), so two names of
 * the same form are two options in Airtable, which a person reading the base cannot tell apart.
 */
export function optionKey(name: string): string {
  return name.normalize("NFC").trim().replace(/\s+/gu, " ").toLowerCase();
}

/**
 * A select value that is not an option but equals one (or several: Airtable allows "Lead" beside "lead") in
 * optionKey's form: `given` as the call gave it, `existing` the options it matches, as the field spells them.
 */
export interface SelectVariant {
  given: string;
  existing: string[];
}

/**
 * The refusal of a select cell whose values are existing options but for case, spaces or Unicode composition
 * ("customer" for "Customer", "Lead " for "Lead"), with or without typecast: without it Airtable refuses the record
 * (INVALID_MULTIPLE_CHOICE_OPTIONS); with it Airtable adds a second option beside the existing one ("a new choice
 * will be created if one does not exactly match", field model, Single select), which splits the base's categories
 * (a filter or group on "Customer" misses the record) and is never what the agent meant. Carries every such value
 * of the cell, so that FieldChecker can name them all in one refusal for the call (check-fields.ts,
 * selectVariantsRefusal); its message is the refusal of this cell alone.
 */
export class SelectVariantError extends ToolInputError {
  override name = "SelectVariantError";
  readonly variants: readonly SelectVariant[];

  constructor(field: AirtableField, variants: readonly SelectVariant[], where: string) {
    super(selectVariantSentence(field, variants, where));
    this.variants = variants;
  }
}

/** `"Customer"` or `"Lead" or "lead"`: the existing options a variant matches, as the agent may give them. */
export const existingOptions = (existing: readonly string[]): string =>
  existing.map((e) => JSON.stringify(e)).join(" or ");

/** Why a variant is refused, in the words every variant refusal shares. */
export const VARIANT_WHY =
  "Airtable matches option names exactly (case and spaces included), so it would refuse the record without " +
  "typecast, and with typecast add a second option that differs only in case or spaces, splitting the field's " +
  "categories";

/** "a single select field" or "a multiple select field": how a select refusal names the field's type. */
export const selectKind = (field: Pick<AirtableField, "type">) =>
  field.type === "multipleSelects" ? "a multiple select field" : "a single select field";

/**
 * The refusal of one select value that is an existing option but for case or spaces, given at `where`: `fields:
 * "customer" is not an option of "Stage" (a single select field), but "Customer" is: <VARIANT_WHY>. Give
 * "Customer".` The one sentence for a single variant, whether a cell (SelectVariantError) or a whole call
 * (check-fields.ts, selectVariantsRefusal) refuses it.
 */
export function variantSentence(field: Pick<AirtableField, "name" | "type">, variant: SelectVariant, where: string) {
  const existing = existingOptions(variant.existing);
  return (
    `${where}: ${quotedValue(variant.given)} is not an option of ${JSON.stringify(field.name)} ` +
    `(${selectKind(field)}), but ${existing} ${variant.existing.length === 1 ? "is" : "are"}: ${VARIANT_WHY}. ` +
    `Give ${existing}.`
  );
}

function selectVariantSentence(field: AirtableField, variants: readonly SelectVariant[], where: string): string {
  const what = selectKind(field);
  const [first, ...rest] = variants;
  if (rest.length === 0) return variantSentence(field, first!, where);
  const given = variants.map((v) => quotedValue(v.given)).join(", ");
  const instead = variants.map((v) => `${existingOptions(v.existing)} for ${quotedValue(v.given)}`).join(", ");
  return (
    `${where}: ${given} are not options of ${JSON.stringify(field.name)} (${what}), but differ from existing ones ` +
    `only in case or spaces: ${VARIANT_WHY}. Give ${instead}.`
  );
}

const isEmpty = (value: unknown) =>
  value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
const isObjectLike = (value: unknown) => typeof value === "object" && value !== null;
const hasDigit = (value: string) => /\d/.test(value);

export interface Choice {
  id?: string;
  name: string;
}

/** A select field's options with a name, in the field's order (anything else in `choices` is skipped). */
export function choicesOf(field: AirtableField): Choice[] {
  const choices = field.options?.choices;
  if (!Array.isArray(choices)) return [];
  return choices.filter((c): c is Choice => isObjectLike(c) && typeof (c as Choice).name === "string");
}

/**
 * Refuses `value` for `field` when Airtable would (see the top of this file), with a ToolInputError naming `where`
 * (e.g. `records[3].fields`), the field, its type and what to give, with an example; without typecast, also
 * whether typecast would have let Airtable convert the value. Allows everything else. `nonCreator`:
 * the user's access to the base when list bases (remembered, schema-cache.ts) showed a level below creator, who
 * may not add select options. Returns the select options the value names that the field does not have, accepted
 * only because typecast will add them ("If typecast is enabled, a new choice will be created if one does not
 * exactly match", field model, Single select): the base's schema changes with the write. Empty for every other
 * value. A select value that is an existing option but for case or spaces throws SelectVariantError (checkSelect).
 * `typecastLeftOut`: the call gave no typecast (on by default, write-inputs.ts typecastOf); number text written with
 * symbols or separators is then refused as without typecast (checkFormattedNumber).
 */
export function checkCellValue(
  field: AirtableField,
  value: unknown,
  where: string,
  typecast: boolean,
  nonCreator?: BaseAccess,
  typecastLeftOut = false,
): readonly string[] {
  const name = JSON.stringify(field.name);
  if (isEmpty(value)) {
    if (value === null || value === undefined || clearsAs(field.type, value as "" | unknown[], typecast))
      return NO_NEW_OPTIONS;
    const what = TYPE_WORDS[field.type]?.what ?? `a ${field.type} field`;
    throw new ToolInputError(
      `${where}: ${name} is ${what}: ${quotedValue(value)} is not a value of it${value === "" && !typecast ? " without typecast" : ""}` +
        `, so Airtable would refuse it. To clear the cell, give null.`,
    );
  }
  const words = TYPE_WORDS[field.type];
  const wrongType = (example = words?.example ?? ""): never => {
    throw new ToolInputError(
      `${where}: ${name} is ${words?.what ?? `a ${field.type} field`}: give ${example}, not ${quotedValue(value)}` +
        `${typecast ? "" : typecastWouldTry(field, value, where)}.`,
    );
  };

  if (NUMERIC_TYPES.has(field.type)) {
    if (typeof value === "number") {
      if (!Number.isFinite(value)) wrongType();
      if (field.type === "rating") checkRating(field, value, where);
      return NO_NEW_OPTIONS;
    }
    if (typeof value === "string" && typecast && hasDigit(value)) {
      if (field.type !== "duration" && field.type !== "rating") checkDecimalComma(field, value, where);
      if (typecastLeftOut) checkAmbiguousSeparator(field, value, where, true);
      if (typecastLeftOut) checkFormattedNumber(field, value, where);
      if (field.type === "percent") checkPercentText(field, value, where);
      if (typecastLeftOut && field.type === "duration") checkDurationText(field, value, where);
      return NO_NEW_OPTIONS;
    }
    if (field.type === "rating") return wrongType(ratingExample(field));
    if (typeof value === "string" && !typecast) checkAmbiguousSeparator(field, value, where, false);
    if (field.type === "duration" && typeof value === "string") {
      const seconds = durationSeconds(value);
      return wrongType(seconds === undefined ? undefined : secondsToSend(seconds));
    }
    const meant = typeof value === "string" ? numberMeant(field, value) : undefined;
    return wrongType(meant === undefined ? undefined : numberToSend(field, meant));
  }
  if (TEXT_TYPES.has(field.type)) {
    if (typeof value === "string") {
      checkTextLength(field, value, where);
      return NO_NEW_OPTIONS;
    }
    if (typecast && (typeof value === "number" || typeof value === "boolean")) return NO_NEW_OPTIONS;
    return wrongType();
  }
  switch (field.type) {
    case "checkbox":
      if (typeof value === "boolean") return NO_NEW_OPTIONS;
      if (typecastLeftOut && typeof value === "string") checkCheckboxText(field, value, where);
      if (typecast && !isObjectLike(value)) return NO_NEW_OPTIONS;
      return wrongType();
    case "date":
      if (typeof value === "string") checkCalendarDate(value, where, name);
      if (typeof value === "string") checkWordedDay(value, where, name);
      if (typeof value === "string") checkLocalDate(field, value, where);
      if (typeof value === "string") checkZonedDay(field, value, where);
      if (typeof value === "string" && typecast) checkPartialDate(field, value, where);
      if (typeof value === "string" && (DATE.test(value) || (typecast && hasDigit(value)))) return NO_NEW_OPTIONS;
      if (typecast && typeof value === "number") return NO_NEW_OPTIONS;
      return wrongType();
    case "dateTime":
      if (typeof value === "string") checkCalendarDate(value, where, name);
      if (typeof value === "string") checkWordedDay(value, where, name);
      if (typeof value === "string") checkLocalDate(field, value, where);
      if (typeof value === "string" && typecast) checkPartialDate(field, value, where);
      if (typeof value === "string" && (DATE_TIME.test(value) || DATE.test(value) || (typecast && hasDigit(value)))) {
        return NO_NEW_OPTIONS;
      }
      if (typecast && typeof value === "number") return NO_NEW_OPTIONS;
      return wrongType();
    case "singleSelect":
      return checkSelect(field, value, where, typecast, false, nonCreator);
    case "multipleSelects":
      return checkSelect(field, value, where, typecast, true, nonCreator);
    case "multipleRecordLinks": {
      if (typecast && typeof value === "string") return NO_NEW_OPTIONS;
      if (!Array.isArray(value)) return wrongType();
      value.forEach((item, i) => {
        // Text that is not a record id names a linked record by its primary field value (resolved later).
        if (typeof item === "string") return;
        // A cell copied from an expandLinks read ([{id, name}]): the write takes the ids alone.
        const copied = value.every((v) => isObjectLike(v) && typeof (v as { id?: unknown }).id === "string");
        if (copied) {
          const ids = value.map((v) => (v as { id: string }).id);
          throw new ToolInputError(
            `${where}: ${name} is a link field: give the linked records' ids alone, ${quotedValue(ids, 120)}, not ` +
              `${quotedValue(value)}: a read with expandLinks shows each link as {id, name}, and a write takes ` +
              `record ids (or the linked records' primary field values).`,
          );
        }
        throw new ToolInputError(
          `${where}: ${name} is a link field: give an array of record ids such as ["rec0123456789abcd"] (from ` +
            `list_records or search_records) or of the linked records' primary field values such as ["Acme"], ` +
            `not ${quotedValue(value)}: item ${i} (${quotedValue(item)}) is neither.`,
        );
      });
      return NO_NEW_OPTIONS;
    }
    case "multipleAttachments": {
      if (!Array.isArray(value)) return wrongType();
      for (const item of value) {
        const entry = isObjectLike(item) && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
        if (entry === undefined || (typeof entry.url !== "string" && typeof entry.id !== "string")) wrongType();
        // "We also require URLs used to upload have the https:// or http:// protocol" (field model, Attachment).
        if (typeof entry?.id !== "string" && typeof entry?.url === "string" && !/^https?:\/\//i.test(entry.url)) {
          throw new ToolInputError(
            `${where}: ${name} is an attachment field: the url ${quotedValue(entry.url)} must start with https:// (or ` +
              `http://), as Airtable downloads the file from it. To upload a file's bytes instead, use upload_attachment.`,
          );
        }
        checkAttachmentFilename(field, entry as Record<string, unknown>, where);
      }
      return NO_NEW_OPTIONS;
    }
    case "singleCollaborator":
      if (typeof value === "string") {
        // Text names a collaborator only as an id or an email, which typecast converts; a name never (below).
        if (namesCollaborator(value)) return typecast ? NO_NEW_OPTIONS : wrongType();
        checkCollaborator(field, value, value, where, typecast);
      }
      if (!isObjectLike(value) || Array.isArray(value)) return wrongType();
      checkCollaborator(field, value, value, where, typecast);
      return NO_NEW_OPTIONS;
    case "multipleCollaborators": {
      if (typeof value === "string" && typecast) {
        // Airtable's typecast reads "a, b" as two collaborators (as the sandbox does): each part checked alone.
        for (const part of value.split(",")) if (part.trim() !== "") checkCollaborator(field, part, value, where, true);
        return NO_NEW_OPTIONS;
      }
      if (!Array.isArray(value)) return wrongType();
      for (const item of value) {
        if (typeof item !== "string" && (!isObjectLike(item) || Array.isArray(item))) return wrongType();
        checkCollaborator(field, item, value, where, typecast);
      }
      return NO_NEW_OPTIONS;
    }
    case "barcode": {
      // Field model, Barcode: the cell is `{text, type?}`; with typecast Airtable converts text (and the sandbox a
      // number) to its `text`. Text or a number without typecast failed in the worker with Airtable's bare "cannot
      // accept the provided value" (a types trial, session 26: `"Code": "0123"`). An object's keys are left to
      // Airtable, as before.
      if (isObjectLike(value) && !Array.isArray(value)) return NO_NEW_OPTIONS;
      if (typecast && (typeof value === "string" || typeof value === "number")) return NO_NEW_OPTIONS;
      const text = typeof value === "string" || typeof value === "number" ? String(value) : "0123456789";
      return wrongType(`an object such as ${JSON.stringify({ text })}`);
    }
    default:
      return NO_NEW_OPTIONS;
  }
}

/** A date and time written with a space for ISO 8601's T ("2026-03-04 10:00", as SQL and spreadsheets write it). */
const SPACED_DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)$/;

/**
 * The value to send for a dateTime cell given as a date and time with a space where ISO 8601 has a T ("2026-03-04
 * 10:00"): the same text with the T ("2026-03-04T10:00"), a form the field model documents ("ambiguous string inputs
 * like "2020-09-05T07:00:00" … will be interpreted according to the timeZone of the field"), so it is written without
 * typecast and read in the field's time zone. With the space, it was refused without typecast and, with typecast,
 * left to a parse Airtable does not document (the sandbox's JavaScript Date read it in the process's own time zone:
 * a types trial, session 26, wrote 10:00 into a Europe/Berlin field as 11:00 Berlin). A dateTime's date in words or
 * with a 12-hour time is sent in ISO form too (wordedDateTime), and so is a date field's, as its day alone
 * ("December 24, 2026" → "2026-12-24"). Any other value unchanged.
 */
export function dateTimeWithT(field: Pick<AirtableField, "type">, value: unknown): unknown {
  if (typeof value !== "string") return value;
  // A date field (a day, no time): a date in words is sent as its day ("Dec 24, 2026" → "2026-12-24"), the
  // "YYYY-MM-DD" its cell format documents (field model, Date), as a dateTime field's is. Left to typecast, the
  // sandbox's JavaScript Date failed "24th Dec 2026" in the worker, and without typecast it was refused. A time
  // after it ("Dec 24, 2026 5:00 PM") is dropped, as a date cell keeps none; its day is the day written, with no
  // zone to move it (text with one is not read: wordedDateTime).
  if (field.type === "date") return wordedDateTime(value)?.slice(0, 10) ?? value;
  if (field.type !== "dateTime") return value;
  const match = SPACED_DATE_TIME.exec(value);
  return match === null ? (wordedDateTime(value) ?? value) : `${match[1]}T${match[2]}`;
}

/** English month names and their usual abbreviations ("Sept" too), lower-cased, to the month's number. */
const MONTHS: ReadonlyMap<string, number> = new Map(
  [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
  ].flatMap((name, i) => [
    [name, i + 1] as const,
    [name.slice(0, 3), i + 1] as const,
    ...(name === "september" ? [["sept", 9] as const] : []),
  ]),
);

/**
 * Four digits in a row: text holding them may name a year ("2027", and "20270315" or a timestamp, left to typecast
 * as before), so only text without them is refused as naming no year.
 */
const FOUR_DIGITS = /\d{4}/;
/** "Mar 2027", "March, 2027": group 1 the month's name, 2 the year. */
const MONTH_YEAR = /^\s*([A-Za-z]{3,9})\.?,?\s+(\d{4})\s*$/;
/** "2027-03", "2027/3": group 1 the year, 2 the month. */
const YEAR_MONTH = /^\s*(\d{4})[-/.](\d{1,2})\s*$/;
/** "03/2027", "3.2027": group 1 the month, 2 the year. */
const MONTH_SLASH_YEAR = /^\s*(\d{1,2})[-/.](\d{4})\s*$/;
/** "Q1 2027", "2027 Q1": group 1 or 4 the quarter, 2 or 3 the year. */
const QUARTER = /^\s*(?:Q([1-4]),?\s*(\d{4})|(\d{4}),?\s*Q([1-4]))\s*$/i;
/** "2027" alone: group 1 the year. */
const YEAR_ALONE = /^\s*(\d{4})\s*$/;
/** "March 15", "Mar 15th 5pm", "15 March", "Friday, 15th March": a month in words and a day; group 1/2 or 4/3. */
const MONTH_DAY =
  /^\s*(?:[A-Za-z]+,?\s+)?(?:([A-Za-z]{3,9})\.?\s+(\d{1,2})|(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?)(?:st|nd|rd|th)?(?![\d])/;

/**
 * A month in words, a day and a two-digit year, with or without a weekday before: "17-Mar-27" (DD-MON-YY, a
 * spreadsheet's and Oracle's), "Mar 17, 27", "Mar 17 '27". Group 1/2 or 4/3 the day and month, 5 the year's digits.
 */
const TWO_DIGIT_YEAR =
  /^\s*(?:[A-Za-z]+,?\s+)?(?:(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]{3,9})\.?|([A-Za-z]{3,9})\.?[\s-]+(\d{1,2})(?:st|nd|rd|th)?),?[\s-]+'?(\d{2})\s*$/;

/** The first and last day of months `from`..`to` of `year`, as checkPartialDate's examples. */
function spanOf(year: number, from: number, to: number): [string, string] | undefined {
  if (from < 1 || to > 12) return undefined;
  return [isoDate(year, from, 1), isoDate(year, to, daysInMonth(year, to))];
}

/**
 * The days text names only partly ("Mar 2027", "2027-03", "Q1 2027", "2027": no day) as the first and last it may
 * mean, `[]` when it names no day but its months cannot be read, undefined when the text has a day (or is not such
 * text).
 */
function dayless(value: string): string[] | undefined {
  const monthYear = MONTH_YEAR.exec(value);
  if (monthYear !== null) {
    const month = MONTHS.get(monthYear[1]!.toLowerCase());
    return month === undefined ? undefined : spanOf(Number(monthYear[2]), month, month);
  }
  const yearMonth = YEAR_MONTH.exec(value) ?? MONTH_SLASH_YEAR.exec(value);
  if (yearMonth !== null) {
    const [year, month] = YEAR_MONTH.test(value)
      ? [Number(yearMonth[1]), Number(yearMonth[2])]
      : [Number(yearMonth[2]), Number(yearMonth[1])];
    return spanOf(year, month, month) ?? [];
  }
  const quarter = QUARTER.exec(value);
  if (quarter !== null) {
    const q = Number(quarter[1] ?? quarter[4]);
    return spanOf(Number(quarter[2] ?? quarter[3]), q * 3 - 2, q * 3);
  }
  const year = YEAR_ALONE.exec(value);
  return year === null ? undefined : spanOf(Number(year[1]), 1, 12);
}

/**
 * Refuses date or dateTime text that names a day only in part, which Airtable's typecast would complete with a part
 * of its own choosing: no day ("Mar 2027", "2027-03", "03/2027", "Q1 2027", "2027") or no year ("March 15", "15
 * March", "12/25", "Dec 24 5pm", "5pm", "week 12"). The field model documents a date cell as an ISO 8601 day
 * (https://airtable.com/developers/web/api/field-model, Date) and typecast only as "best-effort automatic data
 * conversion from string values" (create-records), so which day or year it picks is not documented; the sandbox's
 * parser (JavaScript's Date, as many are) wrote "Mar 2027" as 2027-03-01 and "March 15" as 2001-03-15 without a word
 * (h-agent33's trial). Names the days meant when the text shows them (the month's first and last day; this year's
 * and next year's March 15; a two-digit year, "17-Mar-27", as 20YY), with or without typecast. Text without a digit is
 * left to the type's own refusal, and a local numeric date with a two-digit year ("05/05/26") to checkLocalDate.
 * Throws ToolInputError.
 */
function checkPartialDate(field: AirtableField, value: string, where: string): void {
  if (!hasDigit(value)) return;
  const what = `${JSON.stringify(field.name)} is ${TYPE_WORDS[field.type]?.what ?? `a ${field.type} field`}`;
  const form = field.type === "dateTime" ? "YYYY-MM-DD (with a time: YYYY-MM-DDTHH:mm)" : "YYYY-MM-DD";
  const span = dayless(value);
  if (span !== undefined) {
    const such = span.length === 2 ? `, such as ${JSON.stringify(span[0])} or ${JSON.stringify(span[1])}` : "";
    throw new ToolInputError(
      `${where}: ${what}, given ${quotedValue(value)}, which names no day: Airtable's typecast would pick a day of ` +
        `its own, and which one is not documented. Give the day meant as ${form}${such}.`,
    );
  }
  if (FOUR_DIGITS.test(value) || LOCAL_NUMERIC_DATE.test(value)) return;
  const short = TWO_DIGIT_YEAR.exec(value);
  const shortMonth = short === null ? undefined : MONTHS.get((short[2] ?? short[3])!.toLowerCase());
  if (short !== null && shortMonth !== undefined) {
    const shortDay = Number(short[1] ?? short[4]);
    const century = 2000 + Number(short[5]);
    const such =
      shortDay >= 1 && shortDay <= daysInMonth(century, shortMonth)
        ? `, such as ${JSON.stringify(isoDate(century, shortMonth, shortDay))}`
        : "";
    throw new ToolInputError(
      `${where}: ${what}, given ${quotedValue(value)}, which gives its year in two digits: Airtable's typecast ` +
        `would pick the century of its own, and which one is not documented. Give the day meant as ${form}${such}.`,
    );
  }
  const monthDay = MONTH_DAY.exec(value);
  const month = monthDay === null ? undefined : MONTHS.get((monthDay[1] ?? monthDay[4])!.toLowerCase());
  const day = monthDay === null ? 0 : Number(monthDay[2] ?? monthDay[3]);
  const thisYear = new Date().getUTCFullYear();
  const such =
    month !== undefined && day >= 1 && day <= daysInMonth(thisYear + 1, month)
      ? `, such as ${JSON.stringify(isoDate(thisYear, month, day))} or ${JSON.stringify(isoDate(thisYear + 1, month, day))}`
      : "";
  throw new ToolInputError(
    `${where}: ${what}, given ${quotedValue(value)}, which names no year: Airtable's typecast would pick a year of ` +
      `its own, and which one is not documented. Give the day meant as ${form}${such}.`,
  );
}

/**
 * A time's trailing "UTC", "GMT" or "UT", "(utc)" too: the zone of offset +00:00 (wordedDateTime sends it as Z). Made
 * of zoneless-times.ts UTC_ZONES, the zones it leaves unwarned, so none of them is left to typecast without a word.
 */
const UTC_SUFFIX = new RegExp(String.raw`(?<=[\dMm.])\s*\(?(?:${[...UTC_ZONES].join("|")})\)?\s*$`, "i");
/** "2026-12-24 5pm", "2026-12-24T5:30 PM": an ISO date with a 12-hour time (clockTime reads the time). */
const ISO_DATE_12H = /^\s*(\d{4})-(\d{2})-(\d{2})[Tt ]\s*(\d{1,2}(?::[0-5]\d(?::[0-5]\d)?)?\s*[AaPp]\.?\s*[Mm]\.?)\s*$/;
/** "Dec 24, 2026", "Thursday, December 24th 2026 at 5:00 PM": month name first, then day and year, then a time. */
const MONTH_FIRST =
  /^\s*(?:[A-Za-z]+,?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:,?\s+(?:at\s+)?(.+?))?\s*$/;
/** "24 Dec 2026 17:00", "24th December, 2026": day first, then month name and year, then a time. */
const DAY_FIRST =
  /^\s*(?:[A-Za-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})(?:,?\s+(?:at\s+)?(.+?))?\s*$/;

/** The month (1–12), day and year an English date in words names (MONTH_FIRST, DAY_FIRST); undefined for other text. */
function wordedDay(value: string): { month: number; day: number; year: number; time: string | undefined } | undefined {
  const first = MONTH_FIRST.exec(value);
  const dayFirst = first === null ? DAY_FIRST.exec(value) : null;
  const parts =
    first !== null
      ? { month: first[1]!, day: first[2]!, year: first[3]!, time: first[4] }
      : dayFirst !== null
        ? { month: dayFirst[2]!, day: dayFirst[1]!, year: dayFirst[3]!, time: dayFirst[4] }
        : undefined;
  const month = parts === undefined ? undefined : MONTHS.get(parts.month.toLowerCase());
  if (parts === undefined || month === undefined) return undefined;
  return { month, day: Number(parts.day), year: Number(parts.year), time: parts.time };
}

/**
 * Refuses a date or dateTime cell's text naming, in words, a day that does not exist ("Feb 30, 2026", "31 April
 * 2026"), as checkCalendarDate refuses "2026-02-30": whatever typecast says, rather than left to a parser that may
 * roll it over to another day (the sandbox's JavaScript Date makes "Feb 30, 2026" March 2). Other text passes.
 */
function checkWordedDay(value: string, where: string, name: string): void {
  const worded = wordedDay(value);
  if (worded !== undefined) refuseMissingDay(value, where, name, worded);
}

/**
 * A dateTime cell's text in a form people write but Airtable's API does not document, whose day cannot be misread
 * (an ISO date with a 12-hour time, or an English month name), as the ISO 8601 form the field model documents:
 * "Dec 24, 2026 5:00 PM" → "2026-12-24T17:00", "24 December 2026" → "2026-12-24". Like the space for the T
 * (dateTimeWithT), the ISO form is read in the field's time zone ("ambiguous string inputs … will be interpreted
 * according to the timeZone of the field"), where typecast's parse of the text is not documented: the sandbox's
 * JavaScript Date read "Dec 24, 2026 5:00 PM" in its own process's zone and stored 18:00 in a Europe/Berlin field
 * without a word (Session 29 agent trial). Undefined for anything else: a time it cannot read, a zone in the text
 * ("5:00 PM EST"), or a month name it does not know (left to typecast as before), and a day that does not exist
 * (checkWordedDay refuses it).
 */
function wordedDateTime(value: string): string | undefined {
  // A time in UTC or GMT (either case, in parentheses or not): +00:00 exactly, which ISO 8601 writes Z, so the time
  // is sent in the form Airtable documents instead of left to typecast ("2026-12-24 17:00 UTC" too).
  const utc = UTC_SUFFIX.exec(value);
  if (utc !== null) {
    const rest = value.slice(0, utc.index);
    const spaced = rest.replace(/^(\d{4}-\d{2}-\d{2})[Tt]/, "$1 ");
    const local = SPACED_DATE_TIME.exec(spaced) === null ? wordedDateTime(rest) : spaced.replace(" ", "T");
    return local !== undefined && local.length > 10 && !/(?:Z|[+-]\d{2}:\d{2})$/.test(local) ? `${local}Z` : undefined;
  }
  const iso = ISO_DATE_12H.exec(value);
  if (iso !== null) {
    const clock = clockTime(iso[4]!.trim());
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (clock === undefined || day < 1 || day > daysInMonth(year, month)) return undefined;
    return `${isoDate(year, month, day)}T${clock}`;
  }
  const worded = wordedDay(value);
  if (worded === undefined) return undefined;
  const { year, month, day, time } = worded;
  // A day that does not exist is refused (checkWordedDay), not converted.
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (time === undefined) return isoDate(year, month, day);
  const clock = clockTime(time.trim());
  return clock === undefined ? undefined : `${isoDate(year, month, day)}T${clock}`;
}

/**
 * Refuses a number, currency or percent field's value given with typecast as text that writes the decimal point as a
 * comma ("12,50 €", "1.234,5", "0,25", "0,500"): a comma a grouping separator cannot be (not followed by exactly
 * three digits, after a point, or a lone comma after no digit, a leading 0 or more than three digits: a grouped
 * number's first group is 1–3 digits not starting with 0). How Airtable's typecast reads a comma is not documented; the sandbox, like most parsers,
 * drops it as a thousands separator, so a types trial (session 26) saw "12,50 €" stored as 1250 without a word, a
 * hundredfold off. "1,200" (a grouping comma) is left to typecast. The refusal names the number meant.
 */
function checkDecimalComma(field: AirtableField, value: string, where: string): void {
  // Numbers shown ungrouped: a grouping comma in "Give the number: 1,234.56" would be the ambiguity refused here.
  const plain = (n: number) => String(Number(n.toPrecision(10)));
  const core = value.replace(/[^\d.,]/g, "");
  const lastComma = core.lastIndexOf(",");
  if (lastComma < 0) return;
  const after = core.slice(lastComma + 1);
  const pointBefore = core.indexOf(".") >= 0 && core.indexOf(".") < lastComma;
  // A lone comma after digits no first group of a grouped number has (none, a leading 0, more than three: "0,500",
  // "1234,500") is a decimal comma even with three digits after it.
  const before = core.slice(0, lastComma);
  const noGroupBefore = /^\d*$/.test(before) && !/^[1-9]\d{0,2}$/.test(before);
  if (!/^\d+$/.test(after) || (after.length === 3 && !pointBefore && !noGroupBefore)) return;
  const sign = /^\s*[^\d]*-/.test(value) ? -1 : 1;
  const meant = sign * Number(`${core.slice(0, lastComma).replace(/[.,]/g, "")}.${after}`);
  const name = JSON.stringify(field.name);
  const what = TYPE_WORDS[field.type]?.what ?? `a ${field.type} field`;
  const give = !Number.isFinite(meant)
    ? "Give the number with a point for its decimals."
    : field.type === "percent"
      ? `Give the fraction as a number: ${plain(meant / 100)} for ${plain(meant)} % (a percent cell ` +
        `holds a fraction), or ${plain(meant)} for ${plain(meant * 100)} %.`
      : `Give the number: ${plain(meant)}.`;
  // Read as a thousands separator, the comma is dropped; text left with two points ("1.200.000,50") names no number
  // then, rather than one made up by dropping points too.
  const commaDropped = core.replace(/,/g, "");
  const misread = /\..*\./.test(commaDropped) ? "" : ` (${plain(Number(commaDropped))})`;
  throw new ToolInputError(
    `${where}: ${name} is ${what}, given ${quotedValue(value)}, which writes the decimal point as a comma: what ` +
      `Airtable's typecast makes of a comma is not documented, and it may read it as a thousands separator` +
      `${misread}. ${give}`,
  );
}

/** Types whose text a person writes with symbols and separators ("$1,200.50", "12%"): checkFormattedNumber. */
const FORMATTED_TYPES = new Set(["number", "currency", "percent"]);
/** A number written plainly as text: what JSON would write, spaces around allowed ("1200.5", "-3", "1e3"). */
const PLAIN_NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i;
/**
 * A number with grouping commas, an optional sign and decimals, between symbols or spaces ("$1,200.50", "-€ 1,200",
 * "1,200 USD", "12%"), or grouped with points as European text writes it, which one point alone cannot tell from a
 * decimal point ("1.200.000", "€ 1.200.000,50", "1.200,50": two grouping points, or one before a decimal comma; see
 * EUROPEAN_GROUPED): group 1 the sign, 2 the digits; a grouped number's first group does not start with 0 ("0,500" is
 * a decimal comma, checkDecimalComma, and names no grouped 500). Letters other than a currency code, several numbers, or a
 * point and comma in the wrong order match nothing: no number is named then. The sign is "+", "-" or the minus sign
 * U+2212 ("−5", as spreadsheets and typeset text write it); parentheses (an accountant's "(1,200)", a negative) and
 * the other dashes are no symbol, so text with them names no number rather than one with the wrong sign.
 */
const FORMATTED_NUMBER = new RegExp(
  String.raw`^\s*([+\-\u2212]?)\s*[^\d\s.,+\-\u2010-\u2015\u2212()]{0,3}\s*` +
    String.raw`([+\-\u2212]?(?:(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?|[1-9]\d{0,2}(?:(?:\.\d{3}){2,}(?:,\d+)?|\.\d{3},\d+)))` +
    String.raw`\s*(?:%|[^\d\s.,%+\-\u2010-\u2015\u2212()]{1,3})?\s*$`,
);
/**
 * FORMATTED_NUMBER's digits grouped with points ("1.200.000", "1.200,50", sign removed): their points are thousands
 * separators and their comma, if any, the decimal comma. One point and no comma ("1.200") is not matched: it reads two
 * ways (checkAmbiguousSeparator refuses it first, naming both).
 */
const EUROPEAN_GROUPED = /^\d{1,3}(?:(?:\.\d{3}){2,}(?:,\d+)?|\.\d{3},\d+)$/;
/** A sign as FORMATTED_NUMBER reads it: "+", or minus ("-", U+2212). */
const SIGN = /^[+\-\u2212]/;
const MINUS = /^[-\u2212]/;

/**
 * The number a number, currency or percent field's text names, as the cell holds it: "$1,200.50" 1200.5, "1,200"
 * 1200, "1200.5" 1200.5, "1.200.000" 1200000, "1.200.000,50" 1200000.5, a percent's "12%" 0.12 (field model,
 * Percent: "0.5 is 50 %"). Undefined when the text
 * names none plainly ("3 units", "1.2.3", "12,50": checkDecimalComma) or, for a percent, has no percent sign (25 may
 * mean 25 % or 2,500 %: checkPercentText).
 */
export function numberMeant(field: AirtableField, value: string): number | undefined {
  if (!FORMATTED_TYPES.has(field.type)) return undefined;
  const percent = value.trim().endsWith("%");
  if (field.type === "percent" ? !percent : percent) return undefined;
  if (PLAIN_NUMBER.test(value)) return Number(value);
  const match = FORMATTED_NUMBER.exec(value);
  if (match === null) return undefined;
  // Two signs ("-$-5"): which one is meant is a guess, so no number is named.
  if (match[1] !== "" && SIGN.test(match[2]!)) return undefined;
  const negative = MINUS.test(match[1]!) || MINUS.test(match[2]!);
  const unsigned = match[2]!.replace(SIGN, "");
  const digits = EUROPEAN_GROUPED.test(unsigned)
    ? unsigned.replace(/\./g, "").replace(",", ".")
    : unsigned.replace(/,/g, "");
  const n = Number(digits) * (negative ? -1 : 1);
  if (!Number.isFinite(n)) return undefined;
  return percent ? n / 100 : n;
}

/** What to give instead of text naming `meant` (numberMeant), worded as wrongType's example. */
function numberToSend(field: AirtableField, meant: number): string {
  const plain = String(Number(meant.toPrecision(12)));
  return field.type === "percent"
    ? `the number ${plain} (a JSON number: a percent cell holds a fraction, ${plain} is ${shown(meant * 100)} %)`
    : `the number ${plain} (a JSON number, without symbols or separators)`;
}

/**
 * Refuses a number, currency or percent field's `value` given, with typecast left to its default, as text that is
 * not a plain number ("$1,200.50", "1,200", "12%", "3 units"; see the top of this file), naming the field, the value
 * and the number to send (numberMeant), or the field's example when the text names none. Plain number text
 * ("1200.5") is left to typecast (checkPercentText asks about a percent's). Throws ToolInputError.
 */
function checkFormattedNumber(field: AirtableField, value: string, where: string): void {
  if (!FORMATTED_TYPES.has(field.type) || PLAIN_NUMBER.test(value)) return;
  const meant = numberMeant(field, value);
  const example = meant === undefined ? (TYPE_WORDS[field.type]?.example ?? "a number") : numberToSend(field, meant);
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is ${TYPE_WORDS[field.type]?.what ?? `a ${field.type} field`}: give ` +
      `${example}, not the text ${quotedValue(value)}. How Airtable's typecast reads currency symbols, grouping ` +
      `commas and percent signs is not documented, so such text is not sent with typecast left to its default; ` +
      `pass typecast: true explicitly to send it for Airtable to convert.`,
  );
}

/** Words for a checked or unchecked box that text may hold, besides "true" and "false" (checkCheckboxText). */
const CHECKBOX_WORDS: Readonly<Record<string, boolean>> = {
  yes: true,
  y: true,
  checked: true,
  on: true,
  x: true,
  "1": true,
  no: false,
  n: false,
  unchecked: false,
  off: false,
  "0": false,
};

/**
 * Refuses a checkbox's `value` given as text other than "true" or "false" with typecast left to its default
 * (`"Is primary": "yes"`, `"no"`, `"maybe"`), naming the boolean to give: the field model's checkbox cell is `true`
 * or empty, and how Airtable's typecast reads other words is not documented, so `"no"` could check the box (an
 * agent's CRM trial, h-agent34: the sandbox read "no" as unchecked and failed "maybe" in the worker with a sentence
 * about numbers and dates). "true" and "false" are sent as before. Throws ToolInputError.
 */
function checkCheckboxText(field: AirtableField, value: string, where: string): void {
  const word = value.trim().toLowerCase();
  if (word === "true" || word === "false") return;
  const meant = CHECKBOX_WORDS[word];
  const give = meant === undefined ? "true or false (a JSON boolean)" : `${meant} (a JSON boolean)`;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is a checkbox field: give ${give}, not the text ${quotedValue(value)}. ` +
      'How Airtable\'s typecast reads text other than "true" and "false" is not documented, so such text is not sent ' +
      "with typecast left to its default; pass typecast: true explicitly to send it for Airtable to convert.",
  );
}

/**
 * Duration text Airtable's display formats write, which typecast is left to read: a plain number (seconds, as the
 * cell holds it) or h:mm, h:mm:ss, h:mm:ss.S… ("1:30", "1:30:15.5": the field model's `durationFormat` values), and
 * m:ss.S…, which the formats with fractions show under an hour ("3:45.6": Airtable's "Duration field type" page,
 * https://support.airtable.com/docs/duration-field-type).
 */
const DURATION_CLOCK = /^\s*[+-]?\d+:[0-5]?\d(:[0-5]?\d)?(\.\d{1,3})?\s*$/;
/** Seconds per unit of duration text in words or letters ("2h", "90 minutes", "1 day"). */
const DURATION_UNITS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };
/** One amount and unit of duration text: group 1 the amount, 2 the unit (day, h, hr, hours, m, min, minutes, s, sec…). */
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)\s*(d|days?|h|hrs?|hours?|m|mins?|minutes?|s|secs?|seconds?)(?![a-z])/giy;
/** ISO 8601 duration (RFC 3339 Appendix A, "PT2H30M"): days and the time part, no years or months (not fixed lengths). */
const ISO_DURATION =
  /^\s*P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$/i;

/**
 * The seconds duration text in words or letters names, as a duration cell holds them (field model, Duration: "an
 * integer representing number of seconds"): "2h" 7200, "1h 30m" and "1 hour and 30 minutes" 5400, "90 min" 5400,
 * "1.5 hours" 5400, "PT2H" 7200. Undefined when the text is not amounts with units alone ("about 2 hours", "2").
 */
function durationSeconds(text: string): number | undefined {
  const iso = ISO_DURATION.exec(text);
  if (iso !== null && iso.slice(1).some((part) => part !== undefined)) {
    const [d, h, m, s] = iso.slice(1).map((part) => Number(part ?? 0));
    return Math.round((d! * 86_400 + h! * 3_600 + m! * 60 + s!) * 1000) / 1000;
  }
  let seconds = 0;
  let parts = 0;
  let at = 0;
  const rest = text.trim();
  while (at < rest.length) {
    DURATION_PART.lastIndex = at;
    const part = DURATION_PART.exec(rest);
    if (part === null) return undefined;
    seconds += Number(part[1]) * DURATION_UNITS[part[2]!.charAt(0).toLowerCase()]!;
    parts += 1;
    at = DURATION_PART.lastIndex;
    // Between parts: spaces, a comma, or "and" ("1 hour, 30 minutes", "1 hour and 30 minutes").
    at += /^(\s*,?\s*(and\s+)?)/i.exec(rest.slice(at))![0].length;
  }
  return parts === 0 ? undefined : Math.round(seconds * 1000) / 1000;
}

/** `seconds` as a duration field in h:mm shows them ("2:00", "1:30"), with :ss when they are not whole minutes. */
function clockOf(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = String(m).padStart(2, "0");
  return s === 0 ? `${h}:${mm}` : `${h}:${mm}:${String(s).padStart(2, "0")}`;
}

/** What to give instead of duration text naming `seconds` (durationSeconds), worded as wrongType's example. */
function secondsToSend(seconds: number): string {
  const plain = String(seconds);
  return `the number ${plain} (a JSON number of seconds: a duration cell holds seconds, ${plain} is ${clockOf(seconds)})`;
}

/**
 * Refuses a duration field's `value` given, with typecast left to its default, as text other than a plain number of
 * seconds or h:mm[:ss] ("2h", "90 minutes", "1h 30m", "PT2H", "about 2 hours"), naming the field, the value and the
 * seconds to send when the text names them (durationSeconds). The field model's duration cell is "an integer
 * representing number of seconds"; which unit words Airtable's typecast reads is not documented (the sandbox reads
 * only h:mm[:ss] and numbers, and a trial, session 33, saw "2h" queued and refused inside the operation), so, as
 * with currency symbols (checkFormattedNumber), such text is sent only with typecast: true given explicitly.
 * Throws ToolInputError.
 */
function checkDurationText(field: AirtableField, value: string, where: string): void {
  if (PLAIN_NUMBER.test(value) || DURATION_CLOCK.test(value)) return;
  const seconds = durationSeconds(value);
  const example = seconds === undefined ? TYPE_WORDS.duration!.example : secondsToSend(seconds);
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is a duration field: give ${example}, not the text ` +
      `${quotedValue(value)}. How Airtable's typecast reads units such as "h" or "minutes" is not documented, so ` +
      `such text is not sent with typecast left to its default; pass typecast: true explicitly to send it for ` +
      `Airtable to convert.`,
  );
}

/**
 * A number written with one point or one comma followed by exactly three digits, after one to three digits not
 * starting with 0, between the symbols FORMATTED_NUMBER allows ("1.200", "12,500", "$1.200", "-1,250 €",
 * "1.200%"): group 1 a sign before a symbol, 2 a sign after it, 3 the digits before the separator, 4 the separator,
 * 5 the three digits after it, 6 what follows ("%", a symbol or a code).
 */
const GROUP_OR_DECIMAL = new RegExp(
  String.raw`^\s*([+\-\u2212]?)\s*[^\d\s.,+\-\u2010-\u2015\u2212()]{0,3}\s*([+\-\u2212]?)([1-9]\d{0,2})([.,])(\d{3})` +
    String.raw`\s*(%|[^\d\s.,%+\-\u2010-\u2015\u2212()]{1,3})?\s*$`,
);

/**
 * Refuses a number, currency or percent field's `value` given as text whose one separator may be a decimal point or a
 * thousands separator ("1.200": 1.2, or 1200 as European text writes one thousand two hundred; "1,200": 1200, or 1.2
 * with a decimal comma; see GROUP_OR_DECIMAL), naming both readings and the JSON number to give for each, as a
 * local numeric date whose day and month may be swapped is refused naming both dates (checkLocalDate). Airtable
 * documents typecast only as "best-effort automatic data conversion from string values" (create-records,
 * `typecast`): which reading it takes is not documented, and the sandbox, like JavaScript, reads "1.200" as 1.2, so a
 * trial (session 29) would have stored 1.2 for a European 1,200 without a word. `typecastLeftOut`: true when the call
 * gave no typecast (the refusal then says that `typecast: true` given explicitly sends the text); false when it gave
 * `typecast: false` (text is not converted then anyway). Given `typecast: true` explicitly, such text is not checked
 * here and is sent as before. Text with more than one separator ("1,200,000", "1.200,50", "1,200.50") or one not
 * followed by exactly three digits ("1.25", "0.5", "1.2000") reads one way only and is left to the other checks.
 * Throws ToolInputError.
 */
function checkAmbiguousSeparator(field: AirtableField, value: string, where: string, typecastLeftOut: boolean): void {
  if (!FORMATTED_TYPES.has(field.type)) return;
  const match = GROUP_OR_DECIMAL.exec(value);
  // Two signs ("-$-1.200"): which is meant is a guess; the other checks refuse it without naming a number.
  if (match === null || (match[1] !== "" && match[2] !== "")) return;
  const percentSign = match[6] === "%";
  // A percent sign names no number of a number or currency field, nor a currency symbol a percent's (numberMeant):
  // the other checks refuse such text without naming one.
  if (field.type === "percent" ? /[^\d\s.,%+\-\u2212]/.test(value) : percentSign) return;
  const negative = MINUS.test(match[1]!) || MINUS.test(match[2]!);
  const [whole, separator, three] = [match[3]!, match[4]!, match[5]!];
  const asDecimal = Number(`${whole}.${three}`) * (negative ? -1 : 1);
  const asGrouped = Number(`${whole}${three}`) * (negative ? -1 : 1);
  const point = separator === ".";
  // The reading the separator has in English text first: a point's decimal, a comma's thousands.
  const [first, second] = point ? [asDecimal, asGrouped] : [asGrouped, asDecimal];
  const plain = (n: number) => String(Number(n.toPrecision(12)));
  const unit = field.type === "percent" ? " %" : "";
  const readings = point
    ? `whose point may be a decimal point (${plain(first)}${unit}) or a thousands separator (${plain(second)}${unit}, ` +
      `as European text writes ${whole}.${three})`
    : `whose comma may be a thousands separator (${plain(first)}${unit}) or a decimal comma (${plain(second)}${unit}, ` +
      `as European text writes ${whole},${three})`;
  const give =
    field.type !== "percent"
      ? `Give the number meant as a JSON number: ${plain(first)} or ${plain(second)}.`
      : `Give the fraction meant as a JSON number (a percent cell holds a fraction, 0.5 is 50 %): ` +
        `${plain(first / 100)} for ${plain(first)} %, or ${plain(second / 100)} for ${plain(second)} %` +
        (percentSign
          ? "."
          : ` (or ${plain(first)} and ${plain(second)} if the text is the fraction itself: ` +
            `${plain(first * 100)} % and ${plain(second * 100)} %).`);
  const explicit = typecastLeftOut
    ? " Text is sent for Airtable to convert only with typecast: true given explicitly."
    : "";
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is ${TYPE_WORDS[field.type]?.what ?? `a ${field.type} field`}, given ` +
      `${quotedValue(value)}, ${readings}: which one Airtable's typecast reads is not documented. ${give}${explicit}`,
  );
}

/**
 * Refuses a percent field's value given with typecast as a number written as text without a percent sign ("25",
 * "0.5"), which can mean two values a hundredfold apart: Airtable's percent cell holds a fraction ("0.5 is 50 %",
 * field model, Percent), as a JSON number does here, while a person typing 25 in a percent cell means 25 %; what
 * Airtable's typecast makes of such text is not documented (the sandbox reads it as the fraction, 25 → 2,500 %, and a
 * types trial, session 26, saw "25" stored so without a word, where the number 25 gets a note: value-notes.ts). Text
 * with a percent sign ("25%") is unambiguous, as is zero. The refusal names both readings and what to give for each.
 */
function checkPercentText(field: AirtableField, value: string, where: string): void {
  const plain = /^\s*([+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?)\s*$/.exec(value);
  if (plain === null || plain[1] === "" || !hasDigit(plain[1]!)) return;
  const n = Number(plain[1]!.replace(/,/g, ""));
  if (!Number.isFinite(n) || n === 0) return;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is a percent field, given ${quotedValue(value)} as text: a percent cell ` +
      `holds a fraction (0.5 is 50 %), and what Airtable's typecast makes of a number written as text is not ` +
      `documented: it may store ${shown(n)} % or ${shown(n * 100)} %. Give the fraction as a number: ` +
      `${shown(n / 100)} for ${shown(n)} %, or ${shown(n)} for ${shown(n * 100)} % (or the ` +
      `text with a percent sign, "${plain[1]!.trim()}%").`,
  );
}

/** A user id (usr…) or a user group id (ugp…): what a collaborator's `id` is (field model, Collaborator). */
const COLLABORATOR_ID = /^(usr|ugp)[0-9A-Za-z]+$/;
const looksLikeEmail = (text: string) => text.includes("@");
/** Whether text names a collaborator the way Airtable finds one: a user or group id, or an email. */
const namesCollaborator = (text: string) => COLLABORATOR_ID.test(text.trim()) || looksLikeEmail(text);

/**
 * Refuses a collaborator (`item`, part of the cell `value`) that names no one: an object with neither `id` nor
 * `email`, or with an empty (blank) one, and in a multiple collaborator cell an empty string. Airtable finds
 * collaborators by id or email only (field model, https://airtable.com/developers/web/api/field-model: Collaborator
 * "Cell format (write)" is `{id}` ("The user id, group id of the user") or `{email}` ("The user's email address");
 * Multiple collaborator "Cell format (write)" is an "array of strings: array of user or group ids"), so
 * `{"name": "Ada Park"}` or `{"id": ""}` cannot be written, with or without typecast; nor can an email given as `id`
 * or an id given as `email` (each is looked up among its own kind). Without typecast a text item of a multiple
 * collaborator cell must be a user or group id (usr…, ugp…); with typecast Airtable converts text, so any is left
 * to it. The suggestion is the documented format: an object for a single collaborator, ids for multiple ones.
 */
function checkCollaborator(
  field: AirtableField,
  item: unknown,
  value: unknown,
  where: string,
  typecast: boolean,
): void {
  const entry = (typeof item === "object" && item !== null ? item : {}) as Record<string, unknown>;
  const given = [entry.id, entry.email].filter((v) => typeof v === "string");
  const blank = typeof item === "string" ? item.trim() === "" : given.some((v) => v.trim() === "");
  const words = TYPE_WORDS[field.type]!;
  const single = field.type === "singleCollaborator";
  const refuse = (why: string): never => {
    throw new ToolInputError(
      `${where}: ${JSON.stringify(field.name)} is ${words.what}: give ${words.example}, not ${quotedValue(value)}: ${why}`,
    );
  };
  if (!blank && given.length > 0) {
    // Airtable looks `id` up among ids and `email` among addresses (an object with both is found by its id).
    if (typeof entry.id === "string") {
      if (!looksLikeEmail(entry.id)) return;
      refuse(
        `${quotedValue(entry.id)} is an email, and Airtable looks "id" up among user and group ids (usr…, ugp…). ` +
          `Give {"email": ${JSON.stringify(entry.id)}}${single ? "" : " or the person's user id"}.`,
      );
    }
    const email = entry.email as string;
    if (looksLikeEmail(email) || !COLLABORATOR_ID.test(email)) return;
    refuse(
      `${quotedValue(email)} is an id, and Airtable looks "email" up among email addresses. ` +
        (single ? `Give {"id": ${JSON.stringify(email)}}.` : `Give it as it is: [${JSON.stringify(email)}].`),
    );
  }
  if (typeof item === "string" && !blank) {
    if (COLLABORATOR_ID.test(item) || (typecast && namesCollaborator(item))) return;
    // A name: Airtable finds a collaborator by id or email only, and typecast converts text to one of those, not a
    // name (the sandbox, src/sandbox/fields/collaborators.ts, refuses it as Airtable does a person it cannot find).
    const read = `list_records with fields: [${JSON.stringify(field.name)}] shows the collaborators already set in it, with their ids and emails.`;
    if (single) {
      refuse(
        `Airtable finds a collaborator by user id (usr…) or email, not by name` +
          `${typecast ? " (typecast converts an id or an email given as text, not a name)" : ""}. ${read}`,
      );
    }
    refuse(
      looksLikeEmail(item)
        ? `${quotedValue(item)} is an email, not a user or group id (a record read shows each person's id), or pass ` +
            `typecast: true to let Airtable find the person by email.`
        : typecast
          ? `${quotedValue(item)} is neither a user or group id (usr…, ugp…) nor an email: Airtable finds a ` +
            `collaborator by id or email, not by name. ${read}`
          : `${quotedValue(item)} is not a user or group id (usr…, ugp…; a record read shows each person's id).`,
    );
  }
  const how = single
    ? "Airtable finds a collaborator by user id (usr…) or email"
    : "Airtable's field model writes this cell as user or group ids";
  refuse(
    blank
      ? `${how}, and an empty one names no one.`
      : `${how}, not ${single ? "by name." : "names (a record read shows each person's id)."}`,
  );
}

/**
 * Refuses a new attachment's `filename` that is not text (field model, Attachment, "Cell format (write)": `filename`
 * is an optional string). Other properties are left to Airtable: the field model names `url` and `filename` for a
 * new file and `id` for a kept one, but documents no answer to more (a kept item usually carries what a read gave,
 * which Airtable may extend), so refusing them here could block a write Airtable takes; a refusal comes from
 * Airtable instead (INVALID_ATTACHMENT_OBJECT, explained on the failed record).
 */
function checkAttachmentFilename(field: AirtableField, entry: Record<string, unknown>, where: string): void {
  if (typeof entry.id === "string" || entry.filename === undefined || typeof entry.filename === "string") return;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is an attachment field: a new file is {"url": "https://…"} with an ` +
      `optional "filename", which is text: its filename ${quotedValue(entry.filename)} is not, in ` +
      `${quotedValue(entry)}.`,
  );
}

/**
 * ", or pass typecast: true to let Airtable convert "1,500"" when the value, refused without typecast, would pass
 * these checks with it (Airtable converts text to numbers, dates, checkboxes…: typecast parameter, Web API "Update
 * multiple records"); "" otherwise. For dates Airtable's reading of free text is not documented, so it is "try".
 */
function typecastWouldTry(field: AirtableField, value: unknown, where: string): string {
  try {
    checkCellValue(field, value, where, true);
  } catch {
    return "";
  }
  const verb = field.type === "date" || field.type === "dateTime" ? "try to read" : "convert";
  return `, or pass typecast: true to let Airtable ${verb} ${quotedValue(value)}`;
}

/** Whether the empty value "" or [] clears a cell of `type` (see the top of this file); unknown types: yes. */
function clearsAs(type: string, value: "" | unknown[], typecast: boolean): boolean {
  if (!TEXT_TYPES.has(type) && !LIST_TYPES.has(type) && !OTHER_KNOWN_TYPES.has(type)) return true;
  if (Array.isArray(value)) return LIST_TYPES.has(type);
  if (TEXT_TYPES.has(type) || type === "singleSelect") return true;
  // A date parsed from "" is no date: the sandbox answers 422 even with typecast, and Airtable's rule is not
  // documented, so "give null" up front rather than a failed record later.
  return typecast && type !== "multipleAttachments" && type !== "date" && type !== "dateTime";
}

/**
 * Longest text a single line, long text or rich text cell holds, in characters: "Single line text fields and long
 * text fields are limited to 100,000 characters" (support.airtable.com, "Using rich text with Airtable").
 */
export const MAX_TEXT_CHARACTERS = 100_000;
const LIMITED_TEXT_TYPES = new Set(["singleLineText", "multilineText", "richText"]);

/**
 * Refuses text over MAX_TEXT_CHARACTERS. Counted in code points: whether Airtable counts those or UTF-16 units is
 * not documented, and code points are never more, so nothing Airtable would take is refused here.
 */
function checkTextLength(field: AirtableField, value: string, where: string): void {
  if (!LIMITED_TEXT_TYPES.has(field.type) || value.length <= MAX_TEXT_CHARACTERS) return;
  let characters = 0;
  for (const _ of value) characters += 1;
  if (characters <= MAX_TEXT_CHARACTERS) return;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} holds at most ${formatCount(MAX_TEXT_CHARACTERS)} characters ` +
      `(Airtable's limit for text fields); this text has ${formatCount(characters)}. Shorten it, split ` +
      "it across records, or attach it as a file (upload_attachment).",
  );
}

function ratingMax(field: AirtableField): number | undefined {
  const max = field.options?.max;
  return typeof max === "number" && Number.isInteger(max) && max > 0 ? max : undefined;
}

function ratingExample(field: AirtableField): string {
  const max = ratingMax(field);
  return `a whole number of stars such as ${Math.min(3, max ?? 3)}${max === undefined ? "" : ` (1 to ${max})`}`;
}

function checkRating(field: AirtableField, value: number, where: string): void {
  const max = ratingMax(field);
  if (Number.isInteger(value) && value >= 0 && (max === undefined || value <= max)) return;
  throw new ToolInputError(
    `${where}: ${JSON.stringify(field.name)} is a rating field: give ${ratingExample(field)}, not ${value}.`,
  );
}

/** Each field's options by optionKey, built once per field object (a cached schema's field is one object). */
const keyedOptions = new WeakMap<AirtableField, Map<string, string[]>>();

/**
 * `field`'s option names by their optionKey form: 5,000 records of new values against 500 options cost one pass over
 * the options, not one per value.
 */
function optionsByKey(field: AirtableField, choices: readonly Choice[]): Map<string, string[]> {
  let byKey = keyedOptions.get(field);
  if (byKey === undefined) {
    byKey = new Map();
    for (const { name } of choices) {
      const key = optionKey(name);
      const names = byKey.get(key);
      if (names === undefined) byKey.set(key, [name]);
      else names.push(name);
    }
    keyedOptions.set(field, byKey);
  }
  return byKey;
}

function checkSelect(
  field: AirtableField,
  value: unknown,
  where: string,
  typecast: boolean,
  multiple: boolean,
  nonCreator: BaseAccess | undefined,
): readonly string[] {
  const name = JSON.stringify(field.name);
  const choices = choicesOf(field);
  const listed = choices
    .slice(0, MAX_LISTED_OPTIONS)
    .map((c) => JSON.stringify(c.name))
    .join(", ");
  const more = choices.length > MAX_LISTED_OPTIONS ? ` and ${choices.length - MAX_LISTED_OPTIONS} more` : "";
  const options = choices.length === 0 ? "it has no options yet" : `its options are ${listed}${more}`;
  const example = choices[0] === undefined ? '"Lead"' : JSON.stringify(choices[0].name);
  const what = multiple ? "a multiple select field" : "a single select field";

  let items: unknown[];
  if (multiple) {
    if (Array.isArray(value)) items = value;
    // Airtable splits "a, b" itself; an option id among the parts is still refused below.
    else if (typecast && typeof value === "string") items = value.split(",").map((part) => part.trim());
    else {
      throw new ToolInputError(
        `${where}: ${name} is ${what}: give an array of option names such as [${example}], not ${quotedValue(value)} (${options}).`,
      );
    }
  } else items = [value];

  const created: string[] = [];
  const variants: SelectVariant[] = [];
  for (const given of items) {
    let item: string;
    if (typeof given === "string") item = given;
    // typecast makes a number or boolean the option named by its text (3 → "3"), added when no option has that
    // name, as for any other name: checked below as that name.
    else if (typecast && (typeof given === "number" || typeof given === "boolean")) item = String(given);
    else {
      throw new ToolInputError(
        `${where}: ${name} is ${what}: give ${multiple ? `an array of option names such as [${example}]` : `an option's name such as ${example}`}, not ${quotedValue(value)} (${options}).`,
      );
    }
    // The field model's cell format is the option's name. Whether Airtable also resolves an option's id is not
    // documented: without typecast the id is left to Airtable (at worst a 422 for that record), but with typecast
    // an id it does not resolve would silently become a new option named "sel…", so it is refused, naming the
    // option meant.
    const byId = choices.find((c) => c.id === item);
    if (byId !== undefined && !choices.some((c) => c.name === item)) {
      if (!typecast) continue;
      throw new ToolInputError(
        `${where}: ${quotedValue(item)} is the id of the option ${JSON.stringify(byId.name)} of ${name} (${what}): ` +
          `with typecast, Airtable may add it as a new option named ${quotedValue(item)}; give ${JSON.stringify(byId.name)}.`,
      );
    }
    if (item === "") continue;
    // Airtable matches the name exactly: "if the choice string does not exactly match an existing option … a new
    // choice will be created" (field model, Single select).
    if (choices.some((c) => c.name === item)) continue;
    // An existing option but for case or spaces: refused with or without typecast (SelectVariantError), before the
    // creator rule, whose refusal would list every option rather than name the one meant.
    const same = optionsByKey(field, choices).get(optionKey(item));
    if (same !== undefined) {
      // ["customer", "customer"] in one cell is one mistake, named once.
      if (!variants.some((v) => v.given === item)) variants.push({ given: item, existing: same });
      continue;
    }
    if (nonCreator !== undefined) {
      throw new ToolInputError(
        `${where}: ${quotedValue(item)} is not an option of ${name} (${what}): ${options}. Only a base creator can add ` +
          `an option (typecast: true adds one only for a creator), and your permission level on base ` +
          `${baseLabel(nonCreator)} is ${roleOf(nonCreator.level ?? "")}, so Airtable would refuse the record ` +
          `(422 INVALID_MULTIPLE_CHOICE_OPTIONS). Give one of the existing options (describe_table lists them ` +
          `all), or ask the base's owner to add ${quotedValue(item)} or to make you a creator.`,
      );
    }
    if (typecast) {
      if (!created.includes(item)) created.push(item);
      continue;
    }
    throw new ToolInputError(
      `${where}: ${quotedValue(item)} is not an option of ${name} (${what}): ${options}. Give one of them, or pass ` +
        `typecast: true to add ${quotedValue(item)} as a new option.`,
    );
  }
  if (variants.length > 0) throw new SelectVariantError(field, variants, where);
  return created;
}
