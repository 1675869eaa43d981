/**
 * DATETIME_PARSE's reading of text with a format: Airtable parses with moment.js ("Airtable uses Moment.js tokens for
 * date parsing and formatting", https://support.airtable.com/docs/supported-format-specifiers-for-datetime-format),
 * so this follows moment's forgiving (non-strict) parser in its English locale, in UTC:
 *
 * - each format token takes the first run of text its pattern matches at or after the current position (digits may
 *   be preceded by other characters, which are skipped; month and weekday names must come next, as moment anchors
 *   them), and a literal character of the format is consumed only if it is found;
 * - at least one token must be read, and the parts read must make a real date and time (month 1–12, a day the month
 *   has, hour 0–24 with 24 only at 24:00:00, minutes and seconds 0–59), else the result is #ERROR!;
 * - parts not given default as moment defaults them: no year, month or day → today (UTC); a day → its month and
 *   year as today's; a month → this year; time → 00:00:00.000;
 * - two-digit years (YY) are 1969–2068 (moment's parseTwoDigitYear: above 68 is the 1900s);
 * - A/a reads am/pm/a/p in any case; Z/ZZ read an offset ("+01:00", "-0500", "Z") and the moment is that offset's.
 *
 * Tokens whose reading needs week arithmetic or other locales (w, W, gg, GG, e, E, N…, y…) are #ERROR! rather than
 * a guess; a letter that is no token ("T" of "YYYY-MM-DDTHH:mm") is a literal, as in moment. The long formats (L,
 * LL, LT, …) are the locale's; in a language other than English month and weekday names and AM/PM are read as
 * moment-locales.ts writes them (Intl's: "3. Dezember 2026" with "D. MMMM YYYY" and "de"), in any case, and the
 * ordinal tokens are #ERROR!.
 */
import {
  DEFAULT_LOCALE,
  expandLongFormats,
  MONTHS as ENGLISH_MONTHS,
  WEEKDAYS as ENGLISH_WEEKDAYS,
  type LocaleNames,
  type MomentLocale,
} from "./moment-format.ts";
import { ErrorValue } from "./values.ts";

/** English names in lower case: a name read is matched by its first letters in any case. */
const MONTHS = ENGLISH_MONTHS.map((m) => m.toLowerCase());
const WEEKDAYS = ENGLISH_WEEKDAYS.map((d) => d.toLowerCase());

