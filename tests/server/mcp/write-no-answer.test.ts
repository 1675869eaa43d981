/**
 * A write call that got no answer at all (the connection dropped, the client timed out, the server was killed and
 * restarted) may still be running: its operation is durable and resumes. A newcomer trial's agent re-sent such a
 * create_records of 200 records and the table ended with every record twice. What the agent reads, through the
 * real MCP SDK client over HTTP against the sandbox:
 * - the server's instructions and every write tool's description tell it to look for the call in list_operations
 *   (newest first) before sending it again;
 * - list_operations' answer carries what recognises the call: kind, baseId, the table's id (also when the call
 *   named the table), progress.recordsTotal (its record count) and createdAt, and its output schema says so.
 */
import { describe, expect, it } from "vitest";
import { writeTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "No answer",
  tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
});

describe("a write call that got no answer", () => {
  it("the instructions say to look for it with list_operations before sending it again", () => {
    const instructions = mcp.client.getInstructions() ?? "";
    expect(instructions).toContain(
      "- A write call that got no answer at all (the connection was lost, the call timed out, the server restarted) may still be running",
    );
    expect(instructions).toMatch(
      /Before sending it again, call list_operations \(newest first\) and look for it: same kind, baseId, tableId, progress\.recordsTotal \(its record count\) and a createdAt from when you sent it\./,
    );
  });

  it("every write tool's description says so too (not delete_records: a delete sent twice ends the same)", async () => {
    const { tools } = await mcp.client.listTools();
    expect(writeTools.length).toBeGreaterThan(5);
    const note =
      "A call that got no answer at all (connection lost, timeout, server restart) may still be running: look for it with list_operations (newest first) before calling again.";
    for (const tool of writeTools) {
      const listed = tools.find((t) => t.name === tool.name);
      if (tool.name === "delete_records") expect(listed?.description, tool.name).not.toContain(note);
      else expect(listed?.description, tool.name).toContain(note);
    }
    const listOperations = tools.find((t) => t.name === "list_operations");
    expect(listOperations?.description).toMatch(/a write call that got no answer may still be running/);
    const item = (
      listOperations?.outputSchema?.properties?.operations as {
        items: { properties: Record<string, { description?: string }> };
      }
    ).items.properties;
    expect(item.kind?.description).toMatch(/create_record, which is listed as create_records/);
    expect(item.tableId?.description).toMatch(/table's id/);
    expect(item.progress?.description).toMatch(/recordsTotal is the number of items the call carried/);
    expect(item.createdAt?.description).toMatch(/When the operation was queued/);
  });

  it("list_operations answers what recognises it: kind, baseId, table id, record count and created time", async () => {
    const sentAt = Date.now();
    const records = Array.from({ length: 12 }, (_, i) => ({ fields: { Name: `r${i}` } }));
    const created = await callToolAnswer(mcp.client, "create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records,
    });
    expect(created.isError).toBe(false);
    const single = await callToolAnswer(mcp.client, "create_record", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      fields: { Name: "one" },
    });
    expect(single.isError).toBe(false);

    const listed = await callToolAnswer(mcp.client, "list_operations", { limit: 5 });
    const [newest, earlier] = listed.data.operations as Record<string, unknown>[];
    const table = mcp.base.tables[0]?.id;
    expect(newest).toMatchObject({
      operationId: single.data.operationId,
      kind: "create_records",
      baseId: mcp.base.id,
      tableId: table,
      progress: { recordsTotal: 1 },
    });
    expect(earlier).toMatchObject({
      operationId: created.data.operationId,
      kind: "create_records",
      baseId: mcp.base.id,
      tableId: table,
      progress: { recordsTotal: 12 },
    });
    const createdAt = Date.parse(String(earlier?.createdAt));
    expect(createdAt).toBeGreaterThanOrEqual(sentAt - 1_000);
    expect(createdAt).toBeLessThanOrEqual(Date.now());
  });
});
