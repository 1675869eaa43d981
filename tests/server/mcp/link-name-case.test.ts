/**
 * A link cell naming a linked record by its primary value, matched ignoring case: Session 29's agent trial linked
 * "Website Relaunch" to the record "Website relaunch" without a word. Every answer about the write (its first one,
 * get_operation) now names each such name and the record it linked. Real MCP SDK client over HTTP, the sandbox.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Tracker",
  tables: [
    { name: "Projects", fields: [{ name: "Title", type: "singleLineText" }], records: [{ Title: "Website relaunch" }] },
    {
      name: "Tasks",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Project", type: "multipleRecordLinks", options: { linkedTableId: "Projects" } },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);

describe("link names matched ignoring case", () => {
  it("the write's answer and get_operation name the name, the record it linked and what to do", async () => {
    const project = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Projects")[0]!;
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { fields: { Name: "Design", Project: ["Website Relaunch"] } },
        { fields: { Name: "Copy", Project: ["Website relaunch"] } },
        { fields: { Name: "QA", Project: "WEBSITE RELAUNCH" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    const said =
      'Link names matched a linked record\'s primary value ignoring case: "Project" "Website Relaunch" → record ' +
      `${project.id} ("Website relaunch"); "Project" "WEBSITE RELAUNCH" → record ${project.id} ("Website relaunch"). ` +
      "If another record was meant, update the link with its record id (create that record first if it does not " +
      "exist).";
    expect(answer.data.message).toBe(`Done: 3 records written of 3. ${said}`);
    const polled = await call("get_operation", { operationId: answer.data.operationId });
    expect(polled.data.message).toBe(answer.data.message);
    const tasks = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks");
    expect(tasks.map((t) => t.fields.Project)).toEqual([[project.id], [project.id], [project.id]]);

    // Exact names only: nothing said. update_record(s) say it as create does.
    const exact = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      fields: { Name: "Launch", Project: ["Website relaunch"] },
    });
    expect(exact.data.message).toBe("Done: 1 record written of 1.");
    const update = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ id: tasks[0]!.id, fields: { Project: ["website relaunch"] } }],
    });
    expect(update.data.message).toContain(`"Project" "website relaunch" → record ${project.id} ("Website relaunch").`);
  });
});
