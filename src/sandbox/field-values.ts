/**
 * Per field type: which values a write may carry (strictly, as Airtable checks them), what `typecast: true`
 * converts, how a stored cell is rendered, and which field definitions the meta API accepts.
 *
 * Airtable facts encoded here (see the report in index.ts for sources):
 * - email, url and phoneNumber are plain strings to the API: no format check.
 * - number takes JSON numbers only; checkbox takes booleans only; date takes `YYYY-MM-DD` only (a full timestamp
 *   is refused), dateTime takes an ISO 8601 timestamp. Without typecast, strings are never converted.
 * - A select option not among the field's choices is refused (INVALID_MULTIPLE_CHOICE_OPTIONS) unless typecast,
 *   which creates it. Creation happens only if the whole request succeeds (see `WriteContext`).
 * - Empty values (null, "", [], false) clear the cell; empty cells are omitted from answers.
 * - Computed fields (createdTime, autoNumber) refuse every value, even null.
 */
import { badChoice, badValue, computedField, typed, type ApiError } from "./errors.ts";
import { newId } from "./ids.ts";
import type { Choice, Field, FieldDef, StoredRecord } from "./store.ts";

export const COMPUTED_TYPES = new Set(["createdTime", "autoNumber"]);
const TEXT_TYPES = new Set(["singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"]);
export const SUPPORTED_TYPES = new Set([
  ...TEXT_TYPES,
  "number",
  "checkbox",
  "singleSelect",
  "multipleSelects",
  "date",
  "dateTime",
  "multipleAttachments",
  ...COMPUTED_TYPES,
]);

/** Select options created by typecast during one request; applied to the fields only when the request succeeds. */
export class WriteContext {
  readonly typecast: boolean;
  readonly newChoices = new Map<Field, Choice[]>();
  constructor(typecast: boolean) {
    this.typecast = typecast;
  }
  choicesOf(field: Field): Choice[] {
    return [...((field.options?.choices as Choice[] | undefined) ?? []), ...(this.newChoices.get(field) ?? [])];
  }
  /** Commits the typecast-created options to the schema. */
  commit(): void {
    for (const [field, added] of this.newChoices) {
      field.options = { ...field.options, choices: [...((field.options?.choices as Choice[]) ?? []), ...added] };
    }
  }
}

