/**
 * Views and people, end to end over MCP against the sandbox:
 * - list_records with `view` returns only that view's records, in its order (Airtable's list records: "If set,
 *   only the records in that view will be returned. The records will be sorted according to the order of the view
 *   unless the sort parameter is included").
 * - get_record reads a createdBy cell (`{id, email, name}`) and an aiText cell (`{state, value, isStale}`) as
 *   Airtable returns them, and search_records finds records by their creator's name (a person reads as their name
 *   in a formula).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../../src/sandbox/index.ts";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness, type ToolAnswer } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
let base: BaseInfo;
let creator: { id: string; email: string; name: string };
let creatorRecordIds: string[];

beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
  base = h.sandbox.createBase(h.demo.user.id, {
    name: "Views and people",
    tables: [
      {
        name: "Ideas",
        fields: [
          { name: "Title", type: "singleLineText" },
          { name: "Votes", type: "number", options: { precision: 0 } },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Open" }, { name: "Shipped" }] } },
          { name: "Author", type: "createdBy" },
          { name: "Pitch", type: "aiText", options: { prompt: ["Pitch ", { field: { fieldId: "Title" } }] } },
        ],
        views: [{ name: "Top open", filter: '{Status} = "Open"', sort: [{ field: "Votes", direction: "desc" }] }],
        records: [
          { Title: "Dark mode", Votes: 3, Status: "Open", Pitch: "Easy on the eyes at night." },
          { Title: "Export to CSV", Votes: 9, Status: "Shipped" },
          { Title: "Offline sync", Votes: 7, Status: "Open" },
          { Title: "Keyboard shortcuts", Votes: 5, Status: "Open" },
        ],
      },
    ],
  });
  // A second person adds ideas through the API (their own token), so the table has two creators.
  creator = h.sandbox.addUser({ email: "zoe@example.com", name: "Zoe Quill" });
  h.sandbox.grantAccess(base.id, creator.id, "edit");
  const token = h.sandbox.createPersonalAccessToken(creator.id);
  const res = await fetch(`${h.sandbox.url}/v0/${base.id}/Ideas`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      records: [
        { fields: { Title: "Calendar view", Votes: 4, Status: "Open" } },
        { fields: { Title: "Audit log", Votes: 1, Status: "Shipped" } },
      ],
    }),
  });
  expect(res.status).toBe(200);
  creatorRecordIds = ((await res.json()) as { records: { id: string }[] }).records.map((r) => r.id);
});
afterAll(async () => {
  await h?.close();
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);

type Rec = { id: string; fields: Record<string, unknown> };
const titles = (answer: ToolAnswer): unknown[] => (answer.data.records as Rec[]).map((r) => r.fields.Title);

describe("list_records with a view", () => {
  it("returns only the view's records, in the view's order", async () => {
    const viewed = await call("list_records", { baseId: base.id, tableId: "Ideas", view: "Top open" });
    expect(viewed.isError, viewed.text).toBe(false);
    expect(titles(viewed)).toEqual(["Offline sync", "Keyboard shortcuts", "Calendar view", "Dark mode"]);

    // Without the view: every record, in creation order.
    const all = await call("list_records", { baseId: base.id, tableId: "Ideas" });
    expect(titles(all)).toHaveLength(6);
  });
});

describe("createdBy and aiText over MCP", () => {
  it("get_record shows who created a record and its AI text; search_records finds records by creator name", async () => {
    const owner = h.demo.user;
    const dark = await call("list_records", {
      baseId: base.id,
      tableId: "Ideas",
      filterByFormula: '{Title} = "Dark mode"',
    });
    const darkId = (dark.data.records as Rec[])[0]?.id as string;
    const got = await call("get_record", { baseId: base.id, tableId: "Ideas", recordId: darkId });
    expect(got.isError, got.text).toBe(false);
    const { fields } = got.data.record as Rec;
    expect(fields.Author).toEqual({ id: owner.id, email: owner.email, name: owner.name });
    expect(fields.Pitch).toEqual({ state: "generated", isStale: false, value: "Easy on the eyes at night." });

    const theirs = await call("get_record", { baseId: base.id, tableId: "Ideas", recordId: creatorRecordIds[0] });
    const theirFields = (theirs.data.record as Rec).fields;
    expect(theirFields.Author).toEqual({ id: creator.id, email: creator.email, name: creator.name });

    const found = await call("search_records", { baseId: base.id, tableId: "Ideas", searchTerm: "quill" });
    expect(found.isError, found.text).toBe(false);
    expect((found.data.records as Rec[]).map((r) => r.id).sort()).toEqual([...creatorRecordIds].sort());
    const searched = (found.data.searchedFields as { name: string }[]).map((f) => f.name);
    expect(searched).toContain("Author");
    // AI text is searched as the text the user sees.
    const byPitch = await call("search_records", { baseId: base.id, tableId: "Ideas", searchTerm: "eyes at night" });
    expect(byPitch.isError, byPitch.text).toBe(false);
    expect((byPitch.data.records as Rec[]).map((r) => r.id)).toEqual([darkId]);
    // AI text is read-only (Airtable's field model): a write to it is refused before anything is queued.
    const write = await call("update_records", {
      baseId: base.id,
      tableId: "Ideas",
      records: [{ id: darkId, fields: { Pitch: "Better" } }],
    });
    expect(write.isError).toBe(true);
    expect(write.text).toContain("cannot be written: its type, aiText, is computed by Airtable");
  });
});
