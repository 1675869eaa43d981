import { z } from "zod";
import { AirtableValidationError } from "../../airtable/errors.ts";
import type { AirtableField, AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { resolveField, resolveTable, SchemaLookupError } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations, rewordInTurn } from "../define-tool.ts";
import {
  airtableParameterIssues,
  blankArgumentIssues,
  emptyCursorIssues,
  fieldIdListIssues,
  fieldListIssues,
  listingInputs,
  listingIssues,
  listingOutputs,
  resolveListingQuery,
  runListing,
} from "../listing.ts";
import { isRecordId } from "../../airtable/ids.ts";
import { linkedTableOf, linksByName } from "../link-id-formula.ts";
import { fieldReference, isSearchableField, searchFormula } from "../search-formula.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { resolveCellFormat } from "../cell-format.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { CursorQueryMismatchError } from "../record-cursor.ts";
import { unknownFieldRefused, withSchema } from "../with-schema.ts";

/**
 * search_records' rewordIssues for a searchTerm that is empty or only spaces (given at all: a missing one is named by
 * the missing-argument sentence): one sentence saying what to give and what lists every record, instead of zod's
 * "Too small: expected string to have >=1 characters" or "Invalid string: must match pattern /\S/".
 */
export const searchTermIssues = blankArgumentIssues(
  "searchTerm",
  (given) =>
    `searchTerm is ${given === "" ? "empty" : "only spaces"}: give the text to find, e.g. "Acme" (spaces inside ` +
    "a term are kept); to list every record, call list_records",
);

export const searchRecords = defineTool({
  name: "search_records",
  title: "Search records",
  description:
    "Finds records whose cells contain searchTerm (case-insensitive, literal text: quotes and formula syntax " +
    "are matched as typed). By default searches what the user sees as text: text fields, selects, AI text, people (by name), " +
    "barcodes, lookups, rollups and formulas with text results (a cell showing #ERROR! never matches and never " +
    "hides its record), and link fields (by the linked records' primary values, e.g. a company's name); " +
    "or only fieldIds when given (ids or names). searchedFields lists the fields searched. Paged like list_records, " +
    'and takes its cellFormat "string" with timeZone and userLocale.',
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    searchTerm: z
      .string()
      .min(1)
      .max(1000)
      // Spaces alone would be searched as typed and find nothing: an empty answer that reads as "no such record".
      .regex(/\S/)
      .describe(
        "The text to find. Not a record id (refused: links are searched by the linked records' primary values, " +
          "not ids); read a record with get_record.",
      ),
    fieldIds: z
      .array(z.string().min(1))
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Search only these fields (ids or names). Default: every text field, text lookup/rollup/formula and link.",
      ),
    ...listingInputs,
  },
  outputSchema: {
    ...listingOutputs,
    searchedFields: z
      .array(z.object({ id: z.string(), name: z.string(), type: z.string() }))
      .describe("The fields whose cells were searched."),
  },
  rewordIssues: rewordInTurn(
    searchTermIssues,
    listingIssues,
    fieldListIssues,
    fieldIdListIssues,
    airtableParameterIssues,
    emptyCursorIssues,
  ),
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    // Checked before any request (cell-format.ts). The search formula reads Airtable's values whatever the format.
    const format = resolveCellFormat(input);
    const search = async (schema: BaseSchema) => {
      const table = resolveTable(schema, input.tableId, input.baseId);
      const query = { ...resolveListingQuery(table, input), ...format };
      const searched = searchedFields(table, input.fieldIds);
      refuseRecordIdSearch(input.searchTerm, table, searched, input.fieldIds !== undefined, schema);
      query.filterByFormula = searchFormula(input.searchTerm, searched);
      const page = await runListing(ctx, {
        baseId: input.baseId,
        table,
        query,
        identity: { tool: "search_records" },
        pageSize: input.pageSize,
        maxRecords: input.maxRecords,
        cursor: input.cursor,
        expandLinks: input.expandLinks ? schema : undefined,
      });
      const unsearched = input.fieldIds === undefined ? notSearchedNote(input.searchTerm, table, searched) : undefined;
      const pattern =
        page.records.length === 0 && input.cursor === undefined ? patternNote(input.searchTerm, searched) : undefined;
      const note = [page.note, pattern, unsearched].filter((n) => n !== undefined).join(" ");
      return {
        ...page,
        ...(note !== "" && { note }),
        searchedFields: searched.map((f) => ({ id: f.id, name: f.name, type: f.type })),
      };
    };
    const formulaRefused = (error: unknown) =>
      error instanceof AirtableValidationError && error.type === "INVALID_FILTER_BY_FORMULA";
    try {
      // The formula is built from the schema's field names: Airtable refusing it means a searched field was renamed
      // or deleted since the schema was cached, not a mistake of the agent, and earns the same one try against a
      // fresh schema as an unknown name — but not with a cursor, which belongs to the formula it was made with.
      return await withSchema(
        ctx,
        input.baseId,
        search,
        (error) =>
          error instanceof SchemaLookupError ||
          unknownFieldRefused(error) ||
          (input.cursor === undefined && formulaRefused(error)),
      );
    } catch (error) {
      // The formula is built from field names, so a rename in Airtable changes the query a cursor was made for
      // (seen here once the schema in memory has the new name): say so rather than "repeat your arguments".
      if (error instanceof CursorQueryMismatchError) {
        throw new ToolInputError(
          "This cursor was made for another query: the arguments differ from the call that returned it, or a " +
            "searched field was renamed in Airtable since (the search is built from field names). Call again with " +
            "the same arguments, or without cursor to start over.",
        );
      }
      if (formulaRefused(error) && input.cursor !== undefined) {
        throw new ToolInputError(
          "A searched field was renamed or deleted in Airtable since this search began, so its cursor no longer " +
            "applies. Call search_records again without cursor to start over.",
        );
      }
      throw error;
    }
  },
});

