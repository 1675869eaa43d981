/**
 * Airtable's working-day and formatting functions (https://support.airtable.com/docs/formula-field-reference, "Date
 * and time functions"):
 *
 * - WORKDAY(startDate, numDays, [holidays]): "a date that is numDays working days after startDate. Working days
 *   exclude weekends and an optional list of holidays, formatted as a comma-separated string of ISO-formatted dates."
 *   Weekends are Saturday and Sunday; the start day itself is not counted, a negative numDays counts backwards and 0
 *   gives the start date. The result is that day at midnight UTC.
 * - WORKDAY_DIFF(startDate, endDate, [holidays]): the working days from startDate to endDate, both days counted,
 *   negative when endDate is earlier.
 * - DATETIME_FORMAT(date, [format]): the date as text, with moment.js format tokens (moment-format.ts), in UTC unless
 *   the date is SET_TIMEZONE(date, tz), in English unless it is SET_LOCALE(date, locale). The reference marks the
 *   format optional without naming its default; without one (or with a blank one) the sandbox writes moment's own
 *   default, ISO 8601 — "2026-03-10T18:45:07Z" in UTC, "2026-03-10T19:45:07+01:00" in a SET_TIMEZONE zone — a guess
 *   at Airtable's default.
 * - SET_TIMEZONE(date, tz) and SET_LOCALE(date, locale): "Must be used in conjunction with DATETIME_FORMAT" — honoured
 *   as DATETIME_FORMAT's first argument, one inside the other in either order
 *   (`DATETIME_FORMAT(SET_LOCALE(SET_TIMEZONE({Date}, "Europe/London"), "en-gb"), "LLL")`); anywhere else (or nested
 *   deeper inside DATETIME_FORMAT's date) it is #ERROR!, since how other functions would treat them is not
 *   documented. tz is an IANA identifier ("America/Los_Angeles"), in any case; locale one of Airtable's SET_LOCALE
 *   modifiers (localeOf: English ones with moment's formats, other languages with Intl's names and patterns,
 *   moment-locales.ts; the few the sandbox does not write faithfully, and any other code, are #ERROR!).
 *
 * Dates are read as the other date functions read them (toDate): working days count calendar days in UTC.
 */
import { tzOffset } from "@date-fns/tz";
import { toDate } from "./date-functions.ts";
import { formatMoment } from "./moment-format.ts";
import { localeOf } from "./moment-functions.ts";
import type { Node } from "./parser.ts";
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isError, toNumber, toText, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

const DAY_MS = 86_400_000;
/** The last day number a JavaScript Date holds (±100,000,000 days around 1970). */
const MAX_DAY = 100_000_000;

/** Days since 1970-01-01 of the date's UTC calendar day. */
const dayNumber = (d: Date): number => Math.floor(d.getTime() / DAY_MS);
/** 0 (Sunday) to 6 (Saturday); day 0 was a Thursday. */
const weekdayOf = (day: number): number => (((day + 4) % 7) + 7) % 7;
const isWeekday = (day: number): boolean => weekdayOf(day) !== 0 && weekdayOf(day) !== 6;

/** The holidays argument: blank, or "YYYY-MM-DD, YYYY-MM-DD, …" (a lookup of dates reads the same way). */
function holidaysOf(value: Plain | undefined): Set<number> | ErrorValue {
  const days = new Set<number>();
  if (value === undefined || value === null) return days;
  for (const part of toText(value).split(",")) {
    const text = part.trim();
    if (text === "") continue;
    const d = /^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/.test(text) ? toDate(text) : null;
    if (d === null || d instanceof ErrorValue)
      return new ErrorValue(`holiday ${JSON.stringify(text)} is not an ISO date`);
    days.add(dayNumber(d));
  }
  return days;
}

/** Weekdays in [from, to] (from ≤ to), by whole weeks and a remainder. */
function weekdaysBetween(from: number, to: number): number {
  const span = to - from + 1;
  let count = Math.floor(span / 7) * 5;
  for (let day = from + Math.floor(span / 7) * 7; day <= to; day++) if (isWeekday(day)) count++;
  return count;
}

/** The weekday `n` weekdays after `from` (n > 0), ignoring holidays. */
function addWeekdays(from: number, n: number): number {
  let day = from + Math.floor((n - 1) / 5) * 7;
  let left = n - Math.floor((n - 1) / 5) * 5;
  while (left > 0) {
    day++;
    if (isWeekday(day)) left--;
  }
  return day;
}

/** The mirror of addWeekdays, counting backwards. */
function subtractWeekdays(from: number, n: number): number {
  let day = from - Math.floor((n - 1) / 5) * 7;
  let left = n - Math.floor((n - 1) / 5) * 5;
  while (left > 0) {
    day--;
    if (isWeekday(day)) left--;
  }
  return day;
}

/** WORKDAY's day: `n` working days from `start`, skipping weekends and the (weekday) holidays passed over. */
function workday(start: number, n: number, holidays: Set<number>): number {
  if (n === 0) return start;
  const forward = n > 0;
  const step = (from: number, count: number): number =>
    forward ? addWeekdays(from, count) : subtractWeekdays(from, count);
  const weekdayHolidays = [...holidays].filter(isWeekday);
  let day = step(start, Math.abs(n));
  let covered = start;
  // Each holiday passed over costs one more working day; extend until no new holiday falls in the added stretch.
  for (;;) {
    const lo = forward ? covered + 1 : day;
    const hi = forward ? day : covered - 1;
    const missed = weekdayHolidays.filter((h) => h >= lo && h <= hi).length;
    if (missed === 0) return day;
    covered = day;
    day = step(day, missed);
  }
}

