import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SchemaLookupError } from "../../../../src/shared/schema-cache.ts";
import { scopeCatalog } from "../../../../src/shared/auth/scopes.ts";
import { WRITE_KINDS } from "../../../../src/shared/operations/kinds/index.ts";
import {
  allTools,
  operationTools,
  readTools,
  scopesToCancel,
  writeTools,
} from "../../../../src/shared/tools/catalog.ts";
import type { ToolContext } from "../../../../src/shared/tools/define-tool.ts";
import { operationResultShape } from "../../../../src/shared/tools/operation-result.ts";
import { startToolContextHarness, type ToolContextHarness } from "../../../support/tool-context-test-harness.ts";
import { ToolInputError } from "../../../../src/shared/tools/tool-input-error.ts";
import { createRecord } from "../../../../src/shared/tools/write/create-record.ts";
import { createRecords } from "../../../../src/shared/tools/write/create-records.ts";
import { deleteRecords } from "../../../../src/shared/tools/write/delete-records.ts";
import { updateRecords } from "../../../../src/shared/tools/write/update-records.ts";
import { upsertRecords } from "../../../../src/shared/tools/write/upsert-records.ts";

let h: ToolContextHarness;
let baseId: string;
let contacts: { id: string; fields: { id: string; name: string }[] };
const fieldId = (name: string) => contacts.fields.find((f) => f.name === name)?.id ?? "";
/** `{ [id]: name }` of the demo table's fields called `fieldNames`: a plan's Operation.fieldNames. */
const names = (...fieldNames: string[]) => Object.fromEntries(fieldNames.map((name) => [fieldId(name), name]));
const REC_A = "recAAAAAAAAAAAAAA";
const REC_B = "recBBBBBBBBBBBBBB";

beforeAll(async () => {
  h = await startToolContextHarness("write-record-tools");
  baseId = h.demo.base.id;
  const table = h.demo.base.tables.find((t) => t.name === "Contacts");
  if (table === undefined) throw new Error("demo base has no Contacts table");
  contacts = table;
});
afterAll(async () => {
  await h.close();
});

/** The refusal `promise` ends with, checked to be one the agent sees as is. */
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

describe("create_record", () => {
  it("resolves the table and field keys (id, exact or case-insensitive name) to field ids, typecast on by default", async () => {
    const plan = await h.plan(createRecord, {
      baseId,
      tableId: "contacts",
      fields: { Name: "Ada", email: "ada@example.com", [fieldId("Stage")]: "Lead", "Deal size": null },
    });
    expect(plan).toEqual({
      kind: "create_records",
      baseId,
      tableId: contacts.id,
      input: [
        {
          fields: {
            [fieldId("Name")]: "Ada",
            [fieldId("Email")]: "ada@example.com",
            [fieldId("Stage")]: "Lead",
            [fieldId("Deal size")]: null,
          },
        },
      ],
      // Sent by id (a rename while it waits in the queue cannot break it), shown by the exact names.
      fieldNames: names("Name", "Email", "Stage", "Deal size"),
      options: { typecast: true, onError: "continue" },
    });
  });

  it("refuses an unknown field, listing the real names", async () => {
    const message = await refusal(h.plan(createRecord, { baseId, tableId: "Contacts", fields: { Nmae: "Ada" } }));
    // "Nmae" is one swap from "Name": that one is named first (closest-name.ts), then every field.
    expect(message).toMatch(
      /^Unknown field "Nmae" in fields \(table "Contacts" \(tbl\w+\)\)\. Did you mean "Name" \(fld\w+\)\? The fields are: /,
    );
    expect(message).toContain(`"Name" (${fieldId("Name")})`);
    expect(message).toContain(`"Deal size" (${fieldId("Deal size")})`);
  });

  it("refuses an unknown table, listing the real ones", async () => {
    const message = await refusal(h.plan(createRecord, { baseId, tableId: "Contactz", fields: { Name: "Ada" } }));
    expect(message).toMatch(
      /^Unknown table "Contactz" in app\w+\. Did you mean "Contacts" \(tbl\w+\)\? The tables are: "Companies" \(tbl\w+\), "Contacts"/,
    );
  });
});

