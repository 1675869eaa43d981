/**
 * Field checks of the write tools, against the base's cached schema: a wrong name is refused before anything is
 * queued, with the real names listed (SchemaLookupError), and keys are rewritten to the fields' exact names
 * because that is what Airtable matches on. Cell values are checked against the fields' types (check-values.ts).
 */
import { isEmptyCell } from "../../airtable/empty-cell.ts";
import type { AirtableField, AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { resolveField, SchemaLookupError } from "../../schema-cache.ts";
import type { ToolContext } from "../define-tool.ts";
import { withSchema } from "../with-schema.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { checkCellValue } from "./check-values.ts";
import { formatCount } from "../../format-count.ts";

/** Types whose values Airtable computes: a write naming one fails, so it is refused up front. */
export const COMPUTED_FIELD_TYPES: ReadonlySet<string> = new Set([
  "formula",
  "rollup",
  "count",
  "lookup",
  "multipleLookupValues",
  "autoNumber",
  "createdTime",
  "lastModifiedTime",
  "createdBy",
  "lastModifiedBy",
  "button",
]);

/**
 * Every field type of Airtable's field model (https://airtable.com/developers/web/api/field-model), and the ones
 * its Web API cannot create: computed types ("Field type and options (read only)") and the AI and sync types,
 * which only Airtable's own interface makes.
 */
const AIRTABLE_FIELD_TYPES: ReadonlySet<string> = new Set([
  "aiText",
  "autoNumber",
  "barcode",
  "button",
  "checkbox",
  "count",
  "createdBy",
  "createdTime",
  "currency",
  "date",
  "dateTime",
  "duration",
  "email",
  "externalSyncSource",
  "formula",
  "lastModifiedBy",
  "lastModifiedTime",
  "multilineText",
  "multipleAttachments",
  "multipleCollaborators",
  "multipleLookupValues",
  "multipleRecordLinks",
  "multipleSelects",
  "number",
  "percent",
  "phoneNumber",
  "rating",
  "richText",
  "rollup",
  "singleCollaborator",
  "singleLineText",
  "singleSelect",
  "url",
]);
const NOT_CREATABLE_TYPES: ReadonlySet<string> = new Set([...COMPUTED_FIELD_TYPES, "aiText", "externalSyncSource"]);
const CREATABLE_LIST = [...AIRTABLE_FIELD_TYPES].filter((t) => !NOT_CREATABLE_TYPES.has(t)).join(", ");

/**
 * Refuses, before anything is queued, a field type Airtable's Web API would refuse to create: its create-field
 * endpoint (https://airtable.com/developers/web/api/create-field) takes only the types whose field model has a
 * write format, and the sandbox answers the others 422 UNSUPPORTED_FIELD_TYPE. So: an unknown type name, or a
 * computed one. Throws ToolInputError naming `where` (the argument, e.g. "type") and the types it can create. A type
 * Airtable adds later is refused here until it is added to AIRTABLE_FIELD_TYPES.
 */
export function checkCreatableType(type: string, where: string): void {
  if (!AIRTABLE_FIELD_TYPES.has(type)) {
    throw new ToolInputError(
      `${where}: ${JSON.stringify(type)} is not an Airtable field type. Use one of: ${CREATABLE_LIST}.`,
    );
  }
  if (NOT_CREATABLE_TYPES.has(type)) {
    throw new ToolInputError(
      `${where}: Airtable's API cannot create a ${type} field (it is computed, or made only in Airtable's own ` +
        `interface): create it in Airtable, or use one of: ${CREATABLE_LIST}.`,
    );
  }
}

export const describeItem = (item: { id: string; name: string }) => `${JSON.stringify(item.name)} (${item.id})`;

/**
 * Like withSchema (one retry against a fresh schema), but also when a check refused the call (ToolInputError): a
 * computed-field or name-conflict refusal may come from a cached schema older than a change made in Airtable, and
 * a refusal is rare enough to afford one more schema request to be sure.
 */
export function withWriteSchema<R>(
  ctx: Pick<ToolContext, "airtable" | "schemas" | "userId">,
  baseId: string,
  use: (schema: BaseSchema) => R,
): Promise<R> {
  return withSchema(ctx, baseId, use, (error) => error instanceof SchemaLookupError || error instanceof ToolInputError);
}

/** Resolves field keys of one table, remembering each key so 5,000 records cost one lookup per distinct key. */
export class FieldChecker {
  readonly table: AirtableTable;
  readonly #byKey = new Map<string, AirtableField>();

  constructor(table: AirtableTable) {
    this.table = table;
  }

  /** The field `key` (id, exact name or unique case-insensitive name) names; `where` says where the key was given. */
  field(key: string, where: string): AirtableField {
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    let field: AirtableField;
    try {
      field = resolveField(this.table, key);
    } catch (error) {
      if (!(error instanceof SchemaLookupError)) throw error;
      throw new SchemaLookupError("field", key, `in ${where} (table ${describeItem(this.table)})`, error.known);
    }
    this.#byKey.set(key, field);
    return field;
  }

  /** Like `field`, and refuses a computed field. */
  writableField(key: string, where: string): AirtableField {
    const field = this.field(key, where);
    if (COMPUTED_FIELD_TYPES.has(field.type)) {
      throw new ToolInputError(
        `${where}: the field ${describeItem(field)} cannot be written: its type, ${field.type}, is computed by ` +
          `Airtable. Remove it from fields.`,
      );
    }
    return field;
  }

  /**
   * The cells keyed by their fields' exact names; refuses unknown and computed fields, a field named twice, and a
   * value the field's type rules out (with `typecast`, Airtable converts more: see check-values.ts). With
   * `problems`, a refused value is added to it instead of thrown, so that a call learns every wrong value at once
   * (valueProblems); the other refusals still throw at once.
   */
  cells(
    fields: Record<string, unknown>,
    where: string,
    typecast: boolean,
    problems?: ValueProblem[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const keyOf = new Map<string, string>();
    for (const [key, value] of Object.entries(fields)) {
      const field = this.writableField(key, where);
      const earlier = keyOf.get(field.id);
      if (earlier !== undefined) {
        throw new ToolInputError(
          `${where} names the field ${describeItem(field)} twice (as ${JSON.stringify(earlier)} and ` +
            `${JSON.stringify(key)}). Give each field once.`,
        );
      }
      keyOf.set(field.id, key);
      try {
        checkCellValue(field, value, where, typecast);
      } catch (error) {
        if (problems === undefined || !(error instanceof ToolInputError)) throw error;
        problems.push({ field: field.name, where, message: error.message });
      }
      out[field.name] = value;
    }
    return out;
  }

  /** fieldsToMergeOn resolved to fields (1–3, each once, none computed). */
  mergeFields(keys: readonly string[]): AirtableField[] {
    const fields: AirtableField[] = [];
    keys.forEach((key, i) => {
      const field = this.field(key, `fieldsToMergeOn[${i}]`);
      // A record without an id must carry a value for each merge field, and a computed field takes none: refused
      // here, once, rather than by both rules in turn.
      if (COMPUTED_FIELD_TYPES.has(field.type)) {
        throw new ToolInputError(
          `fieldsToMergeOn[${i}]: the field ${describeItem(field)} cannot be merged on: its type, ${field.type}, is ` +
            "computed by Airtable, and every record without an id must carry a value for each merge field. Merge " +
            "on fields you write (e.g. a name or an email).",
        );
      }
      if (fields.includes(field)) {
        throw new ToolInputError(
          `fieldsToMergeOn names the field ${describeItem(field)} twice. Give each field once (1 to 3 fields).`,
        );
      }
      fields.push(field);
    });
    return fields;
  }
}

/**
 * For writes matched on fieldsToMergeOn: every record without an id must carry a value for each merge field, and
 * no two of them the same values (they would write one record). `why` ends the duplicate message.
 */
export function checkMergeValues(
  records: readonly { id?: string; fields: Record<string, unknown> }[],
  mergeFields: readonly AirtableField[],
  why: string,
): void {
  const names = mergeFields.map((f) => JSON.stringify(f.name)).join(", ");
  const firstIndex = new Map<string, number>();
  records.forEach((record, index) => {
    if (record.id !== undefined) return;
    const values = mergeFields.map((field) => {
      const value = record.fields[field.name];
      if (isEmptyCell(value)) {
        throw new ToolInputError(
          `records[${index}] has no value for ${describeItem(field)}, a field of fieldsToMergeOn` +
            `${value === undefined ? "" : ` (${JSON.stringify(value)} leaves the cell empty)`}: records are ` +
            `matched on these fields (${names}), so every record needs a value for each of them.`,
        );
      }
      return value;
    });
    const key = JSON.stringify(values);
    const first = firstIndex.get(key);
    if (first !== undefined) {
      throw new ToolInputError(
        `records[${index}] has the same values for fieldsToMergeOn (${names}) as records[${first}]: ${why}`,
      );
    }
    firstIndex.set(key, index);
  });
}

/**
 * Refuses a new table or field name that is empty or already taken (Airtable compares names case-insensitively).
 * `except` is the item being renamed.
 */
export function checkNewName(
  existing: readonly { id: string; name: string }[],
  name: string,
  what: "table" | "field",
  where: string,
  except?: string,
): void {
  const wanted = name.trim().toLowerCase();
  if (wanted === "") throw new ToolInputError(`The ${what} name ${JSON.stringify(name)} is blank: give a name.`);
  const taken = existing.find((item) => item.id !== except && item.name.trim().toLowerCase() === wanted);
  if (taken !== undefined) {
    throw new ToolInputError(
      `A ${what} named ${describeItem(taken)} already exists ${where} (names are compared case-insensitively). ` +
        `Choose another name.`,
    );
  }
}

/** A value FieldChecker.cells refused: its field's exact name, where it was given, and the refusal's sentence. */
export interface ValueProblem {
  field: string;
  where: string;
  message: string;
}

/** How many fields with wrong values one refusal lists; the rest are counted. */
export const MAX_LISTED_VALUE_PROBLEMS = 10;
/** How many more places one field's line names besides its first. */
const MORE_PLACES_NAMED = 5;

/**
 * One refusal for every wrong value of a call (FieldChecker.cells' `problems`): a single one as it is; several as a
 * count and one line per field (the first MAX_LISTED_VALUE_PROBLEMS fields, in the order met): its first refusal,
 * then where else that field's value is wrong. So 5,000 records with one wrong field make one line, and a second
 * wrong field is not hidden behind it; an agent fixes them all in one more call rather than one per call.
 * Undefined when there are none.
 */
export function valueProblems(problems: readonly ValueProblem[]): ToolInputError | undefined {
  if (problems.length === 0) return undefined;
  if (problems.length === 1) return new ToolInputError(problems[0]!.message);
  const byField = new Map<string, ValueProblem[]>();
  for (const problem of problems) {
    const group = byField.get(problem.field);
    if (group === undefined) byField.set(problem.field, [problem]);
    else group.push(problem);
  }
  const groups = [...byField.values()];
  const lines = groups.slice(0, MAX_LISTED_VALUE_PROBLEMS).map(([first, ...rest]) => {
    if (rest.length === 0) return first!.message;
    const named = rest.slice(0, MORE_PLACES_NAMED).map((p) => p.where);
    const all = formatCount(rest.length + 1);
    const others = rest.length > named.length ? `, … (${all} records in all)` : "";
    return `${first!.message} The value of ${JSON.stringify(first!.field)} is wrong in ${named.join(", ")}${others} too.`;
  });
  const moreFields = groups.length - lines.length;
  const fields = `${formatCount(groups.length)} field${groups.length === 1 ? "" : "s"}`;
  return new ToolInputError(
    `${formatCount(problems.length)} values cannot be written as given (${fields}); nothing was ` +
      `queued. Fix them all, then call again:\n- ${lines.join("\n- ")}` +
      (moreFields > 0 ? `\n- …and ${formatCount(moreFields)} more fields.` : ""),
  );
}
