/**
 * Input pieces, annotations and wording shared by the write tools. Parameter names follow the reference Airtable
 * MCP server (baseId, tableId, recordId, fields, records: [{ id?, fields }], recordIds) so agents need no relearning.
 */
import { z } from "zod";
import type { OperationOptions } from "../../operations/events.ts";
import { issuePathKeys, type InputIssue, type ToolAnnotations } from "../define-tool.ts";
import { strictArgumentObject, unknownKeysMessage } from "../strict-object.ts";
import { listArgumentIssues, nameListWording } from "../list-argument.ts";
import { isPlainObject, quotedValue } from "../tool-input-error.ts";
import { lettersAndDigits } from "../../closest-name.ts";

/**
 * `fieldsInput`'s check: a JSON object of any keys and values, kept as the call gave it. The same issue (`invalid_type`
 * expecting "record", in cellsObjectMessage's words) and JSON Schema (RECORD_JSON_SCHEMA) as
 * `z.record(z.string(), z.unknown())`, without its copy: zod's record copies each key into a new object and skips
 * `__proto__` (assigned, it would set the copy's prototype), so a cell of a field named `__proto__` — Airtable takes
 * any field name — was silently not written. The object parsed from the call's JSON holds it as an own key.
 */
const isCellsObject: z.core.CheckFn<unknown> = (ctx) => {
  if (isPlainObject(ctx.value)) return;
  ctx.issues.push({
    code: "invalid_type",
    expected: "record",
    input: ctx.value,
    message: cellsObjectMessage(ctx.value),
  });
};

/**
 * The refusal of `fields` given as something other than an object (after the path, "fields: " or
 * "records[0].fields: "): what it takes, an example, and what it was given. zod's own words, "Invalid input: expected
 * record, received string", said "record" for a JSON object, where an agent writing Airtable records reads an
 * Airtable record (h-agent31's trial gave `fields: "Name: Ada"`). Text that is JSON of an object is answered by
 * jsonStringIssues instead (send the object itself), which replaces this issue.
 */
function cellsObjectMessage(given: unknown): string {
  const what =
    typeof given === "string"
      ? `the text ${quotedValue(given)}`
      : Array.isArray(given)
        ? `a list, ${quotedValue(given)}`
        : quotedValue(given);
  return (
    'an object of cell values keyed by field name or id is needed, e.g. {"Name": "Ada", "Stage": "Lead"}; it was ' +
    `given ${what}`
  );
}

/** The JSON Schema zod gives `z.record(z.string(), z.unknown())`, listed in tools/list for `fields`. */
const RECORD_JSON_SCHEMA = { type: "object", propertyNames: { type: "string" }, additionalProperties: {} };

/**
 * The cells of one record. The percent sentence leads: a percent field stores a fraction, and `"Win probability": 50`
 * (meant as 50 %) is legal and stored as 5,000 % without a word from Airtable. Write answers carry no per-record notes
 * to warn after the fact (operation-result.ts), so the schema says it first, where agents read field formats. So does
 * the date-time sentence: a zoneless time written to a field whose time zone is `client` or `utc` is read as UTC
 * (field model, Date and time; date-time-input.ts), so "9 am" for a person in Los Angeles written as
 * "2026-12-09T09:00" shows as 01:00 to them, again without a word (Session 29 agent trial).
 */
export const fieldsInput = z
  .unknown()
  .check(isCellsObject)
  .meta(RECORD_JSON_SCHEMA)
  .describe(
    "Percent fields take a fraction: 0.5 is 50% (50 is stored as 5,000%, silently). " +
      'Cell values keyed by field name or id, e.g. {"Name": "Ada", "Stage": "Lead"}. Names are matched exactly, or ' +
      "ignoring case and surrounding spaces when only one field matches. Computed fields (formula, rollup, lookup, count, created " +
      "time, …) cannot be written. Values in Airtable's cell format: a duration is in seconds, a date is " +
      '"YYYY-MM-DD", a date and time "YYYY-MM-DDTHH:mm" with Z or an offset (without one it is read in the field\'s ' +
      "time zone, or as UTC when the field shows each viewer's own zone or UTC: give the offset for a person's local " +
      "time), a link is a list of record ids or of the linked records' primary values.",
  ) as unknown as z.ZodType<Record<string, unknown>>;

