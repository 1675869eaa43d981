/**
 * What an agent reads when a listing is refused for its arguments, through the real MCP client over HTTP against the
 * sandbox: maxRecords and pageSize out of range say what they take and what leaving them out does (not zod's "Too
 * small: expected number to be >=1"), and a filterByFormula naming no field of the table lists the table's fields,
 * with the exact name when only case differs (tableId and write field names are matched ignoring case; a formula is
 * Airtable's to read, and Airtable refuses the name). fields, fieldIds and sort given as one value instead of a list
 * say what list they take, with an example made from the call (list-argument.ts).
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments as invalid } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Leads",
  tables: [
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Email", type: "email" },
        { name: "Stage", type: "singleLineText" },
      ],
      records: [
        { Name: "Ada", Email: "ada@example.com", Stage: "Lead" },
        { Name: "Ben", Email: "ben@example.com", Stage: "Customer" },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
/** Requests the sandbox has been sent for the test base's records (not its schema). */
const recordReads = () => mcp.h.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${mcp.base.id}/`)).length;

describe("maxRecords and pageSize out of range", () => {
  const everyRecord =
    "the most records this listing returns in all, across its pages; leave it out to get every record (they come " +
    "a page at a time: call again with nextCursor while an answer has one)";

  it("maxRecords 0 or 1.5: a whole number of at least 1, and what leaving it out does", async () => {
    const before = recordReads();
    const zero = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", maxRecords: 0 });
    expect(zero.isError).toBe(true);
    expect(zero.text).toBe(
      invalid("list_records") + `maxRecords must be a whole number of at least 1 (it was given 0): ${everyRecord}`,
    );
    const half = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      searchTerm: "a",
      maxRecords: 1.5,
    });
    expect(half.text).toBe(
      invalid("search_records") + `maxRecords must be a whole number of at least 1 (it was given 1.5): ${everyRecord}`,
    );
    const huge = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", maxRecords: 1e20 });
    expect(huge.text).toContain("maxRecords must be a whole number from 1 to 9,007,199,254,740,991");
    expect(recordReads()).toBe(before);

    // As the message says: left out, every record comes back.
    const all = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts" });
    expect((all.data.records as unknown[]).length).toBe(2);
  });

  it("pageSize 0 or 101: from 1 to 100; other mistakes of the call are still named", async () => {
    const answer = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", pageSize: 101, filter: "x" });
    expect(answer.text).toContain(
      "pageSize must be a whole number from 1 to 100 (it was given 101): the most records in one answer; leave it out for 100",
    );
    expect(answer.text).toContain('list_records does not take the argument "filter"');
    expect(answer.text).not.toContain("Too big");
  });
});

describe("a filterByFormula naming no field of the table", () => {
  it("only the case differs: did you mean the exact name, and the table's fields", async () => {
    const answer = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: '{stage}="Lead"',
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'Airtable refused filterByFormula (INVALID_FILTER_BY_FORMULA): table "Contacts" has no field {stage} — did you ' +
        'mean {Stage}? Field names in formulas must match exactly, case included. The fields are: "Name", "Email", ' +
        '"Stage".',
    );
    // As it says: the exact name is taken.
    const fixed = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: '{Stage}="Lead"',
    });
    expect((fixed.data.records as { fields: Record<string, unknown> }[]).map((r) => r.fields.Name)).toEqual(["Ada"]);
  });

  it("misspelt names and a field id: the fields listed, the nearest named, ids turned into names", async () => {
    const typo = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: 'AND({Stag}="Lead", {Emial}!="")',
    });
    expect(typo.text).toBe(
      'Airtable refused filterByFormula (INVALID_FILTER_BY_FORMULA): table "Contacts" has no fields {Stag}, {Emial} ' +
        "— did you mean {Stage} for {Stag}, {Email} for {Emial}? Put a field's name in {braces} exactly as Airtable " +
        'shows it. The fields are: "Name", "Email", "Stage".',
    );
    const stage = mcp.base.tables[0]!.fields.find((f) => f.name === "Stage")!;
    const byId = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: `{${stage.id}}="Lead"`,
    });
    expect(byId.text).toContain(
      `has no field {${stage.id}} — did you mean {Stage} (formulas name fields by name, not by id)?`,
    );
  });

  it("names the field as it is now when it was renamed since the schema was cached", async () => {
    await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", pageSize: 1 });
    const email = mcp.base.tables[0]!.fields.find((f) => f.name === "Email")!;
    await mcp.h.airtableA.updateField(mcp.base.id, mcp.base.tables[0]!.id, email.id, { name: "Mail" });
    const answer = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: '{mail}!=""',
    });
    expect(answer.text).toContain("has no field {mail} — did you mean {Mail}?");
    expect(answer.text).toContain('The fields are: "Name", "Mail", "Stage".');
  });

  it("other formula mistakes keep Airtable's message and the general hint", async () => {
    const answer = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: 'AND({Stage}="Lead"',
    });
    expect(answer.text).toMatch(/^Airtable refused the request: .*\(INVALID_FILTER_BY_FORMULA\)\. Fix the formula/);
  });
});

describe("a filterByFormula Airtable cannot read", () => {
  // Airtable's whole answer for a formula it cannot parse (the sandbox answers the same).
  const airtable =
    "Airtable refused the request: The formula for filtering records is invalid: Invalid formula. Please check " +
    "your formula text. (INVALID_FILTER_BY_FORMULA). Fix the formula: ";
  const reminder = 'Field names go in {braces}, text in "double quotes", e.g. AND({Status} = "Done", {Score} > 3).';
  const list = (filterByFormula: string) =>
    call("list_records", { baseId: mcp.base.id, tableId: "Contacts", filterByFormula });

  it("names an operator from another language and Airtable's own", async () => {
    const answer = await list('{Stage} == "Lead"');
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      `${airtable}== (character 9) is not an Airtable operator: compare with one = ({Status} = "Done"). ${reminder}`,
    );
  });

  it("names a function Airtable does not have and what to write instead", async () => {
    const answer = await list('CONTAINS({Name}, "Ada")');
    expect(answer.text).toBe(
      `${airtable}CONTAINS() (character 1) is not an Airtable function: FIND("text", {Field}) > 0 finds text in a ` +
        'field (case-sensitive; FIND(LOWER("text"), LOWER({Field})) > 0 ignores case). ' +
        reminder,
    );
  });

  it("names a function given too few or too many arguments, with its signature", async () => {
    const find = await list('FIND("Ada")');
    expect(find.text).toBe(
      `${airtable}FIND() (character 1) takes 2 or 3 arguments, FIND(stringToFind, whereToSearch, ` +
        `[startFromPosition]); it was given 1. ${reminder}`,
    );
    const nested = await list('AND({Stage} = "Lead", DATETIME_DIFF(TODAY()), LEFT({Name}, 1, 2) = "A")');
    expect(nested.text).toBe(
      airtable +
        [
          "DATETIME_DIFF() (character 23) takes 2 or 3 arguments, DATETIME_DIFF(date1, date2, [units]); it was given 1",
          "LEFT() (character 47) takes 2 arguments, LEFT(text, howMany); it was given 3",
        ].join("; ") +
        `. ${reminder}`,
    );
    const none = await list("AND()");
    expect(none.text).toContain(
      "AND() (character 1) takes at least 1 argument, AND(expression1, [expression2, …]); it was given 0",
    );
    // Right counts, optional arguments included, are not named.
    const fine = await list('AND(FIND("a", {Name}, 1), IF({Stage}, 1), ROUND(1), SWITCH({Stage}, "Lead", 1))');
    expect(fine.isError).toBe(false);
  });

  it("names every mistake it recognises: a curly quote, &&, an infix AND, ISBLANK()", async () => {
    const answer = await list('{Stage} = \u201cLead\u201d && ISBLANK({Email}) AND {Name} != ""');
    expect(answer.text).toBe(
      airtable +
        [
          '\u201c (character 11) is a curly quote: text goes in straight quotes, "like this"',
          "&& (character 18) is not an Airtable operator: AND(condition1, condition2)",
          "ISBLANK() (character 21) is not an Airtable function: {Field} = BLANK() is true for an empty cell, " +
            "NOT({Field} = BLANK()) for a filled one",
          "AND (character 38): AND is a function in Airtable: AND(condition1, condition2)",
        ].join("; ") +
        `. ${reminder}`,
    );
  });

  it("names a parenthesis or a quote left open, and [brackets] for braces", async () => {
    expect((await list('AND({Stage} = "Lead", {Name} != ""')).text).toBe(
      `${airtable}the ( (character 4) never closed by ). ${reminder}`,
    );
    expect((await list('{Stage} = "Lead')).text).toBe(
      `${airtable}the text starting with " (character 11) is never closed by the same quote (a quote inside text ` +
        `is written \\" or \\'). ${reminder}`,
    );
    expect((await list('[Stage] = "Lead"')).text).toBe(
      `${airtable}[ (character 1): fields go in {braces} in Airtable formulas, {Field Name}, not [brackets]. ` +
        reminder,
    );
  });
});

