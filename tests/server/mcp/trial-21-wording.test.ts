/**
 * Refusals a newcomer trial (session 21) found unhelpful, through the real MCP client over HTTP against the sandbox,
 * each now answered before anything is queued or sent to Airtable with one sentence naming the problem and the fix:
 * - create_field / create_table: a singleSelect or multipleSelects field without `options.choices` (Airtable's raw
 *   "options.choices must be an array" came only once the queued operation ran), a choice given as bare text, a link
 *   without `linkedTableId`;
 * - a link's `linkedTableId` given as a table's name (as tableId takes everywhere here): resolved to the table's id,
 *   in another case too; an unknown name gets "Did you mean" and the base's tables;
 * - a list or object argument sent as JSON text (`fields: "[\"Name\"]"`): told it was sent as a JSON string, with
 *   the parsed value to send, instead of zod's "expected record, received string" or the list wording's advice to
 *   send `["[\"Name\"]"]`;
 * - a filterByFormula comparing a field with unquoted text (`{Stage} = Lead`), which Airtable reads as a field
 *   named Lead: told the text goes in double quotes (`{Stage} = "Lead"`), not to put a field's name in {braces}.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments as invalid } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Trial 21",
  tables: [
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Won" }] } },
      ],
      records: [
        { Name: "Ada", Stage: "Lead" },
        { Name: "Bo", Stage: "Won" },
      ],
    },
    { name: "Companies", fields: [{ name: "Name", type: "singleLineText" }] },
    {
      // Left alone by the writes above: the formula refusals list its fields.
      name: "Pipeline",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Won" }] } },
      ],
      records: [{ Name: "Ada", Stage: "Lead" }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

/** Requests that change the test base's schema or records (anything but a read). */
const writesSent = () =>
  mcp.h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.includes(mcp.base.id)).length;

const tableId = (name: string) => mcp.base.tables.find((t) => t.name === name)!.id;

describe("a field created without the options its type needs", () => {
  it("create_field singleSelect without options.choices: refused up front with the options to send", async () => {
    const before = writesSent();
    const answer = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Tier",
      type: "singleSelect",
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'options: a singleSelect field needs its choices listed: send options: { choices: [{ name: "Lead" }, ' +
        '{ name: "Won" }] }, one { name } per option.',
    );
    expect(answer.text).not.toContain("INVALID_FIELD_TYPE_OPTIONS");
    expect(writesSent()).toBe(before);
  });

  it("create_table multipleSelects with options but no choices, and a choice given as bare text", async () => {
    const before = writesSent();
    const noChoices = await call("create_table", {
      baseId: mcp.base.id,
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Tags", type: "multipleSelects", options: { choices: "Hot, Cold" } },
      ],
    });
    expect(noChoices.isError).toBe(true);
    expect(noChoices.text).toBe(
      'fields[1].options: a multipleSelects field needs its choices listed (fields[1].options.choices is "Hot, ' +
        'Cold", not a list): send options: { choices: [{ name: "Lead" }, { name: "Won" }] } in fields[1], one ' +
        "{ name } per option.",
    );
    const bare = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Tier",
      type: "singleSelect",
      options: { choices: [{ name: "Gold" }, "Silver"] },
    });
    expect(bare.text).toBe(
      'options.choices[1] is "Silver", not a choice: a choice is an object with its name, e.g. { name: "Silver" } ' +
        "(a color is optional).",
    );
    const link = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Company",
      type: "multipleRecordLinks",
    });
    expect(link.text).toBe(
      'options: a multipleRecordLinks field needs the table it links to: send options: { linkedTableId: "tbl…" } ' +
        "(the table's id or name, from list_tables).",
    );
    expect(writesSent()).toBe(before);
  });

  it("a select with its choices is still created", async () => {
    const answer = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Tier",
      type: "singleSelect",
      options: { choices: [{ name: "Gold" }, { name: "Silver", color: "blueLight2" }] },
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ status: "completed", results: [{ index: 0, id: expect.any(String) }] });
  });
});

describe("a link field naming its table by name", () => {
  it("create_table: linkedTableId given as a table's name (in another case) is sent as its id", async () => {
    const answer = await call("create_table", {
      baseId: mcp.base.id,
      name: "Meetings",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "With", type: "multipleRecordLinks", options: { linkedTableId: "contacts" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ status: "completed", results: [{ index: 0, id: expect.any(String) }] });
    const described = await call("describe_table", { baseId: mcp.base.id, tableId: "Meetings" });
    expect(described.isError, described.text).toBe(false);
    expect(JSON.stringify(described.data)).toContain(`"linkedTableId":"${tableId("Contacts")}"`);
  });

  it("create_field: the same, by exact name", async () => {
    const answer = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Employer",
      type: "multipleRecordLinks",
      options: { linkedTableId: "Companies" },
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ status: "completed", results: [{ index: 0, id: expect.any(String) }] });
  });

  it("an unknown table name: Did you mean, the base's tables, nothing sent", async () => {
    const before = writesSent();
    const answer = await call("create_field", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      name: "Firm",
      type: "multipleRecordLinks",
      options: { linkedTableId: "Companys" },
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(
      new RegExp(
        `^Unknown table "Companys" in base ${mcp.base.id} \\(options\\.linkedTableId\\)\\. Did you mean "Companies" ` +
          `\\(${tableId("Companies")}\\)\\? The tables are: "Contacts" \\(${tableId("Contacts")}\\), "Companies" \\(${tableId("Companies")}\\), .*` +
          `Use the id or the exact name\\.$`,
      ),
    );
    const inTable = await call("create_table", {
      baseId: mcp.base.id,
      name: "Calls",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Who", type: "multipleRecordLinks", options: { linkedTableId: "People" } },
      ],
    });
    expect(inTable.text).toMatch(
      /^Unknown table "People" in base app\w+ \(fields\[1\]\.options\.linkedTableId\)\. The tables are: /,
    );
    expect(writesSent()).toBe(before);
  });
});