/** `typecast` when a record write does not give it: on, like the reference server. */
export const TYPECAST_DEFAULT = true;

/**
 * The record writes' `typecast`. Optional rather than `.default(true)`, so that the tools can tell a call that left
 * it to its default from one that gave `true` (a new select option close to an existing one is refused only in the
 * first: plan-records.ts); the default is listed all the same (JSON Schema `default`, in tools/list), and applied
 * by typecastOf wherever the value is used.
 */
export const typecastInput = z
  .boolean()
  .optional()
  .meta({ default: TYPECAST_DEFAULT })
  .describe(
    "Let Airtable convert values: text to select options (creating missing ones: only a base creator may), to " +
      "linked records, numbers, dates… Default true. false: a value of the wrong type, or a select option that does not exist, is refused " +
      "before anything is queued (with the field's type, or its options, and an accepted example). Either way an " +
      'option given in another case or spacing ("customer" for "Customer") is refused, and the answer names every new ' +
      'option typecast creates. Left out, a new option close to an existing one ("Custmer" for "Customer") is ' +
      "refused, naming the one to send; give true explicitly to create it.",
  );

/** The typecast a record write runs with: the call's own, or TYPECAST_DEFAULT when it gave none. */
export const typecastOf = (given: boolean | undefined): boolean => given ?? TYPECAST_DEFAULT;

/** `onError`, worded for what the tool does to records: "written" (create, update, upsert) or "deleted". */
export function onErrorInputFor(done: "written" | "deleted") {
  return z
    .enum(["continue", "stop"])
    .default("continue")
    .describe(
      `continue (default): a failing record is reported and the others are still ${done}. stop: all-or-nothing ` +
        `from the failure on: nothing after the first failing batch is ${done} (batches before it stay ${done}; ` +
        `the result says exactly which records were).`,
    );
}

export const onErrorInput = onErrorInputFor("written");

/** Ids are checked in plan (with the record's index in the message), not here, so the message can name it. */
export const recordIdItemInput = z.string().describe("The record id (rec…), from list_records or search_records.");

/**
 * One item of a write tool's `records`, strict like the call's own arguments: a key it does not take is refused,
 * not dropped. Dropped, an `id` given to create_records made a new record where the agent meant to change one
 * (a duplicate, reported as written), and a per-record `typecast` was silently not applied. The message names the
 * keys it takes, and for those two says where they belong.
 * @param tool the tool's name, e.g. "create_records"
 * @param shape the item's keys: `{ fields }`, `{ id, fields }` or `{ id?, fields }`
 */
export function recordItemInput<Shape extends z.ZodRawShape>(tool: string, shape: Shape) {
  return strictArgumentObject(`a record of ${tool}`, shape, (keys) => {
    const hints: string[] = [];
    if (keys.includes("id") && !("id" in shape)) {
      hints.push(
        `${tool} always makes new records: to change existing ones by id, use update_records or upsert_records`,
      );
    }
    if (keys.includes("typecast")) hints.push("typecast is an argument of the call, for all its records");
    const base = unknownKeysMessage(`a record of ${tool}`, ["key", "keys"], keys, Object.keys(shape));
    return hints.length === 0 ? base : `${base}; ${hints.join("; ")}`;
  });
}

/** Indexes listed in the unwrapped-records message at most; the rest are counted. */
const MAX_LISTED_INDEXES = 5;

/**
 * A record write tool's rewordIssues for the commonest shape mistake, cells given without their "fields" wrapper
 * (`records: [{ "Name": "X" }]`, or `[{ "id": "rec…", "Name": "X" }]` to update_records): zod answers it with two
 * issues per record, "records.0.fields: Invalid input: expected record, received undefined" and the keys the record
 * does not take. Every issue about a record that is an object without "fields" is replaced by one sentence for all
 * of them, naming their indexes, the shape a record has and the first one rewritten in it. The call is still
 * refused: the unwrapped form is not guessed at (a key may be a misspelt "fields" as well as a cell).
 * @param tool the tool's name, e.g. "update_records"
 * @param id whether the tool's records take an "id": "required" (update), "optional" (upsert) or "no" (create)
 */