describe("create_records", () => {
  it("keeps the records' order, passes typecast and onError, and names the table by id", async () => {
    const plan = await h.plan(createRecords, {
      baseId,
      tableId: contacts.id,
      records: [{ fields: { name: "Ada" } }, { fields: {} }, { fields: { NAME: "Ben", tags: ["vip"] } }],
      typecast: false,
      onError: "stop",
    });
    expect(plan).toEqual({
      kind: "create_records",
      baseId,
      tableId: contacts.id,
      input: [
        { fields: { [fieldId("Name")]: "Ada" } },
        { fields: {} },
        { fields: { [fieldId("Name")]: "Ben", [fieldId("Tags")]: ["vip"] } },
      ],
      fieldNames: names("Name", "Tags"),
      options: { typecast: false, onError: "stop" },
    });
  });

  it("says which record has the unknown field", async () => {
    const message = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Name: "Ada" } }, { fields: { Name: "Ben", Emial: "ben@example.com" } }],
      }),
    );
    expect(message).toMatch(/^Unknown field "Emial" in records\[1\]\.fields \(table "Contacts"/);
    expect(message).toContain(`"Email" (${fieldId("Email")})`);
  });

  it("refuses computed fields, naming the field and its type", async () => {
    const created = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Name: "A", Created: "2026-01-01" } }],
      }),
    );
    expect(created).toBe(
      `records[0].fields: the field "Created" (${fieldId("Created")}) cannot be written: its type, createdTime, ` +
        `is computed by Airtable. Remove it from fields.`,
    );
    const numbered = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Name: "A" } }, { fields: { Name: "B" } }, { fields: { [fieldId("Number")]: 7 } }],
      }),
    );
    expect(numbered).toMatch(
      /^records\[2\]\.fields: the field "Number" \(fld\w+\) cannot be written: its type, autoNumber, is computed/,
    );
  });

  it("refuses two keys naming the same field", async () => {
    const message = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Name: "Ada", [fieldId("Name")]: "Ben" } }],
      }),
    );
    expect(message).toBe(
      `records[0].fields names the field "Name" (${fieldId("Name")}) twice (as "Name" and "${fieldId("Name")}"). Give each field once.`,
    );
  });

  it("refuses an empty list", async () => {
    expect(await refusal(h.plan(createRecords, { baseId, tableId: "Contacts", records: [] }))).toBe(
      "records is empty: give at least one record.",
    );
  });

  it("takes MAX_RECORDS_PER_OPERATION records, and refuses one more before fetching anything", async () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ fields: { Name: `n${i}`, Email: `n${i}@x.io` } }));
    const started = performance.now();
    const plan = await h.plan(createRecords, { baseId, tableId: "Contacts", records });
    expect(performance.now() - started).toBeLessThan(2000);
    expect(plan.input).toHaveLength(5000);
    expect(plan.input[4999]).toEqual({ fields: { [fieldId("Name")]: "n4999", [fieldId("Email")]: "n4999@x.io" } });

    const fresh: ToolContext = { ...h.contextFor(h.demo.user.id), maxRecordsPerOperation: 3 };
    h.sandbox.clearRequests();
    const message = await refusal(
      h.plan(createRecords, { baseId, tableId: "Nowhere", records: records.slice(0, 4) }, fresh),
    );
    expect(message).toBe(
      "create_records takes at most 3 records per call on this server; this call has 4. Split it " +
        "into several calls of at most 3.",
    );
    expect(h.sandbox.requests).toHaveLength(0);
    expect(
      await refusal(h.plan(createRecords, { baseId, tableId: "Contacts", records: [...records, { fields: {} }] })),
    ).toMatch(/^create_records takes at most 5,000 records per call on this server; this call has 5,001\./);
  });

  it("fieldsToMergeOn: resolved to field ids; every record needs unique values for them", async () => {
    const plan = await h.plan(createRecords, {
      baseId,
      tableId: "Contacts",
      records: [{ fields: { Email: "a@x.io", Name: "A" } }, { fields: { Email: "b@x.io" } }],
      fieldsToMergeOn: ["email"],
    });
    expect(plan.options).toEqual({ typecast: true, onError: "continue", fieldsToMergeOn: [fieldId("Email")] });
    expect(plan.fieldNames).toEqual(names("Email", "Name"));

    const missing = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Email: "a@x.io" } }, { fields: { Name: "B" } }],
        fieldsToMergeOn: ["Email"],
      }),
    );
    expect(missing).toMatch(/^records\[1\] has no value for "Email" \(fld\w+\), a field of fieldsToMergeOn/);
    // An empty list leaves the cell empty too: it would match every empty cell.
    for (const [field, empty] of [["Tags", []]] as const) {
      const emptyCell = await refusal(
        h.plan(createRecords, {
          baseId,
          tableId: "Contacts",
          records: [{ fields: { Name: "A", [field]: empty } }],
          fieldsToMergeOn: ["Name", field],
        }),
      );
      expect(emptyCell).toContain(`records[0] has no value for "${field}"`);
      expect(emptyCell).toContain(`(${JSON.stringify(empty)} leaves the cell empty)`);
    }
    const twice = await refusal(
      h.plan(createRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Email: "a@x.io" } }, { fields: { Email: "b@x.io" } }, { fields: { Email: "a@x.io" } }],
        fieldsToMergeOn: ["Email"],
      }),
    );
    expect(twice).toMatch(/^records\[2\] has the same values for fieldsToMergeOn \("Email"\) as records\[0\]: /);
    expect(twice).toContain("leave fieldsToMergeOn out");
    // Airtable matches upserts on number, text, long text, single select, multiple select and date fields only:
    // a link, a checkbox or a collaborator is refused before anything is queued.
    for (const [field, type, value] of [
      ["Company", "multipleRecordLinks", ["Acme"]],
      ["Subscribed", "checkbox", true],
    ] as const) {
      const notMergeable = await refusal(
        h.plan(createRecords, {
          baseId,
          tableId: "Contacts",
          records: [{ fields: { Name: "A", [field]: value } }],
          fieldsToMergeOn: [field],
        }),
      );
      expect(notMergeable).toMatch(
        new RegExp(
          `^fieldsToMergeOn\\[0\\]: the field "${field}" \\(fld\\w+\\) cannot be merged on: its type, ${type}, is not one Airtable matches records on`,
        ),
      );
    }
    // A computed field cannot be merged on: said once, whether or not the records give it a value.
    for (const fields of [{ Name: "A" }, { Name: "A", Label: "A (Lead)" }]) {
      const computed = await refusal(
        h.plan(createRecords, { baseId, tableId: "Contacts", records: [{ fields }], fieldsToMergeOn: ["Label"] }),
      );
      expect(computed).toMatch(
        /^fieldsToMergeOn\[0\]: the field "Label" \(fld\w+\) cannot be merged on: its type, formula, is computed by Airtable/,
      );
    }
  });
});

