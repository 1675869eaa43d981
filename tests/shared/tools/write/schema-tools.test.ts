import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaLookupError } from "../../../../src/shared/schema-cache.ts";
import { startToolContextHarness, type ToolContextHarness } from "../../../support/tool-context-test-harness.ts";
import { ToolInputError } from "../../../../src/shared/tools/tool-input-error.ts";
import { createComment } from "../../../../src/shared/tools/write/create-comment.ts";
import { SETUP_ONLY_TYPES, SUPPORTED_TYPES } from "../../../../src/sandbox/fields/registry.ts";
import { checkCreatableType } from "../../../../src/shared/tools/write/check-fields.ts";
import { createField } from "../../../../src/shared/tools/write/create-field.ts";
import { createTable } from "../../../../src/shared/tools/write/create-table.ts";
import { updateField } from "../../../../src/shared/tools/write/update-field.ts";
import { updateTable } from "../../../../src/shared/tools/write/update-table.ts";
import { MAX_ATTACHMENT_BYTES, uploadAttachment } from "../../../../src/shared/tools/write/upload-attachment.ts";

let h: ToolContextHarness;
let baseId: string;
let contacts: { id: string; fields: { id: string; name: string }[] };
const fieldId = (name: string) => contacts.fields.find((f) => f.name === name)?.id ?? "";
const REC = "recAAAAAAAAAAAAAA";
const single = { typecast: false, onError: "continue" };

beforeAll(async () => {
  h = await startToolContextHarness("write-schema-tools");
  baseId = h.demo.base.id;
  const table = h.demo.base.tables.find((t) => t.name === "Contacts");
  if (table === undefined) throw new Error("demo base has no Contacts table");
  contacts = table;
});
afterAll(async () => {
  await h.close();
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ToolInputError) && !(error instanceof SchemaLookupError)) {
    throw new Error(`expected a refusal, got ${String(error)}`);
  }
  return error.message;
}

describe("create_table", () => {
  it("plans one item and no tableId", async () => {
    const fields = [
      { name: "Title", type: "singleLineText", description: "What it is" },
      { name: "Score", type: "number", options: { precision: 0 } },
    ];
    const plan = await h.plan(createTable, { baseId, name: "Projects", description: "Work", fields });
    expect(plan).toEqual({
      kind: "create_table",
      baseId,
      input: [{ name: "Projects", description: "Work", fields }],
      options: single,
    });
  });

  it("refuses a taken name (case-insensitively), no fields, and a field named twice", async () => {
    const fields = [{ name: "Name", type: "singleLineText" }];
    expect(await refusal(h.plan(createTable, { baseId, name: " contacts", fields }))).toBe(
      `A table named "Contacts" (${contacts.id}) already exists in base ${baseId} (names are compared ` +
        `case-insensitively). Choose another name.`,
    );
    expect(await refusal(h.plan(createTable, { baseId, name: "Projects", fields: [] }))).toMatch(
      /^fields is empty: a table needs at least one field/,
    );
    expect(
      await refusal(
        h.plan(createTable, {
          baseId,
          name: "Projects",
          fields: [...fields, { name: "Notes", type: "multilineText" }, { name: "NAME", type: "email" }],
        }),
      ),
    ).toMatch(/^fields\[2\]\.name "NAME" repeats fields\[0\]\.name/);
  });
});

describe("update_table", () => {
  it("resolves the table; renaming it to another case of its own name is allowed", async () => {
    const plan = await h.plan(updateTable, { baseId, tableId: "contacts", name: "CONTACTS" });
    expect(plan).toEqual({
      kind: "update_table",
      baseId,
      tableId: contacts.id,
      input: [{ name: "CONTACTS" }],
      options: single,
    });
    const described = await h.plan(updateTable, { baseId, tableId: contacts.id, description: "" });
    expect(described.input).toEqual([{ description: "" }]);
  });

  it("refuses a call changing nothing and a name another table has", async () => {
    expect(await refusal(h.plan(updateTable, { baseId, tableId: "Contacts" }))).toBe(
      "Nothing to change: give name, description, or both.",
    );
    expect(await refusal(h.plan(updateTable, { baseId, tableId: "Contacts", name: "companies" }))).toMatch(
      /^A table named "Companies" \(tbl\w+\) already exists/,
    );
  });
});

