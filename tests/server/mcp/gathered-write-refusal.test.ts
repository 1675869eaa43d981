/**
 * A refused record write names every problem of the call in one answer, through the real MCP SDK client over HTTP
 * against the sandbox (src/shared/tools/write/write-problems.ts, plan-records.ts). A newcomer trial's 30-record
 * create_records with four mistakes of four kinds — an unknown field ("E-mail" for "Email"), a misspelt select option
 * ("Custmer"), a linked record name that does not exist ("Wayne Enterprises"), a computed field ("Company name") —
 * took four calls, each refused for one of them; now one answer names all four, in the order of the records, and
 * nothing is queued. The linked records' names are still looked up once per call. A collaborator given by name
 * ("Demo User"), which failed in the worker with Airtable's bare "cannot accept the provided value", is refused up
 * front, naming the fix, with the others.
 */
import { describe, expect, it } from "vitest";
import { callToolAnswer } from "../../support/mcp-test-harness.ts";
import { useMcpHarness } from "../../support/use-mcp-harness.ts";

const mcp = useMcpHarness({
  name: "Gathered",
  tables: [
    {
      name: "Companies",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Account manager", type: "singleCollaborator" },
        { name: "Team", type: "multipleCollaborators" },
      ],
      records: [{ Name: "Acme" }, { Name: "Globex" }],
    },
    {
      name: "Contacts",
      fields: [
        { name: "Name", type: "singleLineText" },
        { name: "Email", type: "email" },
        { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
        {
          name: "Stage",
          type: "singleSelect",
          options: { choices: [{ name: "Lead" }, { name: "Customer" }] },
        },
        { name: "Deal size", type: "number", options: { precision: 0 } },
        {
          name: "Company name",
          type: "multipleLookupValues",
          options: { recordLinkFieldId: "Company", fieldIdInLinkedTable: "Name" },
        },
      ],
    },
  ],
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(mcp.client, name, args);
const tableId = (name: string) => mcp.base.tables.find((t) => t.name === name)!.id;

/** Requests the sandbox has been sent for the test base: record writes, and reads of one table's records. */
const writes = () =>
  mcp.h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${mcp.base.id}/`)).length;
const readsOf = (table: string) =>
  mcp.h.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${mcp.base.id}/${tableId(table)}`)).length;

/** The operations list_operations shows on the test base. */
async function operations(): Promise<unknown[]> {
  const listed = await call("list_operations", { limit: 50 });
  return (listed.data.operations as { baseId: string }[]).filter((o) => o.baseId === mcp.base.id);
}

/** The trial's 30 contacts, every one linked to a company by name, with the four mistakes. */
function trialRecords(): { fields: Record<string, unknown> }[] {
  const records = Array.from({ length: 30 }, (_, i) => ({
    fields: {
      Name: `Contact ${i}`,
      Email: `c${i}@example.com`,
      Company: [i % 2 === 0 ? "Acme" : "Globex"],
      Stage: "Lead",
    } as Record<string, unknown>,
  }));
  const { Email, ...withoutEmail } = records[3]!.fields;
  records[3]!.fields = { ...withoutEmail, "E-mail": Email };
  records[7]!.fields.Stage = "Custmer";
  records[15]!.fields.Company = ["Wayne Enterprises"];
  records[28]!.fields["Company name"] = ["Acme"];
  return records;
}