describe("a list argument given as one value", () => {
  it("list_records fields or search_records fieldIds as one name: a list even for one field", async () => {
    const before = recordReads();
    const fields = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: "Name" });
    expect(fields.isError).toBe(true);
    expect(fields.text).toBe(
      invalid("list_records") +
        'fields takes a list of field names or ids, e.g. ["Name"] (a list even for one field; it was given the text ' +
        '"Name")',
    );
    const fieldIds = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      searchTerm: "a",
      fieldIds: "Email",
    });
    expect(fieldIds.text).toBe(
      invalid("search_records") +
        'fieldIds takes a list of field names or ids, e.g. ["Email"] (a list even for one field; it was given the ' +
        'text "Email")',
    );
    const empty = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: [] });
    expect(empty.text).toBe(
      invalid("list_records") +
        'fields takes a list of field names or ids, e.g. ["Name"] (it was given an empty list; leave fields out to ' +
        "get every field)",
    );
    expect(recordReads()).toBe(before);
    // As the message says: the list is taken.
    const listed = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: ["Name"] });
    expect((listed.data.records as { fields: Record<string, unknown> }[])[0]!.fields).toEqual({ Name: "Ada" });
  });

  it("list_records sort as one field name, one item, or a list of names: a list of sort items", async () => {
    const before = recordReads();
    const sortItems = 'sort takes a list of sort items, e.g. [{"field": "Stage", "direction": "asc"}]';
    const name = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", sort: "Stage" });
    expect(name.isError).toBe(true);
    expect(name.text).toBe(
      `${invalid("list_records")}${sortItems} (a list even for one field; it was given the text "Stage")`,
    );
    const item = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", sort: { field: "Stage" } });
    expect(item.text).toBe(
      `${invalid("list_records")}${sortItems} (a list even for one field; it was given {"field":"Stage"})`,
    );
    const names = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", sort: ["Stage"] });
    expect(names.text).toBe(`${invalid("list_records")}${sortItems} (sort[0] is "Stage", not a sort item)`);
    expect(recordReads()).toBe(before);
    const sorted = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      sort: [{ field: "Stage", direction: "asc" }],
    });
    expect((sorted.data.records as { fields: Record<string, unknown> }[]).map((r) => r.fields.Stage)).toEqual([
      "Customer",
      "Lead",
    ]);
  });
});

