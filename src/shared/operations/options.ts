/**
 * The options every write operation carries, whatever its kind (a tool fills them; the processor and the kinds'
 * `send` read them). Kept apart from events.ts so the write kinds can use them without importing the event log's
 * schemas, which are derived from the kinds.
 */
import { z } from "zod";

/**
 * One select field's options a record write's typecast creates, as the call was checked (plan-records.ts): stored
 * with the operation so that its answer, and every later poll of it (get_operation, tasks/get), says what the write
 * adds to the base's design without asking Airtable again. Capped for a big import: at most MAX_NEW_OPTIONS_LISTED
 * new options and MAX_EXISTING_OPTIONS_LISTED existing ones are named, the rest counted.
 */
export const newSelectOptionsSchema = z.object({
  /** The field's id, and its exact name when the call was checked (answers show the name). */
  fieldId: z.string().min(1),
  field: z.string(),
  /**
   * Whether the field is a multiple select, whose cell names several options (a list, or with typecast a text "a, b"
   * that Airtable splits): how selectOptionNames reads a cell. Absent on operations of earlier versions.
   */
  multiple: z.boolean().optional(),
  /** The new options, each once, in the order the call first gives them. */
  options: z
    .array(
      z.object({
        name: z.string(),
        /**
         * An existing option this one is probably a misspelling of ("Custmer" → "Customer": closestNames' rule,
         * digits alike), with the input indexes of the records giving it (the first few: `records`, all:
         * `recordCount`), which the answer tells the agent to update with the existing option.
         */
        close: z
          .object({
            existing: z.string(),
            records: z.array(z.number().int().nonnegative()),
            recordCount: z.number().int().positive(),
          })
          .optional(),
      }),
    )
    .min(1),
  /** New options of this field beyond those listed. */
  moreOptions: z.number().int().positive().optional(),
  /** The field's options when the call was checked (the first few), and how many more it had. */
  existing: z.array(z.string()),
  moreExisting: z.number().int().positive().optional(),
});
export type NewSelectOptions = z.infer<typeof newSelectOptionsSchema>;

/**
 * The option names a select cell given as `value` names, as the write tools check it (check-values.ts checkSelect):
 * a list's items, or with a multiple select's text "a, b" its parts, trimmed ("Airtable splits "a, b" itself"), or
 * the whole text of a single select; a number or logical as its text (typecast makes 3 the option "3"); empty names
 * and other values name none. `multiple` undefined (an operation of an earlier version, which did not record it): a
 * text names both itself and its parts, so that no option it may have named is missed.
 */
export function selectOptionNames(value: unknown, multiple: boolean | undefined): string[] {
  const nameOf = (item: unknown): string[] =>
    typeof item === "string" || typeof item === "number" || typeof item === "boolean" ? [String(item)] : [];
  let names: string[];
  if (Array.isArray(value)) names = value.flatMap(nameOf);
  else if (typeof value === "string" && multiple !== false) {
    const parts = value.split(",").map((part) => part.trim());
    names = multiple === true ? parts : [value, ...parts];
  } else names = nameOf(value);
  return names.filter((name) => name !== "");
}

/**
 * A field of a record write whose values Airtable takes but very likely stores as something the agent did not mean,
 * recorded when the call was checked (check-fields.ts, FieldChecker.valueNotes) so that the write's answer, and every
 * later poll of it, says so (value-notes.ts, valueNotesSentence). Only the field is stored: the records and values are
 * read from the operation's input when an answer is built, as the new select options' records are. `kind`:
 * - `percentWhole`: a percent field given a number over 1 and at most 100 (50). Airtable's percent cell holds a
 *   fraction ("the underlying cell value for 12.3% is 0.123": field model, Percent), so 50 is stored as 5,000 %, which
 *   is valid (a percent over 100 % is legal), hence noted rather than refused.
 */
export const valueNoteSchema = z.object({
  fieldId: z.string().min(1),
  field: z.string(),
  kind: z.literal("percentWhole"),
});
export type ValueNote = z.infer<typeof valueNoteSchema>;

/**
 * A name a record write gave for a linked record that matched the record's primary value only ignoring case
 * ("acme" for "Acme": linked-records.ts resolveLinkNames, which takes an exact match first), so that every answer
 * about the operation says which record it linked (link-name-matches.ts): a name differing in case may mean another
 * record than the one found.
 */
export const linkNameMatchSchema = z.object({
  /** The link field's id, and its exact name when the call was checked. */
  fieldId: z.string().min(1),
  field: z.string(),
  /** The name as the call gave it, and the linked record's primary value, as text, and id. */
  given: z.string(),
  name: z.string(),
  recordId: z.string().min(1),
});
export type LinkNameMatch = z.infer<typeof linkNameMatchSchema>;

/** Names matched ignoring case that one operation lists at most; the rest are counted. */
export const MAX_LINK_NAME_MATCHES_LISTED = 20;

/** New options one field's entry names at most (a 5,000-record import may bring hundreds of categories). */
export const MAX_NEW_OPTIONS_LISTED = 20;
/** Existing options one field's entry names at most (describe_table lists them all). */
export const MAX_EXISTING_OPTIONS_LISTED = 25;
/** Records one close option's entry names at most (the rest are counted). */
export const MAX_CLOSE_RECORDS_LISTED = 5;