/** Types whose cells never show a number or date an agent would search for. */
const NO_DIGITS_SHOWN = new Set(["checkbox", "button", "multipleAttachments"]);
/**
 * Types (or computed results) whose value is the number shown, so that `{Field} = 50` finds what reads 50. Not percent
 * (50 % is stored as 0.5) nor duration (seconds, shown as h:mm): an example naming one of those would find nothing
 * (Airtable's field model, https://airtable.com/developers/web/api/field-model).
 */
const NUMBER_TYPES = new Set(["number", "currency", "rating", "autoNumber", "count"]);
/** Types whose value is a date and time (an instant, in UTC in a formula). */
const DATE_TIME_TYPES = new Set(["dateTime", "createdTime", "lastModifiedTime"]);
/** How many unsearched fields the note names; the rest are counted. */
const UNSEARCHED_NAMED = 10;

/**
 * The answer's note for a default search (no fieldIds) whose term holds a digit: the fields it did not search (numbers,
 * currencies, dates, numeric lookups, rollups and formulas: what does not show as text), and how to search them. Such
 * a term, an amount or a date, is likely meant for them, and an empty answer whose searchedFields leave them out
 * reads as "no record has it" (a CRM trial: "1003.25" in Deals, whose "Amount" is a currency). Undefined when the
 * term has no digit or every field was searched. Pure: reads the cached schema only.
 */
function notSearchedNote(
  searchTerm: string,
  table: AirtableTable,
  searched: readonly AirtableField[],
): string | undefined {
  if (!/\d/.test(searchTerm)) return undefined;
  const searchedIds = new Set(searched.map((f) => f.id));
  const others = table.fields.filter(
    (f) => !searchedIds.has(f.id) && !NO_DIGITS_SHOWN.has(f.type) && fieldReference(f) !== undefined,
  );
  if (others.length === 0) return undefined;
  const named = others
    .slice(0, UNSEARCHED_NAMED)
    .map((f) => `${JSON.stringify(f.name)} (${f.type})`)
    .join(", ");
  const more = others.length > UNSEARCHED_NAMED ? `, and ${others.length - UNSEARCHED_NAMED} more` : "";
  const term = searchTerm.trim();
  const isNumber = (f: AirtableField) =>
    NUMBER_TYPES.has(f.type) || NUMBER_TYPES.has(String((f.options?.result as { type?: unknown } | null)?.type));
  const numeric = /^-?\d+(\.\d+)?$/.test(term) ? others.find(isNumber) : undefined;
  // A day (YYYY-MM-DD) is meant for a date field: name one as the example (a types trial, session 26, searched
  // "2026-03-04" and was told e.g. ["Qty"]), with IS_SAME for a date-only one (a date-time's day is UTC's there).
  const resultType = (f: AirtableField) => String((f.options?.result as { type?: unknown } | null)?.type);
  const isDay = (f: AirtableField) => f.type === "date" || resultType(f) === "date";
  const isDateTime = (f: AirtableField) => DATE_TIME_TYPES.has(f.type) || resultType(f) === "dateTime";
  const day = /^\d{4}-\d{2}-\d{2}$/.test(term) ? (others.find(isDay) ?? others.find(isDateTime)) : undefined;
  const example = numeric ?? day ?? others[0]!;
  const formula =
    numeric !== undefined
      ? ` (e.g. ${fieldReference(numeric)!} = ${term})`
      : day !== undefined && isDay(day)
        ? ` (e.g. IS_SAME(${fieldReference(day)!}, "${term}", "day"))`
        : "";
  return (
    `Not searched (a search by default reads only what shows as text): ${named}${more}. To find ` +
    `${JSON.stringify(term)} in them, give fieldIds (e.g. ${JSON.stringify([example.name])}), or use list_records ` +
    `with filterByFormula${formula}.`
  );
}