/** moment's parse tokens (its formattingTokens, as the formatter reads them). */
const TOKENS =
  /(\[[^[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?|S{1,9}|x|X|zz?|ZZ?|.)/g;

/** moment's non-strict patterns (match1to2, match1to4, …), unanchored as moment uses them. */
const ONE_TO_TWO = /\d\d?/;
const PATTERNS: Record<string, RegExp> = {
  M: ONE_TO_TWO,
  MM: ONE_TO_TWO,
  D: ONE_TO_TWO,
  DD: ONE_TO_TWO,
  Do: /\d{1,2}(st|nd|rd|th)?/i,
  DDD: /\d{1,3}/,
  DDDD: /\d{1,3}/,
  YYYY: /\d{1,4}/,
  YYYYY: /[+-]?\d{1,6}/,
  YYYYYY: /[+-]?\d{1,6}/,
  YY: ONE_TO_TWO,
  Q: /\d/,
  H: ONE_TO_TWO,
  HH: ONE_TO_TWO,
  h: ONE_TO_TWO,
  hh: ONE_TO_TWO,
  k: ONE_TO_TWO,
  kk: ONE_TO_TWO,
  m: ONE_TO_TWO,
  mm: ONE_TO_TWO,
  s: ONE_TO_TWO,
  ss: ONE_TO_TWO,
  A: /[ap]\.?m?\.?/i,
  a: /[ap]\.?m?\.?/i,
  Z: /Z|[+-]\d\d(?::?\d\d)?/i,
  ZZ: /Z|[+-]\d\d(?::?\d\d)?/i,
  X: /[+-]?\d+(\.\d{1,3})?/,
  x: /[+-]?\d+/,
};
/** Tokens moment reads that the sandbox does not (weeks, eras, ordinals other than Do, zone names): #ERROR!. */
const NOT_EMULATED = /^(w[ow]?|W[oW]?|gg(ggg?)?|GG(GGG?)?|e|E|N{1,5}|y{2,4}|yo?|Y|Mo|DDDo|do|Qo|[Hh]mm(ss)?|zz?)$/;

/** Month names, long before short (moment tries the longer first), anchored where the reading stands. */
const MONTH_NAME = new RegExp(`^(${[...MONTHS, ...MONTHS.map((m) => m.slice(0, 3))].join("|")})`, "i");
const WEEKDAY_NAME = new RegExp(
  `^(${[...WEEKDAYS, ...WEEKDAYS.map((d) => d.slice(0, 3)), ...WEEKDAYS.map((d) => d.slice(0, 2))].join("|")})`,
  "i",
);

/**
 * A non-English locale's names as the parser reads them: one pattern of every month (or weekday) name, longest first,
 * in any case, anchored where the reading stands; `index` gives the month (0–11) or weekday (0 Sunday) of a name read.
 */
interface NameReader {
  pattern: RegExp;
  index(name: string): number;
}

function nameReader(lists: string[][]): NameReader {
  const all = [...new Set(lists.flat().filter((n) => n !== ""))].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`^(${all.map(escapeRegExp).join("|")})`, "iu");
  return {
    pattern,
    index: (name) => {
      const lower = name.toLocaleLowerCase();
      for (const list of lists) {
        const i = list.findIndex((n) => n.toLocaleLowerCase() === lower);
        if (i >= 0) return i;
      }
      return -1;
    },
  };
}

const readers = new WeakMap<LocaleNames, { months: NameReader; weekdays: NameReader; meridiem: NameReader }>();

function readersOf(names: LocaleNames): { months: NameReader; weekdays: NameReader; meridiem: NameReader } {
  let known = readers.get(names);
  if (known === undefined) {
    known = {
      months: nameReader([names.months, names.monthsStandalone, names.monthsShort, names.monthsShortStandalone]),
      weekdays: nameReader([names.weekdays, names.weekdaysShort, names.weekdaysMin]),
      meridiem: nameReader([[...names.meridiem]]),
    };
    readers.set(names, known);
  }
  return known;
}

interface Parts {
  year?: number;
  month?: number;
  day?: number;
  dayOfYear?: number;
  hour?: number;
  minute?: number;
  second?: number;
  ms?: number;
  pm?: boolean;
  twelveHour?: boolean;
  offsetMinutes?: number;
  weekday?: number;
  epochMs?: number;
}

const escapeRegExp = (text: string): string => text.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");

function offsetOf(text: string): number {
  if (/^z$/i.test(text)) return 0;
  const [, sign, hh, mm] = /^([+-])(\d\d):?(\d\d)?$/.exec(text) as RegExpExecArray;
  const minutes = Number(hh) * 60 + Number(mm ?? 0);
  return sign === "-" ? -minutes : minutes;
}

/** Records what a token read into the parts; an ErrorValue for a token the sandbox does not read. */
function assign(t: string, input: string, parts: Parts, names: LocaleNames | undefined): ErrorValue | undefined {
  const n = Number.parseInt(input, 10);
  if (names !== undefined) {
    const read = readersOf(names);
    if (t === "MMM" || t === "MMMM") {
      parts.month = read.months.index(input);
      return undefined;
    }
    if (t === "dd" || t === "ddd" || t === "dddd") {
      parts.weekday = read.weekdays.index(input);
      return undefined;
    }
    if (t === "A" || t === "a") {
      parts.pm = read.meridiem.index(input) === 1;
      return undefined;
    }
  }
  switch (t) {
    case "M":
    case "MM":
      parts.month = n - 1;
      return undefined;
    case "MMM":
    case "MMMM":
      parts.month = MONTHS.findIndex((m) => m.startsWith(input.toLowerCase().slice(0, 3)));
      return undefined;
    case "D":
    case "DD":
    case "Do":
      parts.day = n;
      return undefined;
    case "DDD":
    case "DDDD":
      parts.dayOfYear = n;
      return undefined;
    case "YYYY":
    case "YYYYY":
    case "YYYYYY":
      // moment reads a two-digit "YYYY" as a two-digit year too (its hooks.parseTwoDigitYear on length ≤ 2).
      parts.year = input.replace(/^[+-]/, "").length <= 2 && t === "YYYY" ? twoDigitYear(n) : n;
      return undefined;
    case "YY":
      parts.year = twoDigitYear(n);
      return undefined;
    case "Q":
      parts.month = (n - 1) * 3;
      return undefined;
    case "H":
    case "HH":
    case "k":
    case "kk":
      parts.hour = n;
      return undefined;
    case "h":
    case "hh":
      parts.hour = n;
      parts.twelveHour = true;
      return undefined;
    case "m":
    case "mm":
      parts.minute = n;
      return undefined;
    case "s":
    case "ss":
      parts.second = n;
      return undefined;
    case "A":
    case "a":
      parts.pm = input.toLowerCase().startsWith("p");
      return undefined;
    case "Z":
    case "ZZ":
      parts.offsetMinutes = offsetOf(input);
      return undefined;
    case "X":
      parts.epochMs = Math.round(Number(input) * 1000);
      return undefined;
    case "x":
      parts.epochMs = n;
      return undefined;
    case "d":
    case "dd":
    case "ddd":
    case "dddd":
      parts.weekday = WEEKDAYS.findIndex((d) => d.startsWith(input.toLowerCase().slice(0, 2)));
      return undefined;
    default:
      if (/^S{1,9}$/.test(t)) {
        // moment: the digits are a fraction of a second ("5" is 500 ms).
        parts.ms = Math.floor(Number(`0.${input}`) * 1000);
        return undefined;
      }
      return new ErrorValue(`format token "${t}" is not emulated by the sandbox's DATETIME_PARSE`);
  }
}

const twoDigitYear = (n: number): number => n + (n > 68 ? 1900 : 2000);

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** A Date whose UTC fields are these (years 0–99 included, which Date.UTC would move to the 1900s; hour 24 rolls over). */
function utcDate(year: number, month: number, day: number, h: number, m: number, s: number, ms: number): Date {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  d.setUTCHours(h, m, s, ms);
  return d;
}

/**
 * The moment `text` describes when read with the moment.js `format` (English, UTC unless the text has an offset
 * read by Z/ZZ), or #ERROR! when nothing in it is read or the parts read are not a real date.
 */
export function parseMoment(
  text: string,
  format: string,
  nowMs: number,
  locale: MomentLocale = DEFAULT_LOCALE,
): Date | ErrorValue {
  const parts: Parts = {};
  const names = locale.names;
  // moment's ordinals are each locale's own ("3." in de): read in English only.
  if (names !== undefined && /(^|[^[])(Do|DDDo|Mo|Qo|do|wo|Wo)/.test(format.replace(/\[[^[]*\]/g, ""))) {
    return new ErrorValue(
      "ordinal format tokens (Do, Mo, …) are not emulated outside English by the sandbox's DATETIME_PARSE",
    );
  }
  // moment expands the locale's long date formats (L, LL, LT, …) before reading, as it does before writing.
  format = expandLongFormats(format, locale);
  let rest = text;
  let read = 0;
  for (const match of format.matchAll(TOKENS)) {
    const whole = match[0];
    const literal =
      match[1] !== undefined ? whole.slice(1, -1) : match[2] !== undefined ? whole.replace(/\\/g, "") : undefined;
    const t = match[3];
    if (literal === undefined && t !== undefined && (PATTERNS[t] !== undefined || /^(MMMM?|dd?d?d?|S{1,9})$/.test(t))) {
      const localized = names === undefined ? undefined : readersOf(names);
      const pattern =
        t === "MMM" || t === "MMMM"
          ? (localized?.months.pattern ?? MONTH_NAME)
          : /^(dd|ddd|dddd)$/.test(t)
            ? (localized?.weekdays.pattern ?? WEEKDAY_NAME)
            : (t === "A" || t === "a") && localized !== undefined
              ? localized.meridiem.pattern
              : t === "d"
                ? /[0-6]/
                : /^S{1,9}$/.test(t)
                  ? /\d+/
                  : (PATTERNS[t] as RegExp);
      const found = pattern.exec(rest);
      if (found === null) continue;
      const problem = assign(t, found[0], parts, names);
      if (problem !== undefined) return problem;
      rest = rest.slice(found.index + found[0].length);
      read++;
      continue;
    }
    if (literal === undefined && t !== undefined && NOT_EMULATED.test(t)) {
      return new ErrorValue(`format token "${t}" is not emulated by the sandbox's DATETIME_PARSE`);
    }
    // A literal: consumed where it is next found, skipped when it is not there (moment's forgiving mode).
    const at = rest.search(new RegExp(escapeRegExp(literal ?? whole)));
    if (at >= 0) rest = rest.slice(at + (literal ?? whole).length);
  }
  if (read === 0) return new ErrorValue(`${JSON.stringify(text)} does not match the format ${JSON.stringify(format)}`);
  if (parts.epochMs !== undefined) return new Date(parts.epochMs);
  return build(parts, text, nowMs);
}

function build(parts: Parts, text: string, nowMs: number): Date | ErrorValue {
  const invalid = new ErrorValue(`${JSON.stringify(text)} is not a real date and time`);
  const now = new Date(nowMs);
  // moment's configFromArray: year, month and day are taken from today until the first one given; after it, a part
  // not given is its smallest (month January, day 1).
  const given = [parts.year, parts.month, parts.day];
  const today = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
  let i = 0;
  for (; i < 3 && given[i] === undefined; i++) given[i] = today[i];
  for (; i < 3; i++) given[i] ??= i === 2 ? 1 : 0;
  const year = given[0] as number;
  let month = given[1] as number;
  let day = given[2] as number;
  if (parts.dayOfYear !== undefined) {
    const isLeap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    if (parts.dayOfYear < 1 || parts.dayOfYear > (isLeap ? 366 : 365)) return invalid;
    const d = utcDate(year, 0, parts.dayOfYear, 0, 0, 0, 0);
    month = d.getUTCMonth();
    day = d.getUTCDate();
  }
  let hour = parts.hour ?? 0;
  if (parts.pm !== undefined && hour <= 12) {
    if (parts.pm && hour < 12) hour += 12;
    if (!parts.pm && hour === 12) hour = 0;
  }
  const minute = parts.minute ?? 0;
  const second = parts.second ?? 0;
  const ms = parts.ms ?? 0;
  if (month < 0 || month > 11) return invalid;
  if (day < 1 || day > daysInMonth(year, month)) return invalid;
  if (hour < 0 || hour > 24 || (hour === 24 && (minute !== 0 || second !== 0 || ms !== 0))) return invalid;
  if (minute > 59 || second > 59) return invalid;
  const wall = utcDate(year, month, day, hour, minute, second, ms);
  // moment flags a weekday name that is not the date's weekday (weekdayMismatch) as invalid.
  if (parts.weekday !== undefined && parts.weekday !== wall.getUTCDay()) return invalid;
  return new Date(wall.getTime() - (parts.offsetMinutes ?? 0) * 60_000);
}