const EMPTY = Symbol("empty");
export type CellResult = unknown | typeof EMPTY;
export function isEmptyResult(value: CellResult): value is typeof EMPTY {
  return value === EMPTY;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function validDate(value: string): boolean {
  const m = DATE_RE.exec(value);
  if (m === null) return false;
  const d = new Date(`${value}T00:00:00.000Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function selectChoice(field: Field, name: string, ctx: WriteContext): string | ApiError {
  const choices = ctx.choicesOf(field);
  if (choices.some((c) => c.name === name)) return name;
  if (!ctx.typecast) return badChoice(name);
  const list = ctx.newChoices.get(field) ?? [];
  list.push({ id: newId("sel"), name });
  ctx.newChoices.set(field, list);
  return name;
}

function typecastText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * The stored form of `value` written to `field`, EMPTY to clear the cell, or a thrown ApiError.
 * `existing` is the cell's current value (attachments keep entries referenced by id).
 */
export function writeCell(field: Field, value: unknown, ctx: WriteContext, existing: unknown): CellResult {
  if (COMPUTED_TYPES.has(field.type)) throw computedField(field.name);
  if (value === null || value === undefined) return EMPTY;
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
      return text === "" ? EMPTY : text;
    }
    case "number": {
      if (typeof value === "number") return Number.isFinite(value) ? value : fail();
      if (ctx.typecast && typeof value === "string") {
        if (value.trim() === "") return EMPTY;
        const n = Number(value.trim().replace(/,/g, ""));
        return Number.isFinite(n) ? n : fail();
      }
      return fail();
    }
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
      const chosen = selectChoice(field, name, ctx);
      if (typeof chosen !== "string") throw chosen;
      return chosen;
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
        if (typeof chosen !== "string") throw chosen;
        if (!out.includes(chosen)) out.push(chosen);
      }
      return out.length === 0 ? EMPTY : out;
    }
    case "date": {
      if (typeof value !== "string") return fail();
      if (validDate(value)) return value;
      if (ctx.typecast) {
        const t = Date.parse(value);
        if (!Number.isNaN(t)) return new Date(t).toISOString().slice(0, 10);
      }
      return fail();
    }
    case "dateTime": {
      if (typeof value !== "string") return fail();
      if (DATETIME_RE.test(value) || ctx.typecast || validDate(value)) {
        const t = Date.parse(value);
        if (!Number.isNaN(t)) return new Date(t).toISOString();
      }
      return fail();
    }
    case "multipleAttachments":
      return writeAttachments(field, value, existing);
    default:
      return fail();
  }
}

export interface Attachment {
  id: string;
  url: string;
  filename: string;
  size?: number;
  type?: string;
}

/** New attachments come as `{url, filename?}`; existing ones are kept by `{id}` (anything else of theirs ignored). */
function writeAttachments(field: Field, value: unknown, existing: unknown): CellResult {
  if (!Array.isArray(value)) throw badValue(field.name);
  const current = Array.isArray(existing) ? (existing as Attachment[]) : [];
  const out: Attachment[] = [];
  for (const item of value) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw badValue(field.name);
    const entry = item as Record<string, unknown>;
    if (typeof entry.id === "string") {
      const kept = current.find((a) => a.id === entry.id);
      if (kept === undefined) throw badValue(field.name);
      out.push(kept);
      continue;
    }
    if (typeof entry.url !== "string" || !/^https?:\/\//.test(entry.url)) throw badValue(field.name);
    if (entry.filename !== undefined && typeof entry.filename !== "string") throw badValue(field.name);
    const filename = (entry.filename as string | undefined) ?? entry.url.split("/").pop() ?? "file";
    out.push({ id: newId("att"), url: entry.url, filename });
  }
  return out.length === 0 ? EMPTY : out;
}

/** The cell as the API renders it, or undefined when empty (then the key is omitted). */
export function readCell(field: Field, record: StoredRecord): unknown {
  if (field.type === "createdTime") return record.createdTime;
  if (field.type === "autoNumber") return record.autoNumber;
  return record.cells.get(field.id);
}

// ---------------------------------------------------------------------------------------------------------------
// Field definitions (meta API and setup)

const DATE_FORMATS: Record<string, string> = {
  local: "l",
  friendly: "LL",
  us: "M/D/YYYY",
  european: "D/M/YYYY",
  iso: "YYYY-MM-DD",
};

function invalidOptions(type: string, why: string): ApiError {
  return typed(422, "INVALID_FIELD_TYPE_OPTIONS", `Invalid options for field of type ${type}: ${why}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks a field definition and returns its normalised options (ids minted for choices). `forApi` refuses the
 * computed types, which the sandbox (like Airtable for most computed types) does not create through the API.
 */
export function normaliseFieldDef(def: FieldDef, forApi: boolean): Record<string, unknown> | undefined {
  const { type, options } = def;
  if (typeof type !== "string" || !SUPPORTED_TYPES.has(type) || (forApi && COMPUTED_TYPES.has(type))) {
    throw typed(422, "UNSUPPORTED_FIELD_TYPE", `Unsupported field type: ${JSON.stringify(type)}`);
  }
  if (options !== undefined && !isObject(options)) throw invalidOptions(type, "options must be an object");
  switch (type) {
    case "number": {
      const precision = options?.precision;
      if (typeof precision !== "number" || !Number.isInteger(precision) || precision < 0 || precision > 8) {
        throw invalidOptions(type, "options.precision must be an integer from 0 to 8");
      }
      return { precision };
    }
    case "singleSelect":
    case "multipleSelects": {
      const choices = options?.choices;
      if (!Array.isArray(choices)) throw invalidOptions(type, "options.choices must be an array");
      const seen = new Set<string>();
      const out: Choice[] = choices.map((c: unknown) => {
        if (!isObject(c) || typeof c.name !== "string" || c.name === "") {
          throw invalidOptions(type, "every choice needs a non-empty name");
        }
        if (seen.has(c.name)) throw invalidOptions(type, `duplicate choice ${JSON.stringify(c.name)}`);
        seen.add(c.name);
        const choice: Choice = { id: typeof c.id === "string" ? c.id : newId("sel"), name: c.name };
        if (typeof c.color === "string") choice.color = c.color;
        return choice;
      });
      return { choices: out };
    }
    case "date":
    case "dateTime": {
      const dateFormat = options?.dateFormat;
      if (!isObject(dateFormat) || typeof dateFormat.name !== "string" || !(dateFormat.name in DATE_FORMATS)) {
        throw invalidOptions(type, "options.dateFormat.name must be one of local, friendly, us, european, iso");
      }
      const out: Record<string, unknown> = {
        dateFormat: { name: dateFormat.name, format: DATE_FORMATS[dateFormat.name] },
      };
      if (type === "dateTime") {
        const timeFormat = options?.timeFormat;
        const timeZone = options?.timeZone;
        if (!isObject(timeFormat) || (timeFormat.name !== "12hour" && timeFormat.name !== "24hour")) {
          throw invalidOptions(type, "options.timeFormat.name must be 12hour or 24hour");
        }
        if (typeof timeZone !== "string" || timeZone === "") throw invalidOptions(type, "options.timeZone is required");
        out.timeFormat = { name: timeFormat.name, format: timeFormat.name === "12hour" ? "h:mma" : "HH:mm" };
        out.timeZone = timeZone;
      }
      return out;
    }
    case "checkbox":
      return {
        icon: typeof options?.icon === "string" ? options.icon : "check",
        color: typeof options?.color === "string" ? options.color : "greenBright",
      };
    case "multipleAttachments":
      return { isReversed: options?.isReversed === true };
    case "createdTime":
      return { result: { type: "dateTime" } };
    default:
      if (options !== undefined && Object.keys(options).length > 0) {
        throw invalidOptions(type, "this field type takes no options");
      }
      return undefined;
  }
}
