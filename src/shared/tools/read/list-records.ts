import { z } from "zod";
import type { AirtableTable } from "../../airtable/schemas.ts";
import { resolveTable, SchemaLookupError } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations, rewordInTurn } from "../define-tool.ts";
import { formulaErrorNote, mayErrPerRecord, percentComparisonNote } from "../formula-error-note.ts";
import { explainFormulaRefusal } from "../formula-mistakes.ts";
import { refuseLinkIdComparison } from "../link-id-formula.ts";
import {
  multipleSelectEqualsNote,
  NeverMatchingComparisonError,
  personEmailNote,
  refuseNeverMatchingComparison,
} from "../literal-comparison.ts";
import {
  airtableParameterIssues,
  emptyCursorIssues,
  listingInputs,
  listingIssues,
  listingOutputs,
  resolveListingQuery,
  runListing,
  fieldListIssues,
  SORT_DIRECTIONS,
  sortDirectionIssues,
  sortListIssues,
} from "../listing.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { resolveCellFormat } from "../cell-format.ts";
import { strictArgumentObject } from "../strict-object.ts";
import { unknownFormulaFields } from "../tool-errors.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { unknownFieldRefused, withSchema } from "../with-schema.ts";

export const listRecords = defineTool({
  name: "list_records",
  title: "List records",
  description:
    "Lists records of a table, optionally from a view, filtered with an Airtable formula (a link field reads " +
    'there as its linked records\' primary values, e.g. {Company} = "Acme", not record ids) and sorted. Cells are ' +
    'keyed by field name, as Airtable\'s JSON values (dates in UTC); cellFormat "string" with timeZone and ' +
    "userLocale gives them as a person sees them in Airtable. expandLinks: true adds linked records' primary values to link fields. Answers hold at most pageSize records and about 40 kB; when nextCursor is present, " +
    "call again with the same arguments plus cursor to continue. Read note when present.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    ...listingInputs,
    sort: z
      // Strict: `order` for direction would otherwise sort ascending without a word.
      .array(
        strictArgumentObject("a sort item", {
          field: z.string().min(1),
          direction: z
            .enum(SORT_DIRECTIONS)
            .optional()
            .describe("asc (the default: A→Z, 1→9, oldest first) or desc; ASC, DESC, Asc and Desc are taken too."),
        }),
      )
      .max(20)
      .optional()
      .describe("Sort by these fields (ids or names), first one first."),
    filterByFormula: z
      .string()
      .max(15_000)
      .optional()
      .describe(
        'An Airtable formula; records where it is true are listed, e.g. AND({Status} = "Done", {Score} > 3). A link ' +
          'field reads as its linked records\' primary values joined with ", " (names, not record ids): ' +
          '{Company} = "Acme", or FIND("Acme", {Company}) when several may be linked. {Company} = "rec…" never ' +
          "matches and is refused before anything is read.",
      ),
  },
  outputSchema: listingOutputs,
  rewordIssues: rewordInTurn(
    listingIssues,
    sortDirectionIssues,
    fieldListIssues,
    sortListIssues,
    airtableParameterIssues,
    emptyCursorIssues,
  ),
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    // The request goes inside withSchema: fields and sort are sent by id, and a field deleted in Airtable since the
    // schema was cached is refused by Airtable (UNKNOWN_FIELD_NAME, naming the id) until it is read fresh.
    // cellFormat, timeZone and userLocale are checked first: a wrong one costs no request.
    const format = resolveCellFormat(input);
    let listed: AirtableTable | undefined;
    try {
      return await withSchema(
        ctx,
        input.baseId,
        async (schema) => {
          const table = resolveTable(schema, input.tableId, input.baseId);
          listed = table;
          const query = { ...resolveListingQuery(table, input), ...format };
          if (input.filterByFormula !== undefined && input.filterByFormula.trim() !== "") {
            // A link field compared with a record id matches nothing: refused here, before any records request.
            refuseLinkIdComparison("list_records", input.filterByFormula, table, schema);
            // So is a select, checkbox or number compared with text no cell of it holds (literal-comparison.ts).
            refuseNeverMatchingComparison("list_records", input.filterByFormula, table, schema);
            query.filterByFormula = input.filterByFormula;
          }
          const answer = await runListing(ctx, {
            baseId: input.baseId,
            table,
            query,
            identity: { tool: "list_records" },
            pageSize: input.pageSize,
            maxRecords: input.maxRecords,
            cursor: input.cursor,
            expandLinks: input.expandLinks ? schema : undefined,
          });
          const formula = query.filterByFormula;
          if (formula !== undefined) {
            // How the formula reads, each note put before what the answer already says (the last one first).
            for (const noteOn of [percentComparisonNote, multipleSelectEqualsNote, personEmailNote]) {
              const said = noteOn(formula, table);
              if (said !== undefined) answer.note = answer.note === undefined ? said : `${said} ${answer.note}`;
            }
          }
          if (
            answer.records.length === 0 &&
            input.cursor === undefined &&
            query.filterByFormula !== undefined &&
            mayErrPerRecord(query.filterByFormula)
          ) {
            // An empty answer may be a formula that is an error for every record (Airtable leaves those out).
            const note = await formulaErrorNote(ctx, input.baseId, table, query, query.filterByFormula);
            if (note !== undefined) answer.note = answer.note === undefined ? note : `${answer.note} ${note}`;
          }
          return answer;
        },
        // A select option the cached schema lacks may have been added in Airtable since: one fresh look.
        (error) =>
          error instanceof SchemaLookupError ||
          unknownFieldRefused(error) ||
          error instanceof NeverMatchingComparisonError,
      );
    } catch (error) {
      // A formula naming no field of the table: answered with the table's fields, read fresh so that a suggestion
      // names a field as it is now (one more schema request, only after such a refusal; the cached table when that
      // read fails, rather than losing the refusal's reason).
      const cached = listed;
      if (cached === undefined) throw error;
      if (unknownFormulaFields(error, cached) === undefined) {
        // Any other refusal of the formula: Airtable says only "Invalid formula"; what the formula itself shows
        // (`==`, `&&`, CONTAINS(…), a curly quote, an unclosed parenthesis) is named when recognised.
        const explained = explainFormulaRefusal(error, input.filterByFormula, cached);
        throw explained === undefined ? error : new ToolInputError(explained);
      }
      const table = await ctx.schemas
        .get(ctx.airtable, input.baseId, ctx.userId, { fresh: true })
        .then((fresh) => fresh.tables.find((t) => t.id === cached.id) ?? cached)
        .catch(() => cached);
      const formula = input.filterByFormula;
      throw new ToolInputError(
        unknownFormulaFields(error, table, formula) ?? unknownFormulaFields(error, cached, formula)!,
      );
    }
  },
});