export function unwrappedRecordIssues(tool: string, id: "required" | "optional" | "no") {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] => {
    const records = isPlainObject(args) ? args.records : undefined;
    if (!Array.isArray(records)) return issues;
    const unwrapped = records.flatMap((record: unknown, i) =>
      isPlainObject(record) && record.fields === undefined ? [i] : [],
    );
    if (unwrapped.length === 0) return issues;
    const others = issues.filter((issue) => {
      const [first, second] = issuePathKeys(issue);
      return !(first === "records" && unwrapped.includes(Number(second)));
    });
    const index = unwrapped[0]!;
    const first = records[index] as Record<string, unknown>;
    // An "id" is never a cell, nor is a "recordId" meant as one (isIdGuess): create_records' note below says where
    // an id belongs; the others show it as "id".
    const cells = Object.keys(first).filter((key) => key !== "id" && !isIdGuess(key));
    const shape = id === "required" ? '{ "id": "rec…", "fields": { … } }' : '{ "fields": { … } }';
    const idNote = id === "optional" ? ' (with an "id" to update that record)' : "";
    const subject = `${namedRecords(unwrapped)} ${unwrapped.length === 1 ? "has" : "have"}`;
    let message: string;
    if (cells.length === 0) {
      message = `${subject} no "fields": a record of ${tool} is ${shape}${idNote}, with the cells to write under "fields".`;
    } else {
      const idValue = first.id ?? Object.entries(first).find(([key]) => isIdGuess(key))?.[1];
      const givenId = typeof idValue === "string" ? JSON.stringify(idValue) : undefined;
      const idPart =
        id === "no" ? "" : givenId !== undefined ? `"id": ${givenId}, ` : id === "required" ? '"id": "rec…", ' : "";
      message =
        `${subject} no "fields": a record of ${tool} is ${shape}${idNote}; records[${index}] gives ` +
        `${keysShown(Object.keys(first))} — put the cells under "fields": { ${idPart}"fields": ${keysShown(cells)} }.`;
    }
    const givesId = (record: Record<string, unknown>) => record.id !== undefined || Object.keys(record).some(isIdGuess);
    if (id === "no" && unwrapped.some((i) => givesId(records[i] as Record<string, unknown>))) {
      message += ` ${tool} always makes new records: to change existing ones by id, use update_records or upsert_records.`;
    }
    return [{ message, path: [] }, ...others];
  };
}

/**
 * Whether a key of a record item is the record's id under another name: "recordId" above all — the parameter
 * get_record, create_comment and upload_attachment take (the reference Airtable MCP server's name), so agents carry it
 * into `records` — and its other spellings (record_id, RecordID) or another case of "id" (ID, Id): compared by
 * letters and digits, case ignored. "id" itself is not a guess.
 */
function isIdGuess(key: string): boolean {
  const bare = lettersAndDigits(key);
  return key !== "id" && (bare === "id" || bare === "recordid");
}

/**
 * A record write tool's rewordIssues for a record that names its id with another key (isIdGuess: `recordId`, as
 * get_record's parameter is called), e.g. `update_records { records: [{ recordId: "rec…", fields: { … } }] }`: zod
 * and recordItemInput answered it with two issues per record, "records.0.id: Invalid input: expected string, received
 * undefined" and "records.0: a record of update_records does not take the key "recordId"; its keys are id, fields".
 * One sentence replaces them for every such record (those with "fields"; a record without it is
 * unwrappedRecordIssues', which shows the key as "id" too): `records[0] gives "recordId": a record of update_records
 * names its record with "id", e.g. { "id": "rec…", "fields": { "Stage": … } }` (the first such record rewritten,
 * its id as given). upsert_records says an id is optional (without one the record is matched on fieldsToMergeOn);
 * create_records, which takes no id, says to use update_records or upsert_records. Still refused: "recordId" is not
 * taken as "id" (the schema in tools/list names "id"; a record given both is an unknown key, answered as before).
 * @param tool the tool's name, e.g. "update_records"
 * @param id whether the tool's records take an "id": "required" (update), "optional" (upsert) or "no" (create)
 */
