/**
 * `cellFormat`, `timeZone` and `userLocale` of the read tools that answer records (list_records, search_records,
 * get_record): Airtable's own parameters (https://airtable.com/developers/web/api/list-records; the get-record page
 * documents cellFormat with the same sentence). cellFormat "string" answers every cell as the text a person sees in
 * Airtable — a date in the field's date format and time zone, a currency with its symbol, a link as its linked
 * records' primary values, a collaborator by name — and "The timeZone and userLocale parameters are required when
 * using string as the cellFormat". Airtable adds: "You should not rely on the format of these strings, as it is
 * subject to change": they are for telling a person, not for computing with.
 *
 * Checked here, before any request, so that a wrong call costs no Airtable request and is told the fix:
 * - "string" without timeZone or userLocale: refused with an example (no default: a zone guessed for the agent would
 *   show a person times in the wrong zone without a word, and Airtable itself has no default).
 * - a timeZone Intl does not know (Node's IANA database), or one it knows that is an abbreviation ("CET") or an
 *   offset ("+01:00"), which Airtable's list of zones does not hold; a userLocale that is not a BCP 47 tag Intl knows.
 *   UTC in any spelling ("UTC", "GMT", "Etc/UTC") is sent as "utc", the Timezone model's value; a link Intl resolves
 *   to a place ("US/Eastern") as that place's Region/City name; a zone of neither form ("Etc/GMT+5") is refused.
 * - timeZone or userLocale without cellFormat "string": Airtable documents them only for "string" ("The time zone that
 *   should be used to format dates when using string as the cellFormat"); with JSON cells they would change nothing
 *   and an agent would read UTC instants as local times, so they are refused with the two ways out.
 * - a blank timeZone or userLocale ("", spaces) counts as not given: some clients fill every optional argument, and
 *   refusing the JSON listing they meant would break every call of theirs.
 * - expandLinks with "string": a link cell is then already its linked records' primary values joined with ", "
 *   (no record ids to expand), so the two are refused together rather than one silently ignored.
 */
import { z } from "zod";
import type { ListRecordsOptions } from "../airtable/request.ts";
import type { AirtableField, AirtableTable } from "../airtable/schemas.ts";
import { cellOf } from "../airtable/cell-object.ts";
import { closestNames } from "../closest-name.ts";
import { ToolInputError } from "./tool-input-error.ts";

/** The example every refusal here shows: a zone and a locale Airtable and Intl both know. */
const EXAMPLE = '{"cellFormat": "string", "timeZone": "Europe/Berlin", "userLocale": "en-gb"}';

/** The inputs, shared by list_records, search_records and get_record. */
export const cellFormatInputs = {
  cellFormat: z
    .enum(["json", "string"])
    .optional()
    .describe(
      "json (the default): cells as Airtable's JSON values (dates and times in UTC, percents as fractions, links " +
        "as record ids). string: every cell as the text a person sees in Airtable (a date in the field's format " +
        'and time zone, a currency with its symbol, links as the linked records\' primary values joined with ", ", ' +
        "people by name); needs timeZone and userLocale. Strings are for showing, not for computing with.",
    ),
  // No min(1): blank counts as not given (resolveCellFormat), for clients that fill every optional argument.
  timeZone: z
    .string()
    .max(100)
    .optional()
    .describe(
      'With cellFormat "string" (required there): an IANA time zone name, e.g. "Europe/Berlin" or "UTC". A date-time ' +
        "field set to one time zone for all collaborators shows in that zone; one set to the viewer's own zone " +
        "shows in this one.",
    ),
  userLocale: z
    .string()
    .max(35)
    .optional()
    .describe('With cellFormat "string" (required there): a locale, e.g. "en-us", "en-gb" or "de".'),
};

export type CellFormatOptions = Pick<ListRecordsOptions, "cellFormat" | "timeZone" | "userLocale">;

/**
 * The Airtable options for a call's cellFormat, timeZone and userLocale: `{}` for JSON cells (nothing sent, so a
 * JSON listing's cursor fingerprint is what it was before these inputs existed), or all three for "string", the time
 * zone in Intl's spelling when it differs only in case ("europe/berlin" → "Europe/Berlin"). Throws ToolInputError
 * naming the fix for the mistakes listed at the top of this file; `expandLinks` is the call's expandLinks.
 */
