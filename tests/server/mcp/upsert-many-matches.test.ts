/**
 * upsert_records refused because a record matches several existing records on its fieldsToMergeOn values (422
 * INVALID_RECORDS "More than one existing record matches the fieldsToMergeOn values of a record in the request"),
 * through the real MCP SDK client over HTTP against the sandbox. Airtable's message names neither the record nor the
 * matches (a newcomer trial got only that sentence); the answer now names the record, the existing records it
 * matches (one list-records request after the refusal) and the fix, and the other records of the request are not
 * written because of it rather than failed.
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Upserts",
  tables: [
    {
      name: "People",
      fields: [
        { name: "Email", type: "email" },
        { name: "Note", type: "singleLineText" },
        {
          name: "Tags",
          type: "multipleSelects",
          options: { choices: [{ name: "a" }, { name: "b" }] },
        },
      ],
      records: [
        { Email: "dup@example.com", Note: "first", Tags: ["a"] },
        { Email: "dup@example.com", Note: "second", Tags: ["a"] },
        { Email: "solo@example.com", Note: "only" },
      ],
    },
  ],
});

async function upsert(args: Record<string, unknown>): Promise<OperationResultOutput> {
  const result = await mcp.client.callTool({
    name: "upsert_records",
    arguments: { baseId: mcp.base.id, tableId: "People", ...args },
  });
  expect(result.isError, JSON.stringify(result.content)).not.toBe(true);
  const answer = result.structuredContent as OperationResultOutput;
  expect(answer.done).toBe(true);
  return answer;
}

const people = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "People");
const fix =
  'Each record without an id must match at most one existing record on its fieldsToMergeOn values ("Email"): give ' +
  "the record's id to update that one record (upsert_records then ignores fieldsToMergeOn for it), or merge on a " +
  "field whose values are unique in the table, or remove the duplicates (search_records finds them; delete_records " +
  "removes them), then call again.";

describe("an upsert record matching several existing records", () => {
  it("names the record, the records it matches and the fix; the others of its request are not written", async () => {
    const dups = people()
      .filter((r) => r.fields.Email === "dup@example.com")
      .map((r) => r.id);
    expect(dups).toHaveLength(2);
    const before = people().map((r) => r.fields.Note);
    const answer = await upsert({
      fieldsToMergeOn: ["Email"],
      records: [
        { fields: { Email: "solo@example.com", Note: "changed" } },
        { fields: { Email: "dup@example.com", Note: "changed" } },
        { fields: { Email: "new@example.com", Note: "new" } },
      ],
    });
    expect(answer.status).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsFailed: 1, recordsNotWritten: 2 });
    expect(answer.results?.[1]).toEqual({
      index: 1,
      error: {
        type: "INVALID_RECORDS",
        message:
          "More than one existing record matches the fieldsToMergeOn values of a record in the request. This " +
          `record's fieldsToMergeOn values ("Email": "dup@example.com") match 2 existing records: ${dups.join(", ")}. ` +
          `${fix} Airtable refused records 0–2 (one request, refused as a whole) for this record: the 2 other ` +
          "records were not written, and can be sent again as they are.",
      },
    });
    for (const i of [0, 2]) {
      expect(answer.results?.[i]).toMatchObject({ index: i, notWritten: true });
      expect(answer.results?.[i]?.reason).toContain("because of record 1 (its error says why)");
    }
    expect(people().map((r) => r.fields.Note)).toEqual(before);

    // Alone in its request: the same error, without the note about others.
    const alone = await upsert({
      fieldsToMergeOn: ["Email"],
      records: [{ fields: { Email: "dup@example.com", Note: "changed" } }],
    });
    expect(alone.results?.[0]?.error?.message).toBe(
      "More than one existing record matches the fieldsToMergeOn values of a record in the request. This record's " +
        `fieldsToMergeOn values ("Email": "dup@example.com") match 2 existing records: ${dups.join(", ")}. ${fix}`,
    );
  });

  it("when the matches cannot be read (a merge value a formula cannot compare), says the fix without ids", async () => {
    const requestsBefore = mcp.h.sandbox.requests.length;
    const answer = await upsert({ fieldsToMergeOn: ["Tags"], records: [{ fields: { Tags: ["a"], Note: "x" } }] });
    expect(answer.results?.[0]?.error?.message).toBe(
      "More than one existing record matches the fieldsToMergeOn values of a record in the request. " +
        fix.replace('("Email")', '("Tags")'),
    );
    // No read was sent for it: only the refused write.
    const sent = mcp.h.sandbox.requests.slice(requestsBefore).filter((r) => r.path.startsWith(`/v0/${mcp.base.id}/`));
    expect(sent.map((r) => r.method)).toEqual(["PATCH"]);
  });
});