export const operationOptionsSchema = z.object({
  /** Airtable's `typecast`: convert strings to select options, linked records, … */
  typecast: z.boolean(),
  /** update_records: PUT (clear fields not given) instead of PATCH. */
  replace: z.boolean().optional(),
  /** Upsert keys (Airtable allows 1–3). On create_records it makes a crashed batch safe to re-send as an upsert. */
  fieldsToMergeOn: z.array(z.string().min(1)).min(1).max(3).optional(),
  /** `stop`: write nothing after the first batch with a failed record. */
  onError: z.enum(["continue", "stop"]),
  /**
   * Record writes: a value names a select option its field does not have, which `typecast` adds (Airtable's field
   * model, Single select: "a new choice will be created"). The base's schema changes with the write, so the
   * processor forgets its cached copy after each batch written, as after a schema write: describe_table, which the
   * agent is told lists a field's options, then shows the new ones. Absent on operations of earlier versions.
   * Still written beside `newSelectOptions`: a worker of the previous version (a rolling deploy) reads only this.
   */
  addsSelectOptions: z.literal(true).optional(),
  /**
   * Record writes: which options `typecast` creates, per field (set whenever `addsSelectOptions` is): the write's
   * answer names them, so that a new option is never added silently. Absent on operations of earlier versions and
   * on writes that add none. Derived from the call and the schema, not chosen by the agent: left out of a create's
   * fingerprint (recent-calls.ts).
   */
  newSelectOptions: z.array(newSelectOptionsSchema).min(1).optional(),
  /**
   * Record writes: fields given values Airtable stores as something the agent very likely did not mean (a percent of
   * 50 for 50 %), which every answer about the operation notes (ValueNote). Derived from the call and the schema like
   * `newSelectOptions`, and left out of a create's fingerprint with it. Absent when there are none; an operation
   * stored by a version that did not know it has none (and a worker of that version drops it: unknown keys are
   * stripped), so it only adds a sentence.
   */
  valueNotes: z.array(valueNoteSchema).min(1).optional(),
  /**
   * upsert_records without `addToLists: true`: the list fields (links, multiple selects, attachments, collaborators;
   * not a link set to one record) its records give a non-empty list, which Airtable sets each updated record's cell
   * to, removing what it held that the list lacks. Every answer names them for the records updated
   * (list-replacements.ts), since nothing is read first to refuse it, as update_records does. Derived like
   * `valueNotes`; absent on operations of earlier versions (a worker of such a version drops it), so it only adds a
   * sentence.
   */
  listsReplaced: z
    .array(z.object({ fieldId: z.string().min(1), field: z.string() }))
    .min(1)
    .optional(),
  /**
   * Record writes: link names matched to a linked record's primary value only ignoring case (LinkNameMatch), each
   * (field, name) once, at most MAX_LINK_NAME_MATCHES_LISTED (`more`: how many others). Derived like `valueNotes`;
   * absent when there are none and on operations of earlier versions, so it only adds a sentence.
   */
  linkNamesMatched: z
    .object({
      matches: z.array(linkNameMatchSchema).min(1),
      more: z.number().int().positive().optional(),
    })
    .optional(),
  /**
   * Record writes: the dateTime fields given a date alone or a date and time without a zone ("2026-12-09T09:00"),
   * which Airtable reads in the field's time zone, or as UTC when it is `utc` or `client` (field model, Date and
   * time), or, with typecast, text ending in a zone in letters ("5:00 PM EST", zoneless-times.ts zoneInLetters, said
   * apart). `timeZone`: the field's `options.timeZone` when the call was checked (absent: none given, read as UTC).
   * Every answer names the records and the zone (zoneless-times.ts). Derived like `valueNotes`, and a key of its own
   * rather than a kind of ValueNote: a version that does not know it strips it (an unknown ValueNote kind would make
   * the whole operation unreadable to it), so it only adds a sentence.
   */
  zonelessTimes: z
    .array(z.object({ fieldId: z.string().min(1), field: z.string(), timeZone: z.string().optional() }))
    .min(1)
    .optional(),
});
export type OperationOptions = z.infer<typeof operationOptionsSchema>;

/**
 * The options the agent's call chose (typecast, onError, replace, fieldsToMergeOn), without those derived from the
 * call and the base's schema when it was checked (`addsSelectOptions`, `newSelectOptions`, `valueNotes`,
 * `listsReplaced`, `linkNamesMatched`, `zonelessTimes`): the schema changes with
 * the write itself (the first batch creates the options), so a retry of the same call checked afterwards derives
 * other ones.
 */
export function chosenOptions(options: OperationOptions): OperationOptions {
  const {
    addsSelectOptions: _adds,
    newSelectOptions: _new,
    valueNotes: _notes,
    listsReplaced: _lists,
    linkNamesMatched: _matched,
    zonelessTimes: _zoneless,
    ...chosen
  } = options;
  return chosen;
}