describe("create_field", () => {
  it("plans the field spec on the resolved table", async () => {
    const plan = await h.plan(createField, {
      baseId,
      tableId: "Contacts",
      name: "Rating",
      type: "number",
      options: { precision: 1 },
    });
    expect(plan).toEqual({
      kind: "create_field",
      baseId,
      tableId: contacts.id,
      input: [{ name: "Rating", type: "number", options: { precision: 1 } }],
      options: single,
    });
  });

  it("fills a checkbox's and a rating's options the way Airtable's interface does, keeping what was given", async () => {
    const plan = async (name: string, type: string, options?: Record<string, unknown>) =>
      (await h.plan(createField, { baseId, tableId: "Contacts", name, type, ...(options && { options }) }))
        .input[0] as {
        name: string;
        type: string;
        options?: Record<string, unknown>;
      };
    const done = await plan("Done", "checkbox");
    expect(done.options).toEqual({ icon: "check", color: "greenBright" });
    const score = await plan("Score", "rating", { max: 10, color: "redBright" });
    expect(score.options).toEqual({ icon: "star", color: "redBright", max: 10 });
    expect((await plan("Count", "number", { precision: 0 })).options).toEqual({ precision: 0 });
    // Airtable (the sandbox, strict: the field model lists icon and color as part of the write format) takes them.
    const contactsId = contacts.id;
    for (const spec of [done, score]) {
      const created = await h.ctx.airtable.createField(baseId, contactsId, spec);
      expect(created).toMatchObject({ name: spec.name, type: spec.type, options: spec.options });
    }
    const table = await h.plan(createTable, {
      baseId,
      name: "Chores",
      fields: [
        { name: "Chore", type: "singleLineText" },
        { name: "Done", type: "checkbox", options: { color: "blueBright" } },
      ],
    });
    expect((table.input[0] as { fields: unknown[] }).fields).toEqual([
      { name: "Chore", type: "singleLineText" },
      { name: "Done", type: "checkbox", options: { icon: "check", color: "blueBright" } },
    ]);
  });

  it("refuses, before queueing, a type Airtable's API cannot create: unknown or computed; never one it can", async () => {
    expect(await refusal(h.plan(createField, { baseId, tableId: "Contacts", name: "X", type: "bogusType" }))).toMatch(
      /^type: "bogusType" is not an Airtable field type\. Use one of: .*singleLineText/,
    );
    expect(await refusal(h.plan(createField, { baseId, tableId: "Contacts", name: "X", type: "formula" }))).toMatch(
      /^type: Airtable's API cannot create a formula field \(it is computed/,
    );
    expect(
      await refusal(
        h.plan(createTable, {
          baseId,
          name: "Projects",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "N", type: "rollup" },
          ],
        }),
      ),
    ).toMatch(/^fields\[1\]\.type: Airtable's API cannot create a rollup field/);
    // The same line as the sandbox (the faithful fake Airtable) draws: what it creates passes, what it refuses does not.
    for (const type of SUPPORTED_TYPES) {
      const refused = (() => {
        try {
          checkCreatableType(type, "type");
          return false;
        } catch {
          return true;
        }
      })();
      expect(refused, type).toBe(SETUP_ONLY_TYPES.has(type));
    }
  });

  it("refuses a name the table already has", async () => {
    expect(
      await refusal(h.plan(createField, { baseId, tableId: "Contacts", name: "notes", type: "singleLineText" })),
    ).toBe(
      `A field named "Notes" (${fieldId("Notes")}) already exists in table "Contacts" (${contacts.id}) (names are ` +
        `compared case-insensitively). Choose another name.`,
    );
  });

  it("checks a refused name once more against a fresh schema (the cached one may be stale)", async () => {
    await h.plan(createField, { baseId, tableId: "Contacts", name: "Fax", type: "phoneNumber" }); // caches the schema
    await h.ctx.airtable.updateField(baseId, contacts.id, fieldId("Phone"), { name: "Mobile" });
    const plan = await h.plan(createField, { baseId, tableId: "Contacts", name: "Phone", type: "phoneNumber" });
    expect(plan.input).toEqual([{ name: "Phone", type: "phoneNumber" }]);
  });
});

