/**
 * Writes of the plain-valued field types, as the field model documents them
 * (https://airtable.com/developers/web/api/field-model) and `typecast` converts them:
 * - text types (#simpletext, #multilinetext, #richtext markdown, #emailtext, #urltext, #phone): strings, no format
 *   check; typecast turns numbers and booleans into text.
 * - number (#decimalorintegernumber), currency (#currencynumber), percent (#percentnumber, 0.5 is 50 %), duration
 *   (#durationnumber, seconds), rating (#rating, a positive integer up to `max`; 0 clears): JSON numbers only;
 *   typecast parses strings ("1,200", "$12.50", "50%", "1:30" for a duration).
 * - checkbox: booleans only (false clears); typecast reads "true", "yes", "checked", "1" and their opposites.
 * - singleSelect / multipleSelects (#select, #multiselect): option names; an unknown name is refused with
 *   INVALID_MULTIPLE_CHOICE_OPTIONS unless typecast, which creates it — and only a creator may create options
 *   (an editor gets the same 422 even with typecast: https://github.com/Airtable/airtable.js/issues/138).
 * - date (#dateonly): "YYYY-MM-DD" only; dateTime (#dateandtime): an ISO 8601 timestamp with zone, a date alone or
 *   a date and time without a zone; typecast parses other date strings. A date alone, or a date and time without a
 *   zone, is the field's wall time when its timeZone is neither utc nor client, else UTC: "ambiguous string inputs like
 *   "2020-09-05T07:00:00" and "2020-09-08" will be interpreted according to the timeZone of the field instead of
 *   utc" (field model, Date and time) — never the sandbox process's own time zone (other typecast text: see
 *   dateTimeInstant).
 * - barcode (#barcode): `{text, type?}`; typecast takes a string as the text.
 */
import { tzOffset } from "@date-fns/tz";
import { badChoice, badValue } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Field } from "../store.ts";
import { EMPTY, type CellResult } from "./empty.ts";
import type { WriteContext } from "./write-context.ts";

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
/** A date alone, or a date and time without a zone: "ambiguous" in the field model's words. */
const AMBIGUOUS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const DAY_MS = 86_400_000;

/**
 * The instant a dateTime input names (ms since the epoch, NaN when none), ambiguous text read as the field model
 * says (above). Where a clock change makes a wall time repeat or skip, Airtable's choice is not documented: the
 * sandbox takes the earlier instant of a repeated time and moves a skipped one forward by the change (Temporal's
 * "compatible"); the worker's read-back accepts either (src/shared/airtable/date-time-input.ts). Other text (what
 * typecast parses, "9/5/2030 7:00") goes to Date.parse, in this process's time zone: Airtable's reading of it is
 * not documented, and the read-back leaves such values out of its comparison. Exported for the tests that hold
 * both readings side by side.
 */
export function dateTimeInstant(field: Field, value: string): number {
  const m = AMBIGUOUS_RE.exec(value);
  if (m === null) return Date.parse(value);
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59) return NaN;
  const wall = new Date(0);
  wall.setUTCFullYear(y, mo - 1, d); // keeps years 0–99 as written
  if (wall.getUTCFullYear() !== y || wall.getUTCMonth() !== mo - 1 || wall.getUTCDate() !== d) return NaN;
  const t = wall.setUTCHours(h, mi, sec, Number((m[7] ?? "0").padEnd(3, "0")));
  const zone = field.options?.timeZone;
  if (typeof zone !== "string" || zone === "utc" || zone === "client") return t;
  const before = tzOffset(zone, new Date(t - DAY_MS)) * 60_000;
  const after = tzOffset(zone, new Date(t + DAY_MS)) * 60_000;
  // An unknown zone (NaN), or a local mean time of no whole minutes (before standard time), which is not read here.
  if (!Number.isInteger(before / 60_000) || !Number.isInteger(after / 60_000)) return NaN;
  const valid = [t - before, t - after].filter((i) => t - i === tzOffset(zone, new Date(i)) * 60_000);
  // Valid: the one instant, or the earlier of a repeated time. None: a skipped time, with the offset before it.
  return valid.length > 0 ? Math.min(...valid) : t - before;
}

