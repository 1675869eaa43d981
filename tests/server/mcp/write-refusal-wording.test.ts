/**
 * What an agent reads when a record write is refused for its shape or its values, through the real MCP client over
 * HTTP against the sandbox: cells given without their "fields" wrapper (the commonest shape mistake) are named as
 * such, with the index and the record rewritten, instead of zod's "expected record, received undefined"; a value of
 * the wrong type without typecast gets an example worded as one ("a number such as 42") and, where typecast would
 * convert it, says so. Nothing is queued in either case.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../../src/sandbox/index.ts";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
let base: BaseInfo;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
  base = h.sandbox.createBase(h.demo.user.id, {
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
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);

/** Record writes the sandbox has been sent for the test base. */
const recordWrites = () =>
  h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${base.id}/`)).length;

const invalid = (tool: string) => `Input validation error: Invalid arguments for tool ${tool}: `;

describe("records given without their fields wrapper", () => {
  it("create_records: names the record, the shape and the fix, in one sentence", async () => {
    const answer = await call("create_records", { baseId: base.id, tableId: "Deals", records: [{ Name: "X" }] });
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
      baseId: base.id,
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
      baseId: base.id,
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
      baseId: base.id,
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
      baseId: base.id,
      tableId: "Deals",
      records: [{ id: "rec0123456789abcd", Name: "X" }],
    });
    expect(withId.text).toContain('put the cells under "fields": { "fields": { "Name": … } }.');
    expect(withId.text).toContain(
      "create_records always makes new records: to change existing ones by id, use update_records or upsert_records.",
    );
    const onlyId = await call("update_records", {
      baseId: base.id,
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
    await call("create_records", { baseId: base.id, tableId: "Deals", records: [{ Name: "X" }] });
    expect(recordWrites()).toBe(before);
    const ok = await call("create_records", {
      baseId: base.id,
      tableId: "Deals",
      records: [{ fields: { Name: "X" } }],
    });
    expect(ok.data.status, ok.text).toBe("completed");
    expect(recordWrites()).toBe(before + 1);
  });
});

describe("a value of the wrong type with typecast: false", () => {
  it("gives an example worded as one, and says when typecast: true would let Airtable convert the value", async () => {
    const before = recordWrites();
    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Deals",
      typecast: false,
      records: [{ fields: { Name: "Acme", "Deal size": "1,500", Due: "14/03/2026" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      "2 values cannot be written as given (2 fields); nothing was queued. Fix them all, then call again:\n" +
        '- records[0].fields: "Deal size" is a number field: give a number such as 42, not "1,500", or pass ' +
        'typecast: true to let Airtable convert "1,500".\n' +
        '- records[0].fields: "Due" is a date field: give a date as YYYY-MM-DD, such as "2026-03-14", not ' +
        '"14/03/2026", or pass typecast: true to let Airtable try to read "14/03/2026".',
    );
    expect(recordWrites()).toBe(before);

    // Text with no digit in it would not convert: no such hint.
    const words = await call("create_records", {
      baseId: base.id,
      tableId: "Deals",
      typecast: false,
      records: [{ fields: { "Deal size": "lots" } }],
    });
    expect(words.text).toBe('records[0].fields: "Deal size" is a number field: give a number such as 42, not "lots".');

    // As the message says, typecast: true lets Airtable convert it.
    const converted = await call("create_records", {
      baseId: base.id,
      tableId: "Deals",
      typecast: true,
      records: [{ fields: { Name: "Acme", "Deal size": "1,500" } }],
    });
    expect(converted.data.status, converted.text).toBe("completed");
    const id = (converted.data.results as { id: string }[])[0]!.id;
    const record = await call("get_record", { baseId: base.id, tableId: "Deals", recordId: id });
    expect((record.data.record as { fields: Record<string, unknown> }).fields["Deal size"]).toBe(1500);
  });
});
