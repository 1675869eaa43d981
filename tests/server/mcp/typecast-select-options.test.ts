/**
 * A record write whose typecast adds select options changes the base's schema ("If typecast is enabled, a new choice
 * will be created if one does not exactly match", https://airtable.com/developers/web/api/field-model, Single
 * select), and describe_table, which the agent is told lists a field's options, shows the new ones right after the
 * write — not the cached schema of up to 60 s before. A write naming only existing options leaves the cache alone
 * (no extra schema request). Real MCP client over HTTP, the sandbox, writes on the embedded runner.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../../src/sandbox/index.ts";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);

function tasksBase(name: string): BaseInfo {
  return h.sandbox.createBase(h.demo.user.id, {
    name,
    tables: [
      {
        name: "Tasks",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Todo" }, { name: "Done" }] } },
          { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "urgent" }] } },
        ],
      },
    ],
  });
}

/** The option names describe_table lists for `field`. */
async function listedOptions(baseId: string, field: string): Promise<string[]> {
  const answer = await call("describe_table", { baseId, tableId: "Tasks" });
  expect(answer.isError, answer.text).toBe(false);
  const table = answer.data.table as { fields: { name: string; options?: { choices?: { name: string }[] } }[] };
  return (table.fields.find((f) => f.name === field)?.options?.choices ?? []).map((c) => c.name);
}

/** Base schema requests (GET …/meta/bases/{baseId}/tables) the sandbox has answered for `baseId`. */
const schemaReads = (baseId: string) =>
  h.sandbox.requests.filter((r) => r.method === "GET" && r.path.includes(`/meta/bases/${baseId}/tables`)).length;

describe("select options a typecast write adds", () => {
  it("describe_table lists them right after the write (create, update and upsert)", async () => {
    const base = tasksBase("Typecast options");
    // The agent looks first: the schema is now cached.
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);

    const created = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "a", Status: "Blocked" },
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "Blocked"]);

    const id = (created.data.results as { id: string }[])[0]!.id;
    const updated = await call("update_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ id, fields: { Tags: "urgent, later" } }],
    });
    expect(updated.data.status, updated.text).toBe("completed");
    expect(await listedOptions(base.id, "Tags")).toEqual(["urgent", "later"]);

    const upserted = await call("upsert_records", {
      baseId: base.id,
      tableId: "Tasks",
      fieldsToMergeOn: ["Name"],
      records: [{ fields: { Name: "b", Status: "Waiting" } }],
    });
    expect(upserted.data.status, upserted.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "Blocked", "Waiting"]);
  });

  it("a number or boolean typecast turns into a new option is listed too", async () => {
    const base = tasksBase("Typecast number options");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "n", Status: 3, Tags: [true] } }],
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "3"]);
    expect(await listedOptions(base.id, "Tags")).toEqual(["urgent", "true"]);
  });

  it("a write naming only existing options leaves the cached schema alone", async () => {
    const base = tasksBase("Existing options");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    const before = schemaReads(base.id);
    expect(before).toBeGreaterThan(0);
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `t${i}`, Status: "Done", Tags: ["urgent"] } })),
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    expect(schemaReads(base.id)).toBe(before);
  });
});
