/**
 * The locales of SET_LOCALE and DATETIME_PARSE beyond English. Airtable's "Supported SET_LOCALE modifiers" page
 * (https://support.airtable.com/docs/supported-locale-modifiers-for-set-locale) lists moment.js's locale codes ("the
 * locale modifier can be something like 'en-nz' (New Zealand English), 'tzm' (Amazigh/Berber), or 'zh-tw'") and says
 * what a locale changes: "Numerical digits … e.g. for 'ar' (Arabic), 1 => ٢", "Script directionality … e.g. 'he'",
 * "Month and weekday names … for 'es' (Spanish), Wednesday => Miércoles" and "Long date format … for 'en-gb',
 * 'MMMM D, YYYY h:mm A' => 'D MMMM YYYY HH:mm'".
 *
 * The sandbox takes moment's locale codes (AIRTABLE_LOCALES: moment 2.24's list, which the page's examples follow; its
 * table could not be read in full, so a code it drops or adds is a difference) and writes them with Node's Intl (its
 * CLDR data), not moment's own tables: month names in the format (genitive) form after a day and the standalone form
 * elsewhere, as moment chooses; weekday names (`dd`, which Intl has not, is the short name without its final dot);
 * AM/PM as Intl's day periods; the long formats (L, LL, LLL, LLLL, LT, LTS) as Intl's patterns for the same
 * fields written as moment tokens ("D. MMMM YYYY" in de, "D [de] MMMM [de] YYYY" in es); the week starting on Intl's
 * first day, week 1 holding January 4 when weeks start on Monday (ISO) and January 1 otherwise (moment's usual
 * rules). These are close to moment's but not its exact text (moment's "Sep." is Intl's "Sept." in de): a guess, in
 * the README. A locale the sandbox does not write faithfully is #ERROR! rather than a guess: ordinals (Do, Mo, …)
 * outside English; locales whose digits or direction moment changes (NOT_WRITTEN: Arabic, Persian, Hebrew, Hindi, …);
 * and codes Intl has no data for (Klingon "tlh", Talossan "tzl", …). A code not on the list is #ERROR! as in Airtable.
 */
import type { LocaleNames, MomentLocale } from "./moment-format.ts";

/** moment.js 2.24's locale codes ("x-pseudo", its test locale, left out); "en" and "en-us" are ENGLISH_LOCALES'. */
export const AIRTABLE_LOCALES: ReadonlySet<string> = new Set(
  (
    "af ar-dz ar-kw ar-ly ar-ma ar-sa ar-tn ar az be bg bm bn bo br bs ca cs cv cy da de-at de-ch de dv el en-au " +
    "en-ca en-gb en-ie en-il en-nz eo es-do es-us es et eu fa fi fo fr-ca fr-ch fr fy gd gl gom-latn gu he hi hr hu " +
    "hy-am id is it ja jv ka kk km kn ko ky lb lo lt lv me mi mk ml mn mr ms-my ms mt my nb ne nl-be nl nn pa-in pl " +
    "pt-br pt ro ru sd se si sk sl sq sr-cyrl sr ss sv sw ta te tet tg th tl-ph tlh tr tzl tzm-latn tzm ug-cn uk ur " +
    "uz-latn uz vi yo zh-cn zh-hk zh-tw"
  ).split(" "),
);

/**
 * Locales whose moment output changes digits (Arabic-Indic, Persian, Bengali, Tibetan, Devanagari, Burmese, Gurmukhi,
 * Gujarati, Kannada: a `postformat` with a `symbolMap` in moment's src/locale/<code>.js) or runs right to left
 * (Airtable's page: "the datetime will change direction accordingly"), which the sandbox does not reproduce.
 */
const NOT_WRITTEN: ReadonlySet<string> = new Set([
  "ar",
  "ar-dz",
  "ar-kw",
  "ar-ly",
  "ar-ma",
  "ar-sa",
  "ar-tn",
  "bn",
  "bo",
  "dv",
  "fa",
  "gu",
  "he",
  "hi",
  "kn",
  "mr",
  "my",
  "ne",
  "pa-in",
  "sd",
  "ug-cn",
  "ur",
]);

/** moment codes whose BCP 47 tag differs: moment's "sr" is Latin and "uz" Cyrillic, Intl's the other way round. */
const TAGS: Readonly<Record<string, string>> = {
  sr: "sr-Latn",
  "sr-cyrl": "sr-Cyrl",
  uz: "uz-Cyrl",
  "uz-latn": "uz-Latn",
  "zh-cn": "zh-Hans-CN",
  "zh-hk": "zh-Hant-HK",
  "zh-tw": "zh-Hant-TW",
  "tl-ph": "fil-PH",
  "tzm-latn": "tzm-Latn",
  tzm: "tzm-Tfng",
  "gom-latn": "gom-Latn",
  me: "sr-Latn-ME",
};

/** 2026-01-09 (a Friday) 09:05:07 UTC: single-digit day, month and hour show whether Intl pads them. */
const SAMPLE = new Date(Date.UTC(2026, 0, 9, 9, 5, 7));