describe("update_field", () => {
  it("resolves fieldId given by name to the field's id", async () => {
    const plan = await h.plan(updateField, { baseId, tableId: "Contacts", fieldId: "deal size", name: "Deal value" });
    expect(plan).toEqual({
      kind: "update_field",
      baseId,
      tableId: contacts.id,
      input: [{ fieldId: fieldId("Deal size"), name: "Deal value" }],
      options: single,
    });
  });

  it("refuses an unknown field (listing the real ones), a taken name, and nothing to change", async () => {
    const unknown = await refusal(h.plan(updateField, { baseId, tableId: "Contacts", fieldId: "Deal", name: "X" }));
    // "Deal" is a word of "Deal size": named first (closest-name.ts, whole words), then every field.
    expect(unknown).toMatch(
      /^Unknown field "Deal" in fieldId \(table "Contacts" \(tbl\w+\)\)\. Did you mean "Deal size" \(fld\w+\)\? The fields are: /,
    );
    expect(unknown).toContain(`"Deal size" (${fieldId("Deal size")})`);
    expect(await refusal(h.plan(updateField, { baseId, tableId: "Contacts", fieldId: "Bio", name: "email" }))).toMatch(
      /^A field named "Email" \(fld\w+\) already exists in table "Contacts"/,
    );
    expect(await refusal(h.plan(updateField, { baseId, tableId: "Contacts", fieldId: "Bio" }))).toBe(
      "Nothing to change: give name, description, or both.",
    );
  });

  it("asked to change select options or a type, says how to do it instead of 'Nothing to change'", async () => {
    const options = await refusal(
      h.plan(updateField, {
        baseId,
        tableId: "Contacts",
        fieldId: "Stage",
        options: { choices: [{ name: "Lead" }, { name: "Won" }] },
      }),
    );
    expect(options).not.toMatch(/Nothing to change/);
    expect(options).toMatch(/typecast: true/);
    expect(options).toMatch(/Airtable UI/);
    const type = await refusal(h.plan(updateField, { baseId, tableId: "Contacts", fieldId: "Stage", type: "email" }));
    expect(type).toMatch(/type cannot be changed.*Airtable UI/);
  });
});

describe("create_comment", () => {
  it("plans the comment on the resolved table", async () => {
    const plan = await h.plan(createComment, {
      baseId,
      tableId: "contacts",
      recordId: REC,
      text: "Call back",
      parentCommentId: "comAAAAAAAAAAAAAA",
    });
    expect(plan).toEqual({
      kind: "create_comment",
      baseId,
      tableId: contacts.id,
      input: [{ recordId: REC, text: "Call back", parentCommentId: "comAAAAAAAAAAAAAA" }],
      options: single,
    });
    expect(await refusal(h.plan(createComment, { baseId, tableId: "Contacts", recordId: REC, text: "  \n" }))).toBe(
      "text is blank: give the comment's text.",
    );
  });
});

describe("upload_attachment", () => {
  const upload = (file: string, field = "files") =>
    h.plan(uploadAttachment, {
      baseId,
      tableId: "Contacts",
      recordId: REC,
      fieldId: field,
      filename: "hello.txt",
      contentType: "text/plain",
      file,
    });

  it("resolves the attachment field to its id and removes line breaks from the base64", async () => {
    const plan = await upload("aGVs\nbG8g\r\nd29y bGQ=");
    expect(plan).toEqual({
      kind: "upload_attachment",
      baseId,
      tableId: contacts.id,
      input: [
        {
          recordId: REC,
          fieldId: fieldId("Files"),
          contentType: "text/plain",
          filename: "hello.txt",
          file: "aGVsbG8gd29ybGQ=",
        },
      ],
      options: single,
    });
  });

  it("refuses a field that is not an attachment field, naming the ones that are", async () => {
    expect(await refusal(upload("aGk=", "Name"))).toBe(
      `fieldId: the field "Name" (${fieldId("Name")}) is a singleLineText field; files go into an attachment ` +
        `(multipleAttachments) field. Table "Contacts" (${contacts.id}) has: "Files" (${fieldId("Files")}).`,
    );
  });

  it("refuses what is not base64, a data: URL, and an empty file", async () => {
    for (const bad of ["not base64!", "aGk", "aGk=a", "aGk-_w==", "a==="]) {
      expect(await refusal(upload(bad))).toMatch(/^file is not valid base64: /);
    }
    expect(await refusal(upload("data:text/plain;base64,aGk="))).toMatch(/^file starts with a "data:…," prefix/);
    expect(await refusal(upload(" \n"))).toBe("file is empty: give the file's content in base64.");
  });

  it("takes 5 MB decoded and refuses a byte more, saying the limit", async () => {
    const plan = await upload(Buffer.alloc(MAX_ATTACHMENT_BYTES, 1).toString("base64"));
    expect(plan.input).toHaveLength(1);
    expect(await refusal(upload(Buffer.alloc(MAX_ATTACHMENT_BYTES + 1, 1).toString("base64")))).toMatch(
      /^file is 5,242,881 bytes once decoded; upload_attachment takes at most 5 MB \(5,242,880 bytes\)\. For a bigger file, put it at a public URL/,
    );
  });
});
