/**
 * Field definitions: which `options` each type takes when a field is created (meta API `POST …/fields`, or setup
 * through createBase) and how the meta API then describes it, per the field model
 * (https://airtable.com/developers/web/api/field-model): the "Field type and options (write)" tables for input,
 * the "(read)" tables for output.
 *
 * - number, percent: `precision` 0–8; currency: `precision` 0–7 and `symbol`; duration: `durationFormat`; rating:
 *   `max` 1–10 (icon and color default to star / yellowBright); date / dateTime: date and time formats and zone;
 *   selects: `choices`; checkbox: icon and color; attachments: `isReversed`.
 * - multipleRecordLinks: `linkedTableId` (and `viewIdForRecordSelection`); described with `isReversed`,
 *   `prefersSingleRecordLink` and the `inverseLinkFieldId` of the field created on the linked table. Setup may
 *   give `withoutInverse: true` (never shown, refused through the API): a one-way link, with no field on the
 *   linked table and no `inverseLinkFieldId` — the field model lists `inverseLinkFieldId` as optional, as a link
 *   whose inverse field was deleted in the interface, or one to a synced table's source, has none.
 * - Computed types (lookup, rollup, count, formula, createdTime, lastModifiedTime, createdBy, lastModifiedBy,
 *   autoNumber, button, aiText, externalSyncSource) are read-only in the Web API; setup may create them, naming the fields they use by
 *   name or id:
 *   lookup `{recordLinkFieldId, fieldIdInLinkedTable}`, rollup the same plus `formula` (over `values`, default
 *   `SUM(values)`), count `{recordLinkFieldId}`, formula `{formula}`, lastModifiedTime `{referencedFieldIds?}`,
 *   button `{label, url?}`, createdBy none, lastModifiedBy `{referencedFieldIds?}` (kept by the sandbox, not shown:
 *   the field model documents no options for it), aiText `{prompt?, referencedFieldIds?}` (shown as documented),
 *   externalSyncSource `{choices}` (the sources, as a select's choices; shown as documented). They are described with `isValid`, `result` and `referencedFieldIds` as Airtable does; a
 *   formula is shown with its field references as `{fldXXXXXXXXXXXXXX}` ("LEFT(4, {Birthday}) … will be returned as
 *   LEFT(4, {fldXXX}) via API").
 */
import { typed, type ApiError } from "../errors.ts";
import { compileFormula, FormulaError, parse, type Node } from "../formula.ts";
import { newId } from "../ids.ts";
import type { Choice, Field, FieldCompute, FieldDef, Table } from "../store.ts";
import { DATETIME_RESULT, inferResult, resultOfField } from "./formula-result.ts";
import { SETUP_ONLY_TYPES, SUPPORTED_TYPES } from "./registry.ts";

const DATE_FORMATS: Record<string, string> = {
  local: "l",
  friendly: "LL",
  us: "M/D/YYYY",
  european: "D/M/YYYY",
  iso: "YYYY-MM-DD",
};
const DURATION_FORMATS = ["h:mm", "h:mm:ss", "h:mm:ss.S", "h:mm:ss.SS", "h:mm:ss.SSS"];
const RATING_ICONS = ["star", "heart", "thumbsUp", "flag", "dot"];
const RATING_COLORS = [
  "yellowBright",
  "orangeBright",
  "redBright",
  "pinkBright",
  "purpleBright",
  "blueBright",
  "cyanBright",
  "tealBright",
  "greenBright",
  "grayBright",
];

/** A checkbox's icons and colours (field model, Checkbox: the colours are a rating's, in another order). */
const CHECKBOX_ICONS = ["check", "xCheckbox", "star", "heart", "thumbsUp", "flag", "dot"];
const CHECKBOX_COLORS = [
  "greenBright",
  "tealBright",
  "cyanBright",
  "blueBright",
  "purpleBright",
  "pinkBright",
  "redBright",
  "orangeBright",
  "yellowBright",
  "grayBright",
];