/** Intl's parts of SAMPLE written as a moment format: fields as tokens, literal text with letters in [brackets]. */
function pattern(tag: string, options: Intl.DateTimeFormatOptions): string {
  const format = new Intl.DateTimeFormat(tag, { ...options, timeZone: "UTC" });
  const h12 = format.resolvedOptions().hourCycle === "h12" || format.resolvedOptions().hourCycle === "h11";
  return format
    .formatToParts(SAMPLE)
    .map((part) => {
      switch (part.type) {
        case "year":
          return "YYYY";
        case "month":
          return /^\d+$/.test(part.value) ? (part.value.length === 2 ? "MM" : "M") : "MMMM";
        case "day":
          return part.value.length === 2 ? "DD" : "D";
        case "weekday":
          return "dddd";
        case "hour":
          return (h12 ? "h" : "H").repeat(part.value.length === 2 ? 2 : 1);
        case "minute":
          return "mm";
        case "second":
          return "ss";
        case "dayPeriod":
          return "A";
        default:
          return /\p{L}/u.test(part.value) ? `[${part.value}]` : part.value;
      }
    })
    .join("");
}

function names(tag: string): LocaleNames {
  const utc = (options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat =>
    new Intl.DateTimeFormat(tag, { ...options, timeZone: "UTC" });
  const part = (format: Intl.DateTimeFormat, d: Date, type: string): string =>
    format.formatToParts(d).find((p) => p.type === type)?.value ?? "";
  const months = (options: Intl.DateTimeFormatOptions, withDay: boolean): string[] => {
    const format = utc(withDay ? { ...options, day: "numeric" } : options);
    return Array.from({ length: 12 }, (_, m) => part(format, new Date(Date.UTC(2026, m, 15)), "month"));
  };
  // 2026-03-01 is a Sunday: day i of that week is weekday i.
  const weekdays = (style: "long" | "short"): string[] => {
    const format = utc({ weekday: style });
    return Array.from({ length: 7 }, (_, i) => format.format(new Date(Date.UTC(2026, 2, 1 + i))));
  };
  const periods = utc({ hour: "numeric", hour12: true });
  const short = weekdays("short");
  return {
    months: months({ month: "long" }, true),
    monthsStandalone: months({ month: "long" }, false),
    monthsShort: months({ month: "short" }, true),
    monthsShortStandalone: months({ month: "short" }, false),
    weekdays: weekdays("long"),
    weekdaysShort: short,
    weekdaysMin: short.map((d) => d.replace(/\.$/, "")),
    meridiem: [
      part(periods, new Date(Date.UTC(2026, 0, 9, 9)), "dayPeriod") || "AM",
      part(periods, new Date(Date.UTC(2026, 0, 9, 21)), "dayPeriod") || "PM",
    ],
  };
}

const cache = new Map<string, MomentLocale>();

/**
 * The moment locale of a non-English code of AIRTABLE_LOCALES, written with Intl, or the reason the sandbox does not
 * write it (a code not on the list, a locale whose digits or direction change, a locale Intl has no data for).
 */
export function intlMomentLocale(code: string): MomentLocale | string {
  const known = cache.get(code);
  if (known !== undefined) return known;
  if (!AIRTABLE_LOCALES.has(code)) return "it is not one of Airtable's SET_LOCALE modifiers";
  if (NOT_WRITTEN.has(code)) {
    return "the sandbox does not write its digits or right-to-left text (Airtable does)";
  }
  const tag = TAGS[code] ?? code;
  // Intl falls back to a locale of another script rather than refuse one (tzm-Tfng is answered in tzm's Latin): a
  // script that changes is no data for the locale.
  const resolved = new Intl.DateTimeFormat(tag).resolvedOptions().locale;
  if (
    Intl.DateTimeFormat.supportedLocalesOf(tag).length === 0 ||
    new Intl.Locale(tag).maximize().script !== new Intl.Locale(resolved).maximize().script
  ) {
    return "the sandbox has no month and weekday names for it (Node's Intl does not know it; Airtable does)";
  }
  const LT = pattern(tag, { hour: "numeric", minute: "2-digit" });
  const LTS = pattern(tag, { hour: "numeric", minute: "2-digit", second: "2-digit" });
  const LL = pattern(tag, { year: "numeric", month: "long", day: "numeric" });
  const firstDay = (new Intl.Locale(tag) as Intl.Locale & { getWeekInfo?: () => { firstDay: number } }).getWeekInfo?.()
    .firstDay;
  const dow = firstDay === undefined ? 1 : firstDay % 7;
  const locale: MomentLocale = {
    code,
    long: {
      LT,
      LTS,
      L: pattern(tag, { year: "numeric", month: "2-digit", day: "2-digit" }),
      LL,
      LLL: `${LL} ${LT}`,
      LLLL: `${pattern(tag, { weekday: "long", year: "numeric", month: "long", day: "numeric" })} ${LT}`,
    },
    // Week 1 holds January 4 for weeks from Monday (ISO, moment's doy 4), else January 1 (doy 7 + dow − 1).
    week: { dow, doy: dow === 1 ? 4 : 7 + dow - 1 },
    names: names(tag),
  };
  cache.set(code, locale);
  return locale;
}
