/**
 * DATETIME_FORMAT's output: Airtable formats with moment.js tokens in the English locale (another with SET_LOCALE:
 * ENGLISH_LOCALES here, the other languages' names and patterns in moment-locales.ts)
 * (https://support.airtable.com/docs/supported-format-specifiers-for-datetime-format: "Airtable uses Moment.js tokens
 * for date parsing and formatting … Specifiers are case-sensitive"; "W" is the ISO week of the year, "w" the locale
 * week, 2/11/21 being in ISO week 6 and locale week 7). The tokens here are moment's, with its English names, ordinals
 * and week rules (locale weeks start on Sunday and week 1 holds January 1; ISO weeks start on Monday and week 1 holds
 * January 4). Text in [brackets] and a character after a backslash are copied as they are; any other character that
 * is not a token is copied too. Tokens whose output the sandbox cannot reproduce (era "N…", "y…", "Y", and the time
 * zone abbreviation "z"/"zz" outside UTC) make the result #ERROR! rather than a guess.
 */
import { ErrorValue } from "./values.ts";

/** A moment to format: the wall-clock parts (read with getUTC… on `wall`), the instant, and the zone's offset. */
export interface Moment {
  wall: Date;
  epochMs: number;
  /** Minutes east of UTC. */
  offsetMinutes: number;
  /** True when no time zone was set (moment.utc: "z" prints "UTC"). */
  utc: boolean;
}

/** moment's English month and weekday names (weekdays from Sunday), for DATETIME_FORMAT and DATETIME_PARSE. */
export const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
export const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/**
 * What a moment.js locale changes in DATETIME_FORMAT's output that the sandbox emulates: the long date formats (LT,
 * LTS, L, LL, LLL, LLLL; l … llll are derived from them as moment derives them) and the locale week (`w`, `gg`): weeks
 * start on `dow` (0 Sunday) and week 1 is the week holding January `7 + dow − doy`.
 */
export interface MomentLocale {
  code: string;
  long: { LT: string; LTS: string; L: string; LL: string; LLL: string; LLLL: string };
  week: { dow: number; doy: number };
  /** A non-English locale's names (moment-locales.ts); English's when absent. */
  names?: LocaleNames;
}

/**
 * A locale's month and weekday names and AM/PM, as moment keeps them: months in the format (genitive) form, used
 * after a day ("3. Dezember", "3 декабря"), and the standalone form ("декабрь"); weekdays from Sunday.
 */
export interface LocaleNames {
  months: string[];
  monthsStandalone: string[];
  monthsShort: string[];
  monthsShortStandalone: string[];
  weekdays: string[];
  weekdaysShort: string[];
  weekdaysMin: string[];
  meridiem: [string, string];
}

/** moment's test for the format form of a month name: a day, then spaces or [text], then the month. */
export const MONTH_AFTER_DAY = /D[oD]?(\[[^[\]]*\]|\s)+MMMM?/;

const US_TIME = { LT: "h:mm A", LTS: "h:mm:ss A" };
const H24_TIME = { LT: "HH:mm", LTS: "HH:mm:ss" };
const DMY = { L: "DD/MM/YYYY", LL: "D MMMM YYYY" };

/**
 * The English locales whose output the sandbox writes (names, ordinals and meridiems are moment's English ones in all
 * of them), with moment's own long formats and weeks (moment/locale/en-gb.js, en-au.js, en-ca.js, en-ie.js, en-nz.js,
 * en-il.js; "en" is moment's built-in default, and "en-us", which moment does not have, is read as "en" — a guess).
 * Airtable's "Supported SET_LOCALE modifiers" page lists moment's locale codes; the other languages are written with
 * Intl's names and patterns (moment-locales.ts).
 */
