/**
 * Record writes of real Airtable data beyond plain text, end to end over MCP (the MCP SDK client over HTTP, the
 * sandbox as Airtable), each refused before anything is queued when Airtable is sure to refuse it:
 * - a record written back as it was read (get_record, then update_records with every cell): its computed cells
 *   (created time, autonumber, formula, lookups, button…) are named all at once, each with its type and where;
 * - a synced table's "Sync source" (externalSyncSource, read only in Airtable's field model): read as the source's
 *   name, searched as text, and refused up front when written;
 * - collaborator cells: a person named by neither id nor email (`{"name": …}`), or a value of another shape, is
 *   refused up front; so are an email given as `id`, an id given as `email`, and (without typecast) an email as an
 *   item of a multiple collaborator cell, whose text items are user or group ids; `{id, email, name}` as a read gives
 *   it is written;
 * - attachment cells: a new file with a property other than url and filename (the sandbox: 422
 *   INVALID_ATTACHMENT_OBJECT) is left to Airtable and named on the failed record; a filename that is not text is
 *   refused up front;
 * - a link cell naming a record id its linked table does not have (Airtable: 422 ROW_DOES_NOT_EXIST "Record ID rec…
 *   does not exist", naming neither the field nor the table): the failed record's error names the link field.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../../src/sandbox/index.ts";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";

let h: McpHarness;
let client: Client;
let synced: BaseInfo;
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools });
  client = await h.connect();
  synced = h.sandbox.createBase(h.demo.user.id, {
    name: "Synced",
    tables: [
      {
        name: "Issues",
        fields: [
          { name: "Title", type: "singleLineText" },
          {
            name: "Source",
            type: "externalSyncSource",
            options: { choices: [{ name: "Jira" }, { name: "Zendesk" }] },
          },
          { name: "Owner", type: "singleCollaborator" },
          { name: "Watchers", type: "multipleCollaborators" },
          { name: "Files", type: "multipleAttachments" },
        ],
        records: [
          { Title: "Login fails", Source: "Jira" },
          { Title: "Refund asked", Source: "Zendesk" },
        ],
      },
    ],
  });
});
afterAll(async () => {
  await h?.close();
});

const call = (name: string, args: Record<string, unknown>) => callToolAnswer(client, name, args);

/** Requests that write records of `baseId` (anything but a read). */
const writesTo = (baseId: string) =>
  h.sandbox.requests.filter(
    (r) => r.baseId === baseId && r.method !== "GET" && !r.path.endsWith("/listRecords") && !r.path.includes("/meta/"),
  ).length;

type Rec = { id: string; fields: Record<string, unknown> };

describe("a record written back as it was read", () => {
  it("names every computed field of the call at once, with its type and where, and queues nothing", async () => {
    const contacts = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").slice(0, 3);
    const read = await Promise.all(
      contacts.map(async (c) => {
        const got = await call("get_record", { baseId: h.demo.base.id, tableId: "Contacts", recordId: c.id });
        expect(got.isError, got.text).toBe(false);
        return got.data.record as Rec;
      }),
    );
    const computed = ["Created", "Number", "Company name", "Company industry", "Label", "Last modified"];
    for (const record of read) expect(Object.keys(record.fields)).toEqual(expect.arrayContaining(computed));
    const before = writesTo(h.demo.base.id);

    const answer = await call("update_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: read.map((r) => ({ id: r.id, fields: { ...r.fields, Notes: "Called back." } })),
    });

    expect(answer.isError).toBe(true);
    const [head, ...lines] = answer.text.split("\n- ");
    expect(head).toMatch(
      /^\d+ fields of this call cannot be written: Airtable sets their values itself and refuses any value for them, even null; nothing was queued\. Remove them from fields and call again \(a record read with list_records or get_record carries such fields: write back only the fields you change\):$/,
    );
    const where = "given in records[0].fields, records[1].fields, records[2].fields";
    const described = await call("describe_table", { baseId: h.demo.base.id, tableId: "Contacts" });
    const fields = (described.data.table as { fields: { id: string; name: string }[] }).fields;
    const fieldId = (name: string) => fields.find((f) => f.name === name)?.id;
    for (const [name, type] of [
      ["Created", "createdTime"],
      ["Number", "autoNumber"],
      ["Company name", "multipleLookupValues"],
      ["Company industry", "multipleLookupValues"],
      ["Label", "formula"],
      ["Last modified", "lastModifiedTime"],
      ["Open website", "button"],
    ] as const) {
      expect(lineFor(lines, name)).toBe(
        `"${name}" (${fieldId(name)}): its type, ${type}, is computed by Airtable; ${where}`,
      );
    }
    // Only computed fields are named: Notes, Name, Company… are writable.
    expect(lines).toHaveLength(7);
    expect(writesTo(h.demo.base.id)).toBe(before);
  });

  it("one computed field in several records is one sentence naming the others", async () => {
    const answer = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [
        { fields: { Name: "A", Label: "x" } },
        { fields: { Name: "B" } },
        { fields: { Name: "C", Label: "y" } },
      ],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(
      /^records\[0\]\.fields: the field "Label" \(fld\w+\) cannot be written: its type, formula, is computed by Airtable\. Remove it from fields \(records\[2\]\.fields gives it too\)\.$/,
    );
  });
});

