/**
 * What newcomer trials found an agent misreads, through the real MCP client over HTTP against the sandbox:
 * - a write's progress notifications say what happened to the settled records (an update of two records that do not
 *   exist is "2 of 2 done: 0 written, 2 failed", not "2 of 2 written"), as its final answer does, and keep the short
 *   "1 of 1 written" when every settled record was written;
 * - list_records takes a sort direction in the case agents write it (DESC, Desc), sends Airtable's lowercase, and
 *   says so in tools/list; any other spelling (descending) is refused with the value to send;
 * - an unknown field, table or view name a keystroke or two from a real one ("Nmae") is answered with that one
 *   ("did you mean"), in writes, reads and formulas alike, before the list of every name;
 * - a base or table id one character off or in another case is answered with the one the sign-in reaches (a base:
 *   instead of the advice to sign in again), and a view named by a word of its name ("Grid") with that view.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer, invalidArguments as invalid } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Trial",
  tables: [
    {
      name: "Tasks",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Due date", type: "date", options: { dateFormat: { name: "iso" } } },
        { name: "Score", type: "number", options: { precision: 0 } },
        { name: "Notes", type: "multilineText" },
      ],
      records: [
        { Name: "b", Score: 2 },
        { Name: "a", Score: 1 },
        { Name: "c", Score: 3 },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const tasks = () => mcp.h.sandbox.listRecordsDirect(mcp.base.id, "Tasks");

describe("a write's progress notifications", () => {
  it("count failed records as failed, not as written, as the final answer does", async () => {
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await mcp.client.callTool(
      {
        name: "update_records",
        arguments: {
          baseId: mcp.base.id,
          tableId: "Tasks",
          records: [
            { id: "rec00000000000001", fields: { Name: "x" } },
            { id: "rec00000000000002", fields: { Name: "y" } },
          ],
        },
      },
      undefined,
      { onprogress: (p) => seen.push(p) },
    );
    const answer = result.structuredContent as { operationId: string; message: string };
    expect(answer.message).toMatch(/^Done with errors: 0 records written, 2 failed of 2\./);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({
      progress: 2,
      total: 2,
      message: `2 of 2 done: 0 written, 2 failed (batch 1/1) · operation ${answer.operationId}`,
    });
    for (const p of seen) expect(p.message).not.toMatch(/of 2 written/);

    // When every settled record was written, the short form says so.
    const written: { progress: number; total?: number; message?: string }[] = [];
    const create = await mcp.client.callTool(
      {
        name: "create_records",
        arguments: { baseId: mcp.base.id, tableId: "Tasks", records: [{ fields: { Name: "new" } }] },
      },
      undefined,
      { onprogress: (p) => written.push(p) },
    );
    const created = create.structuredContent as { operationId: string; status: string };
    expect(created.status).toBe("completed");
    expect(written.at(-1)).toEqual({
      progress: 1,
      total: 1,
      message: `1 of 1 written (batch 1/1) · operation ${created.operationId}`,
    });
  });
});

describe("list_records sort direction", () => {
  const names = (data: Record<string, unknown>) =>
    (data.records as { fields: { Name?: string } }[]).map((r) => r.fields.Name);

  it("DESC and Desc sort descending (sent to Airtable as desc); ASC ascending", async () => {
    for (const direction of ["DESC", "Desc"]) {
      const answer = await call("list_records", {
        baseId: mcp.base.id,
        tableId: "Tasks",
        fields: ["Name"],
        sort: [{ field: "Score", direction }],
        filterByFormula: "{Score} > 0",
      });
      expect(answer.isError, answer.text).toBe(false);
      expect(names(answer.data)).toEqual(["c", "b", "a"]);
    }
    const up = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      fields: ["Name"],
      sort: [{ field: "Score", direction: "ASC" }],
      filterByFormula: "{Score} > 0",
    });
    expect(names(up.data)).toEqual(["a", "b", "c"]);
  });

  it("tools/list shows exactly the spellings it takes", async () => {
    const listed = (await mcp.client.listTools()).tools.find((t) => t.name === "list_records")!;
    const sort = (listed.inputSchema.properties as Record<string, { items: { properties: Record<string, unknown> } }>)
      .sort!;
    expect(sort.items.properties.direction).toMatchObject({
      type: "string",
      enum: ["asc", "desc", "ASC", "DESC", "Asc", "Desc"],
    });
  });

  it("descending, or any other word, is refused with the value to send", async () => {
    const before = mcp.h.sandbox.requests.length;
    const answer = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      sort: [{ field: "Name" }, { field: "Score", direction: "descending" }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      invalid("list_records") +
        'sort[1].direction is "asc" or "desc" (ASC, DESC, Asc and Desc are taken too); it was given "descending": send "desc".',
    );
    const odd = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      sort: [{ field: "Score", direction: -1 }],
    });
    expect(odd.text).toBe(
      invalid("list_records") +
        'sort[0].direction is "asc" or "desc" (ASC, DESC, Asc and Desc are taken too); it was given -1: send "asc" (A→Z, 1→9, oldest first) or "desc".',
    );
    expect(mcp.h.sandbox.requests.length).toBe(before);
  });
});

describe("an unknown name close to a real one", () => {
  it("a write naming Nmae is told Name, and nothing is queued", async () => {
    const before = tasks().length;
    const answer = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      records: [{ fields: { Nmae: "typo" } }],
    });
    expect(answer.isError).toBe(true);
    const name = mcp.base.tables[0]!.fields.find((f) => f.name === "Name")!;
    expect(answer.text).toContain(`Unknown field "Nmae" in records[0].fields (table `);
    expect(answer.text).toContain(`. Did you mean "Name" (${name.id})? The fields are: "Name" (${name.id}), `);
    expect(tasks()).toHaveLength(before);
  });

  it("a read naming due_date in sort or fields is told Due date; a view or table typo its real name", async () => {
    const sorted = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", sort: [{ field: "due_date" }] });
    expect(sorted.isError).toBe(true);
    expect(sorted.text).toMatch(
      /^Unknown field "due_date" in table "Tasks" \(tbl\w+\)\. Did you mean "Due date" \(fld\w+\)\? The fields are: /,
    );
    const table = await call("list_records", { baseId: mcp.base.id, tableId: "Taks" });
    expect(table.text).toMatch(/^Unknown table "Taks" in app\w+\. Did you mean "Tasks" \(tbl\w+\)\? /);
    // Far from every name: no guess, the list alone, as before.
    const far = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", fields: ["Budget"] });
    expect(far.text).toMatch(/^Unknown field "Budget" in table "Tasks" \(tbl\w+\)\. The fields are: /);
  });

  it("a formula naming {Nmae} is told {Name}", async () => {
    const answer = await call("list_records", {
      baseId: mcp.base.id,
      tableId: "Tasks",
      filterByFormula: '{Nmae} = "a"',
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toContain("has no field {Nmae} — did you mean {Name}?");
  });
});

describe("a base, table or view the call names a little wrongly", () => {
  /** `id` with its last character changed: one edit from it. */
  const oneOff = (id: string) => id.slice(0, -1) + (id.endsWith("N") ? "M" : "N");
  /** `id` with the case of every letter after its prefix swapped (a lowercased id, as a person retypes it). */
  const caseSwapped = (id: string) =>
    id.slice(0, 3) + [...id.slice(3)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");

  it("a base id one character off or in another case: did you mean the base the sign-in reaches", async () => {
    const pipeline = mcp.h.sandbox.createBase(mcp.h.demo.user.id, {
      id: "appH0s7GThNKyFixN",
      name: "Pipeline",
      tables: [{ name: "Deals", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    const meant = '"Pipeline")? Call again with that baseId.';
    for (const wrong of ["appH0s7GThNKyFixM", caseSwapped(pipeline.id)]) {
      const answer = await call("list_records", { baseId: wrong, tableId: "Deals" });
      expect(answer.isError).toBe(true);
      expect(answer.text).toBe(
        `Airtable refused access (INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND). Base ${wrong} is not among the bases ` +
          `this Airtable sign-in can reach (list_bases does not list it): did you mean ${pipeline.id} (${meant}`,
      );
    }
    // A write says so before anything is queued; a list_tables too.
    const write = await call("create_records", {
      baseId: "appH0s7GThNKyFixM",
      tableId: "Deals",
      records: [{ fields: { Name: "x" } }],
    });
    expect(write.text).toContain(`did you mean ${pipeline.id} (${meant} Nothing was queued: nothing was written.`);
    const tables = await call("list_tables", { baseId: caseSwapped(pipeline.id) });
    expect(tables.text).toContain(`did you mean ${pipeline.id} (${meant}`);
    // Far from every base: no guess, and the advice to sign in again and add the base, as before.
    const far = await call("list_records", { baseId: "appZZZZZZZZZZZZZZ", tableId: "Deals" });
    expect(far.text).not.toContain("did you mean");
    expect(far.text).toContain("sign in again (your MCP client's reconnect or re-authorize) and add it");
  });

  it("a table id one character off or in another case is told the table", async () => {
    const table = mcp.base.tables[0]!;
    for (const wrong of [oneOff(table.id), caseSwapped(table.id)]) {
      const answer = await call("list_records", { baseId: mcp.base.id, tableId: wrong });
      expect(answer.isError).toBe(true);
      expect(answer.text).toBe(
        `Unknown table "${wrong}" in ${mcp.base.id}. Did you mean "Tasks" (${table.id})? The tables are: "Tasks" ` +
          `(${table.id}). Use the id or the exact name.`,
      );
    }
  });

  it('a view named by a word of its name ("Grid") is told the view ("Grid view")', async () => {
    const table = mcp.base.tables[0]!;
    const grid = table.views.find((v) => v.name === "Grid view")!;
    const answer = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", view: "Grid" });
    expect(answer.isError).toBe(true);
    expect(answer.text).toBe(
      `Unknown view "Grid" in table "Tasks" (${table.id}). Did you mean "Grid view" (${grid.id})? The views are: ` +
        `"Grid view" (${grid.id}). Use the id or the exact name.`,
    );
    // A part of a word is no guess.
    const part = await call("list_records", { baseId: mcp.base.id, tableId: "Tasks", view: "Gri" });
    expect(part.text).not.toContain("Did you mean");
  });
});