export const ENGLISH_LOCALES: Readonly<Record<string, MomentLocale>> = Object.fromEntries(
  (
    [
      ["en", { ...US_TIME, L: "MM/DD/YYYY", LL: "MMMM D, YYYY" }, "MMMM D, YYYY", 0, 6],
      ["en-us", { ...US_TIME, L: "MM/DD/YYYY", LL: "MMMM D, YYYY" }, "MMMM D, YYYY", 0, 6],
      ["en-ca", { ...US_TIME, L: "YYYY-MM-DD", LL: "MMMM D, YYYY" }, "MMMM D, YYYY", 0, 6],
      ["en-au", { ...US_TIME, ...DMY }, "D MMMM YYYY", 0, 4],
      ["en-nz", { ...US_TIME, ...DMY }, "D MMMM YYYY", 1, 4],
      ["en-gb", { ...H24_TIME, ...DMY }, "D MMMM YYYY", 1, 4],
      ["en-ie", { ...H24_TIME, ...DMY }, "D MMMM YYYY", 1, 4],
      ["en-il", { ...H24_TIME, ...DMY }, "D MMMM YYYY", 0, 6],
    ] as const
  ).map(([code, parts, date, dow, doy]) => {
    const long = { ...parts, LLL: `${date} ${parts.LT}`, LLLL: `dddd, ${date} ${parts.LT}` };
    return [code, { code, long, week: { dow, doy } }];
  }),
);

/** The locale DATETIME_FORMAT writes in without SET_LOCALE. */
export const DEFAULT_LOCALE = ENGLISH_LOCALES["en"] as MomentLocale;

