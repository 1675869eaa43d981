/**
 * Permissions as Airtable enforces them.
 * - Base permission levels (https://airtable.com/developers/web/api/list-bases: permissionLevel "none" | "read" |
 *   "comment" | "edit" | "create"): list bases shows them; reading needs "read", commenting "comment", writing
 *   records "edit", schema changes "create". A base the user may see but not write answers writes 403
 *   INVALID_PERMISSIONS; a base listed with "none" opens nothing (403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, as an
 *   unknown base).
 * - typecast creating a select option needs a creator: an editor gets 422 INVALID_MULTIPLE_CHOICE_OPTIONS
 *   "Insufficient permissions to create new select option" (https://github.com/Airtable/airtable.js/issues/138).
 * - Field and table editing restrictions (https://support.airtable.com/docs/field-and-table-editing-permissions)
 *   refuse that request with 403 INVALID_PERMISSIONS and the messages of Airtable's errors page
 *   (https://airtable.com/developers/web/api/errors, 403): a field, "You are not permitted to write cell values in
 *   field FIELD_NAME (FIELD_ID)"; a table's create limit, also for a typecast link that would create a record in it,
 *   "You are not permitted to create records in table TABLE_NAME (TABLE_ID)" (the linked table). A delete limit (not
 *   documented) keeps "…because the field or table has been configured to limit who can perform this operation"
 *   (https://github.com/GV14982/async-airtable/issues/55); the rest of the base stays writable.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../src/sandbox/index.ts";
import { fixture, type Fixture } from "./test-helpers.ts";

const RESTRICTED = {
  error: {
    type: "INVALID_PERMISSIONS",
    message:
      "You are not permitted to perform this operation because the field or table has been configured to limit who can perform this operation",
  },
};
/** The refusal of a write to a restricted field: Airtable names it. */
const restrictedField = (name: string, id: string) => ({
  error: {
    type: "INVALID_PERMISSIONS",
    message: `You are not permitted to write cell values in field ${name} (${id})`,
  },
});
/** The refusal of a record creation in a table that limits who may create records: Airtable names the table. */
const createRefused = (name: string, id: string) => ({
  error: { type: "INVALID_PERMISSIONS", message: `You are not permitted to create records in table ${name} (${id})` },
});
const tableId = (base: { tables: { id: string; name: string }[] }, name: string) =>
  base.tables.find((t) => t.name === name)!.id;
const NOT_PERMITTED = {
  error: { type: "INVALID_PERMISSIONS", message: "You are not permitted to perform this operation" },
};

let f: Fixture;
let other: { id: string; email: string };
let token: string;
let tasks: string;

beforeEach(async () => {
  f = await fixture({ perBaseRps: 10_000, perTokenRps: 10_000 });
  other = f.sandbox.addUser({ email: "colleague@example.com" });
  token = f.sandbox.createPersonalAccessToken(other.id);
  tasks = `/v0/${f.base.id}/Tasks`;
});
afterEach(() => f.sandbox.close());

const as = (method: string, path: string, body?: unknown) => f.call(method, path, body, token);
const fieldId = (table: string, field: string) =>
  f.base.tables.find((t) => t.name === table)!.fields.find((x) => x.name === field)!.id;

describe("base permission levels", () => {
  it("'none' lists the base but opens nothing of it", async () => {
    f.sandbox.grantAccess(f.base.id, other.id, "none");
    const bases = await as("GET", "/v0/meta/bases");
    expect(bases.body.bases).toEqual([{ id: f.base.id, name: "Test base", permissionLevel: "none" }]);
    for (const [method, path] of [
      ["GET", tasks],
      ["GET", `/v0/meta/bases/${f.base.id}/tables`],
    ] as const) {
      expect((await as(method, path)).body.error.type).toBe("INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND");
    }
    expect((await as("POST", tasks, { fields: { Name: "x" } })).status).toBe(403);
  });

  it("'read' reads, 'comment' also comments, neither writes records", async () => {
    const record = await f.call("POST", tasks, { fields: { Name: "shared" } });
    const comments = `${tasks}/${record.body.id}/comments`;
    f.sandbox.grantAccess(f.base.id, other.id, "read");
    expect((await as("GET", tasks)).body.records).toHaveLength(1);
    expect((await as("POST", comments, { text: "hi" })).body).toEqual(NOT_PERMITTED);
    f.sandbox.grantAccess(f.base.id, other.id, "comment");
    expect((await as("POST", comments, { text: "hi" })).status).toBe(200);
    for (const [method, path, body] of [
      ["POST", tasks, { fields: { Name: "x" } }],
      ["PATCH", tasks, { records: [{ id: record.body.id, fields: { Name: "y" } }] }],
      ["DELETE", `${tasks}/${record.body.id}`, undefined],
    ] as const) {
      expect((await as(method, path, body)).body).toEqual(NOT_PERMITTED);
    }
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks").map((r) => r.fields.Name)).toEqual(["shared"]);
  });

  it("'edit' writes records but only a creator's typecast creates select options or changes the schema", async () => {
    f.sandbox.grantAccess(f.base.id, other.id, "edit");
    expect((await as("POST", tasks, { fields: { Name: "x", Status: "Todo" } })).status).toBe(200);
    const option = await as("POST", tasks, { typecast: true, fields: { Name: "y", Status: "Blocked" } });
    expect(option.status).toBe(422);
    expect(option.body).toEqual({
      error: {
        type: "INVALID_MULTIPLE_CHOICE_OPTIONS",
        message: 'Insufficient permissions to create new select option ""Blocked""',
      },
    });
    expect(
      (await as("POST", `/v0/meta/bases/${f.base.id}/tables/Tasks/fields`, { name: "F", type: "email" })).body,
    ).toEqual(NOT_PERMITTED);
    f.sandbox.grantAccess(f.base.id, other.id, "create");
    const created = await as("POST", tasks, { typecast: true, fields: { Name: "y", Status: "Blocked" } });
    expect(created.body.fields.Status).toBe("Blocked");
  });
});