export function resolveCellFormat(input: {
  cellFormat?: "json" | "string" | undefined;
  timeZone?: string | undefined;
  userLocale?: string | undefined;
  expandLinks?: boolean | undefined;
}): CellFormatOptions {
  const { cellFormat } = input;
  const timeZone = input.timeZone?.trim() === "" ? undefined : input.timeZone?.trim();
  const userLocale = input.userLocale?.trim() === "" ? undefined : input.userLocale?.trim();
  if (cellFormat !== "string") {
    const given = [timeZone !== undefined && "timeZone", userLocale !== undefined && "userLocale"].filter(Boolean);
    if (given.length === 0) return {};
    throw new ToolInputError(
      `${given.join(" and ")} ${given.length === 1 ? "applies" : "apply"} only with cellFormat "string" (cells as ` +
        `text a person reads); cellFormat is ${cellFormat === undefined ? "json by default" : '"json"'}, whose ` +
        'dates and times are UTC whatever the zone. Add cellFormat "string" (with both timeZone and userLocale, ' +
        `e.g. ${EXAMPLE}), or leave ${given.join(" and ")} out.`,
    );
  }
  const missing = [timeZone === undefined && "timeZone", userLocale === undefined && "userLocale"].filter(Boolean);
  if (missing.length > 0) {
    throw new ToolInputError(
      `cellFormat "string" needs timeZone and userLocale too (Airtable requires both: dates are shown in a zone ` +
        `and a locale's words); ${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} missing. Give ` +
        `e.g. ${EXAMPLE}, with the zone and locale of the person you will tell.`,
    );
  }
  const zone = checkTimeZone(timeZone!);
  checkLocale(userLocale!);
  if (input.expandLinks === true) {
    throw new ToolInputError(
      'expandLinks does not go with cellFormat "string": there a link cell is already its linked records\' ' +
        'primary values joined with ", " (no record ids to expand). Leave expandLinks out, or use cellFormat ' +
        '"json" with expandLinks for [{id, name}].',
    );
  }
  return { cellFormat: "string", timeZone: zone, userLocale: userLocale! };
}

/** What every refusal of a zone ends with. */
const ZONE_HELP =
  'Give an IANA name such as "Europe/Berlin", "America/New_York", "Asia/Tokyo" or "UTC" (not an abbreviation like ' +
  '"CET" or an offset like "+01:00").';

/**
 * A zone for each abbreviation an agent is likely to write: the one named in the refusal. Several places share most
 * of them ("CET" is Berlin's, Paris's, Rome's …): the refusal says "e.g." and asks for the person's own place.
 */
export const ABBREVIATION_ZONES: Readonly<Record<string, string>> = {
  CET: "Europe/Berlin",
  CEST: "Europe/Berlin",
  MET: "Europe/Berlin",
  MEST: "Europe/Berlin",
  EET: "Europe/Athens",
  EEST: "Europe/Athens",
  WET: "Europe/Lisbon",
  WEST: "Europe/Lisbon",
  BST: "Europe/London",
  EST: "America/New_York",
  EDT: "America/New_York",
  EST5EDT: "America/New_York",
  CST: "America/Chicago",
  CDT: "America/Chicago",
  CST6CDT: "America/Chicago",
  MST: "America/Denver",
  MDT: "America/Denver",
  MST7MDT: "America/Denver",
  PST: "America/Los_Angeles",
  PDT: "America/Los_Angeles",
  PST8PDT: "America/Los_Angeles",
  HST: "Pacific/Honolulu",
  IST: "Asia/Kolkata",
  JST: "Asia/Tokyo",
};

/**
 * ToolInputError for a zone Intl takes but Airtable's list does not hold: an offset ("+01:00", which Intl knows since
 * ES2024) or a name without a region ("CET", "EST5EDT": legacy IANA links). Airtable's list of supported zones
 * (support.airtable.com, "Supported SET_TIMEZONE timezones") holds Region/City names only; whether its API takes the
 * others is not documented. An offset would also show a person the wrong hour for half the year (no daylight
 * saving time). "UTC" and "GMT" are taken.
 */
function refuseAbbreviationOrOffset(given: string): void {
  const name = given.trim();
  if (/^(utc|gmt)$/i.test(name)) return;
  const offset = isOffset(name);
  if (!offset && name.includes("/")) return;
  const zone = ABBREVIATION_ZONES[name.toUpperCase()];
  const what = offset
    ? "an offset, not a time zone name: an offset does not follow daylight saving time, so half the year it shows " +
      "a person the wrong hour"
    : "an abbreviation, not a time zone name";
  throw new ToolInputError(
    `timeZone ${JSON.stringify(given)} is ${what}. Give the IANA name of the person's place` +
      `${zone === undefined ? "" : ` (e.g. ${JSON.stringify(zone)} for ${name.toUpperCase()})`}, such as ` +
      '"Europe/Berlin", "America/New_York", "Asia/Tokyo" or "UTC".',
  );
}