describe("a synced table's sync source", () => {
  it("reads and searches as the source's name, and a write to it is refused before anything is queued", async () => {
    const listed = await call("list_records", { baseId: synced.id, tableId: "Issues" });
    expect(listed.isError, listed.text).toBe(false);
    const records = listed.data.records as Rec[];
    expect(records.map((r) => r.fields.Source)).toEqual(["Jira", "Zendesk"]);

    const found = await call("search_records", { baseId: synced.id, tableId: "Issues", searchTerm: "zendesk" });
    expect(found.isError, found.text).toBe(false);
    expect((found.data.records as Rec[]).map((r) => r.fields.Title)).toEqual(["Refund asked"]);
    expect((found.data.searchedFields as { name: string }[]).map((f) => f.name)).toContain("Source");

    const before = writesTo(synced.id);
    const write = await call("update_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ id: records[0]!.id, fields: { Title: "Login fails on Safari", Source: "Zendesk" } }],
    });
    expect(write.isError).toBe(true);
    expect(write.text).toMatch(
      /^records\[0\]\.fields: the field "Source" \(fld\w+\) cannot be written: its type, externalSyncSource, is filled in by Airtable's sync \(the source each synced record comes from\)\. Remove it from fields\.$/,
    );
    expect(writesTo(synced.id)).toBe(before);
  });
});