describe("field and table editing restrictions", () => {
  beforeEach(() => f.sandbox.grantAccess(f.base.id, other.id, "edit"));

  it("refuses a request that writes a restricted field, for that user only, and leaves the rest writable", async () => {
    f.sandbox.restrictField(f.base.id, "Tasks", "Count", other.id);
    const count = restrictedField("Count", fieldId("Tasks", "Count"));
    const batch = await as("POST", tasks, {
      records: [{ fields: { Name: "a" } }, { fields: { Name: "b", Count: 2 } }],
    });
    expect(batch.status).toBe(403);
    expect(batch.body).toEqual(count);
    expect(f.sandbox.listRecordsDirect(f.base.id, "Tasks")).toHaveLength(0);
    // Clearing it is writing it too.
    expect((await as("POST", tasks, { fields: { Count: null } })).body).toEqual(count);
    const ok = await as("POST", tasks, { fields: { Name: "a", Done: true } });
    expect(ok.status).toBe(200);
    // The owner is not restricted.
    const owner = await f.call("PATCH", tasks, { records: [{ id: ok.body.id, fields: { Count: 5 } }] });
    expect(owner.body.records[0].fields.Count).toBe(5);
    // A replace (PUT) that would clear the restricted cell is refused; one that does not touch it would not be.
    expect((await as("PUT", `${tasks}/${ok.body.id}`, { fields: { Name: "b" } })).body).toEqual(count);
    expect((await as("PATCH", `${tasks}/${ok.body.id}`, { fields: { Name: "b" } })).status).toBe(200);
    // Uploads count as writing the attachment field.
    f.sandbox.restrictField(f.base.id, "Tasks", "Files", other.id);
    const upload = await as("POST", `/v0/${f.base.id}/${ok.body.id}/Files/uploadAttachment`, {
      contentType: "text/plain",
      file: Buffer.from("x").toString("base64"),
      filename: "x.txt",
    });
    expect(upload.body).toEqual(restrictedField("Files", fieldId("Tasks", "Files")));
    f.sandbox.clearRestrictions(f.base.id);
    expect((await as("POST", tasks, { fields: { Count: 1 } })).status).toBe(200);
  });

  it("refuses record creation or deletion on a restricted table, and editing when the table is locked", async () => {
    const existing = await f.call("POST", tasks, { fields: { Name: "kept" } });
    f.sandbox.restrictTable(f.base.id, "Tasks", other.id, ["create", "delete"]);
    expect((await as("POST", tasks, { fields: { Name: "x" } })).body).toEqual(
      createRefused("Tasks", tableId(f.base, "Tasks")),
    );
    expect((await as("DELETE", `${tasks}?records[]=${existing.body.id}`)).body).toEqual(RESTRICTED);
    expect((await as("PATCH", `${tasks}/${existing.body.id}`, { fields: { Name: "edited" } })).status).toBe(200);
    // An upsert that would create a record is a creation.
    const upsert = await as("PATCH", tasks, {
      performUpsert: { fieldsToMergeOn: ["Name"] },
      records: [{ fields: { Name: "new one" } }],
    });
    expect(upsert.body).toEqual(createRefused("Tasks", tableId(f.base, "Tasks")));
    f.sandbox.restrictTable(f.base.id, "Tasks", other.id, ["update"]);
    expect((await as("PATCH", `${tasks}/${existing.body.id}`, { fields: { Name: "again" } })).body).toEqual(RESTRICTED);
    expect((await f.call("GET", `${tasks}/${existing.body.id}`)).body.fields.Name).toBe("edited");
  });

  it("refuses a typecast that would create a linked record in a table the user may not create records in", async () => {
    const crm: BaseInfo = f.sandbox.createBase(f.user.id, {
      name: "CRM",
      tables: [
        { name: "Companies", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Acme" }] },
        {
          name: "Contacts",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
          ],
        },
      ],
    });
    f.sandbox.grantAccess(crm.id, other.id, "edit");
    f.sandbox.restrictTable(crm.id, "Companies", other.id, ["create"]);
    const contacts = `/v0/${crm.id}/Contacts`;
    // Linking to an existing company by name is fine …
    const linked = await as("POST", contacts, { typecast: true, fields: { Name: "Ada", Company: ["Acme"] } });
    expect(linked.status).toBe(200);
    // … creating a new one is not.
    const refused = await as("POST", contacts, { typecast: true, fields: { Name: "Ben", Company: ["Initech"] } });
    // Airtable names the table the record would be created in: the linked one, not the one written to.
    expect(refused.body).toEqual(createRefused("Companies", tableId(crm, "Companies")));
    expect(f.sandbox.listRecordsDirect(crm.id, "Companies").map((r) => r.fields.Name)).toEqual(["Acme"]);
    expect(f.sandbox.listRecordsDirect(crm.id, "Contacts").map((r) => r.fields.Name)).toEqual(["Ada"]);
  });
});
