/**
 * The instants a value written to a `dateTime` field may name, as Airtable reads it (field model, "Date and
 * time", https://airtable.com/developers/web/api/field-model): an ISO 8601 timestamp with a zone (`Z`, `+02:00`)
 * names itself; an "ambiguous string input like "2020-09-05T07:00:00" [or] "2020-09-08" will be interpreted
 * according to the timeZone of the field instead of utc" when that time zone is neither `utc` nor `client`, and as
 * UTC otherwise. Nothing here depends on this process's own time zone.
 *
 * A wall time can name two instants (the repeated hour when clocks go back) or none (the hour skipped when they go
 * forward); Airtable does not document its choice, so both candidates are returned. Any other text (what
 * `typecast` may parse: "9/5/2030 7:00", "2030-09-05 07:00") names nothing certain: an empty list.
 *
 * @param value the input as written
 * @param timeZone the field's `options.timeZone` (an IANA name, `utc` or `client`; not a string counts as UTC)
 * @returns ms since the epoch, one or two; empty when the text is not ISO 8601, names an impossible date or time
 *   (February 31st, 25:00), or the time zone is unknown or then had an offset of no whole minutes
 */
import { tzOffset } from "@date-fns/tz";

const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
/** A date alone, or a date and time without a zone. */
const AMBIGUOUS = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const DAY_MS = 86_400_000;

export function dateTimeInputInstants(value: string, timeZone: unknown): number[] {
  if (ZONED.test(value)) {
    const t = Date.parse(value);
    return Number.isNaN(t) ? [] : [t];
  }
  const m = AMBIGUOUS.exec(value);
  if (m === null) return [];
  const wall = wallClockMs(m);
  if (wall === undefined) return [];
  if (typeof timeZone !== "string" || timeZone === "utc" || timeZone === "client") return [wall];
  // The zone's offsets a day either side (minutes east of UTC): the same one, or the two around a clock change.
  const offsets = [
    ...new Set([tzOffset(timeZone, new Date(wall - DAY_MS)), tzOffset(timeZone, new Date(wall + DAY_MS))]),
  ];
  // NaN: an unknown zone. Not whole minutes: a local mean time before the zone adopted standard time (Monrovia until
  // 1972), which tzOffset does not read reliably.
  if (!offsets.every(Number.isInteger)) return [];
  const candidates = offsets.map((offset) => wall - offset * 60_000).sort((a, b) => a - b);
  const valid = candidates.filter((t) => wall - t === tzOffset(timeZone, new Date(t)) * 60_000);
  // None valid: a skipped time (clocks went forward), which Airtable may move either way.
  return valid.length > 0 ? valid : candidates;
}

/**
 * The wall clock of an AMBIGUOUS match as if it were UTC (ms), or undefined for an impossible date or time.
 * `setUTCFullYear` keeps years 0–99 as written (Date.UTC would read them as 1900–1999).
 */
function wallClockMs(m: RegExpExecArray): number | undefined {
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? "0").padEnd(3, "0"));
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return undefined;
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}
