/**
 * Created by, Last modified by and AI text, as Airtable's field model documents them
 * (https://airtable.com/developers/web/api/field-model#createdby, #lastmodifiedby, #aitext):
 * - createdBy / lastModifiedBy: read-only collaborator cells `{id, email, name}` — "The collaborator who created the
 *   record" / "the collaborator who most recently modified any editable field or just in specific editable fields";
 *   their field type has no options.
 * - aiText: read-only `{state: "empty" | "loading" | "generated", isStale, value}` or `{state: "error", errorType,
 *   isStale, value}`; options `prompt` (strings and `{field: {fieldId}}`) and `referencedFieldIds`.
 * - externalSyncSource ("Sync source", #syncsource): a synced table's read-only cell, the name of the source its record
 *   came from (a string); options `{choices: [{id, name, color?}]}`.
 * Writing any of them is refused as for other computed fields; formulas read people by name and AI text as its
 * value; cellFormat=string shows the same.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

let f: Fixture;
let base: BaseInfo;
let editor: { id: string; email: string; name: string };
let editorToken: string;

beforeEach(async () => {
  f = await fixture({ perBaseRps: 50 });
  editor = f.sandbox.addUser({ email: "eve@example.com", name: "Eve Editor" });
  editorToken = f.sandbox.createPersonalAccessToken(editor.id);
  base = f.sandbox.createBase(f.user.id, {
    name: "People",
    tables: [
      {
        name: "Ideas",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Notes", type: "multilineText" },
          { name: "Score", type: "number", options: { precision: 0 } },
          { name: "Author", type: "createdBy" },
          { name: "Editor", type: "lastModifiedBy" },
          { name: "Notes editor", type: "lastModifiedBy", options: { referencedFieldIds: ["Notes"] } },
          {
            name: "Summary",
            type: "aiText",
            options: { prompt: ["Summarise ", { field: { fieldId: "Notes" } }] },
          },
          { name: "Who", type: "formula", options: { formula: '{Author} & " / " & {Editor}' } },
          { name: "Summary text", type: "formula", options: { formula: "UPPER({Summary})" } },
          {
            name: "Source",
            type: "externalSyncSource",
            options: { choices: [{ name: "Sales base", color: "blueLight2" }, { name: "Jira" }] },
          },
        ],
        records: [
          { Name: "Alpha", Notes: "long notes about alpha", Score: 1, Summary: "Alpha in short", Source: "Jira" },
          { Name: "Beta", Score: 2, Summary: { state: "error", errorType: "rateLimited" } },
          { Name: "Gamma", Score: 3 },
        ],
      },
    ],
  });
  f.sandbox.grantAccess(base.id, editor.id, "edit");
});
afterEach(async () => {
  await f.sandbox.close();
});

const path = (): string => `/v0/${base.id}/Ideas`;
const record = (name: string) => f.sandbox.listRecordsDirect(base.id, "Ideas").find((r) => r.fields.Name === name);

describe("createdBy and lastModifiedBy", () => {
  it("read the creator and the last editor (of any field, or of the watched ones) as collaborator objects", async () => {
    const owner = { id: f.user.id, email: f.user.email, name: f.user.name };
    const alpha = record("Alpha");
    expect(alpha?.fields.Author).toEqual(owner);
    expect(alpha?.fields.Editor).toEqual(owner);
    expect(alpha?.fields["Notes editor"]).toEqual(owner);
    expect(record("Gamma")?.fields["Notes editor"]).toBeUndefined(); // its Notes were never written

    const id = alpha?.id as string;
    await sleep(5);
    const r = await f.call("PATCH", `${path()}/${id}`, { fields: { Score: 10 } }, editorToken);
    expect(r.status).toBe(200);
    const me = { id: editor.id, email: editor.email, name: editor.name };
    expect(r.body.fields.Author).toEqual(owner);
    expect(r.body.fields.Editor).toEqual(me);
    // Only Notes count for "Notes editor": the owner still made its latest change.
    expect(r.body.fields["Notes editor"]).toEqual(owner);

    await sleep(5);
    await f.call("PATCH", `${path()}/${id}`, { fields: { Notes: "rewritten" } }, editorToken);
    expect(record("Alpha")?.fields["Notes editor"]).toEqual(me);

    // A record the editor creates is theirs.
    const created = await f.call("POST", path(), { fields: { Name: "Delta" } }, editorToken);
    expect(created.body.fields.Author).toEqual(me);
    expect(created.body.fields.Editor).toEqual(me);
  });

  it("refuse every write (422 …because the field is computed) and have no options in the schema", async () => {
    for (const [field, value] of [
      ["Author", { id: f.user.id }],
      ["Editor", null],
      ["Summary", "written by hand"],
      ["Summary", { state: "generated", value: "x", isStale: false }],
    ] as const) {
      const r = await f.call("POST", path(), { fields: { Name: "x", [field]: value } });
      expect(r.status).toBe(422);
      expect(r.body).toEqual({
        error: {
          type: "INVALID_VALUE_FOR_COLUMN",
          message: `Field "${field}" cannot accept a value because the field is computed`,
        },
      });
    }
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const fields = schema.body.tables[0].fields as { id: string; name: string; type: string; options?: unknown }[];
    const byName = new Map(fields.map((x) => [x.name, x]));
    expect(byName.get("Author")).toEqual({ id: expect.any(String), name: "Author", type: "createdBy" });
    expect(byName.get("Notes editor")).toEqual({
      id: expect.any(String),
      name: "Notes editor",
      type: "lastModifiedBy",
    });
    const notesId = byName.get("Notes")?.id;
    expect(byName.get("Summary")?.options).toEqual({
      prompt: ["Summarise ", { field: { fieldId: notesId } }],
      referencedFieldIds: [notesId],
    });
    for (const type of ["createdBy", "lastModifiedBy", "aiText"]) {
      const r = await f.call("POST", `/v0/meta/bases/${base.id}/tables/${schema.body.tables[0].id}/fields`, {
        name: `New ${type}`,
        type,
      });
      expect(r.status).toBe(422);
      expect(r.body.error.type).toBe("UNSUPPORTED_FIELD_TYPE");
    }
  });
});

describe("aiText", () => {
  it("reads the seeded cells as the field model shows them and marks them stale when a prompt field changes", async () => {
    expect(record("Alpha")?.fields.Summary).toEqual({ state: "generated", isStale: false, value: "Alpha in short" });
    expect(record("Beta")?.fields.Summary).toEqual({
      state: "error",
      errorType: "rateLimited",
      isStale: false,
      value: null,
    });
    expect(record("Gamma")?.fields.Summary).toBeUndefined();

    const id = record("Alpha")?.id as string;
    // A change to a field the prompt does not use leaves the cell fresh; a PUT does not clear it either.
    const put = await f.call("PUT", `${path()}/${id}`, {
      fields: { Name: "Alpha", Notes: "long notes about alpha", Score: 5 },
    });
    expect(put.body.fields.Summary).toEqual({ state: "generated", isStale: false, value: "Alpha in short" });
    const patched = await f.call("PATCH", `${path()}/${id}`, { fields: { Notes: "new notes" } });
    expect(patched.body.fields.Summary).toEqual({ state: "generated", isStale: true, value: "Alpha in short" });
  });
});

describe("externalSyncSource", () => {
  it("reads the seeded source name, is described with its choices, and refuses every write, even a PUT's clearing", async () => {
    expect(record("Alpha")?.fields.Source).toBe("Jira");
    expect(record("Beta")?.fields.Source).toBeUndefined();
    const schema = await f.call("GET", `/v0/meta/bases/${base.id}/tables`);
    const source = (schema.body.tables[0].fields as { name: string }[]).find((x) => x.name === "Source");
    expect(source).toEqual({
      id: expect.any(String),
      name: "Source",
      type: "externalSyncSource",
      options: {
        choices: [
          { id: expect.stringMatching(/^sel/), name: "Sales base", color: "blueLight2" },
          { id: expect.stringMatching(/^sel/), name: "Jira" },
        ],
      },
    });
    for (const value of ["Sales base", null]) {
      const r = await f.call("POST", path(), { fields: { Name: "x", Source: value } });
      expect(r.status).toBe(422);
      expect(r.body.error).toEqual({
        type: "INVALID_VALUE_FOR_COLUMN",
        message: 'Field "Source" cannot accept a value because the field is computed',
      });
    }
    const id = record("Alpha")?.id as string;
    const put = await f.call("PUT", `${path()}/${id}`, { fields: { Name: "Alpha" } });
    expect(put.body.fields.Source).toBe("Jira");
    const created = await f.call("POST", `/v0/meta/bases/${base.id}/tables/${schema.body.tables[0].id}/fields`, {
      name: "Another source",
      type: "externalSyncSource",
    });
    expect(created.status).toBe(422);
    expect(created.body.error.type).toBe("UNSUPPORTED_FIELD_TYPE");
    // A formula reads the source as its name.
    const byFormula = await f.call("GET", `${path()}?filterByFormula=${encodeURIComponent('{Source} = "Jira"')}`);
    expect(byFormula.body.records.map((r: { fields: { Name: string } }) => r.fields.Name)).toEqual(["Alpha"]);
  });
});

describe("formulas and cellFormat=string", () => {
  it("read people by name and AI text as its value", async () => {
    const alpha = record("Alpha");
    expect(alpha?.fields.Who).toBe("Owner / Owner");
    expect(alpha?.fields["Summary text"]).toBe("ALPHA IN SHORT");
    expect(record("Beta")?.fields["Summary text"]).toBeUndefined();

    const byName = await f.call(
      "GET",
      `${path()}?filterByFormula=${encodeURIComponent('AND({Author} = "Owner", FIND("short", {Summary}))')}`,
    );
    expect(byName.body.records.map((r: { fields: { Name: string } }) => r.fields.Name)).toEqual(["Alpha"]);

    const text = await f.call("GET", `${path()}?cellFormat=string&timeZone=utc&userLocale=en-us`);
    const first = text.body.records[0].fields;
    expect(first.Author).toBe("Owner");
    expect(first.Editor).toBe("Owner");
    expect(first.Summary).toBe("Alpha in short");
    expect(first.Source).toBe("Jira");
    // An AI text in error has no value to show: the cell is empty as a string.
    expect(text.body.records[1].fields.Summary).toBeUndefined();
  });
});