export function validDate(value: string): boolean {
  if (!DATE_RE.test(value)) return false;
  const d = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export function typecastText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function selectChoice(field: Field, name: string, ctx: WriteContext): string {
  const choices = ctx.choicesOf(field);
  if (choices.some((c) => c.name === name)) return name;
  if (!ctx.typecast || !ctx.canCreateChoices) throw badChoice(name);
  const list = ctx.newChoices.get(field) ?? [];
  list.push({ id: newId("sel"), name });
  ctx.newChoices.set(field, list);
  return name;
}

/** "1:30" → 5,400 s; "1:30:15.5" → 5,415.5 s; "90" → 90 s (Airtable's h:mm[:ss[.S]] duration formats). */
function parseDuration(text: string): number | undefined {
  const m = /^(-)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$/.exec(text.trim());
  if (m === null) {
    const n = Number(text.trim());
    return text.trim() !== "" && Number.isFinite(n) ? n : undefined;
  }
  const seconds = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === "-" ? -seconds : seconds;
}

function parseNumberText(field: Field, text: string): number | undefined {
  let t = text.trim();
  if (field.type === "duration") return parseDuration(t);
  let percent = false;
  if (field.type === "percent" && t.endsWith("%")) {
    percent = true;
    t = t.slice(0, -1);
  }
  // Thousands separators and, for currency, any symbol around the number.
  t = t.replace(/,/g, "");
  if (field.type === "currency") t = t.replace(/^[^\d.+-]+|[^\d.]+$/g, "");
  if (t === "") return undefined;
  const n = Number(t);
  if (!Number.isFinite(n)) return undefined;
  return percent ? n / 100 : n;
}

function writeNumber(field: Field, value: unknown, ctx: WriteContext): CellResult {
  let n: number | undefined;
  if (typeof value === "number") n = Number.isFinite(value) ? value : undefined;
  else if (ctx.typecast && typeof value === "string") {
    if (value.trim() === "") return EMPTY;
    n = parseNumberText(field, value);
  }
  if (n === undefined) throw badValue(field.name);
  if (field.type === "rating") {
    const max = typeof field.options?.max === "number" ? field.options.max : 5;
    if (ctx.typecast) n = Math.round(n);
    if (n === 0) return EMPTY;
    if (!Number.isInteger(n) || n < 1 || n > max) throw badValue(field.name);
  }
  return n;
}

/**
 * Over Airtable's 100,000-character limit of single line, long and rich text cells ("Single line text fields and long
 * text fields are limited to 100,000 characters": support.airtable.com, "Using rich text with Airtable"). The error
 * Airtable answers is not documented; the sandbox answers its usual INVALID_VALUE_FOR_COLUMN. Counted in code
 * points, as the product's own check counts (check-values.ts).
 */
function tooLong(text: string): boolean {
  if (text.length <= 100_000) return false;
  let characters = 0;
  for (const _ of text) characters += 1;
  return characters > 100_000;
}

/** The stored form of a plain-valued cell, EMPTY to clear it; throws ApiError for a value the type refuses. */
export function writeScalar(field: Field, value: unknown, ctx: WriteContext): CellResult {
  const fail = (): never => {
    throw badValue(field.name);
  };
  switch (field.type) {
    case "singleLineText":
    case "multilineText":
    case "richText":
    case "email":
    case "url":
    case "phoneNumber": {
      const text = typeof value === "string" ? value : ctx.typecast ? typecastText(value) : undefined;
      if (text === undefined) return fail();
      if (field.type !== "email" && field.type !== "url" && field.type !== "phoneNumber" && tooLong(text))
        return fail();
      return text === "" ? EMPTY : text;
    }
    case "number":
    case "currency":
    case "percent":
    case "duration":
    case "rating":
      return writeNumber(field, value, ctx);
    case "checkbox": {
      if (typeof value === "boolean") return value ? true : EMPTY;
      if (ctx.typecast) {
        const text = typecastText(value)?.trim().toLowerCase();
        if (text === undefined) return fail();
        if (["true", "1", "yes", "checked", "on", "x"].includes(text)) return true;
        if (["false", "0", "no", "unchecked", "off", ""].includes(text)) return EMPTY;
      }
      return fail();
    }
    case "singleSelect": {
      const name = typeof value === "string" ? value : ctx.typecast ? typecastText(value) : undefined;
      if (name === undefined) return fail();
      if (name === "") return EMPTY;
      return selectChoice(field, name, ctx);
    }
    case "multipleSelects": {
      let names: unknown[];
      if (Array.isArray(value)) names = value;
      else if (ctx.typecast && typeof value === "string") names = value.split(",").map((s) => s.trim());
      else return fail();
      const out: string[] = [];
      for (const item of names) {
        const name = typeof item === "string" ? item : ctx.typecast ? typecastText(item) : undefined;
        if (name === undefined) return fail();
        if (name === "") continue;
        const chosen = selectChoice(field, name, ctx);
        if (!out.includes(chosen)) out.push(chosen);
      }
      return out.length === 0 ? EMPTY : out;
    }
    case "date": {
      if (typeof value !== "string") return fail();
      if (validDate(value)) return value;
      if (ctx.typecast) {
        const t = Date.parse(value);
        if (Number.isNaN(t)) return fail();
        // A timestamp with a zone: its UTC date. Other text ("9/5/2030") is parsed as this process's local time,
        // so its date is read back in local time: the date written, whatever the process's time zone.
        if (DATETIME_RE.test(value)) return new Date(t).toISOString().slice(0, 10);
        const d = new Date(t);
        const pad = (n: number) => String(n).padStart(2, "0");
        return `${String(d.getFullYear()).padStart(4, "0")}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      }
      return fail();
    }
    case "dateTime": {
      if (typeof value !== "string") return fail();
      // The field model names zoneless "2020-09-05T07:00:00" among the inputs a write takes (no typecast needed).
      if (DATETIME_RE.test(value) || ctx.typecast || AMBIGUOUS_RE.test(value)) {
        const t = dateTimeInstant(field, value);
        if (!Number.isNaN(t)) return new Date(t).toISOString();
      }
      return fail();
    }
    case "barcode": {
      if (ctx.typecast && (typeof value === "string" || typeof value === "number")) {
        return String(value) === "" ? EMPTY : { text: String(value) };
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) return fail();
      const entry = value as Record<string, unknown>;
      if (Object.keys(entry).some((k) => k !== "text" && k !== "type")) return fail();
      if (typeof entry.text !== "string") return fail();
      if (entry.type !== undefined && entry.type !== null && typeof entry.type !== "string") return fail();
      if (entry.text === "") return EMPTY;
      return typeof entry.type === "string" ? { text: entry.text, type: entry.type } : { text: entry.text };
    }
    default:
      return fail();
  }
}