describe("update_records", () => {
  it("plans ids with canonical fields; replace only when asked", async () => {
    const plan = await h.plan(updateRecords, {
      baseId,
      tableId: "Contacts",
      records: [
        { id: REC_A, fields: { stage: "Customer" } },
        { id: REC_B, fields: { Notes: "" } },
      ],
    });
    expect(plan).toEqual({
      kind: "update_records",
      baseId,
      tableId: contacts.id,
      input: [
        { id: REC_A, fields: { [fieldId("Stage")]: "Customer" } },
        { id: REC_B, fields: { [fieldId("Notes")]: "" } },
      ],
      fieldNames: names("Stage", "Notes"),
      options: { typecast: true, onError: "continue" },
    });
    const replacing = await h.plan(updateRecords, {
      baseId,
      tableId: "Contacts",
      records: [{ id: REC_A, fields: { Name: "X" } }],
      replace: true,
    });
    expect(replacing.options).toEqual({ typecast: true, onError: "continue", replace: true });
  });

  it("refuses a malformed record id and a record named twice, saying which", async () => {
    const bad = await refusal(
      h.plan(updateRecords, {
        baseId,
        tableId: "Contacts",
        records: [
          { id: REC_A, fields: {} },
          { id: "rec123", fields: {} },
        ],
      }),
    );
    expect(bad).toBe(
      'records[1].id "rec123" is not a record id: record ids look like recXXXXXXXXXXXXXX (rec and 14 letters or ' +
        "digits). Get them from list_records or search_records.",
    );
    const twice = await refusal(
      h.plan(updateRecords, {
        baseId,
        tableId: "Contacts",
        records: [
          { id: REC_A, fields: { Name: "X" } },
          { id: REC_B, fields: {} },
          { id: REC_A, fields: { Stage: "Lead" } },
        ],
      }),
    );
    expect(twice).toMatch(
      /^records\[2\]\.id "recAAAAAAAAAAAAAA" repeats records\[0\]\.id: Airtable refuses a write naming a record twice\. Give each record once/,
    );
  });

  it("refuses computed fields in updates too", async () => {
    expect(
      await refusal(
        h.plan(updateRecords, { baseId, tableId: "Contacts", records: [{ id: REC_A, fields: { created: "x" } }] }),
      ),
    ).toMatch(/^records\[0\]\.fields: the field "Created" \(fld\w+\) cannot be written: its type, createdTime/);
  });
});

