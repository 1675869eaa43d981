/**
 * Which formulas findLinkIdComparison flags: only a link field compared directly (=, !=, FIND, SEARCH) with a
 * record-id literal. Everything that can match in Airtable — names, text fields holding ids, RECORD_ID(), rollups of
 * ids, links whose linked table's primary field is RECORD_ID() — is left alone. The end-to-end refusal over MCP is
 * tests/server/mcp/link-id-formula.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { BaseSchema } from "../../../src/shared/airtable/schemas.ts";
import { findLinkIdComparison } from "../../../src/shared/tools/link-id-formula.ts";

const ID = "recMKkolxViatadPC";
const schema: BaseSchema = {
  tables: [
    {
      id: "tblCompanies0000",
      name: "Companies",
      primaryFieldId: "fldCoName",
      fields: [{ id: "fldCoName", name: "Name", type: "singleLineText" }],
      views: [],
    },
    {
      id: "tblKeyed0000000",
      name: "Keyed",
      primaryFieldId: "fldKey",
      fields: [{ id: "fldKey", name: "Key", type: "formula", options: { formula: "RECORD_ID()" } }],
      views: [],
    },
    {
      id: "tblContacts0000",
      name: "Contacts",
      primaryFieldId: "fldName",
      fields: [
        { id: "fldName", name: "Name", type: "singleLineText" },
        {
          id: "fldCompany",
          name: "Company",
          type: "multipleRecordLinks",
          options: { linkedTableId: "tblCompanies0000" },
        },
        {
          id: "fldPrior",
          name: "Prior company",
          type: "multipleRecordLinks",
          options: { linkedTableId: "tblCompanies0000" },
        },
        { id: "fldKeyed", name: "Keyed", type: "multipleRecordLinks", options: { linkedTableId: "tblKeyed0000000" } },
        { id: "fldNotes", name: "Notes", type: "multilineText" },
        { id: "fldIds", name: "Company ids", type: "rollup", options: { formula: "ARRAYJOIN(values)" } },
      ],
      views: [],
    },
  ],
};
const contacts = schema.tables[2]!;
const flagged = (formula: string) => findLinkIdComparison(formula, contacts, schema);

describe("findLinkIdComparison", () => {
  it.each([
    [`{Company}="${ID}"`, `{Company} = "${ID}"`],
    [`{Company} != '${ID}'`, `{Company} != "${ID}"`],
    [`"${ID}" = {Company}`, `"${ID}" = {Company}`],
    [`{fldCompany} = "${ID}"`, `{Company} = "${ID}"`],
    [`Company = "${ID}"`, `{Company} = "${ID}"`],
    [`AND({Name} = "Ada", {Prior company} = "${ID}")`, `{Prior company} = "${ID}"`],
    [`IF({Company} = "${ID}", 1, 0)`, `{Company} = "${ID}"`],
    [`FIND("${ID}", {Company})`, `FIND("${ID}", {Company})`],
    [`search('${ID}', {Company}, 1) > 0`, `SEARCH("${ID}", {Company})`],
  ])("flags %s", (formula, shape) => {
    expect(flagged(formula)?.shape).toBe(shape);
    expect(flagged(formula)?.recordId).toBe(ID);
  });

  it.each([
    '{Company} = "Acme"',
    'FIND("Acme", {Company})',
    `{Notes} = "${ID}"`,
    `RECORD_ID() = "${ID}"`,
    `"${ID}" = RECORD_ID()`,
    `FIND("${ID}", ARRAYJOIN({Company ids}))`,
    `FIND("${ID}", {Company ids})`,
    `{Keyed} = "${ID}"`,
    `"x" & {Company} = "${ID}"`,
    `{Company} = "${ID}" & ""`,
    `{Company} = "${ID}x"`,
    `{Company} = "rec123"`,
    `{Name} = "{Company} = \\"${ID}\\""`,
    `{Company} = "${ID}`,
    `{Unknown} = "${ID}"`,
  ])("leaves %s alone", (formula) => {
    expect(flagged(formula)).toBeUndefined();
  });
});
