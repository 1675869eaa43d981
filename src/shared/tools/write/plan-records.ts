import { AirtableValidationError } from "../../airtable/errors.ts";
import type { AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { levelAllows, type BaseAccess } from "../../base-permissions.ts";
import { resolveTable } from "../../schema-cache.ts";
import type { ToolContext } from "../define-tool.ts";
import { resolveLinkNames } from "../linked-records.ts";
import { isPlainObject, ToolInputError } from "../tool-input-error.ts";
import {
  closeOptionLines,
  closeOptionsRefusal,
  describeItem,
  FieldChecker,
  mergeValueProblems,
  readOnlyFieldsRefusal,
  readOnlyLines,
  selectVariantsRefusal,
  unknownFieldLines,
  valueProblemLines,
  valueProblems,
  variantLines,
  withWriteSchema,
  freshIfOlderThanNames,
  namesMovedIn,
  type CloseOptionUse,
  type ReadOnlyUse,
  type SelectVariantUse,
  type UnknownFieldUse,
  type ValueProblem,
} from "./check-fields.ts";
import { alsoGivenIn, gatheredRefusal, type ProblemLine } from "./write-problems.ts";
import {
  MAX_LINK_NAME_MATCHES_LISTED,
  type LinkNameMatch,
  type NewSelectOptions,
  type OperationOptions,
  type ValueNote,
} from "../../operations/options.ts";
import { keysShown, namedRecords, typecastOf } from "./write-inputs.ts";
import { refusedCallValueNotes } from "../../operations/value-notes.ts";
import { refusedCallZonelessTimes } from "../../operations/zoneless-times.ts";

export interface RecordToWrite {
  id?: string;
  fields: Record<string, unknown>;
}

export interface CheckedRecords {
  /** The resolved table's id (Airtable is addressed by id: a rename cannot redirect a queued write). */
  tableId: string;
  /** Each record's cells keyed by field id, in input order. */
  cells: Record<string, unknown>[];
  /** The ids of fieldsToMergeOn, when given. */
  fieldsToMergeOn?: string[];
  /**
   * The exact name of every field of `cells` and `fieldsToMergeOn`, by id, as the schema had it when the call was
   * checked: answers about the operation show these names (Operation.fieldNames).
   */
  fieldNames: Record<string, string>;
  /** A value is a select option its field does not have yet, which typecast adds (OperationOptions). */
  addsSelectOptions: boolean;
  /** Those options, per field, for the write's answer (OperationOptions.newSelectOptions); undefined: none. */
  newSelectOptions?: NewSelectOptions[];
  /** Fields given values the write's answer notes (OperationOptions.valueNotes); undefined: none. */
  valueNotes?: ValueNote[];
  /** Link names matched only ignoring case (OperationOptions.linkNamesMatched); undefined: none. */
  linkNamesMatched?: LinkNameMatch[];
  /** dateTime fields given values without a zone (OperationOptions.zonelessTimes); undefined: none. */
  zonelessTimes?: OperationOptions["zonelessTimes"];
}

/**
 * The operation options derived from a checked write, to spread into the operation's options: what its typecast
 * creates (OperationOptions: `addsSelectOptions` for the schema cache, `newSelectOptions` for the answer), the
 * fields whose values its answer notes (`valueNotes`: value-notes.ts; `zonelessTimes`: zoneless-times.ts) and the
 * link names matched only ignoring case (`linkNamesMatched`: link-name-matches.ts); none when there is none of them.
 */
export function derivedOptions(
  checked: CheckedRecords,
): Pick<
  OperationOptions,
  "addsSelectOptions" | "newSelectOptions" | "valueNotes" | "linkNamesMatched" | "zonelessTimes"
> {
  const matched = checked.linkNamesMatched ?? [];
  const notes = {
    ...(checked.valueNotes !== undefined && { valueNotes: checked.valueNotes }),
    ...(checked.zonelessTimes !== undefined && { zonelessTimes: checked.zonelessTimes }),
    ...(matched.length > 0 && {
      linkNamesMatched: {
        matches: matched.slice(0, MAX_LINK_NAME_MATCHES_LISTED),
        ...(matched.length > MAX_LINK_NAME_MATCHES_LISTED && { more: matched.length - MAX_LINK_NAME_MATCHES_LISTED }),
      },
    }),
  };
  if (!checked.addsSelectOptions) return notes;
  return {
    addsSelectOptions: true,
    ...(checked.newSelectOptions !== undefined && { newSelectOptions: checked.newSelectOptions }),
    ...notes,
  };
}

export interface CheckRecordsInput {
  baseId: string;
  tableId: string;
  records: readonly RecordToWrite[];
  /**
   * The call's typecast as the call gave it; undefined: not given, so on (typecastOf). With it, Airtable converts
   * values, so fewer are refused here (check-values.ts). Left to its default, a new select option close to an
   * existing one is refused (closeOptionsRefusal); given as true, it is created and named in the answer.
   */
  typecast: boolean | undefined;
  /** Names `records[i].fields` in messages; create_record has a single `fields`. */
  fieldsWhere?: (index: number) => string;
  fieldsToMergeOn?: readonly string[];
  /** Ends the message refusing two records with the same merge values: what would go wrong. */
  duplicateMergeWhy?: string;
  /**
   * The problems of the records' ids the call found before the schema was needed (check-records.ts,
   * recordIdProblems), named in the same refusal as the problems found here.
   */
  idProblems?: readonly ProblemLine[];
  /**
   * More of the same refusal, asked only when the call is refused for problems found here: given the cells as
   * checked (keyed by field id; link names resolved to ids where found, a name found nowhere left as given), the
   * schema and the table, answers a paragraph the refusal adds, or undefined. update_records names there the items
   * its lists would remove (listCellsRefusal), which it would otherwise say only on the next call, once the names
   * are fixed. A failure of it (a read Airtable refused) leaves the refusal as it is.
   */
  alsoRefused?: (
    cells: Record<string, unknown>[],
    schema: BaseSchema,
    table: AirtableTable,
  ) => Promise<string | undefined>;
}

/**
 * Resolves the table and every record's field keys against the base's schema (see check-fields.ts), then link
 * cells naming linked records by primary value ("Acme") to record ids (linked-records.ts: reads the linked table,
 * refuses a name matching no record or several).
 *
 * The cells and merge fields come back keyed by field id, the form the operation stores and the worker sends:
 * a queued write may wait minutes (fairness, the rate limit, a long import) and the cached schema may already be
 * up to 60 s old, so a field renamed in Airtable meanwhile would make a write by name fail for every record
 * (UNKNOWN_FIELD_NAME). Airtable takes ids wherever it takes names here: create records, "cell values, keyed by
 * either field name or field id" (https://airtable.com/developers/web/api/create-records); update record, the
 * same (https://airtable.com/developers/web/api/update-record); and `performUpsert.fieldsToMergeOn`, "at least
 * one and at most three field names or IDs" (https://airtable.com/developers/web/api/update-multiple-records).
 *
 * Every problem of the call is named in one refusal (write-problems.ts), whatever its kind and record, with
 * `input.idProblems`: an agent fixes them all in one more call. A call with a single problem is refused with that
 * problem's own sentence, and one whose problems are all of a kind that was always gathered (read-only fields; wrong
 * values, select variants and close new options) as it always was (refusalOf). The linked records' names are looked
 * up once per call, as for a call with no problem, when the call's cells name any (a misspelt link field names
 * none), whatever else was refused: a wrong name is then in the same refusal. Throws ToolInputError /
 * SchemaLookupError naming what to fix.
 */
export async function checkRecordsAgainstSchema(ctx: ToolContext, input: CheckRecordsInput): Promise<CheckedRecords> {
  const where = input.fieldsWhere ?? ((i: number) => `records[${i}].fields`);
  const idProblems = input.idProblems ?? [];
  // Only a creator may add a select option: an editor's level, as list_bases showed it (remembered, no request),
  // refuses an unknown option here, before queueing, rather than in a failed record (check-values.ts). A lower
  // level refuses the whole write before queueing anyway (run-write.ts), with the message that fits it.
  const known = ctx.knownBaseAccess;
  const access = known?.baseId === input.baseId ? known.access : await ctx.schemas.baseAccess(ctx.userId, input.baseId);
  const level = access?.level;
  const nonCreator =
    level !== undefined && levelAllows(level, "edit") && !levelAllows(level, "create") ? access : undefined;
  let checks: SchemaChecks;
  try {
    checks = await withWriteSchema(ctx, input.baseId, (schema) => {
      const found = checkAgainst(schema, input, where, nonCreator);
      // Thrown, so that withWriteSchema checks once more against a fresh schema (a problem may come from a change
      // made in Airtable since the schema was cached); caught below with what that second check found.
      if (hasProblems(found)) throw new RefusedBySchema(found);
      return found;
    });
  } catch (error) {
    if (error instanceof RefusedBySchema) checks = error.checks;
    // The table could not be checked (unknown, or its schema not read): the ids' problems, found first, are named.
    else if (idProblems.length > 0) throw refusalOf(idProblems, undefined, []) ?? error;
    else throw error;
  }
  // Checked with names against a cached schema (up to 60 s old): a name may since have passed to another field or
  // table (two fields' names swapped, a new field given a renamed one's name), and the cells, sent by id, would go to
  // the field the name used to mean, overwriting what it holds. So a call whose schema was read more than
  // WRITE_NAMES_MAX_AGE_MS ago reads it once more before it is queued, and is checked against that one when a name of
  // the call means another field or table there. At most one schema read per base and user every 5 s.
  if (!hasProblems(checks) && idProblems.length === 0 && namesUsed(checks.table, input)) {
    const fresh = await freshIfOlderThanNames(ctx, input.baseId, checks.schema);
    if (fresh !== undefined && namesMovedIn(fresh, checks.table, input.tableId, fieldKeys(input))) {
      checks = checkAgainst(fresh, input, where, nonCreator);
    }
  }
  const { schema, table, checked } = checks;
  const gathering = hasProblems(checks) || idProblems.length > 0;
  // Link names the cells give are looked up even when the checks above refused the call, so that a wrong name is
  // in the same refusal: the same requests as the call makes once its other problems are fixed.
  const linkProblems: ProblemLine[] = [];
  // Kept across a second pass: the cells a first pass resolved are ids by then, which it leaves alone.
  const caseMatches: LinkNameMatch[] = [];
  const resolve = async (inSchema: BaseSchema, inTable: AirtableTable) => {
    linkProblems.length = 0;
    await resolveLinkNames(
      ctx.airtable,
      input.baseId,
      inSchema,
      inTable,
      checked.cells,
      where,
      linkProblems,
      caseMatches,
    );
  };
  try {
    try {
      await resolve(schema, table);
    } catch (error) {
      // Names are looked up with a formula on the linked table's primary field, by name (formulas know no field
      // ids): one renamed in Airtable since the schema was cached is refused, so the lookup is made once more with a
      // fresh schema rather than telling the agent to fix a formula it never wrote. Cells already resolved are
      // record ids by then, which a second pass leaves alone.
      if (!(error instanceof AirtableValidationError && error.type === "INVALID_FILTER_BY_FORMULA")) throw error;
      const fresh = await ctx.schemas.get(ctx.airtable, input.baseId, ctx.userId, { fresh: true });
      await resolve(fresh, fresh.tables.find((t) => t.id === table.id) ?? table);
    }
  } catch (error) {
    // A lookup that fails (Airtable unreachable, its rate limit) leaves the names unchecked: a call refused for its
    // other problems is told those all the same, and its next call checks the names.
    if (!gathering) throw error;
    linkProblems.length = 0;
  }
  const refused = refusalOf(idProblems, checks, linkProblems);
  if (refused !== undefined) {
    if (input.alsoRefused !== undefined) {
      const more = await input.alsoRefused(checked.cells, schema, table).catch(() => undefined);
      if (more !== undefined) refused.message += `\nAlso: ${more}`;
    }
    // A whole percent is written, with a note in the write's answer (value-notes.ts), and so is a date and time
    // without a zone (zoneless-times.ts); in a call refused for other problems they are said now, or the call sent
    // again with those fixed would store 5,000 % or 09:00 UTC first. The refusal is this call's own (made by its
    // checks above), so its message is extended in place, keeping its class.
    // A value the refusal names ("2026-02-30T10:00") is not also said to be read in a zone.
    const refusedAt = new Set(checks.values.map((p) => `${p.index ?? 0}\u0000${p.field}`));
    const accepted = checked.cells.map((cells, i) =>
      Object.fromEntries(
        Object.entries(cells).filter(([id]) => !refusedAt.has(`${i}\u0000${checked.fieldNames[id] ?? id}`)),
      ),
    );
    const notes = [
      refusedCallValueNotes(checked.valueNotes, checked.cells, where),
      refusedCallZonelessTimes(checked.zonelessTimes, accepted, where),
    ].filter((said) => said !== "");
    if (notes.length > 0) refused.message += `\nNot refused, but check it before calling again: ${notes.join(" ")}`;
    throw refused;
  }
  return caseMatches.length === 0 ? checked : { ...checked, linkNamesMatched: caseMatches };
}

/** The keys of a write's cells and its merge fields (the field ids or names it gave). */
function fieldKeys(input: CheckRecordsInput): Set<string> {
  return new Set([...input.records.flatMap((r) => Object.keys(r.fields)), ...(input.fieldsToMergeOn ?? [])]);
}

/** Whether the call names `table` or any of its fields by name (an id always means the same table or field). */
function namesUsed(table: AirtableTable, input: CheckRecordsInput): boolean {
  if (input.tableId !== table.id) return true;
  const ids = new Set(table.fields.map((f) => f.id));
  return [...fieldKeys(input)].some((key) => !ids.has(key));
}

/** What the checks of a call against one schema found: the cells, and every problem by kind. */
interface SchemaChecks {
  schema: BaseSchema;
  table: AirtableTable;
  checked: CheckedRecords;
  /** Records whose cells were wrapped in "fields" twice (checkWrappedTwice), left unchecked. */
  wrapped: WrappedTwice | undefined;
  unknown: UnknownFieldUse[];
  readOnly: ReadOnlyUse[];
  values: ValueProblem[];
  variants: SelectVariantUse[];
  /** New select options close to an existing one, with typecast left to its default (closeOptionsRefusal). */
  close: CloseOptionUse[];
  /** The other problems (a field named twice, fieldsToMergeOn, merge values), each as its line. */
  lines: ProblemLine[];
}

/** A call's refusal by its checks against the schema, carrying what they found (thrown inside withWriteSchema). */
class RefusedBySchema extends ToolInputError {
  override name = "RefusedBySchema";
  readonly checks: SchemaChecks;
  constructor(checks: SchemaChecks) {
    super("The call was refused by its checks against the base's schema.");
    this.checks = checks;
  }
}

const hasProblems = (c: SchemaChecks): boolean =>
  c.wrapped !== undefined ||
  c.unknown.length + c.readOnly.length + c.values.length + c.variants.length + c.close.length + c.lines.length > 0;

/**
 * Checks `input`'s records against `schema`, gathering every problem (SchemaChecks); throws only when the table
 * itself is not found (SchemaLookupError).
 */
function checkAgainst(
  schema: BaseSchema,
  input: CheckRecordsInput,
  where: (index: number) => string,
  nonCreator: BaseAccess | undefined,
): SchemaChecks {
  const typecast = typecastOf(input.typecast);
  const checker = new FieldChecker(resolveTable(schema, input.tableId, input.baseId), nonCreator);
  const wrapped = checkWrappedTwice(checker.table, input.records, where);
  const unknown: UnknownFieldUse[] = [];
  const lines: ProblemLine[] = [];
  // A read-only merge field is refused as such, once: not again for each record giving it a value.
  const mergedReadOnly = new Set<string>();
  const mergeFields =
    input.fieldsToMergeOn === undefined
      ? undefined
      : checker.mergeFields(input.fieldsToMergeOn, { unknown, lines, readOnly: mergedReadOnly });
  // Every wrong value of the call (one line per field), every read-only field, every unknown key, every select value
  // that is an option but for case or spaces: all collected, none thrown.
  const values: ValueProblem[] = [];
  const readOnly: ReadOnlyUse[] = [];
  const variants: SelectVariantUse[] = [];
  /** Records whose cells are known to be incomplete (a key left out): their merge values are not checked. */
  const incomplete = new Set(wrapped?.records);
  const cells = input.records.map((record, i) => {
    if (incomplete.has(i)) return {};
    const before = unknown.length;
    const collect = { problems: values, readOnly, variants, unknown, lines, index: i };
    const out = checker.cells(record.fields, where(i), typecast, collect, input.typecast === undefined);
    if (unknown.length > before) incomplete.add(i);
    return out;
  });
  if (mergedReadOnly.size > 0) {
    const kept = readOnly.filter((use) => !mergedReadOnly.has(use.field.id));
    readOnly.splice(0, readOnly.length, ...kept);
  }
  // Typecast left to its default: a new option close to an existing one is asked about (closeOptionsRefusal).
  const close = input.typecast === undefined ? checker.closeNewOptions() : [];
  const newSelectOptions = checker.newSelectOptions();
  const valueNotes = checker.valueNotes();
  const zonelessTimes = checker.zonelessTimes();
  const checked: CheckedRecords = {
    tableId: checker.table.id,
    cells,
    fieldNames: checker.namesById(),
    addsSelectOptions: checker.addsSelectOptions,
    ...(newSelectOptions !== undefined && { newSelectOptions }),
    ...(valueNotes !== undefined && { valueNotes }),
    ...(zonelessTimes !== undefined && { zonelessTimes }),
  };
  if (mergeFields !== undefined) {
    const records = input.records.map((record, i) => ({
      ...(record.id !== undefined && { id: record.id }),
      fields: cells[i] ?? {},
    }));
    const why = input.duplicateMergeWhy ?? "they would write the same record. Give each record once.";
    lines.push(...mergeValueProblems(records, mergeFields, why, incomplete));
    checked.fieldsToMergeOn = mergeFields.map((f) => f.id);
  }
  return { schema, table: checker.table, checked, wrapped, unknown, readOnly, values, variants, close, lines };
}

/**
 * The refusal of a call with these problems, undefined when there are none. A call with one problem is refused
 * with that problem's sentence (an unknown field with its lookup's error, listing the table's fields; given in
 * several records, with where else). One whose problems are all read-only fields, or all wrong values, select
 * variants and close new options, is refused as those always were (readOnlyFieldsRefusal; valueProblems,
 * selectVariantsRefusal and closeOptionsRefusal one after the other). Any other mix: one list of every problem, in
 * the order of the records (gatheredRefusal).
 */
function refusalOf(
  idProblems: readonly ProblemLine[],
  c: SchemaChecks | undefined,
  linkProblems: readonly ProblemLine[],
): Error | undefined {
  const unknown = c?.unknown ?? [];
  const readOnly = c?.readOnly ?? [];
  const others = [...idProblems, ...(c?.wrapped === undefined ? [] : [c.wrapped.line]), ...(c?.lines ?? [])];
  others.push(...linkProblems);
  const trio = [
    valueProblems(c?.values ?? []),
    selectVariantsRefusal(c?.variants ?? []),
    closeOptionsRefusal(c?.close ?? []),
  ].filter((refusal) => refusal !== undefined);
  if (others.length === 0 && unknown.length === 0) {
    if (readOnly.length === 0) {
      if (trio.length <= 1) return trio[0];
      return new ToolInputError(trio.map((r) => r.message).join("\n"));
    }
    if (trio.length === 0) return readOnlyFieldsRefusal(readOnly);
  }
  const { lines: unknownLines, trailer } =
    c === undefined ? { lines: [], trailer: undefined } : unknownFieldLines(unknown, c.table);
  if (readOnly.length === 0 && trio.length === 0 && others.length + unknownLines.length === 1) {
    const [use, ...also] = unknown;
    if (use !== undefined) return also.length === 0 ? use.error : unknownElsewhere(use, also);
    if (c?.wrapped !== undefined) return c.wrapped.error;
    return new ToolInputError(others[0]!.text);
  }
  const lines = [...others, ...unknownLines];
  if (c !== undefined) {
    lines.push(
      ...readOnlyLines(c.readOnly),
      ...valueProblemLines(c.values),
      ...variantLines(c.variants),
      ...closeOptionLines(c.close),
    );
  }
  return gatheredRefusal(lines, trailer);
}

/** One unknown field key given in several records: its lookup's refusal, then where else it is given. */
function unknownElsewhere(first: UnknownFieldUse, also: readonly UnknownFieldUse[]): ToolInputError {
  return new ToolInputError(first.error.message + alsoGivenIn(also.map((u) => u.where)));
}

/** Records whose cells were wrapped in "fields" twice: their refusal, and the same as a line of a gathered one. */
interface WrappedTwice {
  records: number[];
  error: ToolInputError;
  line: ProblemLine;
}

/**
 * Refuses cells wrapped in "fields" twice (`fields: { "fields": { "Name": "X" } }`, or a record of the records
 * tools `{ "fields": { "fields": { … } } }`) when `table` has no field that the key "fields" names (exactly, or
 * ignoring case and surrounding spaces, as field keys are resolved): the check of each key would otherwise answer
 * `Unknown field "fields"` with the table's whole field list, not saying what went wrong. A table with a field named
 * "fields" is left alone: the key is then that field. Answers one refusal naming every such record (the first five,
 * the rest counted) and the first one rewritten, undefined when there is none; runs inside withWriteSchema, so a
 * "fields" field added in Airtable since the schema was cached is found on its retry against a fresh schema. The
 * records it names are not checked further (each of their keys would be an unknown field).
 * @param where how messages name a record's cells: `records[i].fields`, or `fields` for create_record
 */
function checkWrappedTwice(
  table: AirtableTable,
  records: readonly RecordToWrite[],
  where: (i: number) => string,
): WrappedTwice | undefined {
  if (table.fields.some((f) => f.name.trim().toLowerCase() === "fields")) return undefined;
  const wrapped = records.flatMap((record, i) => (isPlainObject(record.fields.fields) ? [i] : []));
  if (wrapped.length === 0) return undefined;
  const index = wrapped[0]!;
  const record = records[index]!;
  const inner = Object.keys(record.fields.fields as Record<string, unknown>);
  const cells = inner.length === 0 ? "{ … }" : keysShown(inner);
  const why = `table ${describeItem(table)} has no field named "fields"`;
  let error: ToolInputError;
  if (where(index) === "fields") {
    error = new ToolInputError(
      `fields holds a "fields" of its own: the cells were wrapped in "fields" twice (${why}). Give them directly ` +
        `under one "fields": "fields": ${cells}.`,
    );
  } else {
    const id = record.id === undefined ? "" : `"id": ${JSON.stringify(record.id)}, `;
    const subject = wrapped.length === 1 ? `${where(index)} holds` : `the fields of ${namedRecords(wrapped)} hold`;
    error = new ToolInputError(
      `${subject} a "fields" of ${wrapped.length === 1 ? "its" : "their"} own: the cells were wrapped in "fields" ` +
        `twice (${why}). Give them directly under one "fields": records[${index}] is { ${id}"fields": ${cells} }.`,
    );
  }
  return { records: wrapped, error, line: { first: index, records: wrapped, text: error.message } };
}