/** Refuses an option that is not one of Airtable's `allowed` values (asserting it is then a string). */
function oneOf(type: string, key: string, value: unknown, allowed: readonly string[]): asserts value is string {
  if (typeof value !== "string" || !allowed.includes(value)) {
    throw invalidOptions(type, `options.${key} must be one of ${allowed.join(", ")}`);
  }
}

/** Refuses options that leave out any of `keys`. */
function requireOptions(type: string, options: Record<string, unknown> | undefined, keys: readonly string[]): void {
  const missing = keys.filter((k) => options?.[k] === undefined);
  if (missing.length > 0) {
    throw invalidOptions(
      type,
      `options.${missing.join(" and options.")} ${missing.length === 1 ? "is" : "are"} required`,
    );
  }
}

export function invalidOptions(type: string, why: string): ApiError {
  return typed(422, "INVALID_FIELD_TYPE_OPTIONS", `Invalid options for field of type ${type}: ${why}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What a field definition needs to know of its surroundings. */
export interface DefinitionContext {
  /** API requests cannot create computed fields nor name tables and fields by name. */
  forApi: boolean;
  /** The table the field is added to (with the fields it has so far). */
  table: Table;
  /** Every table of the base (including ones being set up in the same createBase). */
  tables: readonly Table[];
}

/** The normalised definition: options as the meta API shows them, and what the sandbox keeps besides. */
export interface NormalisedField {
  options?: Record<string, unknown>;
  compute?: FieldCompute;
  /** For a link field: the table that gets the inverse field. */
  linkedTable?: Table;
}

function integerIn(type: string, value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOptions(type, `options.${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function findIn(table: Table, idOrName: unknown, forApi: boolean): Field | undefined {
  if (typeof idOrName !== "string") return undefined;
  return (
    table.fields.find((f) => f.id === idOrName) ?? (forApi ? undefined : table.fields.find((f) => f.name === idOrName))
  );
}

/** The link field of this table a lookup, rollup or count reads through, and the table it links to. */
function linkOf(
  type: string,
  options: Record<string, unknown> | undefined,
  ctx: DefinitionContext,
): {
  linkField: Field;
  linked: Table;
} {
  const linkField = findIn(ctx.table, options?.recordLinkFieldId, ctx.forApi);
  if (linkField === undefined || linkField.type !== "multipleRecordLinks") {
    throw invalidOptions(type, "options.recordLinkFieldId must name a link field of this table");
  }
  const linked = ctx.tables.find((t) => t.id === linkField.options?.linkedTableId);
  if (linked === undefined) throw invalidOptions(type, "the link field's linked table does not exist");
  return { linkField, linked };
}

function targetOf(type: string, options: Record<string, unknown> | undefined, linked: Table, forApi: boolean): Field {
  const target = findIn(linked, options?.fieldIdInLinkedTable, forApi);
  if (target === undefined) {
    throw invalidOptions(
      type,
      `options.fieldIdInLinkedTable must name a field of table ${JSON.stringify(linked.name)}`,
    );
  }
  return target;
}

/** Rewrites a formula's field references (by name or id) as `{fldXXXXXXXXXXXXXX}`, as the meta API shows them. */
export function formulaWithIds(text: string, fields: readonly Field[]): { formula: string; referenced: string[] } {
  const root = parse(text);
  const refs: { pos: number; name: string }[] = [];
  const visit = (node: Node): void => {
    if (node.type === "field") refs.push({ pos: node.pos, name: node.name });
    else if (node.type === "negate") visit(node.operand);
    else if (node.type === "chain") {
      visit(node.first);
      for (const part of node.rest) visit(part.operand);
    } else if (node.type === "call") node.args.forEach(visit);
  };
  visit(root);
  refs.sort((a, b) => b.pos - a.pos);
  let out = text;
  const referenced: string[] = [];
  for (const ref of refs) {
    const field = fields.find((f) => f.name === ref.name) ?? fields.find((f) => f.id === ref.name);
    if (field === undefined) continue;
    const braced = text[ref.pos] === "{";
    const length = ref.name.length + (braced ? 2 : 0);
    out = `${out.slice(0, ref.pos)}{${field.id}}${out.slice(ref.pos + length)}`;
    if (!referenced.includes(field.id)) referenced.unshift(field.id);
  }
  return { formula: out, referenced };
}

function compileOrRefuse(type: string, text: string, fields: { name: string; type: string; id?: string }[]): void {
  try {
    compileFormula(text, fields);
  } catch (error) {
    if (error instanceof FormulaError) throw invalidOptions(type, `the formula is invalid: ${error.message}`);
    throw error;
  }
}

/** The regions of the IANA names in Airtable's Timezone model (https://airtable.com/developers/web/api/model/timezone). */
const ZONE_REGIONS = [
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
];

/**
 * Whether `zone` is a value of Airtable's Timezone model, which a dateTime field's `options.timeZone` is (field model,
 * "Date and time"): the model enumerates `"utc"`, `"client"` (each viewer's own zone) and IANA names of places,
 * Region/City, spelled as the IANA database spells them ("Europe/Berlin", "America/Argentina/Buenos_Aires"). Not in
 * it: "UTC" or "GMT" in capitals, "Etc/…", "US/Eastern", abbreviations ("EST", "CET"), offsets, another case
 * ("europe/berlin"). The sandbox takes any Region/City name of those regions that Node's Intl knows, each part
 * capitalised as IANA writes it (the model's list is a snapshot of the IANA database; names added since, such as
 * "Europe/Kyiv", are taken — a guess).
 */
export function isAirtableTimeZone(zone: string): boolean {
  if (zone === "utc" || zone === "client") return true;
  const [region, ...rest] = zone.split("/");
  if (
    !ZONE_REGIONS.includes(region ?? "") ||
    rest.length === 0 ||
    rest.some((part) => !/^[A-Z][A-Za-z0-9_+-]*$/.test(part))
  ) {
    return false;
  }
  if (Intl.supportedValuesOf("timeZone").includes(zone)) return true;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function dateOptions(
  type: string,
  options: Record<string, unknown> | undefined,
  forApi = false,
): Record<string, unknown> {
  const dateFormat = options?.dateFormat;
  if (!isObject(dateFormat) || typeof dateFormat.name !== "string" || !(dateFormat.name in DATE_FORMATS)) {
    throw invalidOptions(type, "options.dateFormat.name must be one of local, friendly, us, european, iso");
  }
  if (dateFormat.format !== undefined && dateFormat.format !== DATE_FORMATS[dateFormat.name]) {
    throw invalidOptions(type, "options.dateFormat.format must match options.dateFormat.name");
  }
  const out: Record<string, unknown> = { dateFormat: { name: dateFormat.name, format: DATE_FORMATS[dateFormat.name] } };
  if (type === "dateTime") {
    const timeFormat = options?.timeFormat;
    const timeZone = options?.timeZone;
    if (!isObject(timeFormat) || (timeFormat.name !== "12hour" && timeFormat.name !== "24hour")) {
      throw invalidOptions(type, "options.timeFormat.name must be 12hour or 24hour");
    }
    if (typeof timeZone !== "string" || timeZone === "") throw invalidOptions(type, "options.timeZone is required");
    // Through the API the zone must be a value of Airtable's Timezone model (isAirtableTimeZone); a seeded base's
    // fields were made in Airtable's interface, which offers only those.
    if (forApi && !isAirtableTimeZone(timeZone)) {
      throw invalidOptions(
        type,
        'options.timeZone must be "utc", "client" or a time zone name such as "Europe/Berlin"',
      );
    }
    out.timeFormat = { name: timeFormat.name, format: timeFormat.name === "12hour" ? "h:mma" : "HH:mm" };
    out.timeZone = timeZone;
  }
  return out;
}

/**
 * A createdTime / lastModifiedTime field's `result`: "optional<date field config | dateTime field config>" (field
 * model, Created time and Last modified time), which is how Airtable shows the time — its date and time formats and
 * its zone, one for all collaborators or each viewer's own (`client`). Setup may give one (`options.result: {type:
 * "date" | "dateTime", options}`, checked as a date or dateTime field's options); without one the field shows a
 * dateTime in each viewer's zone (DATETIME_RESULT; the interface's "Use the same time zone (GMT) for all
 * collaborators" starts unticked — a guess for fields Airtable's API cannot create).
 */
function timeResult(type: string, options: Record<string, unknown> | undefined): Record<string, unknown> {
  const result = options?.result;
  if (result === undefined) return { ...structuredClone(DATETIME_RESULT) };
  if (!isObject(result) || (result.type !== "date" && result.type !== "dateTime")) {
    throw invalidOptions(type, 'options.result.type must be "date" or "dateTime"');
  }
  if (result.options !== undefined && !isObject(result.options)) {
    throw invalidOptions(type, "options.result.options must be an object");
  }
  return { type: result.type, options: dateOptions(result.type, result.options) };
}

/** The fields a lastModifiedTime / lastModifiedBy field watches, as ids (null: every writable field). */
function watchedFields(type: string, watched: unknown, ctx: DefinitionContext): string[] | null {
  if (watched === undefined || watched === null) return null;
  if (!Array.isArray(watched)) throw invalidOptions(type, "options.referencedFieldIds must be an array");
  return watched.map((key: unknown) => {
    const field = findIn(ctx.table, key, ctx.forApi);
    if (field === undefined) throw invalidOptions(type, `unknown field ${JSON.stringify(key)}`);
    return field.id;
  });
}

/**
 * AI text options as the field model shows them: `prompt`, an array of strings and `{field: {fieldId}}` objects
 * (the fields interpolated into the prompt), and `referencedFieldIds`, the fields the prompt uses. Setup may give
 * the prompt as one string, name fields by name, and leave referencedFieldIds out (then: the prompt's fields).
 */
function aiTextOptions(options: Record<string, unknown> | undefined, ctx: DefinitionContext): Record<string, unknown> {
  const type = "aiText";
  const fieldId = (key: unknown): string => {
    const field = findIn(ctx.table, key, ctx.forApi);
    if (field === undefined) throw invalidOptions(type, `unknown field ${JSON.stringify(key)}`);
    return field.id;
  };
  const out: Record<string, unknown> = {};
  const raw = options?.prompt;
  const used: string[] = [];
  if (raw !== undefined) {
    const parts = typeof raw === "string" ? [raw] : raw;
    if (!Array.isArray(parts)) throw invalidOptions(type, "options.prompt must be an array of strings and fields");
    out.prompt = parts.map((part: unknown) => {
      if (typeof part === "string") return part;
      const field = isObject(part) && isObject(part.field) ? part.field.fieldId : undefined;
      if (field === undefined) throw invalidOptions(type, "a prompt part is a string or {field: {fieldId}}");
      const id = fieldId(field);
      if (!used.includes(id)) used.push(id);
      return { field: { fieldId: id } };
    });
  }
  const referenced = options?.referencedFieldIds;
  if (referenced !== undefined) {
    if (!Array.isArray(referenced)) throw invalidOptions(type, "options.referencedFieldIds must be an array");
    out.referencedFieldIds = referenced.map(fieldId);
  } else if (raw !== undefined) {
    out.referencedFieldIds = used;
  }
  const unknown = Object.keys(options ?? {}).filter((k) => k !== "prompt" && k !== "referencedFieldIds");
  if (unknown.length > 0) throw invalidOptions(type, `unknown options ${unknown.join(", ")}`);
  return out;
}

/**
 * Checks a field definition and returns its normalised options. Throws 422 UNSUPPORTED_FIELD_TYPE for types the
 * sandbox does not know or (through the API) cannot create, INVALID_FIELD_TYPE_OPTIONS for bad options.
 */
export function normaliseFieldDef(def: FieldDef, ctx: DefinitionContext): NormalisedField {
  const { type, options } = def;
  if (typeof type !== "string" || !SUPPORTED_TYPES.has(type) || (ctx.forApi && SETUP_ONLY_TYPES.has(type))) {
    throw typed(422, "UNSUPPORTED_FIELD_TYPE", `Unsupported field type: ${JSON.stringify(type)}`);
  }
  if (options !== undefined && !isObject(options)) throw invalidOptions(type, "options must be an object");
  switch (type) {
    case "number":
    case "percent":
      return { options: { precision: integerIn(type, options?.precision, "precision", 0, 8) } };
    case "currency": {
      const precision = integerIn(type, options?.precision, "precision", 0, 7);
      if (typeof options?.symbol !== "string" || options.symbol === "") {
        throw invalidOptions(type, "options.symbol must be a currency symbol");
      }
      return { options: { precision, symbol: options.symbol } };
    }
    case "duration": {
      const format = options?.durationFormat;
      if (typeof format !== "string" || !DURATION_FORMATS.includes(format)) {
        throw invalidOptions(type, `options.durationFormat must be one of ${DURATION_FORMATS.join(", ")}`);
      }
      return { options: { durationFormat: format } };
    }
    case "rating": {
      const max = integerIn(type, options?.max, "max", 1, 10);
      // Airtable's field model lists icon and color in a rating's write format, not as optional: an API create
      // must give them (a seeded base may leave them out, as people's bases were made in the interface).
      if (ctx.forApi) requireOptions(type, options, ["icon", "color"]);
      const icon = options?.icon ?? "star";
      const color = options?.color ?? "yellowBright";
      oneOf(type, "icon", icon, RATING_ICONS);
      oneOf(type, "color", color, RATING_COLORS);
      return { options: { icon, max, color } };
    }
    // Sync source (field model, #syncsource): options `{choices: [{id, name, color?}]}`, one per source synced in.
    case "singleSelect":
    case "multipleSelects":
    case "externalSyncSource": {
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
      return { options: { choices: out } };
    }
    case "date":
    case "dateTime":
      return { options: dateOptions(type, options, ctx.forApi) };
    case "checkbox": {
      // As for a rating: icon and color are part of a checkbox's write format (field model, Checkbox).
      if (ctx.forApi) requireOptions(type, options, ["icon", "color"]);
      const icon = options?.icon ?? "check";
      const color = options?.color ?? "greenBright";
      oneOf(type, "icon", icon, CHECKBOX_ICONS);
      oneOf(type, "color", color, CHECKBOX_COLORS);
      return { options: { icon, color } };
    }
    case "multipleAttachments":
      return { options: { isReversed: options?.isReversed === true } };
    case "multipleRecordLinks": {
      const key = options?.linkedTableId;
      const linked =
        typeof key === "string"
          ? (ctx.tables.find((t) => t.id === key) ?? (ctx.forApi ? undefined : ctx.tables.find((t) => t.name === key)))
          : undefined;
      if (linked === undefined)
        throw invalidOptions(type, "options.linkedTableId must be the id of a table of this base");
      const out: Record<string, unknown> = {
        linkedTableId: linked.id,
        isReversed: false,
        prefersSingleRecordLink: options?.prefersSingleRecordLink === true,
      };
      const view = options?.viewIdForRecordSelection;
      if (view !== undefined) {
        if (typeof view !== "string" || !linked.views.some((v) => v.id === view)) {
          throw invalidOptions(type, "options.viewIdForRecordSelection must be a view of the linked table");
        }
        out.viewIdForRecordSelection = view;
      }
      // A one-way link (setup only: Airtable's create-field API always makes the inverse field).
      const oneWay = options?.withoutInverse;
      if (oneWay !== undefined && (ctx.forApi || typeof oneWay !== "boolean")) {
        throw invalidOptions(type, "unknown options withoutInverse");
      }
      return oneWay === true ? { options: out } : { options: out, linkedTable: linked };
    }
    case "multipleLookupValues": {
      const { linkField, linked } = linkOf(type, options, ctx);
      const target = targetOf(type, options, linked, ctx.forApi);
      return {
        options: {
          isValid: true,
          recordLinkFieldId: linkField.id,
          fieldIdInLinkedTable: target.id,
          result: resultOfField(target),
        },
      };
    }
    case "rollup": {
      const { linkField, linked } = linkOf(type, options, ctx);
      const target = targetOf(type, options, linked, ctx.forApi);
      const formula = options?.formula ?? "SUM(values)";
      if (typeof formula !== "string") throw invalidOptions(type, "options.formula must be a formula over values");
      compileOrRefuse(type, formula, [{ name: "values", type: "multipleLookupValues" }]);
      const result = inferResult(parse(formula), (name) => (name === "values" ? target : undefined));
      return {
        options: {
          isValid: true,
          recordLinkFieldId: linkField.id,
          fieldIdInLinkedTable: target.id,
          referencedFieldIds: [target.id],
          result,
        },
        compute: { rollup: formula },
      };
    }
    case "count": {
      const { linkField } = linkOf(type, options, ctx);
      return { options: { isValid: true, recordLinkFieldId: linkField.id } };
    }
    case "formula": {
      const text = options?.formula;
      if (typeof text !== "string" || text.trim() === "") throw invalidOptions(type, "options.formula is required");
      const fields = ctx.table.fields;
      compileOrRefuse(
        type,
        text,
        fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
      );
      const { formula, referenced } = formulaWithIds(text, fields);
      const result = inferResult(parse(formula), (ref) => fields.find((f) => f.id === ref || f.name === ref));
      return { options: { formula, isValid: true, referencedFieldIds: referenced, result } };
    }
    case "createdTime":
      return { options: { result: timeResult(type, options) } };
    case "lastModifiedTime": {
      const ids = watchedFields(type, options?.referencedFieldIds, ctx);
      return { options: { isValid: true, referencedFieldIds: ids, result: timeResult(type, options) } };
    }
    case "createdBy":
      // Field model, Created by: `type` only, no options.
      if (options !== undefined && Object.keys(options).length > 0) {
        throw invalidOptions(type, "this field type takes no options");
      }
      return {};
    case "lastModifiedBy": {
      // Field model, Last modified by: "Shows the collaborator who most recently modified any editable field or
      // just in specific editable fields", with no options documented: setup may name the fields
      // (`referencedFieldIds`), which the sandbox keeps to itself and the meta API does not show.
      const watched = watchedFields(type, options?.referencedFieldIds, ctx);
      if (options !== undefined && Object.keys(options).some((k) => k !== "referencedFieldIds")) {
        throw invalidOptions(type, "only options.referencedFieldIds is accepted");
      }
      return watched === null ? {} : { compute: { watched } };
    }
    case "aiText":
      return { options: aiTextOptions(options, ctx) };
    case "button": {
      const label = options?.label;
      const url = options?.url;
      if (typeof label !== "string" || label === "") throw invalidOptions(type, "options.label is required");
      if (url !== undefined && typeof url !== "string") throw invalidOptions(type, "options.url must be a formula");
      if (url === undefined) return { compute: { button: { label } } };
      const fields = ctx.table.fields;
      compileOrRefuse(
        type,
        url,
        fields.map((f) => ({ name: f.name, type: f.type, id: f.id })),
      );
      return { compute: { button: { label, url: formulaWithIds(url, fields).formula } } };
    }
    default:
      if (options !== undefined && Object.keys(options).length > 0) {
        throw invalidOptions(type, "this field type takes no options");
      }
      return {};
  }
}