/**
 * A search term written as a pattern or a query rather than text: a regular expression's `.*`, `|`, `\d`, `[…]`,
 * a leading `^` or trailing `$`, or words joined by OR / AND. The term is matched literally (FIND in
 * searchFormula), so such a term finds nothing, and the empty answer reads as "no such record" (an agent's CRM
 * trial, h-agent34: "Bulk.*", "Acme|Globex").
 */
const PATTERN_SIGNS = /\.\*|\.\+|\||\\[dwsbDWS]|\[[^\]]+\]|^\^|\$$|\(\?i\)/;
const QUERY_WORDS = /\S\s+(OR|AND)\s+\S/;

/**
 * For an empty first answer whose term looks like a pattern or a query (PATTERN_SIGNS, QUERY_WORDS): that the term
 * was matched as typed, and how to search for several terms or a pattern (list_records with OR(FIND(…)), or AND(…)
 * for terms joined by AND, case-insensitive as the search is; or REGEX_MATCH, over the first searched field).
 * Undefined for any other term.
 */
function patternNote(searchTerm: string, searched: readonly AirtableField[]): string | undefined {
  const term = searchTerm.trim();
  const words = QUERY_WORDS.test(term);
  if (!words && !PATTERN_SIGNS.test(term)) return undefined;
  const field = searched[0];
  const ref = field === undefined ? "{Name}" : (fieldReference(field) ?? `{${field.name}}`);
  const parts = term.split(/\s+(?:OR|AND)\s+|\|/).filter((p) => p.trim() !== "");
  // Terms joined by AND alone are all wanted at once; by OR or | any of them. Each FIND is on lower-cased text, as
  // the search itself is (searchFormula): FIND alone is case-sensitive, and "acme" would not find "Acme".
  const all = !term.includes("|") && /\sAND\s/.test(term) && !/\sOR\s/.test(term);
  const example =
    parts.length > 1 && parts.length <= 5
      ? `search_records once per term, or list_records with filterByFormula ${all ? "AND" : "OR"}(${parts
          .map((p) => `FIND(${JSON.stringify(p.trim().toLowerCase())}, LOWER(${ref}))`)
          .join(", ")})`
      : `list_records with filterByFormula REGEX_MATCH(${ref}, ${JSON.stringify(term)}) for a pattern`;
  return (
    `No record contains ${JSON.stringify(term)} as typed: searchTerm is literal text, not a pattern or a query ` +
    `(${words ? "OR and AND are words to find" : "characters such as . * | ^ $ \\ [ ] are matched as themselves"}). ` +
    `To find ${all ? "all" : "any"} of several terms, or a pattern, use ${example}.`
  );
}

function searchedFields(table: AirtableTable, wanted: string[] | undefined): AirtableField[] {
  if (wanted === undefined) {
    const text = table.fields.filter((f) => isSearchableField(f) && fieldReference(f) !== undefined);
    if (text.length === 0) {
      throw new ToolInputError(
        "This table has no text fields to search. Pass fieldIds, or use list_records with filterByFormula.",
      );
    }
    return text;
  }
  return wanted.map((key) => {
    const field = resolveField(table, key);
    if (fieldReference(field) === undefined) {
      throw new ToolInputError(
        `Field ${JSON.stringify(field.name)} cannot be searched: Airtable formulas cannot name a field containing "}". Rename it or search other fields.`,
      );
    }
    return field;
  });
}

