import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIG_RECORDS, HOSTILE_TERM, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
beforeAll(async () => {
  h = await startMcpHarness();
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

interface ToolAnswer {
  isError: boolean;
  text: string;
  data: Record<string, unknown>;
}

async function call(name: string, args: Record<string, unknown>, via: Client = client): Promise<ToolAnswer> {
  const result = await via.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  const text = content[0]?.text ?? "";
  const data = (result.structuredContent ?? {}) as Record<string, unknown>;
  if (result.isError !== true) expect(JSON.parse(text)).toEqual(data); // the same JSON as text
  return { isError: result.isError === true, text, data };
}

type Rec = { id: string; fields: Record<string, unknown> };

describe("read tools, end to end over MCP", () => {
  it("list_bases lists the user's bases", async () => {
    const { data } = await call("list_bases", {});
    const bases = data.bases as { id: string; name: string; permissionLevel: string }[];
    expect(bases.map((b) => b.name).sort()).toEqual(["Demo CRM", "Fixtures"]);
    expect(bases[0]?.permissionLevel).toBeTruthy();
  });

  it("list_tables honours detailLevel", async () => {
    const ids = await call("list_tables", { baseId: h.demo.base.id, detailLevel: "tableIdentifiersOnly" });
    expect(ids.data.tables).toEqual([
      { id: expect.stringMatching(/^tbl/), name: "Companies" },
      { id: expect.stringMatching(/^tbl/), name: "Contacts" },
    ]);
    const names = await call("list_tables", { baseId: h.demo.base.id, detailLevel: "identifiersOnly" });
    const contacts = (names.data.tables as { fields: object[] }[])[1];
    expect(contacts?.fields[0]).toEqual({ id: expect.stringMatching(/^fld/), name: "Name" });
    const full = await call("list_tables", { baseId: h.demo.base.id });
    const stage = (
      full.data.tables as { fields: { name: string; type: string; options?: object }[] }[]
    )[1]?.fields.find((f) => f.name === "Stage");
    expect(stage).toMatchObject({ type: "singleSelect", options: { choices: expect.any(Array) } });
  });

  it("describe_table takes a name or an id; an unknown table lists the real tables", async () => {
    const byName = await call("describe_table", { baseId: h.demo.base.id, tableId: "contacts" });
    const table = byName.data.table as { id: string; name: string; views: { name: string }[] };
    expect(table.name).toBe("Contacts");
    expect(table.views.map((v) => v.name)).toContain("All contacts");
    const byId = await call("describe_table", {
      baseId: h.demo.base.id,
      tableId: table.id,
      detailLevel: "identifiersOnly",
    });
    expect((byId.data.table as { name: string }).name).toBe("Contacts");

    const unknown = await call("describe_table", { baseId: h.demo.base.id, tableId: "Deals" });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/Unknown table "Deals"/);
    expect(unknown.text).toContain('"Companies"');
    expect(unknown.text).toContain('"Contacts"');
  });

  it("an argument a tool does not take is refused, naming it and the tool's parameters, not ignored", async () => {
    // A dropped `filter` would list every contact, and an agent may act on that list.
    const typo = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      filter: '{Stage} = "Lead"',
    });
    expect(typo.isError).toBe(true);
    expect(typo.text).toContain('list_records does not take the argument "filter"');
    expect(typo.text).toContain("filterByFormula");
    // Inside too: a sort item's `order` (for direction) is refused, not sorted ascending without a word.
    const sorted = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      sort: [{ field: "Name", order: "desc" }],
    });
    expect(sorted.isError).toBe(true);
    expect(sorted.text).toMatch(
      /sort\.0.*a sort item does not take the key \\?"order\\?"; its keys are field, direction/s,
    );
    // A required argument left out is named as missing, with the tool's parameters, not "received undefined".
    const missing = await call("list_records", { baseId: h.demo.base.id });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain(
      'list_records needs the argument "tableId", and it was not given; its parameters are',
    );
    expect(missing.text).not.toContain("received undefined");
    const listed = await client.listTools();
    const schema = listed.tools.find((t) => t.name === "get_record")?.inputSchema as { additionalProperties?: unknown };
    expect(schema.additionalProperties).toBe(false);
  });

  it("list_records filters, sorts, selects fields and pages with a cursor", async () => {
    const filtered = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: ["Name", "Stage"],
      filterByFormula: '{Stage} = "Customer"',
      sort: [{ field: "Name", direction: "desc" }],
    });
    const records = filtered.data.records as Rec[];
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.fields.Stage === "Customer")).toBe(true);
    expect(Object.keys(records[0]?.fields ?? {}).sort()).toEqual(["Name", "Stage"]);
    const names = records.map((r) => String(r.fields.Name));
    expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a)));
    expect(filtered.data.nextCursor).toBeUndefined();

    const seen: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await call("list_records", {
        baseId: h.demo.base.id,
        tableId: "Contacts",
        view: "All contacts",
        fields: ["Name"],
        pageSize: 12,
        ...(cursor && { cursor }),
      });
      expect(page.isError).toBe(false);
      seen.push(...(page.data.records as Rec[]).map((r) => r.id));
      cursor = page.data.nextCursor as string | undefined;
      calls++;
    } while (cursor !== undefined);
    expect(calls).toBe(3);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it("list_records stops at maxRecords across calls", async () => {
    const first = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      maxRecords: 7,
      pageSize: 5,
    });
    expect((first.data.records as Rec[]).length).toBe(5);
    const second = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      maxRecords: 7,
      pageSize: 5,
      cursor: first.data.nextCursor,
    });
    expect((second.data.records as Rec[]).length).toBe(2);
    expect(second.data.nextCursor).toBeUndefined();
  });

  it("list_records keeps answers near 40 kB and resumes mid-page with nothing lost or repeated", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const page = await call("list_records", { baseId: h.fixtures.id, tableId: "Big", ...(cursor && { cursor }) });
      expect(page.isError).toBe(false);
      const records = page.data.records as Rec[];
      expect(JSON.stringify(records).length).toBeLessThan(42_000);
      seen.push(...records.map((r) => String(r.fields.Name)));
      cursor = page.data.nextCursor as string | undefined;
      if (calls === 0) {
        // 100 records fit one Airtable page, but not one answer: the first answer stops inside that page.
        expect(records.length).toBeGreaterThan(5);
        expect(records.length).toBeLessThan(40);
        expect(page.data.note).toMatch(/40 kB/);
        expect(cursor).toBeDefined();
      }
      calls++;
    } while (cursor !== undefined && calls < 50);
    const expected = Array.from({ length: BIG_RECORDS }, (_, i) => `big ${String(i).padStart(3, "0")}`);
    expect(seen).toEqual(expected);
  });

  it("a cursor only continues its own query", async () => {
    const first = await call("list_records", { baseId: h.demo.base.id, tableId: "Contacts", pageSize: 3 });
    const other = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: ["Email"],
      cursor: first.data.nextCursor,
    });
    expect(other.isError).toBe(true);
    expect(other.text).toMatch(/different query/);
    const garbage = await call("list_records", { baseId: h.demo.base.id, tableId: "Contacts", cursor: "not-a-cursor" });
    expect(garbage.isError).toBe(true);
    expect(garbage.text).toMatch(/cursor is not valid/);
  });

  it("list_records called again with the same cursor answers the same records; an expired one says to start over", async () => {
    const args = { baseId: h.demo.base.id, tableId: "Contacts", fields: ["Name"], pageSize: 12 };
    const ids = (a: ToolAnswer) => (a.data.records as Rec[]).map((r) => r.id);
    const first = await call("list_records", args);
    const second = await call("list_records", { ...args, cursor: first.data.nextCursor });
    // A client repeating a call whose answer it lost gets that part again, not an error: Airtable's offsets are not
    // single-use (its list records reference documents only that an iteration may time out).
    const repeated = await call("list_records", { ...args, cursor: first.data.nextCursor });
    expect(repeated.isError, repeated.text).toBe(false);
    expect(ids(repeated)).toEqual(ids(second));
    expect(repeated.data.nextCursor).toBe(second.data.nextCursor);
    // Airtable ended the listing (LIST_RECORDS_ITERATOR_NOT_AVAILABLE): the agent is told to start over.
    h.sandbox.expireListIterators();
    const expired = await call("list_records", { ...args, cursor: second.data.nextCursor });
    expect(expired.isError).toBe(true);
    expect(expired.text).toContain("The cursor has expired");
    expect(expired.text).toContain("without cursor to start over");
  });

  it("an unknown field in fields or sort lists the table's real field names", async () => {
    const inFields = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: ["Name", "Salary"],
    });
    expect(inFields.isError).toBe(true);
    expect(inFields.text).toMatch(/Unknown field "Salary"/);
    expect(inFields.text).toContain('"Deal size"');
    expect(inFields.text).toContain('"Email"');
    const inSort = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      sort: [{ field: "Nope" }],
    });
    expect(inSort.isError).toBe(true);
    expect(inSort.text).toMatch(/Unknown field "Nope".*"Stage"/s);
    const view = await call("list_records", { baseId: h.demo.base.id, tableId: "Contacts", view: "Kanban" });
    expect(view.text).toMatch(/Unknown view "Kanban".*"All contacts"/s);
  });

  it("a bad formula comes back as Airtable's message with a hint, not a stack trace", async () => {
    const bad = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      filterByFormula: "{Stage = ",
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/INVALID_FILTER_BY_FORMULA/);
    expect(bad.text).toMatch(/braces/);
    expect(bad.text).not.toMatch(/\n\s+at /);
  });

  it("search_records is case-insensitive over text fields", async () => {
    const found = await call("search_records", { baseId: h.fixtures.id, tableId: "Hostile", searchTerm: "apple" });
    const names = (found.data.records as Rec[]).map((r) => r.fields.Name).sort();
    expect(names).toEqual(["Apple pie", "plain apple"]);
    expect((found.data.searchedFields as { name: string }[]).map((f) => f.name)).toEqual(["Name", "Notes"]);
    const onlyNotes = await call("search_records", {
      baseId: h.fixtures.id,
      tableId: "Hostile",
      searchTerm: "APPLE",
      fieldIds: ["Notes"],
    });
    expect((onlyNotes.data.records as Rec[]).map((r) => r.fields.Name)).toEqual(["Apple pie"]);
    const unknownField = await call("search_records", {
      baseId: h.fixtures.id,
      tableId: "Hostile",
      searchTerm: "x",
      fieldIds: ["Title"],
    });
    expect(unknownField.text).toMatch(/Unknown field "Title".*"Name".*"Notes".*"Count"/s);
  });

  it("search_records finds a record whose computed field is #ERROR!, and survives a field renamed since the schema was cached", async () => {
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "Search edge cases",
      tables: [
        {
          name: "Tasks",
          fields: [
            { name: "Title", type: "singleLineText" },
            { name: "Hours", type: "number", options: { precision: 0 } },
            { name: "Notes", type: "multilineText" },
            // An error value on records with 0 hours (DATEADD of a non-date), text otherwise.
            {
              name: "Label",
              type: "formula",
              options: { formula: 'IF({Hours} = 0, DATEADD("x", 1, "days") & "", "ok " & {Title})' },
            },
          ],
          records: [
            { Title: "Write paper", Hours: 5 },
            { Title: "Break enigma", Hours: 0 },
          ],
        },
      ],
    });
    const titles = (answer: ToolAnswer) => (answer.data.records as Rec[]).map((r) => r.fields.Title);
    const first = await call("search_records", { baseId: base.id, tableId: "Tasks", searchTerm: "enigma" });
    expect(first.isError, first.text).toBe(false);
    expect(titles(first)).toEqual(["Break enigma"]);

    // Renamed in Airtable after the schema was cached: the search formula built from the old name is refused by
    // Airtable; the tool retries once with a fresh schema instead of telling the agent to fix "its" formula.
    const table = (await h.airtableA.getBaseSchema(base.id)).tables[0]!;
    const notes = table.fields.find((f) => f.name === "Notes")!;
    await h.airtableA.updateField(base.id, table.id, notes.id, { name: "Remarks" });
    const second = await call("search_records", { baseId: base.id, tableId: "Tasks", searchTerm: "paper" });
    expect(second.isError, second.text).toBe(false);
    expect(titles(second)).toEqual(["Write paper"]);
    expect((second.data.searchedFields as { name: string }[]).map((f) => f.name)).toContain("Remarks");

    // A cursor made before a rename belongs to the old formula: the agent is told to start over, plainly.
    const paged = await call("search_records", { baseId: base.id, tableId: "Tasks", searchTerm: "a", pageSize: 1 });
    expect(paged.data.nextCursor).toEqual(expect.any(String));
    const remarks = (await h.airtableA.getBaseSchema(base.id)).tables[0]!.fields.find((f) => f.name === "Remarks")!;
    await h.airtableA.updateField(base.id, table.id, remarks.id, { name: "Comments" });
    const later = await call("search_records", {
      baseId: base.id,
      tableId: "Tasks",
      searchTerm: "a",
      pageSize: 1,
      cursor: paged.data.nextCursor,
    });
    expect(later.isError).toBe(true);
    expect(later.text).toContain("was renamed or deleted in Airtable since this search began");
    expect(later.text).toContain("without cursor to start over");

    // Once the schema in memory has the new name, the same old cursor meets a formula of other names: the answer
    // says a rename may be why, not only "repeat your arguments" (which the agent did).
    await call("search_records", { baseId: base.id, tableId: "Tasks", searchTerm: "a", pageSize: 1 });
    const stale = await call("search_records", {
      baseId: base.id,
      tableId: "Tasks",
      searchTerm: "a",
      pageSize: 1,
      cursor: paged.data.nextCursor,
    });
    expect(stale.isError).toBe(true);
    expect(stale.text).toContain("or a searched field was renamed in Airtable since");
    expect(stale.text).toContain("without cursor to start over");
  });

  it.each([
    [HOSTILE_TERM, [`injection ${HOSTILE_TERM} here`]],
    ['"double"', ["quote \"double\" and 'single'"]],
    ["'single'", ["quote \"double\" and 'single'"]],
    ["{Name}", ["braces {Name} and parens (x)"]],
    ["(x)", ["braces {Name} and parens (x)"]],
    ["\\", ["back\\slash"]],
    ['backslash \\"', []],
    ['\\", TRUE(), "', []],
    ["TRUE()", [`injection ${HOSTILE_TERM} here`]],
    ['"}', []],
  ])("search_records finds only literal matches of the hostile term %j", async (term, expected) => {
    const found = await call("search_records", { baseId: h.fixtures.id, tableId: "Hostile", searchTerm: term });
    expect(found.isError, found.text).toBe(false);
    expect((found.data.records as Rec[]).map((r) => r.fields.Name).sort()).toEqual([...expected].sort());
  });

  it("get_record returns one record; an unknown record says so", async () => {
    const list = await call("list_records", { baseId: h.demo.base.id, tableId: "Companies", maxRecords: 1 });
    const first = (list.data.records as Rec[])[0] as Rec;
    const got = await call("get_record", { baseId: h.demo.base.id, tableId: "Companies", recordId: first.id });
    expect((got.data.record as Rec).fields).toEqual(first.fields);
    const missing = await call("get_record", {
      baseId: h.demo.base.id,
      tableId: "Companies",
      recordId: "recAAAAAAAAAAAAAA",
    });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('Airtable found no record recAAAAAAAAAAAAAA in table "Companies"');
    expect(missing.text).toContain("Find the record with list_records or search_records");
  });

  it("list_comments lists a record's comments and pages", async () => {
    const contacts = h.demo.base.tables.find((t) => t.name === "Contacts");
    const record = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts")[0];
    if (contacts === undefined || record === undefined) throw new Error("demo data changed");
    for (const text of ["first", "second", "third"]) {
      await h.airtableA.createComment(h.demo.base.id, contacts.id, record.id, text);
    }
    const page1 = await call("list_comments", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      recordId: record.id,
      pageSize: 2,
    });
    const texts = (page1.data.comments as { text: string; author: { id: string } }[]).map((c) => c.text);
    expect(texts).toHaveLength(2);
    expect(page1.data.nextCursor).toBeDefined();
    const page2 = await call("list_comments", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      recordId: record.id,
      pageSize: 2,
      cursor: page1.data.nextCursor,
    });
    texts.push(...(page2.data.comments as { text: string }[]).map((c) => c.text));
    expect(texts.sort()).toEqual(["first", "second", "third"]);
    expect(page2.data.nextCursor).toBeUndefined();
  });

  it("user B reading user A's base gets a clear no-access error", async () => {
    const asB = await h.connect({ userId: h.userB.id });
    const bases = await call("list_bases", {}, asB);
    expect((bases.data.bases as { id: string }[]).map((b) => b.id)).toEqual([h.userB.base.id]);
    for (const [tool, args] of [
      ["list_tables", { baseId: h.demo.base.id }],
      ["describe_table", { baseId: h.demo.base.id, tableId: "Contacts" }],
      ["list_records", { baseId: h.demo.base.id, tableId: "Contacts" }],
      ["search_records", { baseId: h.demo.base.id, tableId: "Contacts", searchTerm: "Ada" }],
    ] as const) {
      const answer = await call(tool, args, asB);
      expect(answer.isError, tool).toBe(true);
      expect(answer.text).toMatch(/does not exist, or your Airtable sign-in has no access to it/);
      expect(answer.text).toMatch(/list_bases/);
      expect(answer.text).not.toMatch(/Ada|Contacts"|\n\s+at /);
    }
  });

  it("refuses malformed ids before calling Airtable", async () => {
    const answer = await call("list_tables", { baseId: "not-a-base" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(/appXXXXXXXXXXXXXX/);
  });
});