describe("Airtable's own list-records parameters that the listing tools do not take", () => {
  it("offset and returnFieldsByFieldId: refused with what to do instead (cellFormat/timeZone/userLocale are taken)", async () => {
    const before = recordReads();
    const offset = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", offset: "itrX/recY" });
    expect(offset.isError).toBe(true);
    expect(offset.text).toContain('list_records does not take the argument "offset"; its parameters are baseId');
    expect(offset.text).toContain(
      `"offset": pages go by cursor here: pass the previous answer's nextCursor as cursor, with the other arguments unchanged`,
    );
    const byId = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      returnFieldsByFieldId: true,
      filter: "x",
    });
    expect(byId.text).toContain('does not take the arguments "returnFieldsByFieldId", "filter"');
    expect(byId.text).toContain(
      '"returnFieldsByFieldId": cells are keyed by field name; fields and sort take field ids',
    );
    expect(recordReads()).toBe(before);

    // Session 27: taken (cell-format.ts; tests/server/mcp/cell-format.test.ts), no longer refused.
    const zone = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      searchTerm: "a",
      cellFormat: "string",
      timeZone: "Europe/Berlin",
      userLocale: "de",
    });
    expect(zone.isError, zone.text).toBe(false);

    // Selecting by a local day with a formula (what the refusal of cellFormat used to advise, still in the README)
    // is one Airtable takes.
    const berlin = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      filterByFormula: 'DATETIME_FORMAT(SET_TIMEZONE(CREATED_TIME(), "Europe/Berlin"), "YYYY-MM-DD") != ""',
    });
    expect(berlin.isError).toBe(false);
    expect((berlin.data.records as unknown[]).length).toBe(2);
  });
});

describe("a search_records searchTerm with nothing to find", () => {
  it("empty or only spaces: refused with what to give, where spaces alone answered an empty list", async () => {
    const before = recordReads();
    for (const [term, what] of [
      ["", "empty"],
      ["   ", "only spaces"],
    ] as const) {
      const answer = await call("search_records", { baseId: mcp.base.id, tableId: "Contacts", searchTerm: term });
      expect(answer.isError, JSON.stringify(term)).toBe(true);
      expect(answer.text).toBe(
        invalid("search_records") +
          `searchTerm is ${what}: give the text to find, e.g. "Acme" (spaces inside a term are kept); to list ` +
          "every record, call list_records",
      );
    }
    expect(recordReads()).toBe(before);
    const found = await call("search_records", { baseId: mcp.base.id, tableId: "Contacts", searchTerm: "ada" });
    expect((found.data.records as { fields: { Name: string } }[]).map((r) => r.fields.Name)).toEqual(["Ada"]);
  });
});

describe("an empty cursor", () => {
  it('cursor: "" is refused with what a first page and a last page look like, for both listing tools', async () => {
    const sentence =
      "cursor is empty: leave cursor out for the first page, and pass nextCursor unchanged for the next; an answer " +
      "without nextCursor was the last page (nothing more follows)";
    const listed = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", cursor: "" });
    expect(listed.isError).toBe(true);
    expect(listed.text).toBe(invalid("list_records") + sentence);
    const searched = await call("search_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      searchTerm: "a",
      cursor: "",
    });
    expect(searched.text).toBe(invalid("search_records") + sentence);
  });
});
