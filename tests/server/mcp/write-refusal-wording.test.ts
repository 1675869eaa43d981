/**
 * What an agent reads when a record write is refused for its shape or its values, through the real MCP client over
 * HTTP against the sandbox: cells given without their "fields" wrapper (the commonest shape mistake) are named as
 * such, with the index and the record rewritten, instead of zod's "expected record, received undefined"; cells
 * wrapped in "fields" twice, fieldsToMergeOn given as one name, and create_record given create_records' "records"
 * are each named in one sentence with the fix; a value of the wrong type without typecast gets an example worded as
 * one ("a number such as 42") and, where typecast would convert it, says so; a record naming its id "recordId" (as
 * get_record's parameter is called) is told "id", and records or recordIds given as one value say what list they take.
 * Nothing is queued in any case.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments as invalid } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Deals",
  tables: [
    {
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Deal size", type: "number", options: { precision: 0 } },
        { name: "Due", type: "date", options: { dateFormat: { name: "iso" } } },
      ],
    },
    {
      // A table that has a field named "fields": a "fields" key in its cells is that field, never a second wrapper.
      name: "Odd",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Fields", type: "singleLineText" },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

/** Record writes the sandbox has been sent for the test base. */
const recordWrites = () =>
  mcp.h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${mcp.base.id}/`)).length;

describe("records given without their fields wrapper", () => {
  it("create_records: names the record, the shape and the fix, in one sentence", async () => {
    const answer = await call("create_records", { baseId: mcp.base.id, tableId: "Deals", records: [{ Name: "X" }] });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      invalid("create_records") +
        'records[0] has no "fields": a record of create_records is { "fields": { … } }; records[0] gives ' +
        '{ "Name": … } — put the cells under "fields": { "fields": { "Name": … } }.',
    );
    expect(answer.text).not.toContain("expected record");
  });

  it("update_records and upsert_records: the id stays beside fields", async () => {
    const update = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: "rec0123456789abcd", Name: "X", "Deal size": 5 }],
    });
    expect(update.text).toBe(
      invalid("update_records") +
        'records[0] has no "fields": a record of update_records is { "id": "rec…", "fields": { … } }; records[0] ' +
        'gives { "id": …, "Name": …, "Deal size": … } — put the cells under "fields": { "id": "rec0123456789abcd", ' +
        '"fields": { "Name": …, "Deal size": … } }.',
    );
    const upsert = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: ["Name"],
      records: [{ Name: "X" }],
    });
    expect(upsert.text).toBe(
      invalid("upsert_records") +
        'records[0] has no "fields": a record of upsert_records is { "fields": { … } } (with an "id" to update ' +
        'that record); records[0] gives { "Name": … } — put the cells under "fields": { "fields": { "Name": … } }.',
    );
  });

  it("many records: one sentence naming them (the first five, the rest counted); other mistakes still reported", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "fine" } }, ...Array.from({ length: 7 }, (_, i) => ({ Name: `n${i}` }))],
      typecast: "no",
    });
    expect(answer.text).toContain(
      'records[1], records[2], records[3], records[4], records[5] and 2 more have no "fields": a record of ' +
        'create_records is { "fields": { … } }; records[1] gives { "Name": … } — put the cells under "fields"',
    );
    expect(answer.text).toContain("typecast");
    expect(answer.text).not.toContain("expected record");
  });

  it("create_records given an id says where ids belong; a record with no cells at all is named too", async () => {
    const withId = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: "rec0123456789abcd", Name: "X" }],
    });
    expect(withId.text).toContain('put the cells under "fields": { "fields": { "Name": … } }.');
    expect(withId.text).toContain(
      "create_records always makes new records: to change existing ones by id, use update_records or upsert_records.",
    );
    const onlyId = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: "rec0123456789abcd" }],
    });
    expect(onlyId.text).toBe(
      invalid("update_records") +
        'records[0] has no "fields": a record of update_records is { "id": "rec…", "fields": { … } }, with the ' +
        'cells to write under "fields".',
    );
  });

  it("nothing is written; the wrapped form is", async () => {
    const before = recordWrites();
    await call("create_records", { baseId: mcp.base.id, tableId: "Deals", records: [{ Name: "X" }] });
    expect(recordWrites()).toBe(before);
    const ok = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "X" } }],
    });
    expect(ok.data.status, ok.text).toBe("completed");
    expect(recordWrites()).toBe(before + 1);
  });
});

describe("cells wrapped in fields twice", () => {
  it("create_record: says so and shows the right shape, not the table's field list", async () => {
    const before = recordWrites();
    const answer = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fields: { fields: { Name: "X", "Deal size": 5 } },
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(
      /^fields holds a "fields" of its own: the cells were wrapped in "fields" twice \(table "Deals" \(tbl\w+\) has no field named "fields"\)\. Give them directly under one "fields": "fields": \{ "Name": …, "Deal size": … \}\.$/,
    );
    expect(answer.text).not.toContain("Unknown field");
    expect(recordWrites()).toBe(before);
  });

  it("create_records and update_records: names the records, the id stays beside fields", async () => {
    const create = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "ok" } }, { fields: { fields: { Name: "X" } } }, { fields: { fields: {} } }],
    });
    expect(create.text).toMatch(
      /^the fields of records\[1\], records\[2\] hold a "fields" of their own: the cells were wrapped in "fields" twice \(table "Deals" \(tbl\w+\) has no field named "fields"\)\. Give them directly under one "fields": records\[1\] is \{ "fields": \{ "Name": … \} \}\.$/,
    );
    const update = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ id: "rec0123456789abcd", fields: { fields: { Name: "X" } } }],
    });
    expect(update.text).toContain(
      'records[0].fields holds a "fields" of its own: the cells were wrapped in "fields" twice',
    );
    expect(update.text).toContain('records[0] is { "id": "rec0123456789abcd", "fields": { "Name": … } }.');
  });

  it("a table with a field named Fields keeps its own reading of the key", async () => {
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Odd",
      typecast: false,
      records: [{ fields: { fields: { Name: "X" } } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).not.toContain("wrapped");
    expect(answer.text).toContain('"Fields" is a');
    const text = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Odd",
      records: [{ fields: { fields: "x" } }],
    });
    expect(text.data.status, text.text).toBe("completed");
  });
});

describe("fieldsToMergeOn given as one name, not a list", () => {
  it("upsert_records and create_records: one sentence with the list it takes", async () => {
    const before = recordWrites();
    const upsert = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: "Name",
      records: [{ fields: { Name: "X" } }],
    });
    expect(upsert.isError).toBe(true);
    expect(upsert.text).toBe(
      invalid("upsert_records") +
        'fieldsToMergeOn takes a list of 1 to 3 field names or ids, e.g. ["Name"] (a list even for one field; it ' +
        'was given the text "Name")',
    );
    expect(upsert.text).not.toContain("characters");
    const create = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: "Name",
      records: [{ fields: { Name: "X" } }],
    });
    expect(create.text).toBe(
      invalid("create_records") +
        'fieldsToMergeOn takes a list of 1 to 3 field names or ids, e.g. ["Name"] (a list even for one field; it ' +
        'was given the text "Name")',
    );
    expect(recordWrites()).toBe(before);
  });

  it("too many names, none, or an empty one: the same rule; record shape mistakes are still named", async () => {
    const four = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: ["Name", "Due", "Deal size", "Name"],
      records: [{ Name: "X" }],
    });
    expect(four.text).toContain(
      'fieldsToMergeOn takes a list of 1 to 3 field names or ids, e.g. ["Name"] (it was given 4 names; Airtable ' +
        "matches on at most 3)",
    );
    expect(four.text).toContain('records[0] has no "fields"');
    const none = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: [],
      records: [{ fields: { Name: "X" } }],
    });
    expect(none.text).toBe(
      invalid("upsert_records") +
        'fieldsToMergeOn takes a list of 1 to 3 field names or ids, e.g. ["Email"] (it was given an empty list)',
    );
  });

  it("update_records, which does not take it, points to upsert_records", async () => {
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: "Name",
      records: [{ id: "rec0123456789abcd", fields: { Name: "X" } }],
    });
    expect(answer.text).toBe(
      invalid("update_records") +
        'update_records does not take the argument "fieldsToMergeOn"; its parameters are baseId, tableId, records, ' +
        "replace, addToLists, typecast, onError (see its inputSchema in tools/list); update_records changes records given " +
        'by "id": ' +
        "to match records on field values instead, use upsert_records, which takes fieldsToMergeOn",
    );
  });
});

describe("create_record given records", () => {
  it("one sentence pointing to create_records, or to fields for one record", async () => {
    const before = recordWrites();
    const one = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "X", "Deal size": 5 } }],
    });
    expect(one.isError).toBe(true);
    expect(one.text).toBe(
      invalid("create_record") +
        'create_record makes one record from "fields" and does not take "records": to create records, call ' +
        'create_records with the same "records"; for one record, give its cells as "fields": { "Name": …, ' +
        '"Deal size": … }',
    );
    const two = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "X" } }, { fields: { Name: "Y" } }],
    });
    expect(two.text).toContain('to create these 2 records, call create_records with the same "records"');
    expect(two.text.match(/its parameters are/g)).toBeNull();
    expect(recordWrites()).toBe(before);
  });
});

describe("a value of the wrong type with typecast: false", () => {
  it("gives an example worded as one, and says when typecast: true would let Airtable convert the value", async () => {
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      typecast: false,
      // A date in words that a date field reads ("14 March 2026") is sent as its day since session 30
      // (date-value-hints.test.ts); one it cannot read is refused as before.
      records: [{ fields: { Name: "Acme", "Deal size": "1,500", Due: "the 14th of March 2026" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      "2 values cannot be written as given (2 fields); nothing was queued. Fix them all, then call again:\n" +
        '- records[0].fields: "Deal size" is a number field, given "1,500", whose comma may be a thousands ' +
        "separator (1500) or a decimal comma (1.5, as European text writes 1,500): which one Airtable's typecast " +
        "reads is not documented. Give the number meant as a JSON number: 1500 or 1.5.\n" +
        '- records[0].fields: "Due" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not ' +
        '"the 14th of March 2026", or pass typecast: true to let Airtable try to read "the 14th of March 2026".',
    );
    expect(recordWrites()).toBe(before);

    // Text with no digit in it would not convert: no such hint.
    const words = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      typecast: false,
      records: [{ fields: { "Deal size": "lots" } }],
    });
    expect(words.text).toBe('records[0].fields: "Deal size" is a number field: give a number such as 42, not "lots".');

    // typecast: true given sends the text for Airtable to convert (the sandbox reads the comma as grouping: 1500).
    const converted = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      typecast: true,
      records: [{ fields: { Name: "Acme", "Deal size": "1,500" } }],
    });
    expect(converted.data.status, converted.text).toBe("completed");
    const id = (converted.data.results as { id: string }[])[0]!.id;
    const record = await call("get_record", { baseId: mcp.base.id, tableId: "Deals", recordId: id });
    expect((record.data.record as { fields: Record<string, unknown> }).fields["Deal size"]).toBe(1500);
  });
});

describe("a date in a local format", () => {
  it("is refused before queueing, with or without typecast, naming the days it can mean as YYYY-MM-DD", async () => {
    // Newcomer trial: with typecast (the default) the sandbox stored "03/11/2026", meant as 3 November, as 2026-03-11.
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "Acme", Due: "2026-11-03" } }, { fields: { Name: "Globex", Due: "03/11/2026" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      'records[1].fields: "Due" is given "03/11/2026", a date in a local format that reads as 3 November 2026 (day ' +
        "first) or 11 March 2026 (month first), and Airtable may store either. Give the one meant as YYYY-MM-DD: " +
        '"2026-11-03" or "2026-03-11".',
    );
    expect(recordWrites()).toBe(before);
  });
});

describe("update_records given a record without its id", () => {
  it("says that update_records changes records by id, and which tool makes or matches records instead", async () => {
    // Newcomer trial: zod's "records.0.id: Invalid input: expected string, received undefined".
    const before = recordWrites();
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [
        { id: "rec0123456789abcd", fields: { Name: "Acme" } },
        { fields: { Name: "Globex", "Deal size": 5 } },
        { fields: { Name: "Initech" } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      invalid("update_records") +
        'records[1], records[2] have no "id": update_records changes existing records, each named by its id, e.g. ' +
        '{ "id": "rec…", "fields": { "Name": …, "Deal size": … } } (ids from list_records or search_records). To ' +
        "make new records, use create_records; to match existing records on field values instead of ids, use " +
        "upsert_records with fieldsToMergeOn.",
    );
    expect(answer.text).not.toContain("expected string");
    expect(recordWrites()).toBe(before);
  });
});

describe("a record naming its id recordId (get_record's parameter)", () => {
  const recordId = "recB9AbCdEfGhIjKl";

  it("update_records: one sentence naming the record, the key it takes and the record rewritten", async () => {
    const before = recordWrites();
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ recordId, fields: { Name: "Lead" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      invalid("update_records") +
        `records[0] gives "recordId": a record of update_records names its record with "id", e.g. { "id": ` +
        `"${recordId}", "fields": { "Name": … } }`,
    );
    // Several records, other spellings: named together, once.
    const two = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [
        { fields: { Name: "ok" }, id: recordId },
        { record_id: recordId, fields: { Name: "x" } },
        { RecordID: recordId, fields: { Name: "y" } },
      ],
    });
    expect(two.text).toBe(
      invalid("update_records") +
        `records[1], records[2] give "record_id" or "RecordID": a record of update_records names its record with ` +
        `"id", e.g. { "id": "${recordId}", "fields": { "Name": … } }`,
    );
    expect(recordWrites()).toBe(before);
  });

  it("upsert_records says the id is optional; create_records where ids belong; unwrapped cells keep it as id", async () => {
    const upsert = await call("upsert_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      fieldsToMergeOn: ["Name"],
      records: [{ recordId, fields: { Name: "Lead" } }],
    });
    expect(upsert.text).toBe(
      invalid("upsert_records") +
        `records[0] gives "recordId": a record of upsert_records names the record to update with "id" (without ` +
        `one, it is matched on fieldsToMergeOn), e.g. { "id": "${recordId}", "fields": { "Name": … } }`,
    );
    const create = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ recordId, fields: { Name: "Lead" } }],
    });
    expect(create.text).toBe(
      invalid("create_records") +
        'records[0] gives "recordId": create_records always makes new records, and its records take only ' +
        '"fields"; to change existing ones by id, use update_records or upsert_records, whose records are ' +
        `{ "id": "${recordId}", "fields": { "Name": … } }`,
    );
    const unwrapped = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: [{ recordId, Name: "Lead" }],
    });
    expect(unwrapped.text).toBe(
      invalid("update_records") +
        'records[0] has no "fields": a record of update_records is { "id": "rec…", "fields": { … } }; records[0] ' +
        `gives { "recordId": …, "Name": … } — put the cells under "fields": { "id": "${recordId}", "fields": ` +
        '{ "Name": … } }.',
    );
  });
});

describe("records or recordIds given as one value, not a list", () => {
  it("update_records given one record, delete_records one id: a list even for one record", async () => {
    const before = recordWrites();
    const update = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      records: { id: "recB9AbCdEfGhIjKl", fields: { Name: "Lead" } },
    });
    expect(update.isError).toBe(true);
    expect(update.text).toBe(
      invalid("update_records") +
        'records takes a list of records, e.g. [{ "id": "recB9AbCdEfGhIjKl", "fields": { "Name": … } }] (a list ' +
        'even for one record; it was given {"id":"recB9AbCdEfGhIjKl","fields":{"Name":"Lead"}})',
    );
    const text = await call("delete_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      recordIds: "recB9AbCdEfGhIjKl",
    });
    expect(text.text).toBe(
      invalid("delete_records") +
        'recordIds takes a list of record ids, e.g. ["recB9AbCdEfGhIjKl"] (a list even for one record; it was given ' +
        'the text "recB9AbCdEfGhIjKl")',
    );
    // Records as a read gave them: the ids alone.
    const objects = await call("delete_records", {
      baseId: mcp.base.id,
      tableId: "Deals",
      recordIds: [{ id: "recB9AbCdEfGhIjKl", fields: {} }],
    });
    expect(objects.text).toBe(
      invalid("delete_records") +
        'recordIds takes a list of record ids, e.g. ["recB9AbCdEfGhIjKl"] (recordIds[0] is ' +
        '{"id":"recB9AbCdEfGhIjKl","fields":{}}, not a record id)',
    );
    expect(recordWrites()).toBe(before);
  });
});
