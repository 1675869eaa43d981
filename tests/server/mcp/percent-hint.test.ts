/**
 * Airtable's percent fields store a fraction (0.5 is 50 %): an agent writing `"Win probability": 50` (meant as
 * 50 %) gets 5,000 % stored, legally and without a word. Since session 21 the `fields` argument of every record
 * write tool opens with it, and since session 23 the write's answer notes it too (percent-note.test.ts). Through the real MCP SDK client over HTTP against the sandbox: tools/list as an agent
 * reads it, and a write of 50 to a percent field, which stays legal (accepted and stored as 50).
 */
import { describe, expect, it } from "vitest";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Percent hint",
  tables: [
    {
      name: "Deals",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Win probability", type: "percent", options: { precision: 0 } },
      ],
    },
  ],
});

/** The description of `fields` (or of `records[].fields`) in a tool's listed inputSchema. */
function fieldsDescription(inputSchema: Record<string, unknown>): string | undefined {
  const props = inputSchema.properties as Record<string, Record<string, unknown>>;
  const direct = props.fields;
  if (direct !== undefined) return direct.description as string | undefined;
  const items = (props.records?.items ?? {}) as { properties?: Record<string, { description?: string }> };
  return items.properties?.fields?.description;
}

describe("percent fields in the record write tools' schema", () => {
  it("opens the description of fields with the fraction rule and what 50 becomes", async () => {
    const { tools } = await mcp.client.listTools();
    for (const name of ["create_record", "create_records", "update_records", "upsert_records"]) {
      const tool = tools.find((t) => t.name === name);
      expect(tool, name).toBeDefined();
      expect(fieldsDescription(tool!.inputSchema as Record<string, unknown>), name).toMatch(
        /^Percent fields take a fraction: 0\.5 is 50% \(50 is stored as 5,000%, silently\)\. /,
      );
    }
  });

  it("still accepts a percent over 100 % (legal on Airtable): 50 is written as 50", async () => {
    const table = mcp.base.tables[0]!;
    const answer = await mcp.client.callTool({
      name: "create_record",
      arguments: { baseId: mcp.base.id, tableId: table.id, fields: { Name: "Big deal", "Win probability": 50 } },
    });
    expect(answer.isError ?? false).toBe(false);
    const stored = mcp.h.sandbox.listRecordsDirect(mcp.base.id, table.id).find((r) => r.fields.Name === "Big deal");
    expect(stored?.fields["Win probability"]).toBe(50);
  });
});
