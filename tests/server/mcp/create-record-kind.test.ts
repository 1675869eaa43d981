/**
 * create_record's answer says `kind: "create_records"` (Session 29's agent trial: is that the tool it called?). The
 * kind is the operation's — one per Airtable write endpoint, stored in operation logs and named after its list tool
 * (README "Adding a write kind": never renamed) — so it stays, and the answer's output schema, which clients read in
 * tools/list, says create_record's operation is create_records, of one record. Real MCP SDK client over HTTP.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Kinds",
  tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
});

describe("create_record's answer kind", () => {
  it("is create_records, and the output schema in tools/list says why", async () => {
    const { tools } = await mcp.client.listTools();
    for (const name of ["create_record", "create_records", "get_operation"]) {
      const schema = tools.find((t) => t.name === name)?.outputSchema as
        { properties?: Record<string, { description?: string }> } | undefined;
      expect(schema?.properties?.kind?.description, name).toBe(
        "The operation's kind: the write tool's name, except create_record's, which is create_records (an " +
          "operation of one record, as get_operation and list_operations name it).",
      );
    }
    const answer = await callToolAnswer(mcp.client, "create_record", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      fields: { Name: "One" },
    });
    expect(answer.isError, answer.text).toBe(false);
    expect(answer.data).toMatchObject({ kind: "create_records", status: "completed" });
    expect(answer.data.message).toBe("Done: 1 record written of 1.");
  });
});