describe("collaborator cells", () => {
  it("refuses a person named by neither id nor email, and other shapes, before queueing; writes {id, email, name}", async () => {
    const me = h.demo.user;
    const before = writesTo(synced.id);
    const byName = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "x", Owner: { name: me.name } } }],
    });
    expect(byName.isError).toBe(true);
    expect(byName.text).toBe(
      'records[0].fields: "Owner" is a collaborator field: give an object such as {"id": "usr…"} or {"email": ' +
        `"ada@example.com"}, not {"name":"${me.name}"}: Airtable finds a collaborator by user id (usr…) or email, not by name.`,
    );
    const inList = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "x", Watchers: [{ name: me.name }] } }],
    });
    // The suggestion is the field model's write format for multiple collaborators: "array of user or group ids".
    expect(inList.text).toBe(
      'records[0].fields: "Watchers" is a multiple collaborator field: give an array of user or group ids such as ' +
        `["usr…"], not [{"name":"${me.name}"}]: Airtable's field model writes this cell as user or group ids, not ` +
        "names (a record read shows each person's id).",
    );
    // An empty id or email names no one: refused up front, in either field.
    for (const [fields, text] of [
      [
        { Owner: { id: "" } },
        '"Owner" is a collaborator field: give an object such as {"id": "usr…"} or {"email": "ada@example.com"}, ' +
          'not {"id":""}: Airtable finds a collaborator by user id (usr…) or email, and an empty one names no one.',
      ],
      [
        { Owner: { email: " " } },
        '"Owner" is a collaborator field: give an object such as {"id": "usr…"} or {"email": "ada@example.com"}, ' +
          'not {"email":" "}: Airtable finds a collaborator by user id (usr…) or email, and an empty one names no one.',
      ],
      [
        { Watchers: [me.id, ""] },
        '"Watchers" is a multiple collaborator field: give an array of user or group ids such as ["usr…"], not ' +
          `["${me.id}",""]: Airtable's field model writes this cell as user or group ids, and an empty one names no one.`,
      ],
      [
        { Watchers: [{ id: "" }] },
        '"Watchers" is a multiple collaborator field: give an array of user or group ids such as ["usr…"], not ' +
          `[{"id":""}]: Airtable's field model writes this cell as user or group ids, and an empty one names no one.`,
      ],
    ] as const) {
      const empty = await call("create_records", {
        baseId: synced.id,
        tableId: "Issues",
        records: [{ fields: { Title: "x", ...fields } }],
      });
      expect(empty.isError, JSON.stringify(fields)).toBe(true);
      expect(empty.text).toBe(`records[0].fields: ${text}`);
    }
    const asText = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      typecast: false,
      records: [{ fields: { Title: "x", Owner: me.email } }],
    });
    expect(asText.text).toBe(
      'records[0].fields: "Owner" is a collaborator field: give an object such as {"id": "usr…"} or {"email": ' +
        `"ada@example.com"}, not "${me.email}", or pass typecast: true to let Airtable convert "${me.email}".`,
    );
    const notAList = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "x", Watchers: { id: me.id } } }],
    });
    expect(notAList.text).toContain('"Watchers" is a multiple collaborator field: give an array of user or group ids');
    expect(writesTo(synced.id)).toBe(before);

    // What a read gives ({id, email, name}) is written back as it is.
    const person = { id: me.id, email: me.email, name: me.name };
    const written = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "Mine", Owner: person, Watchers: [person] } }],
    });
    expect(written.isError, written.text).toBe(false);
    expect(written.data.status).toBe("completed");
    const mine = h.sandbox.listRecordsDirect(synced.id, "Issues").find((r) => r.fields.Title === "Mine");
    expect(mine?.fields.Owner).toEqual(person);
    expect(mine?.fields.Watchers).toEqual([person]);
  });
});

describe("collaborators by the key Airtable looks them up by", () => {
  it("refuses an email as id, an id as email and an email among ids without typecast, before queueing", async () => {
    const me = h.demo.user;
    const before = writesTo(synced.id);
    const refusal = async (fields: Record<string, unknown>, typecast?: boolean) => {
      const answer = await call("create_records", {
        baseId: synced.id,
        tableId: "Issues",
        ...(typecast === undefined ? {} : { typecast }),
        records: [{ fields: { Title: "x", ...fields } }],
      });
      expect(answer.isError, answer.text).toBe(true);
      return answer.text;
    };
    const single =
      '"Owner" is a collaborator field: give an object such as {"id": "usr…"} or {"email": "ada@example.com"}';
    expect(await refusal({ Owner: { id: me.email } })).toBe(
      `records[0].fields: ${single}, not {"id":"${me.email}"}: "${me.email}" is an email, and Airtable looks "id" up ` +
        `among user and group ids (usr…, ugp…). Give {"email": "${me.email}"}.`,
    );
    expect(await refusal({ Owner: { email: me.id } })).toBe(
      `records[0].fields: ${single}, not {"email":"${me.id}"}: "${me.id}" is an id, and Airtable looks "email" up ` +
        `among email addresses. Give {"id": "${me.id}"}.`,
    );
    // The field model writes a multiple collaborator cell as "array of user or group ids": an email is not one.
    expect(await refusal({ Watchers: [me.id, me.email] }, false)).toBe(
      'records[0].fields: "Watchers" is a multiple collaborator field: give an array of user or group ids such as ' +
        `["usr…"], not ["${me.id}","${me.email}"]: "${me.email}" is an email, not a user or group id (a record read ` +
        "shows each person's id), or pass typecast: true to let Airtable find the person by email.",
    );
    expect(writesTo(synced.id)).toBe(before);

    // With typecast (the tools' default) Airtable converts the email: written.
    const written = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "By email", Watchers: [me.email] } }],
    });
    expect(written.isError, written.text).toBe(false);
    expect(written.data.status).toBe("completed");
    const byEmail = h.sandbox.listRecordsDirect(synced.id, "Issues").find((r) => r.fields.Title === "By email");
    expect(byEmail?.fields.Watchers).toEqual([{ id: me.id, email: me.email, name: me.name }]);
  });
});