export function recordIdKeyIssues(tool: string, id: "required" | "optional" | "no") {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] => {
    const records = isPlainObject(args) ? args.records : undefined;
    if (!Array.isArray(records)) return issues;
    // The key a record gives its id under instead of "id", when it has "fields" and no "id".
    const guessOf = (record: unknown): string | undefined =>
      isPlainObject(record) && record.fields !== undefined && record.id === undefined
        ? Object.keys(record).find(isIdGuess)
        : undefined;
    const guessed = records.flatMap((record: unknown, i) => (guessOf(record) === undefined ? [] : [i]));
    if (guessed.length === 0) return issues;
    const others = issues.filter((issue) => {
      const [first, second, third] = issuePathKeys(issue);
      if (first !== "records" || !guessed.includes(Number(second))) return true;
      const length = issue.path?.length ?? 0;
      if (length === 3 && third === "id") return false;
      // The unknown-key issue goes when the guess is all it names; one naming other keys too stays.
      return !(length === 2 && issue.code === "unrecognized_keys" && issue.keys?.every(isIdGuess) === true);
    });
    const index = guessed[0]!;
    const record = records[index] as Record<string, unknown>;
    const value = record[guessOf(record)!];
    const cells = isPlainObject(record.fields) ? Object.keys(record.fields) : [];
    const example =
      `{ "id": ${typeof value === "string" && value !== "" ? JSON.stringify(value) : '"rec…"'}, ` +
      `"fields": ${cells.length === 0 ? "{ … }" : keysShown(cells)} }`;
    const keys = [...new Set(guessed.map((i) => JSON.stringify(guessOf(records[i]))))].join(" or ");
    const subject = `${namedRecords(guessed)} ${guessed.length === 1 ? "gives" : "give"} ${keys}`;
    const message =
      id === "required"
        ? `${subject}: a record of ${tool} names its record with "id", e.g. ${example}`
        : id === "optional"
          ? `${subject}: a record of ${tool} names the record to update with "id" (without one, it is matched on ` +
            `fieldsToMergeOn), e.g. ${example}`
          : `${subject}: ${tool} always makes new records, and its records take only "fields"; to change existing ` +
            `ones by id, use update_records or upsert_records, whose records are ${example}`;
    return [{ message, path: [] }, ...others];
  };
}

/**
 * update_records' rewordIssues for records that give "fields" but no "id" at all (nor the id under another key:
 * recordIdKeyIssues): zod answered each with "records.1.id: Invalid input: expected string, received undefined",
 * which a newcomer trial's agent met when it sent new records to update_records. One sentence replaces them, naming
 * the records (the first five, the rest counted), the shape with the first one's cells, where ids come from, and the
 * tools that make records (create_records) or find them by field values (upsert_records with fieldsToMergeOn). Still
 * refused: nothing is created or matched in the agent's place.
 * @param tool the tool's name, e.g. "update_records"
 */
export function missingRecordIdIssues(tool: string) {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] => {
    const records = isPlainObject(args) ? args.records : undefined;
    if (!Array.isArray(records)) return issues;
    const missing = records.flatMap((record: unknown, i) =>
      isPlainObject(record) &&
      record.fields !== undefined &&
      record.id === undefined &&
      !Object.keys(record).some(isIdGuess)
        ? [i]
        : [],
    );
    if (missing.length === 0) return issues;
    const others = issues.filter((issue) => {
      const [first, second, third] = issuePathKeys(issue);
      return !(first === "records" && missing.includes(Number(second)) && third === "id" && issue.path?.length === 3);
    });
    const record = records[missing[0]!] as Record<string, unknown>;
    const cells = isPlainObject(record.fields) ? Object.keys(record.fields) : [];
    const message =
      `${namedRecords(missing)} ${missing.length === 1 ? "has" : "have"} no "id": ${tool} changes existing records, ` +
      `each named by its id, e.g. { "id": "rec…", "fields": ${cells.length === 0 ? "{ … }" : keysShown(cells)} } ` +
      "(ids from list_records or search_records). To make new records, use create_records; to match existing " +
      "records on field values instead of ids, use upsert_records with fieldsToMergeOn.";
    return [{ message, path: [] }, ...others];
  };
}

