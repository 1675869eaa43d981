/**
 * upsert_records refused because a record matches several existing records on its fieldsToMergeOn values (422
 * INVALID_RECORDS "More than one existing record matches the fieldsToMergeOn values of a record in the request"),
 * through the real MCP SDK client over HTTP against the sandbox. Airtable's message names neither the record nor the
 * matches (a newcomer trial got only that sentence); the answer now names the record, the existing records it
 * matches (one list-records request after the refusal) and the fix. The other records of the request, which nothing
 * was said against, are sent again without it and written (session 29: they were left "not written, send them again
 * as they are", one more call for the agent; processor.ts #resendWithoutCulprits).
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
  it("names the record, the records it matches and the fix; the others of its request are sent again and written", async () => {
    const dups = people()
      .filter((r) => r.fields.Email === "dup@example.com")
      .map((r) => r.id);
    expect(dups).toHaveLength(2);
    const answer = await upsert({
      fieldsToMergeOn: ["Email"],
      records: [
        { fields: { Email: "solo@example.com", Note: "changed" } },
        { fields: { Email: "dup@example.com", Note: "changed" } },
        { fields: { Email: "new@example.com", Note: "new" } },
      ],
    });
    expect(answer.status).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 2, recordsFailed: 1 });
    expect(answer.progress.recordsNotWritten).toBeUndefined();
    expect(answer.results?.[1]).toEqual({
      index: 1,
      error: {
        type: "INVALID_RECORDS",
        message:
          "More than one existing record matches the fieldsToMergeOn values of a record in the request. This " +
          `record's fieldsToMergeOn values ("Email": "dup@example.com") match 2 existing records: ${dups.join(", ")}. ` +
          `${fix} Airtable refused records 0–2 (one request, refused as a whole) for this record: the 2 other ` +
          "records were sent again without it (their results say whether they were written).",
      },
    });
    const solo = people().find((r) => r.fields.Email === "solo@example.com")!;
    expect(answer.results?.[0]).toEqual({ index: 0, id: solo.id, action: "updated" });
    expect(answer.results?.[2]).toEqual({ index: 2, id: expect.stringMatching(/^rec/), action: "created" });
    expect(solo.fields.Note).toBe("changed");
    expect(people().find((r) => r.fields.Email === "new@example.com")?.fields.Note).toBe("new");
    // The duplicates are as they were.
    expect(
      people()
        .filter((r) => r.fields.Email === "dup@example.com")
        .map((r) => r.fields.Note),
    ).toEqual(["first", "second"]);

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

  it("an import of two batches: only the record matching several is not written; every other one is", async () => {
    const records = Array.from({ length: 12 }, (_, i) => ({
      fields: { Email: i === 3 ? "dup@example.com" : `bulk${i}@example.com`, Note: "bulk" },
    }));
    const answer = await upsert({ fieldsToMergeOn: ["Email"], records });
    expect(answer.status).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 11, recordsFailed: 1, batchesDone: 2 });
    expect(answer.results?.filter((r) => r.error !== undefined).map((r) => r.index)).toEqual([3]);
    expect(answer.results?.[3]?.error?.message).toContain(
      "Airtable refused records 0–9 (one request, refused as a whole) for this record: the 9 other records were sent " +
        "again without it (their results say whether they were written).",
    );
    expect(people().filter((r) => r.fields.Note === "bulk")).toHaveLength(11);
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
