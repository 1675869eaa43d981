/**
 * Airtable's date comparison and arithmetic (https://support.airtable.com/docs/formula-field-reference, "Date and
 * time functions"): IS_BEFORE, IS_AFTER, IS_SAME, DATETIME_DIFF, DATEADD, LAST_MODIFIED_TIME. Dates are the ISO
 * strings of date ("2026-01-05", midnight UTC) and dateTime cells, or text that parses as a date; anything else is
 * #ERROR!. DATETIME_DIFF(date1, date2, unit) is date1 − date2 in whole units, truncated toward zero (seconds by
 * default), as Airtable (moment.js's diff) counts.
 */
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isArray, toText, type Value } from "./values.ts";

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
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00.000Z` : text);
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

export const DATE_FUNCTIONS: Record<string, FunctionSpec> = {
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
        out.setUTCMonth(out.getUTCMonth() + n * (unit === "months" ? 1 : unit === "quarters" ? 3 : 12));
      } else {
        out.setTime(out.getTime() + n * UNIT_MS[unit]);
      }
      return out.toISOString();
    },
  },
  LAST_MODIFIED_TIME: {
    min: 0,
    max: 0,
    call: (_args, ctx) => ctx.record.lastModifiedTime ?? ctx.record.createdTime,
  },
};
