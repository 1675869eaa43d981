/**
 * Linked records and computed fields, end to end over MCP on the linked demo base (Contacts.Company links to
 * Companies; "Company name" and "Company industry" look the company up): search by a lookup value, writing a link
 * by the linked record's primary value, expandLinks on reads, and a 25-record import where one record writes a
 * field the user may not edit (403 INVALID_PERMISSIONS for that request only). Writes run through the embedded
 * runner with their logs in real Redis.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

type Rec = { id: string; fields: Record<string, unknown> };
type Result = { index: number; id?: string; error?: { type: string; message: string } };

const companyId = (name: string) =>
  h.sandbox.listRecordsDirect(h.demo.base.id, "Companies").find((r) => r.fields.Name === name)?.id;
const contactsNamed = (prefix: string) =>
  h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").filter((r) => String(r.fields.Name).startsWith(prefix));

describe("search_records on computed and link fields", () => {
  it("finds contacts by a lookup value (the company's industry) and by a link's primary value, saying what it searched", async () => {
    const byLookup = await call("search_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      searchTerm: "manufactur",
    });
    expect(byLookup.isError).toBe(false);
    const found = byLookup.data.records as Rec[];
    // Globex and Umbrella are the Manufacturing companies; every contact of theirs and no other is found.
    const expected = h.sandbox
      .listRecordsDirect(h.demo.base.id, "Contacts")
      .filter((r) => (r.fields["Company industry"] as string[] | undefined)?.includes("Manufacturing"));
    expect(expected.length).toBeGreaterThan(0);
    expect(found.map((r) => r.id).sort()).toEqual(expected.map((r) => r.id).sort());
    const searched = (byLookup.data.searchedFields as { name: string; type: string }[]).map((f) => f.name);
    expect(searched).toEqual(expect.arrayContaining(["Name", "Company", "Company name", "Company industry", "Label"]));
    // Numbers, dates and attachments are not text: not searched.
    expect(searched).not.toContain("Deal size");
    expect(searched).not.toContain("Files");

    const byLink = await call("search_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      searchTerm: "stark industries",
      fieldIds: ["Company"],
    });
    const starkContacts = byLink.data.records as Rec[];
    expect(starkContacts.length).toBe(5);
    for (const r of starkContacts) expect(r.fields["Company name"]).toEqual(["Stark Industries"]);
  });

  it("a default search for a number says which fields it did not search and how to search them", async () => {
    // A CRM trial's agent searched Deals for an amount ("1003.25"): the answer was an empty list whose
    // searchedFields left the currency field out, read as "no deal of that amount", though one had it.
    const contacts = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts");
    const sized = contacts.find((r) => typeof r.fields["Deal size"] === "number")!;
    const size = String(sized.fields["Deal size"]);
    const answer = await call("search_records", { baseId: h.demo.base.id, tableId: "Contacts", searchTerm: size });
    expect(answer.isError, answer.text).toBe(false);
    const note = answer.data.note as string;
    expect(note).toMatch(
      /^Not searched \(a search by default reads only what shows as text\): .*"Deal size" \(number\)/,
    );
    expect(note).toContain(
      `To find ${JSON.stringify(size)} in them, give fieldIds (e.g. ["Deal size"]), or use list_records with ` +
        "filterByFormula (e.g. {Deal size} = " +
        size +
        ").",
    );
    const inSize = await call("search_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      searchTerm: size,
      fieldIds: ["Deal size"],
    });
    expect((inSize.data.records as Rec[]).map((r) => r.id)).toContain(sized.id);
    expect(inSize.data.note).toBeUndefined();
    // A term without a digit: nothing to say.
    const byName = await call("search_records", { baseId: h.demo.base.id, tableId: "Contacts", searchTerm: "acme" });
    expect(byName.data.note).toBeUndefined();
    // A percent holds 50 % as 0.5 and a duration counts seconds: `{Discount} = 50` would find nothing, so the
    // formula example names a field whose value is the number shown.
    const priced = h.sandbox.createBase(h.demo.user.id, {
      name: "Pricing",
      tables: [
        {
          name: "Offers",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Discount", type: "percent", options: { precision: 0 } },
            { name: "Length", type: "duration", options: { durationFormat: "h:mm" } },
            { name: "Seats", type: "number", options: { precision: 0 } },
          ],
          records: [{ Name: "Spring", Discount: 0.5, Length: 3600, Seats: 50 }],
        },
      ],
    });
    const fifty = await call("search_records", { baseId: priced.id, tableId: "Offers", searchTerm: "50" });
    expect(fifty.isError, fifty.text).toBe(false);
    expect(fifty.data.note).toContain("filterByFormula (e.g. {Seats} = 50)");
  });

  it("escapes the term: a quote-and-formula term searched in lookups finds nothing and is no error", async () => {
    const hostile = await call("search_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      searchTerm: '"), TRUE(), ("',
    });
    expect(hostile.isError).toBe(false);
    expect(hostile.data.records).toEqual([]);
  });
});

describe("writing a link by the linked record's primary value", () => {
  it('create_record with {"Company": ["Acme"]} links the Acme record', async () => {
    const answer = await call("create_record", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: { Name: "Linked by name", Company: ["acme"] },
    });
    expect(answer.isError).toBe(false);
    expect(answer.data.status).toBe("completed");
    const [row] = contactsNamed("Linked by name");
    expect(row?.fields.Company).toEqual([companyId("Acme")]);
    expect(row?.fields["Company name"]).toEqual(["Acme"]);
  });

  it("mixes names and ids, and refuses an unknown name or an ambiguous one, naming the value and the table", async () => {
    const mixed = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [{ fields: { Name: "Linked mixed", Company: [companyId("Globex"), "Hooli"] } }],
    });
    expect(mixed.data.status).toBe("completed");
    expect(contactsNamed("Linked mixed")[0]?.fields.Company).toEqual([companyId("Globex"), companyId("Hooli")]);

    const unknown = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [{ fields: { Name: "Linked nowhere", Company: ["Wayne Enterprises"] } }],
    });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/records\[0\]\.fields\["Company"\]: no record of table "Companies"/);
    expect(unknown.text).toContain('"Wayne Enterprises"');
    expect(contactsNamed("Linked nowhere")).toHaveLength(0);

    const companies = h.demo.base.tables.find((t) => t.name === "Companies")!.id;
    await h.airtableA.createRecords(h.demo.base.id, companies, [
      { fields: { Name: "Twin" } },
      { fields: { Name: "Twin" } },
    ]);
    const ambiguous = await call("create_record", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: { Name: "Linked twice", Company: "Twin" },
    });
    expect(ambiguous.isError).toBe(true);
    expect(ambiguous.text).toMatch(/2 records of table "Companies" have "Twin"/);
    expect(ambiguous.text).toMatch(/rec\w{14}, rec\w{14}/);
  });

  it("a name no record has is refused naming the records it likely meant, with their ids", async () => {
    // A CRM trial (session 28) linked a contact to "Zeta Corporation" for the company it had created as "Zeta Corp":
    // the refusal said only "Create that record first, fix the name, or give its record id", and the agent needed a
    // search to find the name. Names are given long or short, with or without a legal form, or with a typo.
    const cases: [given: string, meant: string][] = [
      ["Acme Inc", "Acme"],
      ["Stark", "Stark Industries"],
      ["Globex Corporation", "Globex"],
      ["Initek", "Initech"],
    ];
    const answer = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [
        ...cases.map(([given], i) => ({ fields: { Name: `Likely ${i}`, Company: [given] } })),
        { fields: { Name: "Likely none", Company: ["Wayne Enterprises"] } },
      ],
    });
    expect(answer.isError).toBe(true);
    cases.forEach(([given, meant], i) => {
      expect(answer.text).toContain(
        `- records[${i}].fields["Company"]: no record of table "Companies" has "${given}" as its "Name". ` +
          `Did you mean "${meant}" (${companyId(meant)})? Create that record first, fix the name, or give its record ` +
          "id (rec…).",
      );
    });
    // A name like none of the records gets no guess.
    expect(answer.text).toContain(
      '- records[4].fields["Company"]: no record of table "Companies" has "Wayne Enterprises" as its "Name". Create ' +
        "that record first",
    );
    expect(contactsNamed("Likely")).toHaveLength(0);
  });

  it('a name with commas that no record has ("Acme, Globex") is refused saying how to name several records', async () => {
    // A CRM trial's agent linked a contact to two companies with one string, as Airtable's typecast takes it (it
    // splits on commas). Names are looked up whole here (a company may be "O'Reilly, Inc."), so the refusal said only
    // "Create that record first": the agent would have made a company called "Acme, Globex".
    const joined = await call("create_record", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: { Name: "Linked to two", Company: "Acme, Globex" },
    });
    expect(joined.isError).toBe(true);
    expect(joined.text).toBe(
      'fields["Company"]: no record of table "Companies" has "Acme, Globex" as its "Name". A name is looked up ' +
        'whole, commas included; to link several records, give each its own item: ["Acme", "Globex"]. Otherwise ' +
        "create that record first, fix the name, or give its record id (rec…).",
    );
    expect(contactsNamed("Linked to two")).toHaveLength(0);

    const listed = await call("create_record", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: { Name: "Linked to two", Company: ["Acme", "Globex"] },
    });
    expect(listed.data.status).toBe("completed");
    expect(contactsNamed("Linked to two")[0]?.fields.Company).toEqual([companyId("Acme"), companyId("Globex")]);
  });
});

describe("reads with expandLinks", () => {
  it("list_records, get_record and search_records give link fields with primary values; lookups as Airtable sends them", async () => {
    const listed = await call("list_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: ["Name", "Company", "Company name"],
      pageSize: 5,
      expandLinks: true,
    });
    const records = listed.data.records as Rec[];
    expect(records).toHaveLength(5);
    for (const r of records) {
      const lookup = r.fields["Company name"] as string[];
      expect(r.fields.Company).toEqual([{ id: companyId(lookup[0]!), name: lookup[0] }]);
    }

    const one = await call("get_record", {
      baseId: h.demo.base.id,
      tableId: "Companies",
      recordId: companyId("Acme"),
      expandLinks: true,
    });
    const contacts = (one.data.record as Rec).fields.Contacts as { id: string; name: string }[];
    expect(contacts.length).toBe(
      contactsNamed("").filter((r) => (r.fields.Company as string[] | undefined)?.includes(companyId("Acme")!)).length,
    );
    for (const c of contacts) expect(c.name).toMatch(/\w+ \w+/);

    const plain = await call("get_record", {
      baseId: h.demo.base.id,
      tableId: "Companies",
      recordId: companyId("Acme"),
    });
    expect((plain.data.record as Rec).fields.Contacts).toEqual(contacts.map((c) => c.id));

    const searched = await call("search_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      searchTerm: "Initech",
      fieldIds: ["Company name"],
      expandLinks: true,
    });
    for (const r of searched.data.records as Rec[]) {
      expect(r.fields.Company).toEqual([{ id: companyId("Initech"), name: "Initech" }]);
    }
  });

  it("attachments come back with url, filename, size and type", async () => {
    // The file Airtable (the sandbox) downloads after the write, as it does with attachments given by URL.
    const files = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/pdf" }).end("%PDF-1.4 cv"),
    );
    await new Promise<void>((resolve) => files.listen(0, "127.0.0.1", resolve));
    const fileUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}/cv.pdf`;
    try {
      await expectAttachmentRead(fileUrl);
    } finally {
      files.close();
    }
  });
});

async function expectAttachmentRead(fileUrl: string): Promise<void> {
  {
    const created = await call("create_record", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      fields: { Name: "With file", Files: [{ url: fileUrl, filename: "cv.pdf" }] },
    });
    const id = (created.data.results as Result[])[0]?.id;
    let files: Record<string, unknown>[] = [];
    for (let i = 0; i < 40 && !(files[0] && "size" in files[0]); i++) {
      const read = await call("get_record", { baseId: h.demo.base.id, tableId: "Contacts", recordId: id });
      files = ((read.data.record as Rec).fields.Files ?? []) as Record<string, unknown>[];
      if (!(files[0] && "size" in files[0])) await new Promise((r) => setTimeout(r, 50));
    }
    expect(files[0]).toMatchObject({
      id: expect.stringMatching(/^att/),
      url: expect.any(String),
      filename: "cv.pdf",
      size: 11,
      type: "application/pdf",
    });
  }
}

describe("a 403 is per request, not per operation", () => {
  it("a 25-record import where one record writes a restricted field: 24 written, that one reported, all batches sent", async () => {
    h.sandbox.restrictField(h.demo.base.id, "Contacts", "Notes", h.demo.user.id);
    const notesId = h.demo.base.tables.find((t) => t.name === "Contacts")!.fields.find((x) => x.name === "Notes")!.id;
    try {
      h.sandbox.clearRequests();
      const records = Array.from({ length: 25 }, (_, i) => ({
        fields: { Name: `Import ${i}`, Company: ["Acme"], ...(i === 17 ? { Notes: "restricted" } : {}) },
      }));
      const answer = await call("create_records", { baseId: h.demo.base.id, tableId: "Contacts", records });
      expect(answer.isError).toBe(false);
      expect(answer.data.status).toBe("completed_with_errors");
      expect(answer.data.progress).toMatchObject({ recordsSucceeded: 24, recordsFailed: 1, batchesDone: 3 });
      const results = answer.data.results as Result[];
      expect(results.filter((r) => r.error !== undefined)).toEqual([
        {
          index: 17,
          error: {
            type: "INVALID_PERMISSIONS",
            // Airtable names the restricted field (https://airtable.com/developers/web/api/errors, 403).
            message: `You are not permitted to write cell values in field Notes (${notesId})`,
          },
        },
      ]);
      const written = contactsNamed("Import ");
      expect(written).toHaveLength(24);
      expect(written.map((r) => r.fields.Name)).toContain("Import 24"); // the batch after the refused one
      for (const r of written) expect(r.fields.Company).toEqual([companyId("Acme")]);
      // All three batches were sent (the second split until record 17 stood alone): the accepted creates hold
      // the 24 records, the refused ones 403 each.
      const creates = h.sandbox.requests.filter(
        (r) => r.method === "POST" && r.baseId === h.demo.base.id && r.recordCount !== undefined,
      );
      expect(creates.filter((r) => r.status === 200).reduce((n, r) => n + (r.recordCount ?? 0), 0)).toBe(24);
      const refused = creates.filter((r) => r.status === 403);
      expect(refused.length).toBeGreaterThan(1);
      expect(refused.at(-1)?.recordCount).toBe(1);
    } finally {
      h.sandbox.clearRestrictions(h.demo.base.id);
    }
  });
});

describe("a record item's keys", () => {
  it("create_records refuses a record's `id` (it would make a new record, not change that one) and writes nothing", async () => {
    const existing = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts")[0]!;
    const before = h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").length;
    const withId = await call("create_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [{ id: existing.id, fields: { Name: "Keyed item" } }],
    });
    expect(withId.isError).toBe(true);
    expect(withId.text).toContain('a record of create_records does not take the key "id"; its keys are fields');
    expect(withId.text).toContain("use update_records or upsert_records");
    // A per-record typecast is not applied silently either: the message says where it belongs.
    const typecast = await call("update_records", {
      baseId: h.demo.base.id,
      tableId: "Contacts",
      records: [{ id: existing.id, fields: { Name: "Keyed item" }, typecast: true }],
    });
    expect(typecast.isError).toBe(true);
    expect(typecast.text).toContain(
      'a record of update_records does not take the key "typecast"; its keys are id, fields',
    );
    expect(typecast.text).toContain("typecast is an argument of the call");
    expect(h.sandbox.listRecordsDirect(h.demo.base.id, "Contacts").length).toBe(before);
    expect(contactsNamed("Keyed item")).toEqual([]);
    const listed = await client.listTools();
    for (const name of ["create_records", "update_records", "upsert_records"]) {
      const schema = listed.tools.find((t) => t.name === name)?.inputSchema as unknown as {
        properties: { records: { items: { additionalProperties?: unknown } } };
      };
      expect(schema.properties.records.items.additionalProperties, name).toBe(false);
    }
  });
});

describe("reads of a base that changed, people, barcodes, error values and another table's record", () => {
  /** Teams (primary: a formula that is #ERROR! for code 0) and People linking to them, in a base of its own. */
  function teamsBase(name: string) {
    const base = h.sandbox.createBase(h.demo.user.id, {
      name,
      tables: [
        {
          name: "Teams",
          fields: [
            {
              name: "Label",
              type: "formula",
              options: { formula: 'IF({Code} = 0, DATEADD("x", 1, "days") & "", "Team " & {Code})' },
            },
            { name: "Code", type: "number", options: { precision: 0 } },
          ],
          records: [{ Code: 7 }, { Code: 0 }],
        },
        {
          name: "People",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Team", type: "multipleRecordLinks", options: { linkedTableId: "Teams" } },
            { name: "Owner", type: "singleCollaborator" },
            { name: "Badge", type: "barcode" },
          ],
          records: [
            { Name: "Ada", Owner: { id: h.demo.user.id }, Badge: { text: "QX-4471" } },
            { Name: "Grace", Badge: { text: "ZZ-0001" } },
          ],
        },
      ],
    });
    const teams = h.sandbox.listRecordsDirect(base.id, "Teams");
    const people = h.sandbox.listRecordsDirect(base.id, "People");
    const teamOf = (code: number) => teams.find((r) => r.fields.Code === code)!.id;
    const person = (name: string) => people.find((r) => r.fields.Name === name)!.id;
    return { base, teamOf, person };
  }

  it("get_record refuses a record id of another table, naming that table (Airtable would answer it from any table)", async () => {
    const { base, teamOf, person } = teamsBase("Wrong table");
    const teams = base.tables.find((t) => t.name === "Teams")!;
    const wrong = await call("get_record", { baseId: base.id, tableId: "People", recordId: teamOf(7) });
    expect(wrong.isError).toBe(true);
    expect(wrong.text).toContain(`${teamOf(7)} is not a record of table "People"`);
    expect(wrong.text).toContain(
      `it is a record of table "Teams" (${teams.id}). Call get_record with tableId "${teams.id}"`,
    );
    // The same id in its own table, and a People record in People, are answered keyed by field name.
    const right = await call("get_record", { baseId: base.id, tableId: "Teams", recordId: teamOf(7) });
    expect(right.isError, right.text).toBe(false);
    expect((right.data.record as Rec).fields).toEqual({ Label: "Team 7", Code: 7 });
    const ada = await call("get_record", { baseId: base.id, tableId: "People", recordId: person("Ada") });
    expect((ada.data.record as Rec).fields).toMatchObject({ Name: "Ada", Badge: { text: "QX-4471" } });
  });

  it("expandLinks names links through a link field renamed since the schema was cached, and a field added since is keyed by name", async () => {
    const { base, teamOf, person } = teamsBase("Renamed link");
    const people = base.tables.find((t) => t.name === "People")!;
    await h.airtableA.updateRecords(base.id, people.id, [
      { id: person("Ada"), fields: { Team: [teamOf(7), teamOf(0)] } },
    ]);
    const first = await call("list_records", { baseId: base.id, tableId: "People", expandLinks: true });
    expect(first.isError, first.text).toBe(false); // the schema is cached now
    const team = people.fields.find((f) => f.name === "Team")!;
    await h.airtableA.updateField(base.id, people.id, team.id, { name: "Squad" });
    await h.airtableA.createField(base.id, people.id, { name: "Nickname", type: "singleLineText" });
    await h.airtableA.updateRecords(base.id, people.id, [{ id: person("Ada"), fields: { Nickname: "Countess" } }]);

    const listed = await call("list_records", { baseId: base.id, tableId: "People", expandLinks: true });
    const ada = (listed.data.records as Rec[]).find((r) => r.fields.Name === "Ada")!;
    // A primary value that is #ERROR! is named as Airtable shows it, not as JSON.
    expect(ada.fields.Squad).toEqual([
      { id: teamOf(7), name: "Team 7" },
      { id: teamOf(0), name: "#ERROR!" },
    ]);
    const one = await call("get_record", {
      baseId: base.id,
      tableId: "People",
      recordId: person("Ada"),
      expandLinks: true,
    });
    expect(one.isError, one.text).toBe(false);
    expect((one.data.record as Rec).fields).toMatchObject({
      Nickname: "Countess",
      Squad: [
        { id: teamOf(7), name: "Team 7" },
        { id: teamOf(0), name: "#ERROR!" },
      ],
    });
  });

  it("search_records finds people by name and barcodes by text", async () => {
    const { base } = teamsBase("People and barcodes");
    const byPerson = await call("search_records", { baseId: base.id, tableId: "People", searchTerm: "demo user" });
    expect(byPerson.isError, byPerson.text).toBe(false);
    expect((byPerson.data.records as Rec[]).map((r) => r.fields.Name)).toEqual(["Ada"]);
    const byBadge = await call("search_records", { baseId: base.id, tableId: "People", searchTerm: "zz-00" });
    expect((byBadge.data.records as Rec[]).map((r) => r.fields.Name)).toEqual(["Grace"]);
    const searched = (byBadge.data.searchedFields as { name: string }[]).map((f) => f.name);
    expect(searched).toEqual(expect.arrayContaining(["Name", "Team", "Owner", "Badge"]));
  });
});