function integerOf(value: Plain | undefined, what: string): number | ErrorValue {
  const n = toNumber(value ?? null);
  return Number.isFinite(n) ? Math.trunc(n) : new ErrorValue(`${what} is not a number`);
}

/** SET_TIMEZONE's identifier: an IANA zone name the runtime knows (Intl), not a bare offset. */
function timeZoneOf(value: Plain): string | ErrorValue {
  const name = toText(value).trim();
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) {
    return new ErrorValue(`${JSON.stringify(name)} is not a time zone identifier`);
  }
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return new ErrorValue(`${JSON.stringify(name)} is not a time zone identifier`);
  }
}

/** The functions that only DATETIME_FORMAT's date argument may be. */
const FORMAT_MODIFIERS: ReadonlySet<string> = new Set(["SET_TIMEZONE", "SET_LOCALE"]);

/** Whether SET_TIMEZONE or SET_LOCALE appears anywhere in the tree (where the sandbox cannot honour it). */
function mentionsModifier(node: Node): boolean {
  switch (node.type) {
    case "call":
      return FORMAT_MODIFIERS.has(node.name) || node.args.some(mentionsModifier);
    case "negate":
      return mentionsModifier(node.operand);
    case "chain":
      return mentionsModifier(node.first) || node.rest.some((part) => mentionsModifier(part.operand));
    default:
      return false;
  }
}

const MODIFIER_ELSEWHERE = "SET_TIMEZONE and SET_LOCALE are only emulated as DATETIME_FORMAT's date argument";

/** moment's default format (moment.defaultFormatUtc, and moment.defaultFormat for a date at a non-zero offset). */
const DEFAULT_FORMAT_UTC = "YYYY-MM-DDTHH:mm:ss[Z]";
const DEFAULT_FORMAT_ZONED = "YYYY-MM-DDTHH:mm:ssZ";

export const DATETIME_FUNCTIONS: Record<string, FunctionSpec> = {
  WORKDAY: {
    min: 2,
    max: 3,
    call: (args) => {
      const start = toDate(args[0]);
      if (start instanceof ErrorValue) return start;
      const n = integerOf(args[1], "numDays");
      if (n instanceof ErrorValue) return n;
      const holidays = holidaysOf(args[2]);
      if (holidays instanceof ErrorValue) return holidays;
      if (Math.abs(n) > MAX_DAY) return new ErrorValue("numDays is out of range");
      const day = workday(dayNumber(start), n, holidays);
      if (Math.abs(day) > MAX_DAY) return new ErrorValue("the date is out of range");
      return new Date(day * DAY_MS).toISOString();
    },
  },
  WORKDAY_DIFF: {
    min: 2,
    max: 3,
    call: (args) => {
      const start = toDate(args[0]);
      if (start instanceof ErrorValue) return start;
      const end = toDate(args[1]);
      if (end instanceof ErrorValue) return end;
      const holidays = holidaysOf(args[2]);
      if (holidays instanceof ErrorValue) return holidays;
      const [a, b] = [dayNumber(start), dayNumber(end)];
      const [from, to] = a <= b ? [a, b] : [b, a];
      let count = weekdaysBetween(from, to);
      for (const h of holidays) if (h >= from && h <= to && isWeekday(h)) count--;
      return a <= b ? count : -count;
    },
  },
  DATETIME_FORMAT: {
    min: 1,
    max: 2,
    lazy: ([dateNode, formatNode], ctx) => {
      let inner = dateNode as Node;
      const modifiers: Record<string, Node> = {};
      // SET_LOCALE(SET_TIMEZONE(date, tz), locale) or the other way round: each peeled once.
      while (inner.type === "call" && FORMAT_MODIFIERS.has(inner.name) && modifiers[inner.name] === undefined) {
        modifiers[inner.name] = inner.args[1] as Node;
        inner = inner.args[0] as Node;
      }
      if (mentionsModifier(inner)) return new ErrorValue(MODIFIER_ELSEWHERE);
      const zoneNode = modifiers["SET_TIMEZONE"];
      const localeNode = modifiers["SET_LOCALE"];
      const nodes = [inner, formatNode, zoneNode, localeNode];
      const values: (Plain | undefined)[] = [];
      for (const node of nodes) {
        if (node === undefined) {
          values.push(undefined);
          continue;
        }
        const value = ctx.evaluate(node);
        if (isError(value)) return value;
        values.push(value);
      }
      const [dateValue, formatValue, zoneValue, localeValue] = values;
      const date = toDate(dateValue);
      if (date instanceof ErrorValue) return date;
      let offsetMinutes = 0;
      if (zoneValue !== undefined) {
        const zone = timeZoneOf(zoneValue);
        if (zone instanceof ErrorValue) return zone;
        offsetMinutes = tzOffset(zone, date);
        if (!Number.isFinite(offsetMinutes)) return new ErrorValue(`no offset for time zone ${zone}`);
      }
      const locale = localeValue === undefined ? undefined : localeOf(localeValue);
      if (locale instanceof ErrorValue) return locale;
      const moment = {
        wall: new Date(date.getTime() + offsetMinutes * 60_000),
        epochMs: date.getTime(),
        offsetMinutes,
        utc: zoneValue === undefined,
      };
      const format = formatValue === undefined ? "" : toText(formatValue);
      // moment writes "Z" for a moment whose offset is 0 (isUtc()), the offset otherwise.
      const effective = format !== "" ? format : offsetMinutes === 0 ? DEFAULT_FORMAT_UTC : DEFAULT_FORMAT_ZONED;
      return formatMoment(moment, effective, locale);
    },
  },
  SET_TIMEZONE: { min: 2, max: 2, call: () => new ErrorValue(MODIFIER_ELSEWHERE) },
  SET_LOCALE: { min: 2, max: 2, call: () => new ErrorValue(MODIFIER_ELSEWHERE) },
};
