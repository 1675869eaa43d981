/**
 * Airtable's date comparison and arithmetic (https://support.airtable.com/docs/formula-field-reference, "Date and
 * time functions"): IS_BEFORE, IS_AFTER, IS_SAME, DATETIME_DIFF, DATEADD, LAST_MODIFIED_TIME, the date parts (YEAR,
 * MONTH, DAY, HOUR, MINUTE, SECOND, WEEKDAY, WEEKNUM, DATESTR, TIMESTR, all in UTC), NOW and TODAY. Dates are the ISO
 * strings of date ("2026-01-05", midnight UTC) and dateTime cells, or text that parses as a date; anything else is
 * #ERROR!. DATETIME_DIFF(date1, date2, unit) is date1 − date2 in whole units, truncated toward zero (seconds by
 * default), as Airtable (moment.js's diff) counts.
 */
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isArray, toText, type Value } from "./values.ts";
import { cellOf } from "../cell-object.ts";

type Plain = Exclude<Value, ErrorValue>;
type Unit = "milliseconds" | "seconds" | "minutes" | "hours" | "days" | "weeks" | "months" | "quarters" | "years";

const UNIT_MS: Record<Exclude<Unit, "months" | "quarters" | "years">, number> = {
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** Unit names as Airtable (moment.js) takes them: full names (either number), or the one-letter abbreviations. */
function unitOf(value: Plain | undefined, fallback: Unit): Unit | ErrorValue {
  if (value === undefined || value === null) return fallback;
  const raw = toText(value).trim();
  const short: Record<string, Unit> = {
    ms: "milliseconds",
    s: "seconds",
    m: "minutes",
    h: "hours",
    d: "days",
    w: "weeks",
    M: "months",
    Q: "quarters",
    y: "years",
  };
  if (raw in short) return short[raw] as Unit;
  const lower = raw.toLowerCase().replace(/s$/, "");
  const full = `${lower}s` as Unit;
  if (full in UNIT_MS || full === "months" || full === "quarters" || full === "years") return full;
  return new ErrorValue(`unknown unit ${JSON.stringify(raw)}`);
}

export function toDate(value: Plain | undefined): Date | ErrorValue {
  if (value === undefined || value === null) return new ErrorValue("a date is blank");
  const text = isArray(value) ? toText(value[0] ?? null) : toText(value);
  // A date alone is midnight UTC, and so is an ISO date-time without a zone: formulas work in UTC, never in the
  // sandbox process's own time zone.
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00.000Z`
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
      ? `${text}Z`
      : text;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? new ErrorValue(`${JSON.stringify(text)} is not a date`) : new Date(t);
}

/** Whole calendar months from b to a, truncated toward zero. */
function monthDiff(a: Date, b: Date): number {
  let months = (a.getUTCFullYear() - b.getUTCFullYear()) * 12 + (a.getUTCMonth() - b.getUTCMonth());
  const anchor = new Date(b);
  anchor.setUTCMonth(b.getUTCMonth() + months);
  if (months > 0 && anchor.getTime() > a.getTime()) months--;
  if (months < 0 && anchor.getTime() < a.getTime()) months++;
  return months;
}

function diff(a: Date, b: Date, unit: Unit): number {
  if (unit === "months" || unit === "quarters" || unit === "years") {
    const months = monthDiff(a, b);
    return Math.trunc(months / (unit === "months" ? 1 : unit === "quarters" ? 3 : 12)) || 0;
  }
  return Math.trunc((a.getTime() - b.getTime()) / UNIT_MS[unit]) || 0;
}

function compareDates(args: Plain[], test: (a: Date, b: Date, unit: Unit | undefined) => boolean): Value {
  const a = toDate(args[0]);
  const b = toDate(args[1]);
  if (a instanceof ErrorValue) return a;
  if (b instanceof ErrorValue) return b;
  let unit: Unit | undefined;
  if (args[2] !== undefined) {
    const u = unitOf(args[2], "milliseconds");
    if (u instanceof ErrorValue) return u;
    unit = u;
  }
  return test(a, b, unit);
}

/** The start of `unit` containing the date (UTC), for IS_SAME. */
function startOf(d: Date, unit: Unit): number {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (unit) {
    case "years":
      return Date.UTC(y, 0, 1);
    case "quarters":
      return Date.UTC(y, m - (m % 3), 1);
    case "months":
      return Date.UTC(y, m, 1);
    case "weeks":
      return Date.UTC(y, m, d.getUTCDate() - d.getUTCDay());
    default:
      return Math.floor(d.getTime() / UNIT_MS[unit]) * UNIT_MS[unit];
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** "YYYY-MM-DD" of the date in UTC (years beyond 9999 or before 0 as Date#toISOString writes them). */
export function dateString(d: Date): string {
  return d.toISOString().slice(0, d.toISOString().indexOf("T"));
}

/** A one-argument function of a date's UTC parts; a blank or non-date argument is #ERROR!. */
function part(get: (d: Date) => number | string): FunctionSpec {
  return {
    min: 1,
    max: 1,
    call: (args) => {
      const d = toDate(args[0]);
      return d instanceof ErrorValue ? d : get(d);
    },
  };
}

/** WEEKDAY/WEEKNUM's startDayOfWeek: "Sunday" (the default) or "Monday", in any case; the offset of the week's start. */
function weekStart(value: Plain | undefined): 0 | 1 | ErrorValue {
  if (value === undefined || value === null) return 0;
  const name = toText(value).trim().toLowerCase();
  if (name === "sunday" || name === "") return 0;
  if (name === "monday") return 1;
  return new ErrorValue(`startDayOfWeek must be "Sunday" or "Monday", not ${JSON.stringify(toText(value))}`);
}

export const DATE_FUNCTIONS: Record<string, FunctionSpec> = {
  YEAR: part((d) => d.getUTCFullYear()),
  /** 1 (January) to 12. */
  MONTH: part((d) => d.getUTCMonth() + 1),
  DAY: part((d) => d.getUTCDate()),
  HOUR: part((d) => d.getUTCHours()),
  MINUTE: part((d) => d.getUTCMinutes()),
  SECOND: part((d) => d.getUTCSeconds()),
  /** "YYYY-MM-DD". */
  DATESTR: part(dateString),
  /** "HH:mm:ss", 24-hour. */
  TIMESTR: part((d) => `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`),
  /** WEEKDAY(date, [startDayOfWeek]): 0 to 6, 0 being Sunday, or Monday when weeks start on "Monday". */
  WEEKDAY: {
    min: 1,
    max: 2,
    call: (args) => {
      const d = toDate(args[0]);
      const start = weekStart(args[1]);
      if (d instanceof ErrorValue) return d;
      if (start instanceof ErrorValue) return start;
      return (d.getUTCDay() - start + 7) % 7;
    },
  },
  /**
   * WEEKNUM(date, [startDayOfWeek]): the week of the year, weeks starting on Sunday (or Monday) and week 1 being the
   * one that holds January 1 (WEEKNUM("2013-02-17") is 8), as Excel's WEEKNUM counts.
   */
  WEEKNUM: {
    min: 1,
    max: 2,
    call: (args) => {
      const d = toDate(args[0]);
      const start = weekStart(args[1]);
      if (d instanceof ErrorValue) return d;
      if (start instanceof ErrorValue) return start;
      const jan1 = Date.UTC(d.getUTCFullYear(), 0, 1);
      const jan1Weekday = (new Date(jan1).getUTCDay() - start + 7) % 7;
      const dayOfYear = Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - jan1) / 86_400_000);
      return Math.floor((dayOfYear + jan1Weekday) / 7) + 1;
    },
  },
  /** The current date and time (an ISO timestamp). */
  NOW: { min: 0, max: 0, call: () => new Date(Date.now()).toISOString() },
  /** The current date in UTC, as a date field holds it ("YYYY-MM-DD", midnight UTC). */
  TODAY: { min: 0, max: 0, call: () => dateString(new Date(Date.now())) },
  IS_BEFORE: { min: 2, max: 2, call: (args) => compareDates(args, (a, b) => a.getTime() < b.getTime()) },
  IS_AFTER: { min: 2, max: 2, call: (args) => compareDates(args, (a, b) => a.getTime() > b.getTime()) },
  IS_SAME: {
    min: 2,
    max: 3,
    call: (args) =>
      compareDates(args, (a, b, unit) =>
        unit === undefined ? a.getTime() === b.getTime() : startOf(a, unit) === startOf(b, unit),
      ),
  },
  DATETIME_DIFF: {
    min: 2,
    max: 3,
    call: (args) => {
      const a = toDate(args[0]);
      const b = toDate(args[1]);
      const unit = unitOf(args[2], "seconds");
      if (a instanceof ErrorValue) return a;
      if (b instanceof ErrorValue) return b;
      if (unit instanceof ErrorValue) return unit;
      return diff(a, b, unit);
    },
  },
  DATEADD: {
    min: 3,
    max: 3,
    call: (args) => {
      const d = toDate(args[0]);
      const unit = unitOf(args[2], "days");
      if (d instanceof ErrorValue) return d;
      if (unit instanceof ErrorValue) return unit;
      const n = Math.trunc(Number(toText(args[1] ?? null)));
      if (!Number.isFinite(n)) return new ErrorValue("DATEADD count is not a number");
      const out = new Date(d);
      if (unit === "months" || unit === "quarters" || unit === "years") {
        // As moment.js adds months: a day the target month lacks becomes its last day (Jan 31 + 1 month is Feb 28).
        const months = out.getUTCMonth() + n * (unit === "months" ? 1 : unit === "quarters" ? 3 : 12);
        const lastDay = new Date(Date.UTC(out.getUTCFullYear(), months + 1, 0)).getUTCDate();
        out.setUTCDate(Math.min(out.getUTCDate(), lastDay));
        out.setUTCMonth(months);
      } else {
        out.setTime(out.getTime() + n * UNIT_MS[unit]);
      }
      return out.toISOString();
    },
  },
  /**
   * LAST_MODIFIED_TIME([{field1}, {field2}, …]): "the date and time of the most recent modification made by a user in
   * a non-computed field in the table", or, given fields, in those fields. With fields the answer is the latest
   * change of their cells, blank when none of them was ever changed (as a lastModifiedTime field watching them reads
   * in the sandbox; Airtable's answer for that case is not documented: a guess); an argument that is not a
   * `{field}` reference is #ERROR! (a guess: the reference only shows field references).
   */
  LAST_MODIFIED_TIME: {
    min: 0,
    max: Infinity,
    lazy: (args, ctx) => {
      if (args.length === 0) return ctx.record.lastModifiedTime ?? ctx.record.createdTime;
      let latest: string | null = null;
      for (const node of args) {
        if (node.type !== "field") return new ErrorValue("LAST_MODIFIED_TIME takes {field} references only");
        const times = ctx.record.fieldModifiedTimes;
        const at = times === undefined ? undefined : cellOf(times, node.name);
        if (at !== undefined && (latest === null || at > latest)) latest = at;
      }
      return latest;
    },
  },
};