/**
 * A record write tool's rewordIssues for `records` given as one record instead of a list of them (`records: { "id":
 * "rec…", "fields": { … } }`), or as a list holding something other than records: `records takes a list of records,
 * e.g. [{ "id": "rec…", "fields": { "Stage": … } }] (a list even for one record; it was given …)`, the example made
 * from the record given (list-argument.ts, the wording of every list argument), instead of zod's "records: Invalid
 * input: expected array, received object".
 * @param id whether the tool's records take an "id": "required" (update), "optional" (upsert) or "no" (create)
 */
export function recordListIssues(id: "required" | "optional" | "no") {
  return listArgumentIssues("records", {
    holds: "records",
    one: "record",
    item: "a record",
    items: "records",
    isItem: isPlainObject,
    example: (given) => {
      const first = (Array.isArray(given) ? given : [given]).find(isPlainObject);
      const cells = first !== undefined && isPlainObject(first.fields) ? Object.keys(first.fields) : [];
      const fields = cells.length === 0 ? "{ … }" : keysShown(cells);
      const givenId = typeof first?.id === "string" && first.id !== "" ? JSON.stringify(first.id) : undefined;
      if (id === "no" || (id === "optional" && givenId === undefined)) return `[{ "fields": ${fields} }]`;
      return `[{ "id": ${givenId ?? '"rec…"'}, "fields": ${fields} }]`;
    },
  });
}

/** delete_records' recordIds in words (list-argument.ts): `recordIds takes a list of record ids, e.g. ["rec…"] (…)`. */
export const recordIdListIssues = listArgumentIssues(
  "recordIds",
  nameListWording("rec…", { holds: "record ids", one: "record", item: "a record id", items: "ids" }),
);

/**
 * `records[1], records[2] and 3 more`: the records at `indexes` (input order) as a message names them, the first
 * MAX_LISTED_INDEXES listed and the rest counted.
 */
export function namedRecords(indexes: readonly number[]): string {
  const named = indexes
    .slice(0, MAX_LISTED_INDEXES)
    .map((i) => `records[${i}]`)
    .join(", ");
  return indexes.length > MAX_LISTED_INDEXES ? `${named} and ${indexes.length - MAX_LISTED_INDEXES} more` : named;
}

/**
 * The merge-fields rule in words, one sentence for every way `fieldsToMergeOn` can fail its schema (a list of 1 to 3
 * non-empty names): "fieldsToMergeOn takes a list of 1 to 3 field names or ids, e.g. ["Email"] (a list even for one
 * field; it was given the text "Email")" (listArgumentIssues, the wording of every list argument). zod answered a
 * single name with two issues, the second of which ("expected string to have <=3 characters": the list's length
 * limit checked against the text) read as if names were limited to 3 characters. The example uses a name the call
 * gave when it gave one. A single name is refused, not taken as a one-name list: Airtable's
 * `performUpsert.fieldsToMergeOn` is an array (https://airtable.com/developers/web/api/update-multiple-records) and
 * so is the reference MCP server's, and the schema listed in tools/list says so; a call that does not match it is
 * told, not guessed at.
 * For a tool that does not take fieldsToMergeOn (`takes: false`, update_records), the refusal of the unknown
 * argument says to use upsert_records instead.
 * @param tool the tool's name, e.g. "upsert_records"
 * @param takes whether the tool has a fieldsToMergeOn parameter
 */
export function fieldsToMergeOnIssues(tool: string, takes: boolean) {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] => {
    if (!isPlainObject(args) || args.fieldsToMergeOn === undefined) return issues;
    if (!takes) {
      return issues.map((issue) =>
        issue.code === "unrecognized_keys" && issue.keys?.includes("fieldsToMergeOn") === true
          ? {
              ...issue,
              message:
                `${issue.message}; ${tool} changes records given by "id": to match records on field values ` +
                "instead, use upsert_records, which takes fieldsToMergeOn",
            }
          : issue,
      );
    }
    return mergeFieldsIssues(args, issues);
  };
}

