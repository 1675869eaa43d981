/**
 * An update naming a record id its table does not have, through the real MCP SDK client over HTTP (embedded runner,
 * the sandbox, real Redis). Session 29's agent trial gave update_records a record id read from another table of the
 * base: the operation failed in the queue saying only "deleted, or an id from another table" and naming the table by
 * id, where get_record names the table a record belongs to. The item's error now names the table by name and id and,
 * the id looked up in the base (Airtable's get-record answers a record of any table), the table holding it, with the
 * tableId to call again with, or that no table of the base has it.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Tracker",
  tables: [
    { name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Write spec" }] },
    {
      name: "Projects",
      fields: [
        { name: "Title", type: "singleLineText" },
        { name: "Budget", type: "number", options: { precision: 0 } },
      ],
      records: [{ Title: "Website relaunch", Budget: 100 }],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const tableId = (name: string) => mcp.base.tables.find((t) => t.name === name)!.id;

interface Result {
  index: number;
  id?: string;
  error?: { type: string; message: string };
}

describe("an update naming a record of another table, or of none", () => {
  it("the first answer and get_operation name the id, the table by name and id, and the table it belongs to", async () => {
    const project = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Projects")[0]!;
    const [tasks, projects] = [tableId("Tasks"), tableId("Projects")];
    const missing = "recAAAAAAAAAAAAAA";
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [
        { id: project.id, fields: { Name: "Renamed" } },
        { id: missing, fields: { Name: "x" } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ status: "completed_with_errors", done: true });
    // Airtable's 422 for an update naming a record the table lacks names the first such id of the request
    // (src/sandbox/errors.ts recordNotInTable); both records were refused with that request, and each one's error
    // names the other (the read settling them found both: missing-records.ts missingInRequest).
    const quoted = (other: string) =>
      `(Airtable refused the request carrying it and record ${other}, also missing, with 422 ROW_DOES_NOT_EXIST, ` +
      `naming only the first missing record: Record ID ${project.id} does not exist in this table.)`;
    const expected: Result[] = [
      {
        index: 0,
        error: {
          type: "ROW_DOES_NOT_EXIST",
          message:
            `Record ${project.id} is not in table "Tasks" (${tasks}): it is a record of table "Projects" ` +
            `(${projects}) (record ids belong to one table). To update it there, call update_records again with ` +
            `tableId "${projects}"; to update a record of "Tasks", find its id with list_records or search_records ` +
            `in that table. ${quoted(missing)}`,
        },
      },
      {
        index: 1,
        error: {
          type: "ROW_DOES_NOT_EXIST",
          message:
            `Record ${missing} does not exist in table "Tasks" (${tasks}), nor in any other table of the base: it ` +
            "was deleted, the id is mistyped, or it is a record of another base (a record is written through its " +
            "own base's baseId). Find the record with list_records or search_records in this table and call again " +
            `with its id. ${quoted(project.id)}`,
        },
      },
    ];
    expect(answer.data.results).toEqual(expected);
    const polled = await call("get_operation", { operationId: answer.data.operationId });
    expect(polled.data.results).toEqual(expected);
    expect(project.fields.Title).toBe("Website relaunch");

    // Doing as told writes the record in its own table.
    const there = await call("update_records", {
      baseId: mcp.base.id,
      tableId: projects,
      records: [{ id: project.id, fields: { Budget: 250 } }],
    });
    expect(there.data).toMatchObject({ status: "completed" });
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Projects")[0]!.fields.Budget).toBe(250);
  });

  it("a request of one record (refused outright, not settled by a read) says the same", async () => {
    const project = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Projects")[0]!;
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ id: project.id, fields: { Name: "Renamed" } }],
    });
    const results = answer.data.results as Result[];
    expect(results[0]?.error?.message).toContain(
      `Record ${project.id} is not in table "Tasks" (${tableId("Tasks")}): it is a record of table "Projects" ` +
        `(${tableId("Projects")})`,
    );
    // onError stop, with a record of this table beside it: refused as a whole because of the stray id (Airtable's
    // 422 names it), whose error says where it is.
    const task = mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks")[0]!;
    const stopped = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      onError: "stop",
      records: [
        { id: task.id, fields: { Name: "not written" } },
        { id: project.id, fields: { Name: "Renamed" } },
      ],
    });
    expect(stopped.data.message).toContain("refused as a whole) because of record 1 (see its error)");
    expect((stopped.data.results as Result[])[1]?.error?.message).toContain(
      `Record ${project.id} is not in table "Tasks" (${tableId("Tasks")}): it is a record of table "Projects"`,
    );
    expect(mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks")[0]!.fields.Name).toBe("Write spec");
  });
});
