import { z } from "zod";
import { AirtableValidationError } from "../../airtable/errors.ts";
import type { AirtableField, AirtableTable, BaseSchema } from "../../airtable/schemas.ts";
import { resolveField, resolveTable, SchemaLookupError } from "../../schema-cache.ts";
import { defineTool, readOnlyAnnotations } from "../define-tool.ts";
import { listingInputs, listingIssues, listingOutputs, resolveListingQuery, runListing } from "../listing.ts";
import { fieldReference, isSearchableField, searchFormula } from "../search-formula.ts";
import { baseIdInput, tableIdInput } from "../shapes.ts";
import { ToolInputError } from "../tool-input-error.ts";
import { CursorQueryMismatchError } from "../record-cursor.ts";
import { unknownFieldRefused, withSchema } from "../with-schema.ts";

export const searchRecords = defineTool({
  name: "search_records",
  title: "Search records",
  description:
    "Finds records whose cells contain searchTerm (case-insensitive, literal text: quotes and formula syntax " +
    "are matched as typed). By default searches what the user sees as text: text fields, AI text, people (by name), " +
    "barcodes, lookups, rollups and formulas with text results (a cell showing #ERROR! never matches and never " +
    "hides its record), and link fields (by the linked records' primary values, e.g. a company's name); " +
    "or only fieldIds when given (ids or names). searchedFields lists the fields searched. Paged like list_records.",
  kind: "read",
  scopes: ["records:read"],
  inputSchema: {
    baseId: baseIdInput,
    tableId: tableIdInput,
    searchTerm: z.string().min(1).max(1000).describe("The text to find."),
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
  rewordIssues: listingIssues,
  annotations: readOnlyAnnotations,
  async handler(input, ctx) {
    const search = async (schema: BaseSchema) => {
      const table = resolveTable(schema, input.tableId, input.baseId);
      const query = resolveListingQuery(table, input);
      const searched = searchedFields(table, input.fieldIds);
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
      return { ...page, searchedFields: searched.map((f) => ({ id: f.id, name: f.name, type: f.type })) };
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
