/**
 * DATETIME_PARSE, TONOW and FROMNOW (https://support.airtable.com/docs/formula-field-reference, "Date and time
 * functions"), which Airtable computes with moment.js:
 *
 * - DATETIME_PARSE(date, [input format], [locale]): "Interprets a text string as a structured date, with optional
 *   input format and locale parameters." The result is a date (the ISO timestamp the API gives for a date-valued
 *   formula). With a format the text is read as moment reads it (moment-parse.ts); without one, ISO 8601 text is read
 *   as the other date functions read it (a date or date-time without a zone is UTC), and other text as JavaScript's
 *   Date reads it, in UTC (moment's own fallback — a guess at Airtable's, which the reference does not describe). A
 *   blank date or text that is no date is #ERROR! (what Airtable shows for an empty field is not documented: a
 *   guess). The locale is one of Airtable's SET_LOCALE modifiers (localeOf): its month and weekday names are read
 *   (Intl's, for a language other than English), else #ERROR!.
 * - FROMNOW(date) and TONOW(date): the reference says they calculate "the number of days between the current date
 *   and another date"; the sandbox answers moment's `fromNow()` and `toNow()` texts, which is what Airtable's moment
 *   functions of the same names give: approximate English ("a few seconds", "an hour", "3 days", "a month",
 *   "2 years") with moment's default thresholds, and a direction — FROMNOW is "in 3 days" for a future date and
 *   "3 days ago" for a past one, TONOW the other way round. That the answer is this text rather than a number of
 *   days is a guess (the reference's wording is loose); a blank date is #ERROR!, as for the other date functions.
 */
import { toDate } from "./date-functions.ts";
import { ENGLISH_LOCALES, type MomentLocale } from "./moment-format.ts";
import { intlMomentLocale } from "./moment-locales.ts";
import { parseMoment } from "./moment-parse.ts";
import type { FunctionSpec } from "./spec.ts";
import { ErrorValue, isArray, toText, type Value } from "./values.ts";

type Plain = Exclude<Value, ErrorValue>;

/**
 * A SET_LOCALE or DATETIME_PARSE locale code ("de", "en-gb", in any case, "_" read as "-"): an English locale
 * (ENGLISH_LOCALES) or another of Airtable's SET_LOCALE modifiers written with Intl (moment-locales.ts), else
 * #ERROR! saying why (not one of Airtable's codes, or one the sandbox does not write faithfully).
 */
export function localeOf(value: Plain): MomentLocale | ErrorValue {
  const code = toText(value).trim().toLowerCase().replace(/_/g, "-");
  const english = ENGLISH_LOCALES[code];
  if (english !== undefined) return english;
  const locale = intlMomentLocale(code);
  if (typeof locale !== "string") return locale;
  return new ErrorValue(`locale ${JSON.stringify(toText(value))} is not emulated: ${locale}`);
}

/** A zone written in the text: Z, UTC, GMT, an offset (+02:00, +0200) or a US zone abbreviation Date reads. */
const NAMES_A_ZONE = /\b(UTC|GMT|Z)\b|[+-]\d\d:?\d\d\b|\b[ECMP][SD]T\b/i;

/** DATETIME_PARSE without a format: ISO as the date functions read it, else Date's reading of the text in UTC. */
function parseFree(text: string): Date | ErrorValue {
  const iso = toDate(text);
  if (!(iso instanceof ErrorValue) && /^[+-]?\d{4,6}-\d{2}/.test(text)) return iso;
  const t = Date.parse(text);
  if (Number.isNaN(t)) return new ErrorValue(`${JSON.stringify(text)} is not a date`);
  // Date.parse reads text without a zone in the process's zone; formulas work in UTC, so its wall time is taken as
  // UTC's (the offset of that moment in the process's zone undone).
  return new Date(NAMES_A_ZONE.test(text) ? t : t - new Date(t).getTimezoneOffset() * 60_000);
}

/** moment's English relative-time words (moment/src/lib/locale/en.js `relativeTime`). */
const WORDS = {
  s: "a few seconds",
  ss: "%d seconds",
  m: "a minute",
  mm: "%d minutes",
  h: "an hour",
  hh: "%d hours",
  d: "a day",
  dd: "%d days",
  M: "a month",
  MM: "%d months",
  y: "a year",
  yy: "%d years",
} as const;

/**
 * moment's `duration.humanize()` of `ms` (its sign ignored) with the default thresholds (ss 44, s 45, m 45, h 22,
 * d 26, M 11; weeks unused), months and years by moment's days-to-months ratio (4800 / 146097).
 */
export function humanize(ms: number): string {
  const abs = Math.abs(ms);
  const days = abs / 86_400_000;
  const months = (days * 4800) / 146_097;
  const seconds = Math.round(abs / 1000);
  const minutes = Math.round(abs / 60_000);
  const hours = Math.round(abs / 3_600_000);
  const [key, n]: [keyof typeof WORDS, number] =
    seconds <= 44
      ? ["s", seconds]
      : seconds < 45
        ? ["ss", seconds]
        : minutes <= 1
          ? ["m", 1]
          : minutes < 45
            ? ["mm", minutes]
            : hours <= 1
              ? ["h", 1]
              : hours < 22
                ? ["hh", hours]
                : Math.round(days) <= 1
                  ? ["d", 1]
                  : Math.round(days) < 26
                    ? ["dd", Math.round(days)]
                    : Math.round(months) <= 1
                      ? ["M", 1]
                      : Math.round(months) < 11
                        ? ["MM", Math.round(months)]
                        : Math.round(months / 12) <= 1
                          ? ["y", 1]
                          : ["yy", Math.round(months / 12)];
  return WORDS[key].replace("%d", String(n));
}

/** moment's pastFuture: "in …" when `ms` (the later moment minus the earlier) is positive, "… ago" otherwise. */
const withSuffix = (ms: number): string => (ms > 0 ? `in ${humanize(ms)}` : `${humanize(ms)} ago`);

function relative(args: Plain[], sign: 1 | -1): Value {
  const d = toDate(args[0]);
  if (d instanceof ErrorValue) return d;
  return withSuffix(sign * (d.getTime() - Date.now()));
}

export const MOMENT_FUNCTIONS: Record<string, FunctionSpec> = {
  DATETIME_PARSE: {
    min: 1,
    max: 3,
    call: (args) => {
      const value = args[0] ?? null;
      if (value === null || (isArray(value) && value.length === 0)) return new ErrorValue("a date is blank");
      const text = toText(isArray(value) ? (value[0] ?? null) : value).trim();
      if (text === "") return new ErrorValue("a date is blank");
      const locale = args[2] === undefined || args[2] === null ? undefined : localeOf(args[2]);
      if (locale instanceof ErrorValue) return locale;
      const format = args[1] === undefined || args[1] === null ? "" : toText(args[1]);
      const date = format === "" ? parseFree(text) : parseMoment(text, format, Date.now(), locale);
      if (date instanceof ErrorValue) return date;
      return Number.isNaN(date.getTime()) ? new ErrorValue("the date is out of range") : date.toISOString();
    },
  },
  /** moment(date).fromNow(): "in 3 days" for a date 3 days ahead, "3 days ago" for one 3 days back. */
  FROMNOW: { min: 1, max: 1, call: (args) => relative(args, 1) },
  /** moment(date).toNow(): "3 days ago" for a date 3 days ahead, "in 3 days" for one 3 days back. */
  TONOW: { min: 1, max: 1, call: (args) => relative(args, -1) },
};