/** fieldsToMergeOn's wording (list-argument.ts): "Email" is the example when the call names no field. */
const mergeFieldsIssues = listArgumentIssues(
  "fieldsToMergeOn",
  nameListWording("Email", {
    holds: "1 to 3 field names or ids",
    one: "field",
    item: "a field name",
    min: 1,
    max: 3,
    tooMany: "Airtable matches on at most 3",
  }),
);

/**
 * create_record's rewordIssues for a call shaped like create_records (`records` a list, e.g. `[{ "fields": { … } }]`,
 * and no `fields`): zod and compile-tools answered it with two sentences joined by a comma, "needs the argument
 * "fields"" and "does not take the argument "records"", each listing the parameters, and neither named
 * create_records. One sentence replaces both: create_records for several records, or the cells under "fields" for
 * one (the first record's keys shown). Still refused: which of the two was meant is the agent's to say.
 */
export function recordsToCreateRecordIssues(args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] {
  if (!isPlainObject(args) || !Array.isArray(args.records) || args.fields !== undefined) return issues;
  const others = issues.filter((issue) => {
    const keys = issuePathKeys(issue);
    if (keys.length === 1 && keys[0] === "fields") return false;
    return !(issue.code === "unrecognized_keys" && issue.keys?.length === 1 && issue.keys[0] === "records");
  });
  const records: unknown[] = args.records;
  const first = records[0];
  const cells = isPlainObject(first) && isPlainObject(first.fields) ? Object.keys(first.fields) : [];
  const one = cells.length === 0 ? '"fields": { "Name": … }' : `"fields": ${keysShown(cells)}`;
  const which = records.length > 1 ? `these ${records.length} records` : "records";
  const message =
    `create_record makes one record from "fields" and does not take "records": to create ${which}, call ` +
    `create_records with the same "records"; for one record, give its cells as ${one}`;
  return [{ message, path: [] }, ...others];
}

/** `{ "Name": …, "Stage": … }`: an object's keys (the first four), values elided to keep the message short. */
export function keysShown(keys: readonly string[]): string {
  const shown = keys.slice(0, 4).map((key) => `${JSON.stringify(key)}: …`);
  if (keys.length > 4) shown.push("…");
  return `{ ${shown.join(", ")} }`;
}

// Strict: `choices` for options (or any other misplaced key) would otherwise create the field without it.
export const fieldSpecInput = strictArgumentObject("a field", {
  name: z.string().min(1).describe("The field's name; unique in its table (case-insensitively)."),
  type: z
    .string()
    .min(1)
    .describe(
      "Airtable field type, e.g. singleLineText, multilineText, richText, email, url, phoneNumber, number, " +
        "currency, percent, checkbox, singleSelect, multipleSelects, date, dateTime, multipleAttachments, " +
        "multipleRecordLinks, rating, duration, barcode.",
    ),
  description: z.string().optional().describe("Shown to people in Airtable next to the field."),
  options: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'Type options as Airtable\'s field model describes them, e.g. number: {"precision": 0}; singleSelect: ' +
        '{"choices": [{"name": "Lead"}]}; dateTime: {"dateFormat": {"name": "iso"}, "timeFormat": {"name": ' +
        '"24hour"}, "timeZone": "utc"}; multipleRecordLinks: {"linkedTableId": "tbl…"} (the table\'s id or name). ' +
        "Selects need their choices, a link its table; number and percent a precision, currency a precision and " +
        "symbol, date a dateFormat, dateTime a dateFormat, timeFormat and timeZone, duration a durationFormat. " +
        "A checkbox without " +
        'options gets {"icon": "check", "color": "greenBright"}, a rating {"icon": "star", "color": ' +
        '"yellowBright", "max": 5} (missing keys only).',
    ),
});
export type FieldSpecInput = z.infer<typeof fieldSpecInput>;

/**
 * Options Airtable's field model (https://airtable.com/developers/web/api/field-model, Checkbox and Rating) lists
 * as part of a checkbox's and a rating's write format, none marked optional, while people ask for "a Done
 * checkbox" without thinking of an icon: filled with what Airtable's own interface picks for a new field. Keys the
 * caller gave are kept; other types are unchanged.
 */