/** Whether a trimmed zone is written as an offset from UTC ("+01:00", "-0500", "UTC+1", "GMT-5"). */
export function isOffset(name: string): boolean {
  return /^[+−-]?\d/.test(name) || /^(utc|gmt)\s*[+−-]/i.test(name);
}

/**
 * The zone to send, or ToolInputError when Intl does not know it (with the IANA names ending like it, if any) or it
 * is an abbreviation or an offset (refuseAbbreviationOrOffset).
 */
function checkTimeZone(given: string): string {
  const resolved = intlZone(given);
  if (resolved === undefined) {
    // Abbreviations and offsets Intl does not know ("CEST", "PDT", "UTC+1") get their own refusal, with its zone.
    if (ABBREVIATION_ZONES[given.trim().toUpperCase()] !== undefined || isOffset(given.trim())) {
      refuseAbbreviationOrOffset(given);
    }
    const city = given.trim().split("/").at(-1)!.replaceAll(" ", "_").toLowerCase();
    const zones = Intl.supportedValuesOf("timeZone");
    const sameCity = city === "" ? [] : zones.filter((z) => z.toLowerCase().endsWith(`/${city}`));
    // A misspelt name ("Europe/Berln", "America/New York"): the rule every "did you mean" follows (closest-name.ts).
    const near = sameCity.length > 0 ? sameCity : closestNames(given, zones);
    const suggestion =
      near.length > 0
        ? `did you mean ${near
            .slice(0, 3)
            .map((z) => JSON.stringify(z))
            .join(" or ")}? `
        : "";
    throw new ToolInputError(`timeZone ${JSON.stringify(given)} is not a time zone name: ${suggestion}${ZONE_HELP}`);
  }
  refuseAbbreviationOrOffset(given);
  // UTC is "utc" in Airtable's Timezone model (https://airtable.com/developers/web/api/model/timezone), which list
  // records types timeZone as: "UTC", "GMT" or "Etc/UTC", which Intl takes and this server's help names, are sent so.
  if (UTC_ZONE_NAME.test(given.trim())) return "utc";
  // Intl takes any case; Airtable's list of zones spells them one way. An alias ("Asia/Calcutta") is sent as given.
  const spelled = resolved.toLowerCase() === given.toLowerCase() ? resolved : given;
  if (isRegionCityZone(spelled)) return spelled;
  // A link Intl resolves to a place's name ("US/Eastern" is "America/New_York", "asia/kolkata" "Asia/Calcutta"): the
  // same zone, in the only form Airtable's Timezone model holds. Sent as given, it was refused by Airtable with a bare
  // "unknown timeZone or userLocale".
  if (isRegionCityZone(resolved)) return resolved;
  throw new ToolInputError(
    `timeZone ${JSON.stringify(given)} is not in Airtable's list of time zones, which holds "utc" and the IANA ` +
      `names of places (Region/City) only. ${ZONE_HELP}`,
  );
}

/**
 * The names of UTC a person or Intl writes ("UTC", "GMT", "Etc/UTC", "Zulu", any case): Airtable's Timezone model
 * spells it "utc" (https://airtable.com/developers/web/api/model/timezone). The read tools send them so; a field's zone
 * given so is refused with "utc" named (check-fields.ts fieldTimeZoneProblem).
 */
export const UTC_ZONE_NAME = /^(etc\/)?(utc|gmt|uct|universal|zulu)$/i;

/** The regions of the IANA names in Airtable's Timezone model (https://airtable.com/developers/web/api/model/timezone). */
export const AIRTABLE_ZONE_REGIONS: ReadonlySet<string> = new Set([
  "Africa",
  "America",
  "Antarctica",
  "Arctic",
  "Asia",
  "Atlantic",
  "Australia",
  "Europe",
  "Indian",
  "Pacific",
]);

/**
 * Whether `zone` is written as the IANA names of places in Airtable's Timezone model are
 * (https://airtable.com/developers/web/api/model/timezone: "utc", "client" and Region/City names such as
 * "Europe/Berlin" or "America/Argentina/Buenos_Aires"): a region of AIRTABLE_ZONE_REGIONS, then one or more parts,
 * each capitalised as IANA writes it. Not whether the zone exists (Intl says that); "US/Eastern", "Etc/GMT+5",
 * "CET" and "europe/berlin" are not of this form.
 */