describe("a refused record write names every problem at once", () => {
  it("the trial's four mistakes in 30 records: one answer, in record order, nothing queued, one name lookup", async () => {
    const [writesBefore, lookupsBefore] = [writes(), readsOf("Companies")];
    const answer = await call("create_records", { baseId: mcp.base.id, tableId: "Contacts", records: trialRecords() });
    expect(answer.isError, answer.text).toBe(true);
    const contacts = `"Contacts" (${tableId("Contacts")})`;
    const field = (name: string) =>
      `"${name}" (${mcp.base.tables.find((t) => t.name === "Contacts")!.fields.find((f) => f.name === name)!.id})`;
    expect(answer.text).toBe(
      "4 problems in 4 records; nothing was queued. Fix them all, then call again:\n" +
        `- records[3].fields: Unknown field "E-mail". Did you mean ${field("Email")}?\n` +
        '- records[7].fields: "Custmer" is not an option of "Stage" (a single select field) but is close to ' +
        '"Customer": typecast, on by default, would add "Custmer" as a new option, and Airtable\'s API cannot ' +
        "remove a select option once it is added (only Airtable's interface can), so nothing was queued. To use the " +
        'existing option, give "Customer"; to create "Custmer" as a new option on purpose, send the call again with ' +
        "typecast: true given explicitly.\n" +
        '- records[15].fields["Company"]: no record of table "Companies" has "Wayne Enterprises" as its "Name". ' +
        "Create that record first, fix the name, or give its record id (rec…).\n" +
        `- records[28].fields: the field ${field("Company name")} cannot be written: its type, ` +
        "multipleLookupValues, is computed by Airtable. Remove it from fields.\n" +
        `The fields of table ${contacts} are: ${field("Name")}, ${field("Email")}, ${field("Company")}, ` +
        `${field("Stage")}, ${field("Deal size")}, ${field("Company name")}. Use a field's id or its exact name.`,
    );
    expect(writes()).toBe(writesBefore);
    expect(await operations()).toEqual([]);
    // The names of all 30 records ("Acme", "Globex", "Wayne Enterprises") in one lookup, as a call without the
    // other mistakes would make it; and, since "Wayne Enterprises" matched no record, one read of the records it
    // might have meant (linked-records.ts, likelyMeant: none here, so the line has no "Did you mean").
    expect(readsOf("Companies") - lookupsBefore).toBe(2);

    // Fixed as the answer says, the same records are written in one more call.
    const fixed = trialRecords();
    const { "E-mail": email, ...rest } = fixed[3]!.fields;
    fixed[3]!.fields = { ...rest, Email: email };
    fixed[7]!.fields.Stage = "Customer";
    fixed[15]!.fields.Company = ["Acme"];
    delete fixed[28]!.fields["Company name"];
    const written = await call("create_records", { baseId: mcp.base.id, tableId: "Contacts", records: fixed });
    expect(written.isError, written.text).toBe(false);
    expect(written.data.status).toBe("completed");
  });

  it("a call with one of those mistakes is answered with that mistake's own sentence, as before", async () => {
    const records = trialRecords().map((r, i) => (i === 15 ? r : { fields: { ...r.fields, Stage: "Lead" } }));
    delete records[28]!.fields["Company name"];
    const { "E-mail": email, ...rest } = records[3]!.fields;
    records[3]!.fields = { ...rest, Email: email };
    const answer = await call("create_records", { baseId: mcp.base.id, tableId: "Contacts", records });
    expect(answer.text).toBe(
      'records[15].fields["Company"]: no record of table "Companies" has "Wayne Enterprises" as its "Name". ' +
        "Create that record first, fix the name, or give its record id (rec…).",
    );
  });

  it("many problems: the first 20 listed in record order, the rest counted", async () => {
    const records = Array.from({ length: 25 }, (_, i) => ({
      fields: { Name: `N${i}`, [`Nope ${i}`]: 1, ...(i === 24 && { "Company name": ["x"] }) },
    }));
    const answer = await call("create_records", { baseId: mcp.base.id, tableId: "Contacts", records });
    const lines = answer.text.split("\n");
    expect(lines[0]).toBe("26 problems in 25 records; nothing was queued. Fix them all, then call again:");
    expect(lines.slice(1, 21)).toEqual(
      Array.from({ length: 20 }, (_, i) => `- records[${i}].fields: Unknown field "Nope ${i}".`),
    );
    expect(lines[21]).toBe("- …and 6 more problems.");
    expect(lines[22]).toMatch(/^The fields of table "Contacts" \(tbl\w+\) are: /);
    expect(lines).toHaveLength(23);
  });

  it("update_records: a malformed id is named with the cells' problems", async () => {
    const answer = await call("update_records", {
      baseId: mcp.base.id,
      tableId: "Contacts",
      records: [
        { id: "rec0123456789abcd", fields: { "Deal size": "lots" } },
        { id: "recShort", fields: { Name: "B" } },
      ],
    });
    expect(answer.text).toBe(
      "2 problems in 2 records; nothing was queued. Fix them all, then call again:\n" +
        '- records[0].fields: "Deal size" is a number field: give a number such as 42, not "lots".\n' +
        '- records[1].id "recShort" is not a record id: record ids look like recXXXXXXXXXXXXXX (rec and 14 letters ' +
        "or digits). Get them from list_records or search_records.",
    );
  });
});

describe("a collaborator given by name", () => {
  it("is refused before queueing, naming the fix, with or without typecast, and gathered with other problems", async () => {
    const before = writes();
    const manager = `"Account manager" is a collaborator field: give an object such as {"id": "usr…"} or {"email": "ada@example.com"}, not "Demo User": Airtable finds a collaborator by user id (usr…) or email, not by name`;
    const read =
      'list_records with fields: ["Account manager"] shows the collaborators already set in it, with their ids and ' +
      "emails.";
    const byName = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Companies",
      fields: { Name: "Wayne", "Account manager": "Demo User" },
    });
    expect(byName.isError, byName.text).toBe(true);
    expect(byName.text).toBe(
      `fields: ${manager} (typecast converts an id or an email given as text, not a name). ${read}`,
    );
    const noTypecast = await call("create_record", {
      baseId: mcp.base.id,
      tableId: "Companies",
      typecast: false,
      fields: { Name: "Wayne", "Account manager": "Demo User" },
    });
    expect(noTypecast.text).toBe(`fields: ${manager}. ${read}`);
    const team = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Companies",
      records: [
        { fields: { Name: "A", Team: [mcp.h.demo.user.email, "Demo User"] } },
        { fields: { Name: "B", "Account manager": "Demo User", Nmae: "x" } },
      ],
    });
    expect(team.text.split("\n").slice(0, 4)).toEqual([
      "3 problems in 2 records; nothing was queued. Fix them all, then call again:",
      '- records[0].fields: "Team" is a multiple collaborator field: give an array of user or group ids such as ' +
        `["usr…"], not ["${mcp.h.demo.user.email}","Demo User"]: "Demo User" is neither a user or group id (usr…, ` +
        "ugp…) nor an email: Airtable finds a collaborator by id or email, not by name. list_records with fields: " +
        '["Team"] shows the collaborators already set in it, with their ids and emails.',
      expect.stringMatching(/^- records\[1\]\.fields: Unknown field "Nmae"\. Did you mean "Name" \(fld\w+\)\?$/),
      `- records[1].fields: ${manager} (typecast converts an id or an email given as text, not a name). ${read}`,
    ]);
    expect(writes()).toBe(before);

    // By email (typecast converts it) or by id, the same person is written.
    const written = await call("create_records", {
      baseId: mcp.base.id,
      tableId: "Companies",
      records: [
        { fields: { Name: "By email", "Account manager": mcp.h.demo.user.email } },
        { fields: { Name: "By id", "Account manager": { id: mcp.h.demo.user.id } } },
      ],
    });
    expect(written.isError, written.text).toBe(false);
    expect(written.data.status).toBe("completed");
  });
});