export const DEFAULT_FIELD_OPTIONS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  checkbox: { icon: "check", color: "greenBright" },
  rating: { icon: "star", color: "yellowBright", max: 5 },
};

/** `spec` as it is sent to Airtable: DEFAULT_FIELD_OPTIONS filled in under the caller's own options. */
export function fieldSpecForAirtable(spec: FieldSpecInput): FieldSpecInput {
  const defaults = DEFAULT_FIELD_OPTIONS[spec.type];
  return defaults === undefined ? spec : { ...spec, options: { ...defaults, ...spec.options } };
}

/**
 * What an agent must do about a write call that got no answer at all: the connection dropped, the client timed out,
 * or the server was restarted (`kill -9`) mid-call. The operation may have been queued before that and still runs
 * (a restarted server resumes it), so sending the call again would write everything twice — a newcomer trial's
 * create_records of 200 records ended with every record twice. list_operations answers newest first with kind,
 * baseId, tableId, progress.recordsTotal and createdAt, enough to recognise the call.
 */
export const NO_ANSWER_NOTE =
  "A call that got no answer at all (connection lost, timeout, server restart) may still be running: look for " +
  "it with list_operations (newest first) before calling again.";

/**
 * What queueing means for a record tool's answer, worded for what it does to records: "written" (create, update,
 * upsert) or "deleted" — a record in doubt asks for a look-up before writing it again, but a delete may simply be
 * sent again. A write's ends with NO_ANSWER_NOTE (a delete sent twice ends the same).
 */
function queuedRecordsNote(done: "written" | "deleted"): string {
  const inDoubt =
    done === "written"
      ? "look it up (search_records) before writing it again"
      : "deleting it again is harmless (a record already gone is reported not found), or check with get_record";
  return (
    // The rate limits are left to the instructions: create_records' and upsert_records' descriptions must stay
    // within 1,024 characters (tools-list-portable.test.ts).
    `Queued as an operation and ${done === "written" ? "written" : "sent"} in batches of 10 records per ` +
    "Airtable request. The call waits up to about 25 s: if the operation ends in time the answer has one result " +
    "per input record, by index (its id, or its error); otherwise operationId, status and progress — poll " +
    "get_operation. A record " +
    `marked inDoubt was sent but Airtable's answer was lost: ${inDoubt}; it is never re-sent automatically.` +
    // A delete sent twice ends the same (see inDoubt above): only a write needs the look before a retry.
    (done === "written" ? ` ${NO_ANSWER_NOTE}` : "")
  );
}

/** Record writes queue one operation; this tells the agent what that means for the answer. */
export const QUEUED_RECORDS_NOTE = queuedRecordsNote("written");
/** QUEUED_RECORDS_NOTE for delete_records. */
export const QUEUED_DELETES_NOTE = queuedRecordsNote("deleted");

/**
 * Single-item writes (tables, fields, comments, attachments) are queued too. They said "behind other writes to this
 * base", which an agent read as waiting for a long import on the base to end (h-agent31's trial): a write of one
 * batch runs in its base's own lane of small writes (operation-worker.ts fairnessLane; the embedded runner does not
 * queue it behind an import either) and only takes turns with the import's requests at the base's rate.
 */
export const QUEUED_ITEM_NOTE =
  "The call is queued as an operation (beside other writes to this base, not after a long import; at most 5 " +
  "Airtable requests per second per base) and usually answers within seconds with the result (results[0].id is the new or changed item's " +
  "id, or results[0].error). If it takes longer than about 25 s the answer has operationId, status and progress: " +
  "poll get_operation. If results[0].inDoubt is true, the request reached Airtable but its answer was lost: " +
  "check whether the change was made before calling again. " +
  NO_ANSWER_NOTE;

/** Creates: not idempotent (a second call creates a second item), nothing existing is overwritten. */
export const createAnnotations: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** Updates, upserts and deletes: they overwrite or remove data; repeating the same call has the same effect. */
export const overwriteAnnotations: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: true,
};

/** Options of the operations that are not record writes (typecast and onError do not apply to them). */
export const singleItemOptions: OperationOptions = { typecast: false, onError: "continue" };