describe("upsert_records", () => {
  it("plans merge fields by field id; a record with an id needs no merge values", async () => {
    const plan = await h.plan(upsertRecords, {
      baseId,
      tableId: "Contacts",
      records: [
        { fields: { email: "a@x.io", Name: "A", Stage: "Lead" } },
        { id: REC_A, fields: { Stage: "Customer" } },
      ],
      fieldsToMergeOn: [fieldId("Email"), "Name"],
    });
    expect(plan).toEqual({
      kind: "upsert_records",
      baseId,
      tableId: contacts.id,
      input: [
        { fields: { [fieldId("Email")]: "a@x.io", [fieldId("Name")]: "A", [fieldId("Stage")]: "Lead" } },
        { id: REC_A, fields: { [fieldId("Stage")]: "Customer" } },
      ],
      fieldNames: names("Email", "Name", "Stage"),
      options: { typecast: true, onError: "continue", fieldsToMergeOn: [fieldId("Email"), fieldId("Name")] },
    });
  });

  it("refuses unknown merge fields (listing the real ones), missing and duplicate merge values", async () => {
    const unknown = await refusal(
      h.plan(upsertRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Email: "a@x.io" } }],
        fieldsToMergeOn: ["Mail"],
      }),
    );
    expect(unknown).toMatch(/^Unknown field "Mail" in fieldsToMergeOn\[0\] \(table "Contacts"/);
    expect(unknown).toContain(`"Email" (${fieldId("Email")})`);
    const twice = await refusal(
      h.plan(upsertRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Email: "a@x.io" } }, { fields: { Email: "a@x.io", Stage: "Lead" } }],
        fieldsToMergeOn: ["Email"],
      }),
    );
    expect(twice).toMatch(
      /^records\[1\] has the same values for fieldsToMergeOn \("Email"\) as records\[0\]: both would write the same record/,
    );
    const sameField = await refusal(
      h.plan(upsertRecords, {
        baseId,
        tableId: "Contacts",
        records: [{ fields: { Email: "a@x.io" } }],
        fieldsToMergeOn: ["Email", "email"],
      }),
    );
    expect(sameField).toMatch(/^fieldsToMergeOn names the field "Email" \(fld\w+\) twice/);
  });
});

describe("delete_records", () => {
  it("plans one {id} per record id, in order", async () => {
    const plan = await h.plan(deleteRecords, {
      baseId,
      tableId: "contacts",
      recordIds: [REC_B, REC_A],
      onError: "stop",
    });
    expect(plan).toEqual({
      kind: "delete_records",
      baseId,
      tableId: contacts.id,
      input: [{ id: REC_B }, { id: REC_A }],
      options: { typecast: false, onError: "stop" },
    });
  });

  it("refuses empty lists, malformed and repeated ids", async () => {
    expect(await refusal(h.plan(deleteRecords, { baseId, tableId: "Contacts", recordIds: [] }))).toBe(
      "recordIds is empty: give at least one record id.",
    );
    expect(await refusal(h.plan(deleteRecords, { baseId, tableId: "Contacts", recordIds: [REC_A, "Ada"] }))).toMatch(
      /^recordIds\[1\] "Ada" is not a record id/,
    );
    expect(
      await refusal(h.plan(deleteRecords, { baseId, tableId: "Contacts", recordIds: [REC_A, REC_B, REC_B] })),
    ).toBe(
      'recordIds[2] "recBBBBBBBBBBBBBB" repeats recordIds[1]: Airtable refuses a write naming a record twice. Give each record once.',
    );
  });
});