export function isRegionCityZone(zone: string): boolean {
  const [region, ...rest] = zone.split("/");
  return (
    AIRTABLE_ZONE_REGIONS.has(region ?? "") &&
    rest.length > 0 &&
    rest.every((part) => /^[A-Z][A-Za-z0-9_+-]*$/.test(part))
  );
}

/**
 * ToolInputError unless `given` is a well-formed BCP 47 tag that Intl has data for. Airtable's examples are lowercase
 * tags ("en-us", "en-gb"); an underscore ("en_US", Java's and Python's spelling) is not a BCP 47 tag, so it is refused
 * with the hyphenated form rather than sent to be refused by Airtable (whether Airtable takes it is not documented).
 */
function checkLocale(given: string): void {
  if (isKnownLocale(given)) return;
  const hyphenated = given.trim().replaceAll("_", "-").toLowerCase();
  const hint = given.includes("_") && isKnownLocale(hyphenated) ? ` tag: write ${JSON.stringify(hyphenated)}` : "";
  throw new ToolInputError(
    `userLocale ${JSON.stringify(given)} is not a locale${hint}. Give a language tag such as "en-us", "en-gb", ` +
      '"de" or "fr" (language, then region, joined with "-").',
  );
}

/** Whether `tag` is a BCP 47 language tag (language, then optional parts, joined with "-") that Intl has data for. */
function isKnownLocale(tag: string): boolean {
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag)) return false;
  try {
    return Intl.DateTimeFormat.supportedLocalesOf(tag).length > 0;
  } catch {
    return false; // a tag of the right letters that is still not well-formed ("en-us-us")
  }
}

/**
 * The zone a date-time field shows its times in for every collaborator (Airtable's field model: a dateTime field's
 * `options.timeZone`, and the `result.options.timeZone` of a createdTime, lastModifiedTime, formula, rollup or lookup
 * whose result is a dateTime), or undefined for a field shown in each viewer's zone ("client") or not a date-time.
 */
function fixedZoneOf(field: AirtableField): string | undefined {
  const options = field.options;
  const result = options?.result as { type?: unknown; options?: { timeZone?: unknown } } | undefined;
  const zone =
    field.type === "dateTime" ? options?.timeZone : result?.type === "dateTime" ? result.options?.timeZone : undefined;
  return typeof zone === "string" && zone !== "client" ? zone : undefined;
}

/**
 * Intl's name of a zone: its spelling ("utc" → "UTC", "europe/berlin" → "Europe/Berlin") and an alias resolved
 * ("US/Eastern" → "America/New_York"), or undefined when Intl does not know it.
 */
export function intlZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Intl's spelling of a zone, or the zone as given when Intl does not know it. */
function canonicalZone(zone: string): string {
  return intlZone(zone) ?? zone;
}

/**
 * The note for a string listing whose records show a date-time field set to one zone for every collaborator other
 * than the call's `timeZone`: Airtable shows such a field in its own zone whatever the request's (the time zone
 * option of the date field: "Use the same time zone for all collaborators"), and the string has no zone in it, so
 * an agent that asked for "Europe/Berlin" would tell a person in Berlin a UTC time as theirs. Undefined when no such
 * field has a value in `records` (cells keyed by field name, as the tools answer them).
 */
export function fixedZoneNote(
  table: AirtableTable,
  format: CellFormatOptions,
  records: readonly { fields: Record<string, unknown> }[],
): string | undefined {
  if (format.cellFormat !== "string" || format.timeZone === undefined) return undefined;
  const asked = canonicalZone(format.timeZone);
  const shown = new Map<string, string[]>();
  for (const field of table.fields) {
    const zone = fixedZoneOf(field);
    if (zone === undefined || canonicalZone(zone) === asked) continue;
    const shows = (cell: unknown) => cell !== undefined && cell !== "";
    if (!records.some((r) => shows(cellOf(r.fields, field.name)))) continue;
    const spelled = zone === "utc" ? "UTC" : zone;
    shown.set(spelled, [...(shown.get(spelled) ?? []), JSON.stringify(field.name)]);
  }
  if (shown.size === 0) return undefined;
  const parts = [...shown].map(([zone, names]) => `${names.join(", ")} in ${zone}`);
  return (
    `Times of fields set to one time zone for all collaborators are shown in that zone, not in ${format.timeZone}: ` +
    `${parts.join("; ")} (the strings do not say so). Convert them before telling a person in ${format.timeZone} ` +
    `(cellFormat "json" gives each as a UTC instant), or say the zone.`
  );
}