/** moment's long date formats of a locale, the lower-case ones derived (MMMM → MMM, MM → M, DD → D, dddd → ddd). */
function longFormats(locale: MomentLocale): Record<string, string> {
  const out: Record<string, string> = { ...locale.long };
  for (const key of ["L", "LL", "LLL", "LLLL"] as const) {
    out[key.toLowerCase()] = locale.long[key].replace(/MMMM|MM|DD|dddd/g, (tok) => tok.slice(1));
  }
  return out;
}
const LONG_FORMAT_TOKENS = /(\[[^[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})/g;
/** moment's formattingTokens. */
const TOKENS =
  /(\[[^[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?|S{1,9}|x|X|zz?|ZZ?|.)/g;

/** moment's zeroFill: the absolute value padded to `width` digits, "-" in front of a negative number. */
function zeroFill(n: number, width: number, forceSign = false): string {
  const digits = String(Math.abs(n)).padStart(width, "0");
  return (n >= 0 ? (forceSign ? "+" : "") : "-") + digits;
}

/** moment's English ordinal: 1st 2nd 3rd 4th … 11th 12th 13th … 21st. */
function ordinal(n: number): string {
  const b = n % 10;
  const suffix = Math.trunc((n % 100) / 10) === 1 ? "th" : b === 1 ? "st" : b === 2 ? "nd" : b === 3 ? "rd" : "th";
  return `${n}${suffix}`;
}

const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

function dayOfYear(d: Date): number {
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return Math.round((day - start) / 86_400_000) + 1;
}

/** moment's firstWeekOffset/weekOfYear for a week starting on `dow` whose week 1 holds January (7 + dow − doy). */
function firstWeekOffset(year: number, dow: number, doy: number): number {
  const fwd = 7 + dow - doy;
  const jan = new Date(Date.UTC(2000, 0, fwd));
  jan.setUTCFullYear(year);
  const fwdlw = (7 + jan.getUTCDay() - dow) % 7;
  return -fwdlw + fwd - 1;
}

function weeksInYear(year: number, dow: number, doy: number): number {
  const days = isLeap(year) ? 366 : 365;
  return (days - firstWeekOffset(year, dow, doy) + firstWeekOffset(year + 1, dow, doy)) / 7;
}

function weekOfYear(d: Date, dow: number, doy: number): { week: number; year: number } {
  const year = d.getUTCFullYear();
  const week = Math.floor((dayOfYear(d) - firstWeekOffset(year, dow, doy) - 1) / 7) + 1;
  if (week < 1) return { week: week + weeksInYear(year - 1, dow, doy), year: year - 1 };
  if (week > weeksInYear(year, dow, doy)) return { week: week - weeksInYear(year, dow, doy), year: year + 1 };
  return { week, year };
}

/** ISO weeks (dow 1, doy 4); locale weeks are the locale's (moment "en": dow 0, doy 6). */
const isoWeek = (d: Date): { week: number; year: number } => weekOfYear(d, 1, 4);

function offset(minutes: number, separator: string): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${zeroFill(Math.floor(abs / 60), 2)}${separator}${zeroFill(abs % 60, 2)}`;
}

function token(t: string, m: Moment, locale: MomentLocale, monthAfterDay: boolean): string | ErrorValue | undefined {
  const d = m.wall;
  const names = locale.names;
  if (names !== undefined) {
    const localized = localizedToken(t, d, names, monthAfterDay);
    if (localized !== undefined) return localized;
  }
  const localeWeek = (date: Date): { week: number; year: number } => weekOfYear(date, locale.week.dow, locale.week.doy);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const date = d.getUTCDate();
  const weekday = d.getUTCDay();
  const hours = d.getUTCHours();
  const minutes = d.getUTCMinutes();
  const seconds = d.getUTCSeconds();
  const ms = d.getUTCMilliseconds();
  const h12 = hours % 12 || 12;
  switch (t) {
    case "M":
      return String(month + 1);
    case "Mo":
      return ordinal(month + 1);
    case "MM":
      return zeroFill(month + 1, 2);
    case "MMM":
      return (MONTHS[month] as string).slice(0, 3);
    case "MMMM":
      return MONTHS[month];
    case "Q":
      return String(Math.floor(month / 3) + 1);
    case "Qo":
      return ordinal(Math.floor(month / 3) + 1);
    case "D":
      return String(date);
    case "Do":
      return ordinal(date);
    case "DD":
      return zeroFill(date, 2);
    case "DDD":
      return String(dayOfYear(d));
    case "DDDo":
      return ordinal(dayOfYear(d));
    case "DDDD":
      return zeroFill(dayOfYear(d), 3);
    case "d":
      return String(weekday);
    case "e":
      return String((weekday - locale.week.dow + 7) % 7);
    case "do":
      return ordinal(weekday);
    case "dd":
      return (WEEKDAYS[weekday] as string).slice(0, 2);
    case "ddd":
      return (WEEKDAYS[weekday] as string).slice(0, 3);
    case "dddd":
      return WEEKDAYS[weekday];
    case "E":
      return String(weekday === 0 ? 7 : weekday);
    case "w":
      return String(localeWeek(d).week);
    case "wo":
      return ordinal(localeWeek(d).week);
    case "ww":
      return zeroFill(localeWeek(d).week, 2);
    case "W":
      return String(isoWeek(d).week);
    case "Wo":
      return ordinal(isoWeek(d).week);
    case "WW":
      return zeroFill(isoWeek(d).week, 2);
    case "YY":
      return zeroFill(year % 100, 2);
    case "YYYY":
      return zeroFill(year, 4);
    case "YYYYY":
      return zeroFill(year, 5);
    case "YYYYYY":
      return zeroFill(year, 6, true);
    case "gg":
      return zeroFill(localeWeek(d).year % 100, 2);
    case "gggg":
      return zeroFill(localeWeek(d).year, 4);
    case "ggggg":
      return zeroFill(localeWeek(d).year, 5);
    case "GG":
      return zeroFill(isoWeek(d).year % 100, 2);
    case "GGGG":
      return zeroFill(isoWeek(d).year, 4);
    case "GGGGG":
      return zeroFill(isoWeek(d).year, 5);
    case "A":
      return hours < 12 ? "AM" : "PM";
    case "a":
      return hours < 12 ? "am" : "pm";
    case "H":
      return String(hours);
    case "HH":
      return zeroFill(hours, 2);
    case "h":
      return String(h12);
    case "hh":
      return zeroFill(h12, 2);
    case "k":
      return String(hours || 24);
    case "kk":
      return zeroFill(hours || 24, 2);
    case "hmm":
      return `${h12}${zeroFill(minutes, 2)}`;
    case "hmmss":
      return `${h12}${zeroFill(minutes, 2)}${zeroFill(seconds, 2)}`;
    case "Hmm":
      return `${hours}${zeroFill(minutes, 2)}`;
    case "Hmmss":
      return `${hours}${zeroFill(minutes, 2)}${zeroFill(seconds, 2)}`;
    case "m":
      return String(minutes);
    case "mm":
      return zeroFill(minutes, 2);
    case "s":
      return String(seconds);
    case "ss":
      return zeroFill(seconds, 2);
    case "x":
      return String(m.epochMs);
    case "X":
      return String(Math.floor(m.epochMs / 1000));
    case "Z":
      return offset(m.offsetMinutes, ":");
    case "ZZ":
      return offset(m.offsetMinutes, "");
    case "z":
    case "zz":
      return m.utc ? "UTC" : new ErrorValue(`format token "${t}" (a time zone abbreviation) is not emulated`);
    default:
      if (/^S{1,9}$/.test(t)) {
        // S is tenths, SS hundredths, SSS milliseconds; longer runs pad the milliseconds with zeros.
        const value = t.length <= 3 ? Math.floor(ms / 10 ** (3 - t.length)) : ms * 10 ** (t.length - 3);
        return t.length === 1 ? String(value) : zeroFill(value, t.length);
      }
      if (/^(N{1,5}|y{2,4}|yo?|Y)$/.test(t)) return new ErrorValue(`format token "${t}" is not emulated`);
      return undefined;
  }
}

/**
 * A token a non-English locale writes differently: names and AM/PM from its names, ordinals refused (moment's
 * ordinals are each locale's own: "3." in de, "3-е" in ru, which Intl does not give); undefined for the others.
 */
function localizedToken(
  t: string,
  d: Date,
  names: LocaleNames,
  monthAfterDay: boolean,
): string | ErrorValue | undefined {
  const month = d.getUTCMonth();
  const weekday = d.getUTCDay();
  switch (t) {
    case "MMM":
      return (monthAfterDay ? names.monthsShort : names.monthsShortStandalone)[month];
    case "MMMM":
      return (monthAfterDay ? names.months : names.monthsStandalone)[month];
    case "dd":
      return names.weekdaysMin[weekday];
    case "ddd":
      return names.weekdaysShort[weekday];
    case "dddd":
      return names.weekdays[weekday];
    case "A":
      return names.meridiem[d.getUTCHours() < 12 ? 0 : 1];
    case "a":
      return names.meridiem[d.getUTCHours() < 12 ? 0 : 1]?.toLocaleLowerCase();
    default:
      if (/^(Mo|Qo|Do|DDDo|do|wo|Wo)$/.test(t)) {
        return new ErrorValue(`format token "${t}" (an ordinal) is not emulated outside English`);
      }
      return undefined;
  }
}

/** The format with the locale's long date formats (LT, L, LL, …, l …) written out; [brackets] and backslash escapes kept. */
export function expandLongFormats(format: string, locale: MomentLocale): string {
  const long = longFormats(locale);
  return format.replace(LONG_FORMAT_TOKENS, (match: string, bracketed?: string, escaped?: string) =>
    bracketed !== undefined || escaped !== undefined ? match : (long[match] ?? match),
  );
}

/**
 * The date formatted with a moment.js format string in a locale (DEFAULT_LOCALE, English, unless SET_LOCALE chose
 * another), or #ERROR! for a token the sandbox does not emulate.
 */
export function formatMoment(m: Moment, format: string, locale: MomentLocale = DEFAULT_LOCALE): string | ErrorValue {
  const expanded = expandLongFormats(format, locale);
  const monthAfterDay = MONTH_AFTER_DAY.test(expanded);
  let out = "";
  for (const match of expanded.matchAll(TOKENS)) {
    const text = match[0];
    if (match[1] !== undefined) {
      out += text.slice(1, -1);
      continue;
    }
    if (match[2] !== undefined) {
      out += text.replace(/\\/g, "");
      continue;
    }
    const value = token(text, m, locale, monthAfterDay);
    if (value instanceof ErrorValue) return value;
    out += value ?? text;
  }
  return out;
}