describe("attachment cells", () => {
  it("refuses a new file whose filename is not text before queueing; other properties are Airtable's to refuse", async () => {
    const before = writesTo(synced.id);
    const refused = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "x", Files: [{ url: "https://example.com/a.pdf", filename: 7 }] } }],
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toBe(
      'records[0].fields: "Files" is an attachment field: a new file is {"url": "https://…"} with an optional ' +
        '"filename", which is text: its filename 7 is not, in {"url":"https://example.com/a.pdf","filename":7}.',
    );
    expect(writesTo(synced.id)).toBe(before);

    // A property the field model does not name for a new file: queued, and the record fails with Airtable's (here
    // the sandbox's) INVALID_ATTACHMENT_OBJECT, named on the failed record; nothing was stored.
    const failed = await call("create_records", {
      baseId: synced.id,
      tableId: "Issues",
      records: [{ fields: { Title: "typed", Files: [{ url: "https://example.com/a.pdf", type: "application/pdf" }] } }],
    });
    expect(failed.text).toContain("INVALID_ATTACHMENT_OBJECT");
    expect(failed.text).toContain('"type"');
    expect(h.sandbox.listRecordsDirect(synced.id, "Issues").some((r) => r.fields.Title === "typed")).toBe(false);
  });
});

describe("a link cell naming a record its linked table does not have", () => {
  it("fails that record naming the link field, the id and what to give, and writes the others", async () => {
    // A contact's id given as a company: an id of another table (record ids belong to one table).
    const contact = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts")[0]!;
    const answer = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [
        { fields: { Name: "Linked well", Company: ["Acme"] } },
        { fields: { Name: "Linked wrong", Company: [contact.id] } },
        // The id in a text field too: that field is not "the link field".
        { fields: { Name: contact.id, Company: [contact.id] } },
      ],
    });
    expect(answer.isError, answer.text).toBe(false);
    const results = answer.data.results as { index: number; id?: string; error?: { type: string; message: string } }[];
    expect(results[0]?.id).toMatch(/^rec/);
    expect(results[1]?.error?.type).toBe("ROW_DOES_NOT_EXIST");
    // The id is looked up (session 33): it is a Contacts record, which the error names.
    const contactsId = h.demo.base.tables.find((t) => t.name === "Contacts")!.id;
    expect(results[1]?.error?.message).toBe(
      `Record ID ${contact.id} does not exist. The link field "Company" names ${contact.id}, which is not a record of ` +
        `the table it links to: ${contact.id} is a record of table "Contacts" (${contactsId}) (a link cell takes ids ` +
        "of its linked table's records). Give the linked record's primary value instead (e.g. [\"Acme\"]: it is looked up in the linked table " +
        "before the write is queued), or find its id with search_records in the linked table (describe_table shows " +
        "which table a link field links to).",
    );
    expect(results[2]?.error?.message).toBe(results[1]?.error?.message);
  });
});

function lineFor(lines: readonly string[], name: string): string {
  const line = lines.find((l) => l.startsWith(`"${name}" (`));
  if (line === undefined) throw new Error(`no line for ${name} in:\n${lines.join("\n")}`);
  return line;
}