describe("schema cache", () => {
  it("a field added in Airtable after the schema was cached is found (the cache is refreshed once)", async () => {
    await h.plan(createRecord, { baseId, tableId: "Contacts", fields: { Name: "warm the cache" } });
    const twitter = await h.ctx.airtable.createField(baseId, contacts.id, { name: "Twitter", type: "singleLineText" });
    const plan = await h.plan(createRecord, { baseId, tableId: "Contacts", fields: { twitter: "@ada" } });
    expect(plan.input).toEqual([{ fields: { [twitter.id]: "@ada" } }]);
    expect(plan.fieldNames).toEqual({ [twitter.id]: "Twitter" });
  });
});

describe("catalog", () => {
  const byName = new Map(allTools.map((t) => [t.name, t]));

  it("offers every tool once: read tools, operation tools, then write tools", () => {
    expect(allTools).toEqual([...readTools, ...operationTools, ...writeTools]);
    expect(byName.size).toBe(allTools.length);
    expect(operationTools.map((t) => [t.name, t.kind, t.scopes])).toEqual([
      ["get_operation", "read", []],
      ["list_operations", "read", []],
      // Its scopes are the operation's (scopesToCancel), checked by the HTTP layer once the operation is read.
      ["cancel_operation", "read", []],
    ]);
  });

  it("declares each write tool's scopes and annotations", () => {
    const expected: Record<string, [string, boolean, boolean]> = {
      // scope, destructiveHint, idempotentHint
      create_record: ["records:write", false, false],
      create_records: ["records:write", false, false],
      update_records: ["records:write", true, true],
      upsert_records: ["records:write", true, true],
      delete_records: ["records:write", true, true],
      create_table: ["schema:write", false, false],
      update_table: ["schema:write", true, true],
      create_field: ["schema:write", false, false],
      update_field: ["schema:write", true, true],
      create_comment: ["comments:write", false, false],
      upload_attachment: ["records:write", false, false],
    };
    expect(writeTools.map((t) => t.name).sort()).toEqual(Object.keys(expected).sort());
    for (const tool of writeTools) {
      const [scope, destructiveHint, idempotentHint] = expected[tool.name] ?? [];
      expect({ name: tool.name, kind: tool.kind, scopes: tool.scopes, annotations: tool.annotations }).toEqual({
        name: tool.name,
        kind: "write",
        scopes: [scope],
        annotations: { readOnlyHint: false, destructiveHint, idempotentHint, openWorldHint: true },
      });
      expect(tool.outputSchema).toBe(operationResultShape);
    }
  });

  it("cancelling an operation needs the scopes of the write tool that made it, which carry its kind's Airtable scope", () => {
    expect(Object.fromEntries(WRITE_KINDS.map((k) => [k.name, scopesToCancel(k.name)]))).toEqual({
      create_records: ["records:write"],
      update_records: ["records:write"],
      upsert_records: ["records:write"],
      delete_records: ["records:write"],
      create_table: ["schema:write"],
      update_table: ["schema:write"],
      create_field: ["schema:write"],
      update_field: ["schema:write"],
      create_comment: ["comments:write"],
      upload_attachment: ["records:write"],
    });
    for (const kind of WRITE_KINDS) {
      // The tool of the kind's name makes it; its scopes grant the Airtable scope the kind's requests need.
      expect(byName.get(kind.name)?.scopes).toEqual(scopesToCancel(kind.name));
      expect(scopesToCancel(kind.name).flatMap((s) => scopeCatalog[s].airtable)).toContain(kind.scope);
    }
    // create_record makes create_records operations (see its plan above): the same scopes stop them.
    expect(createRecord.scopes).toEqual(scopesToCancel("create_records"));
  });
});