/**
 * Refuses (ToolInputError) a searchTerm that is a record id (`rec` + 14 letters or digits; surrounding spaces
 * ignored) before any request for records, where the search could only answer an empty list that reads as a fact:
 * - A searched link field (`multipleRecordLinks`) reads in a formula as its linked records' primary values, never as
 *   their ids (Airtable's rule, quoted in link-id-formula.ts), so `FIND("rec…", {Link} & "")` is false on every
 *   record and an agent reads the empty answer as "no record links to it". The sentence names the link field(s)
 *   and the fix: a search for the linked record's primary value (named when the searched links lead to one table),
 *   and — only when one link is searched and its inverse field (`options.inverseLinkFieldId`) is in the cached
 *   schema of the linked table — get_record on that record, naming the table id and the inverse field to read.
 *   `inverseLinkFieldId` is optional in Airtable's field model (https://airtable.com/developers/web/api/field-model,
 *   Link to another record): a one-way link (its inverse deleted, or a link to a synced table) has none, and then
 *   no field of the linked record lists what links to it.
 * - A default search (no fieldIds) that searches no link field: a record's own id is in none of its cells, so the
 *   answer would be empty whether that record exists or not (read as "there is no such record"). Refused too,
 *   pointing to get_record — rather than run — because nothing about the fields says they hold ids; a field that
 *   stores record ids as text (an import's "Source id", a RECORD_ID() formula) is still searchable by naming it in
 *   fieldIds, which the sentence says.
 * Left to run: fieldIds naming no link read by name (the agent says where ids are stored, and they can match), and a
 * search whose only links read as ids (their linked table's primary field is a RECORD_ID() formula, linksByName):
 * those cells do hold record ids. Pure: reads the cached schema only.
 */
function refuseRecordIdSearch(
  searchTerm: string,
  table: AirtableTable,
  searched: readonly AirtableField[],
  fieldIdsGiven: boolean,
  schema: BaseSchema,
): void {
  const id = searchTerm.trim();
  if (!isRecordId(id)) return;
  const quotedId = JSON.stringify(id);
  const links = searched.filter((f) => linksByName(f, schema));
  if (links.length === 0) {
    if (fieldIdsGiven || searched.some((f) => f.type === "multipleRecordLinks")) return;
    throw new ToolInputError(
      `searchTerm ${quotedId} is a record id, and a record's own id is in none of its cells (no link field of ` +
        `${JSON.stringify(table.name)} is searched), so this would return nothing whether or not it exists. Read ` +
        "it with get_record, or name in fieldIds the fields that store record ids as text.",
    );
  }
  const linkedIds = new Set(links.map((f) => f.options?.linkedTableId));
  const { linked, primary } = linkedIds.size === 1 ? linkedTableOf(links[0]!, schema) : {};
  const inverseId = links.length === 1 ? links[0]!.options?.inverseLinkFieldId : undefined;
  const inverse =
    linked === undefined || typeof inverseId !== "string" ? undefined : linked.fields.find((f) => f.id === inverseId);
  const primaryWords = primary === undefined ? "primary field value" : JSON.stringify(primary.name);
  const fields =
    links.length === 1
      ? `the link field ${JSON.stringify(links[0]!.name)} is`
      : `the link fields ${links.map((f) => JSON.stringify(f.name)).join(", ")} are`;
  const trap =
    `searchTerm ${quotedId} is a record id, and ${fields} searched by the linked records' ` +
    `${primary === undefined ? "primary values" : JSON.stringify(primary.name)}, never their ids, so this would ` +
    "return nothing (not a sign that nothing links to it).";
  if (linked === undefined || inverse === undefined) {
    throw new ToolInputError(`${trap} Search for its ${primaryWords} instead.`);
  }
  throw new ToolInputError(
    `${trap} To see what links to it: get_record with tableId ${JSON.stringify(linked.id)} and recordId ` +
      `${quotedId} and read its field ${JSON.stringify(inverse.name)}. Or search for its ${primaryWords}.`,
  );
}