describe("a list or object argument sent as a JSON string", () => {
  const cases: [tool: string, args: Record<string, unknown>, sentence: string][] = [
    ["list_records", { fields: '["Name"]' }, 'fields was sent as a JSON string; send the array itself: ["Name"]'],
    [
      "list_records",
      { sort: '[{"field": "Name", "direction": "desc"}]' },
      'sort was sent as a JSON string; send the array itself: [{"field":"Name","direction":"desc"}]',
    ],
    [
      "search_records",
      { searchTerm: "Ada", fieldIds: '["Name", "Stage"]' },
      'fieldIds was sent as a JSON string; send the array itself: ["Name","Stage"]',
    ],
    [
      "create_record",
      { fields: '{"Name":"x"}' },
      'fields was sent as a JSON string; send the object itself: {"Name":"x"}',
    ],
    [
      "create_records",
      { records: '[{"fields": {"Name": "x"}}]' },
      'records was sent as a JSON string; send the array itself: [{"fields":{"Name":"x"}}]',
    ],
    [
      "update_records",
      { records: [{ id: "rec0123456789abcd", fields: '{"Stage": "Won"}' }] },
      'records[0].fields was sent as a JSON string; send the object itself: {"Stage":"Won"}',
    ],
    [
      "upsert_records",
      { records: [{ fields: { Name: "Ada" } }], fieldsToMergeOn: '["Name"]' },
      'fieldsToMergeOn was sent as a JSON string; send the array itself: ["Name"]',
    ],
    [
      "delete_records",
      { recordIds: '["rec0123456789abcd"]' },
      'recordIds was sent as a JSON string; send the array itself: ["rec0123456789abcd"]',
    ],
    [
      "create_field",
      { name: "Tier", type: "singleSelect", options: '{"choices": [{"name": "Gold"}]}' },
      'options was sent as a JSON string; send the object itself: {"choices":[{"name":"Gold"}]}',
    ],
  ];
  it.each(cases)("%s: names the argument and quotes the value to send", async (tool, args, sentence) => {
    const before = writesSent();
    const answer = await call(tool, { baseId: mcp.base.id, tableId: "Contacts", ...args });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(invalid(tool) + sentence);
    expect(writesSent()).toBe(before);
  });

  it("create_table: a field spec's options, and the fields list itself", async () => {
    const options = await call("create_table", {
      baseId: mcp.base.id,
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Tags", type: "multipleSelects", options: '{"choices": [{"name": "Hot"}]}' },
      ],
    });
    expect(options.text).toBe(
      invalid("create_table") +
        'fields[1].options was sent as a JSON string; send the object itself: {"choices":[{"name":"Hot"}]}',
    );
    const fields = await call("create_table", {
      baseId: mcp.base.id,
      name: "Deals",
      fields: '[{"name": "Name", "type": "singleLineText"}]',
    });
    expect(fields.text).toBe(
      invalid("create_table") +
        'fields was sent as a JSON string; send the array itself: [{"name":"Name","type":"singleLineText"}]',
    );
  });

  it("a text that is not JSON of the expected kind keeps the list wording", async () => {
    const answer = await call("list_records", { baseId: mcp.base.id, tableId: "Contacts", fields: "Name" });
    expect(answer.text).toBe(
      invalid("list_records") +
        'fields takes a list of field names or ids, e.g. ["Name"] (a list even for one field; it was given the text "Name")',
    );
  });
});

describe("a formula comparing a field with unquoted text", () => {
  const list = (filterByFormula: string) =>
    call("list_records", { baseId: mcp.base.id, tableId: "Pipeline", filterByFormula });
  const refused = "Airtable refused filterByFormula (INVALID_FILTER_BY_FORMULA): ";

  it("{Stage} = Lead: the text goes in double quotes, with the comparison quoted", async () => {
    const answer = await list("{Stage} = Lead");
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      refused +
        'Lead (character 11) is not in quotes, so Airtable reads it as a field name, and table "Pipeline" has no ' +
        'field {Lead}. Text values go in double quotes: {Stage} = "Lead". The fields are: "Name", "Stage".',
    );
    expect(answer.text).not.toContain("Put a field's name in {braces}");
  });

  it("!= with the word first, and two such words", async () => {
    const answer = await list("OR(Won != {Stage}, {Name} = Ada)");
    expect(answer.text).toBe(
      refused +
        "Won (character 4), Ada (character 29) are not in quotes, so Airtable reads them as field names, and table " +
        '"Pipeline" has no fields {Won}, {Ada}. Text values go in double quotes: "Won" != {Stage}, {Name} = "Ada". ' +
        'The fields are: "Name", "Stage".',
    );
  });

  it("a bare word not compared with a field keeps its field suggestion and is told about quotes", async () => {
    const answer = await list('Nmae = "Ada"');
    expect(answer.text).toBe(
      refused +
        'table "Pipeline" has no field {Nmae} — did you mean {Name}? If Nmae is text, put it in double quotes: ' +
        '"Nmae". Put a field\'s name in {braces} exactly as Airtable shows it. The fields are: "Name", "Stage".',
    );
  });

  it("a field name in braces is answered as before", async () => {
    const answer = await list('{Stag} = "Lead"');
    expect(answer.text).toBe(
      refused +
        'table "Pipeline" has no field {Stag} — did you mean {Stage}? Put a field\'s name in {braces} exactly as ' +
        'Airtable shows it. The fields are: "Name", "Stage".',
    );
  });
});
