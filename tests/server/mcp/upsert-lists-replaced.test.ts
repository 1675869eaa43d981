/**
 * upsert_records on list cells without addToLists, through the real MCP SDK client over HTTP against the sandbox.
 * Airtable sets a list cell (links, multiple selects, attachments, collaborators) to exactly the list given, and
 * upsert_records keeps that by default; a trial (Session 29) upserting a task on its title with one owner was answered
 * "Done: 2 records written of 2." while the task lost its two other owners. The answer now names the list fields and
 * the updated records, and how to add instead (src/shared/operations/list-replacements.ts); created records, and
 * addToLists: true, add no such sentence.
 */
import { describe, expect, it } from "vitest";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Tracker",
  tables: [
    {
      name: "People",
      fields: [{ name: "Name", type: "singleLineText" }],
      records: [{ Name: "Ada" }, { Name: "Ben" }, { Name: "Grace" }],
    },
    {
      name: "Tasks",
      typecast: true,
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Owner", type: "multipleRecordLinks", options: { linkedTableId: "People" } },
        { name: "Labels", type: "multipleSelects", options: { choices: [{ name: "urgent" }, { name: "ops" }] } },
        { name: "Hours", type: "number", options: { precision: 1 } },
      ],
      records: [
        { Title: "Export data", Owner: "Ben, Grace", Labels: ["ops"] },
        { Title: "Write copy", Owner: "Ada" },
      ],
    },
  ],
});

/** A record's cells as the sandbox holds them (no request through the server). */
function cells(table: string, name: string): { id: string; fields: Record<string, unknown> } {
  const record = mcp.h.sandbox.listRecordsDirect(mcp.base.id, table).find((r) => r.fields.Title === name);
  if (record === undefined) throw new Error(`no ${name} in ${table}`);
  return record;
}

const upsert = async (args: Record<string, unknown>) => {
  const result = await mcp.client.callTool({
    name: "upsert_records",
    arguments: { baseId: mcp.base.id, tableId: "Tasks", fieldsToMergeOn: ["Title"], ...args },
  });
  const first = (result.content as { type: string; text?: string }[])[0];
  expect(result.isError, first?.text).not.toBe(true);
  return result.structuredContent as OperationResultOutput;
};

/** The sentence naming the list cells an upsert set (`named`: the fields and records), as list-replacements.ts words it. */
const REPLACED = (named: string) =>
  `List cells of the records this upsert updated were set to exactly the lists given, not added to: ${named}. An ` +
  "item such a cell held that its list lacks is no longer in it (nothing was read first, so which, if any, is not " +
  "known). To add to a cell instead, upsert again with addToLists: true and the items to add (get_record shows what " +
  "a record holds now).";

describe("upsert_records without addToLists", () => {
  it("names the list cells it replaced in the records it updated, and how to add instead", async () => {
    const answer = await upsert({
      records: [
        { fields: { Title: "Export data", Owner: ["Ada"], Hours: 2 } },
        { fields: { Title: "New task", Owner: ["Ben"], Labels: ["urgent"] } },
      ],
    });
    expect(answer.results).toEqual([
      { index: 0, id: cells("Tasks", "Export data").id, action: "updated" },
      { index: 1, id: expect.stringMatching(/^rec/), action: "created" },
    ]);
    // As Airtable does: the owners it held are gone (the default is unchanged).
    expect(cells("Tasks", "Export data").fields.Owner).toHaveLength(1);
    expect(answer.message).toBe(`Done: 2 records written of 2. ${REPLACED('"Owner" (results index 0)')}`);
    const polled = await mcp.client.callTool({ name: "get_operation", arguments: { operationId: answer.operationId } });
    expect((polled.structuredContent as OperationResultOutput).message).toBe(answer.message);
  });

  it("says nothing when it only created records, set no list, or was given addToLists: true", async () => {
    const created = await upsert({ records: [{ fields: { Title: "Another", Owner: ["Ada"] } }] });
    expect(created.message).toBe("Done: 1 record written of 1.");
    const noList = await upsert({ records: [{ fields: { Title: "Write copy", Hours: 1 } }] });
    expect(noList.message).toBe("Done: 1 record written of 1.");
    const added = await upsert({
      addToLists: true,
      records: [{ fields: { Title: "Write copy", Owner: ["Ben"] } }],
    });
    expect(added.message).toBe("Done: 1 record written of 1.");
    expect(cells("Tasks", "Write copy").fields.Owner).toHaveLength(2);
  });

  it("does not say items were removed when the lists given hold every item the cells held", async () => {
    // "Export data" holds the label "ops" (and, after the first case, one owner): given "ops" and one more, the
    // cell loses nothing, and the answer must not say it removed anything (h-left32: it said "removing the items").
    const answer = await upsert({ records: [{ fields: { Title: "Export data", Labels: ["ops", "urgent"] } }] });
    expect(cells("Tasks", "Export data").fields.Labels).toEqual(["ops", "urgent"]);
    expect(answer.message).not.toContain("removing");
    expect(answer.message).toBe(`Done: 1 record written of 1. ${REPLACED('"Labels" (results index 0)')}`);
  });
});
