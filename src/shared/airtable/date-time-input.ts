/**
 * The instant a value written to a `dateTime` field names, read as Airtable reads it (field model, "Date and
 * time", https://airtable.com/developers/web/api/field-model): a timestamp with a zone (`Z`, `+02:00`) names
 * itself; an "ambiguous string input like "2020-09-05T07:00:00" [or] "2020-09-08" will be interpreted according to
 * the timeZone of the field instead of utc" when that time zone is neither `utc` nor `client`, and as UTC
 * otherwise. Never this process's own time zone, which is what `Date.parse` would use for a time without a zone.
 *
 * @param value the input as written (an ISO 8601 text)
 * @param timeZone the field's `options.timeZone` (an IANA name, `utc` or `client`; anything else counts as UTC)
 * @returns ms since the epoch, or NaN when the text names no instant (2030-02-31, an unknown time zone)
 */
import { TZDate } from "@date-fns/tz";

/** A date alone, or a date and time without a zone. */
const AMBIGUOUS = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;

export function dateTimeInputInstant(value: string, timeZone: unknown): number {
  const m = AMBIGUOUS.exec(value);
  if (m === null) return Date.parse(value);
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? "0").padEnd(3, "0"));
  // Both constructors roll an impossible date (February 31st) over into the next month: such a text names nothing.
  if (new Date(Date.UTC(y, mo - 1, d)).toISOString().slice(0, 10) !== `${m[1]}-${m[2]}-${m[3]}`) return NaN;
  return typeof timeZone === "string" && timeZone !== "utc" && timeZone !== "client"
    ? new TZDate(y, mo - 1, d, h, mi, s, ms, timeZone).getTime()
    : Date.UTC(y, mo - 1, d, h, mi, s, ms);
}
