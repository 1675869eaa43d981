/**
 * A record write whose typecast adds select options changes the base's schema ("If typecast is enabled, a new choice
 * will be created if one does not exactly match", https://airtable.com/developers/web/api/field-model, Single
 * select), and describe_table, which the agent is told lists a field's options, shows the new ones right after the
 * write — not the cached schema of up to 60 s before. A write naming only existing options leaves the cache alone
 * (no extra schema request). Real MCP client over HTTP, the sandbox, writes on the embedded runner.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BaseInfo } from "../../../src/sandbox/index.ts";
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

function tasksBase(name: string): BaseInfo {
  return h.sandbox.createBase(h.demo.user.id, {
    name,
    tables: [
      {
        name: "Tasks",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Status", type: "singleSelect", options: { choices: [{ name: "Todo" }, { name: "Done" }] } },
          { name: "Tags", type: "multipleSelects", options: { choices: [{ name: "urgent" }] } },
        ],
      },
    ],
  });
}

/** The option names describe_table lists for `field`. */
async function listedOptions(baseId: string, field: string): Promise<string[]> {
  const answer = await call("describe_table", { baseId, tableId: "Tasks" });
  expect(answer.isError, answer.text).toBe(false);
  const table = answer.data.table as { fields: { name: string; options?: { choices?: { name: string }[] } }[] };
  return (table.fields.find((f) => f.name === field)?.options?.choices ?? []).map((c) => c.name);
}

/** Base schema requests (GET …/meta/bases/{baseId}/tables) the sandbox has answered for `baseId`. */
const schemaReads = (baseId: string) =>
  h.sandbox.requests.filter((r) => r.method === "GET" && r.path.includes(`/meta/bases/${baseId}/tables`)).length;

describe("select options a typecast write adds", () => {
  it("describe_table lists them right after the write (create, update and upsert)", async () => {
    const base = tasksBase("Typecast options");
    // The agent looks first: the schema is now cached.
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);

    const created = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "a", Status: "Blocked" },
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "Blocked"]);

    const id = (created.data.results as { id: string }[])[0]!.id;
    const updated = await call("update_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ id, fields: { Tags: "urgent, later" } }],
    });
    expect(updated.data.status, updated.text).toBe("completed");
    expect(await listedOptions(base.id, "Tags")).toEqual(["urgent", "later"]);

    const upserted = await call("upsert_records", {
      baseId: base.id,
      tableId: "Tasks",
      fieldsToMergeOn: ["Name"],
      records: [{ fields: { Name: "b", Status: "Waiting" } }],
    });
    expect(upserted.data.status, upserted.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "Blocked", "Waiting"]);
  });

  it("a number or boolean typecast turns into a new option is listed too", async () => {
    const base = tasksBase("Typecast number options");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "n", Status: 3, Tags: [true] } }],
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done", "3"]);
    expect(await listedOptions(base.id, "Tags")).toEqual(["urgent", "true"]);
  });

  it("a write naming only existing options leaves the cached schema alone", async () => {
    const base = tasksBase("Existing options");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    const before = schemaReads(base.id);
    expect(before).toBeGreaterThan(0);
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `t${i}`, Status: "Done", Tags: ["urgent"] } })),
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(await listedOptions(base.id, "Status")).toEqual(["Todo", "Done"]);
    expect(schemaReads(base.id)).toBe(before);
  });
});

/** A base of its own with a CRM-like table: Stage (single select), Tags (multiple select), Tier (digits). */
function crmBase(name: string): BaseInfo {
  return h.sandbox.createBase(h.demo.user.id, {
    name,
    tables: [
      {
        name: "Tasks",
        fields: [
          { name: "Name", type: "singleLineText" },
          {
            name: "Stage",
            type: "singleSelect",
            options: { choices: ["Lead", "Qualified", "Customer", "Churned"].map((n) => ({ name: n })) },
          },
          {
            name: "Tags",
            type: "multipleSelects",
            options: { choices: ["vip", "newsletter", "partner"].map((n) => ({ name: n })) },
          },
          { name: "Tier", type: "singleSelect", options: { choices: [{ name: "Tier 1" }] } },
        ],
      },
    ],
  });
}

/** Record writes the sandbox has been asked for on `baseId` (POST/PATCH/PUT on its records). */
const recordWrites = (baseId: string) =>
  h.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${baseId}/`)).length;

/** The operations list_operations shows on `baseId`. */
async function operationsOn(baseId: string): Promise<unknown[]> {
  const listed = await call("list_operations", { limit: 50 });
  return (listed.data.operations as { baseId: string }[]).filter((o) => o.baseId === baseId);
}

describe("a select value that is an option but for case or spaces", () => {
  it("is refused with or without typecast, every such value named with the option to give; nothing queued", async () => {
    const base = crmBase("Variants");
    for (const typecast of [true, false]) {
      const answer = await call("create_records", {
        baseId: base.id,
        tableId: "Tasks",
        typecast,
        records: [
          { fields: { Name: "a", Stage: "customer" } },
          { fields: { Name: "b", Stage: "Lead " } },
          { fields: { Name: "c", Stage: "LEAD", Tags: ["VIP", "partner"] } },
          { fields: { Name: "d", Stage: "customer", Tags: ["news  letter"] } },
          { fields: { Name: "e", Stage: "Qualified", Tags: [" Newsletter"] } },
        ],
      });
      expect(answer.isError, answer.text).toBe(true);
      // Without typecast "news  letter" is no option at all ("news letter" once its spaces are collapsed, not
      // "newsletter"): the same answer names it first, so that every fix is asked for at once.
      const unknown = typecast
        ? ""
        : 'records[3].fields: "news  letter" is not an option of "Tags" (a multiple select field): its options are ' +
          '"vip", "newsletter", "partner". Give one of them, or pass typecast: true to add "news  letter" as a new ' +
          "option.\n";
      expect(answer.text).toBe(
        unknown +
          "5 select values of this call differ from an option only in case or spaces; nothing was queued. Airtable " +
          "matches option names exactly (case and spaces included), so it would refuse the record without typecast, " +
          "and with typecast add a second option that differs only in case or spaces, splitting the field's " +
          "categories. Give the option as it is spelt (value given → option to give):\n" +
          '- "Stage": "customer" → "Customer" (records[0].fields, records[3].fields)\n' +
          '- "Stage": "Lead " → "Lead" (records[1].fields)\n' +
          '- "Stage": "LEAD" → "Lead" (records[2].fields)\n' +
          '- "Tags": "VIP" → "vip" (records[2].fields)\n' +
          '- "Tags": " Newsletter" → "newsletter" (records[4].fields)',
      );
    }
    expect(await operationsOn(base.id)).toEqual([]);
    expect(recordWrites(base.id)).toBe(0);
    expect(await listedOptions(base.id, "Stage")).toEqual(["Lead", "Qualified", "Customer", "Churned"]);
    expect(await listedOptions(base.id, "Tags")).toEqual(["vip", "newsletter", "partner"]);
  });

  it("one value in one place: one sentence naming the field, the value and the option", async () => {
    const base = crmBase("One variant");
    const answer = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "x", Stage: "customer" },
    });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      'fields: "customer" is not an option of "Stage" (a single select field), but "Customer" is: Airtable matches ' +
        "option names exactly (case and spaces included), so it would refuse the record without typecast, and with " +
        "typecast add a second option that differs only in case or spaces, splitting the field's categories. Give " +
        '"Customer".',
    );
    // Collapsed inner spaces and a multiple select given as typecast text ("a, b") are matched the same way.
    const update = await call("update_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ id: "rec00000000000000", fields: { Stage: "Churned", Tags: "vip, PARTNER" } }],
    });
    expect(update.text).toContain('"PARTNER" is not an option of "Tags" (a multiple select field), but "partner" is');
    expect(recordWrites(base.id)).toBe(0);
  });

  it("the same variant twice in one multiple select cell is named once, with the field's type", async () => {
    const base = crmBase("Variant twice");
    const answer = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "x", Tags: ["VIP", "VIP"] },
    });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      'fields: "VIP" is not an option of "Tags" (a multiple select field), but "vip" is: Airtable matches option ' +
        "names exactly (case and spaces included), so it would refuse the record without typecast, and with " +
        "typecast add a second option that differs only in case or spaces, splitting the field's categories. Give " +
        '"vip".',
    );
    expect(recordWrites(base.id)).toBe(0);
  });

  it("two spellings of one new option in a call are refused too: typecast would add both", async () => {
    const base = crmBase("New variants");
    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "a", Tags: ["Gold"] } }, { fields: { Name: "b", Tags: ["gold"] } }],
    });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      'records[1].fields: "gold" differs only in case or spaces from "Gold", which records[0].fields gives "Tags" as ' +
        "a new option: Airtable matches option names exactly, so typecast would add both, two options a person " +
        "cannot tell apart. Give one spelling for both.",
    );
    expect(recordWrites(base.id)).toBe(0);
  });
});

describe("the answer of a write whose typecast creates select options", () => {
  const stageExisting = '"Stage": "Custmer" (existing: "Lead", "Qualified", "Customer", "Churned")';

  it("names them and the close existing option, in the first answer and in get_operation later; exact options: nothing", async () => {
    const base = crmBase("New option answer");
    // Only existing options, exactly as spelt: the answer says nothing of options.
    const exact = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "a", Stage: "Customer", Tags: ["vip", "partner"], Tier: "Tier 1" } }],
    });
    expect(exact.data.message, exact.text).toBe("Done: 1 record written of 1.");
    expect((await call("get_operation", { operationId: exact.data.operationId })).data.message).toBe(
      "Done: 1 record written of 1.",
    );

    // typecast given explicitly: the close option is created, and named in the answer.
    const created = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "x", Stage: "Custmer" },
      typecast: true,
    });
    expect(created.data.status, created.text).toBe("completed");
    const expected =
      "Done: 1 record written of 1. New select options, which Airtable creates because typecast is on: " +
      `${stageExisting}. "Custmer" is close to "Customer"; to use the existing option, update these records with ` +
      '"Customer": results index 0. A new option stays in its field after the records are updated: remove it in ' +
      "Airtable's interface.";
    expect(created.data.message).toBe(expected);
    const polled = await call("get_operation", { operationId: created.data.operationId });
    expect(polled.data.message).toBe(expected);
    expect(await listedOptions(base.id, "Stage")).toEqual(["Lead", "Qualified", "Customer", "Churned", "Custmer"]);
  });

  it("multiple select: each new option once per field, close ones named with their records; digits are no typo", async () => {
    const base = crmBase("New multi options");
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      typecast: true,
      records: [
        { fields: { Name: "a", Tags: ["newsleter", "Gold"], Tier: "Tier 2" } },
        { fields: { Name: "b", Tags: ["vip"] } },
        { fields: { Name: "c", Tags: "Gold, newsleter" } },
      ],
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(created.data.message).toBe(
      "Done: 3 records written of 3. New select options, which Airtable creates because typecast is on: " +
        '"Tags": "newsleter", "Gold" (existing: "vip", "newsletter", "partner"); "Tier": "Tier 2" (existing: ' +
        '"Tier 1"). "newsleter" is close to "newsletter"; to use the existing option, update these records with ' +
        '"newsletter": results index 0, 2. A new option stays in its field after the records are updated: remove ' +
        "it in Airtable's interface.",
    );
    expect(await listedOptions(base.id, "Tags")).toEqual(["vip", "newsletter", "partner", "newsleter", "Gold"]);
  });

  it("a big call lists the first 20 new options of a field and counts the rest", async () => {
    const base = crmBase("Many new options");
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: Array.from({ length: 23 }, (_, i) => ({ fields: { Name: `r${i}`, Stage: `Segment ${i}` } })),
    });
    expect(created.data.status, created.text).toBe("completed");
    const listed = Array.from({ length: 20 }, (_, i) => `"Segment ${i}"`).join(", ");
    expect(created.data.message).toContain(
      `New select options, which Airtable creates because typecast is on: "Stage": ${listed} and 3 more (existing: ` +
        '"Lead", "Qualified", "Customer", "Churned").',
    );
  });
});

/** The refusal's reason and escape, as closeOptionsRefusal words them. */
const closeWhy =
  "Airtable's API cannot remove a select option once it is added (only Airtable's interface can), so nothing was queued";
const closeEscape = "send the call again with typecast: true given explicitly";

describe("a new option close to an existing one, typecast left to its default", () => {
  it("is refused before anything is queued, naming the field, the value, the option and the escape; explicit typecast: true creates it", async () => {
    const base = crmBase("Close option refused");
    const args = { baseId: base.id, tableId: "Tasks", fields: { Name: "x", Stage: "Custmer" } };
    const refused = await call("create_record", args);
    expect(refused.isError, refused.text).toBe(true);
    expect(refused.text).toBe(
      'fields: "Custmer" is not an option of "Stage" (a single select field) but is close to "Customer": typecast, ' +
        `on by default, would add "Custmer" as a new option, and ${closeWhy}. To use the existing option, give ` +
        `"Customer"; to create "Custmer" as a new option on purpose, ${closeEscape}.`,
    );
    expect(await operationsOn(base.id)).toEqual([]);
    expect(recordWrites(base.id)).toBe(0);
    expect(await listedOptions(base.id, "Stage")).toEqual(["Lead", "Qualified", "Customer", "Churned"]);

    // The escape, as the refusal says: the same call with typecast: true creates it and names it in the answer.
    const created = await call("create_record", { ...args, typecast: true });
    expect(created.data.status, created.text).toBe("completed");
    expect(created.data.message).toContain(
      'New select options, which Airtable creates because typecast is on: "Stage": "Custmer" (existing: "Lead", ' +
        '"Qualified", "Customer", "Churned"). "Custmer" is close to "Customer"',
    );
    expect(await listedOptions(base.id, "Stage")).toEqual(["Lead", "Qualified", "Customer", "Churned", "Custmer"]);
  });

  it("an option far from every existing one is still created, with the note", async () => {
    const base = crmBase("Far option");
    const created = await call("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "x", Stage: "Prospect" },
    });
    expect(created.data.status, created.text).toBe("completed");
    expect(created.data.message).toBe(
      "Done: 1 record written of 1. New select options, which Airtable creates because typecast is on: " +
        '"Stage": "Prospect" (existing: "Lead", "Qualified", "Customer", "Churned").',
    );
    expect(await listedOptions(base.id, "Stage")).toEqual(["Lead", "Qualified", "Customer", "Churned", "Prospect"]);
  });

  it("multiple select and several fields: every close option in one refusal, far ones and digits not named", async () => {
    const base = crmBase("Close options multi");
    const records = [
      { fields: { Name: "a", Tags: ["newsleter", "Gold"], Tier: "Tier 2" } },
      { fields: { Name: "b", Stage: "Custmer", Tags: ["vip"] } },
      { fields: { Name: "c", Tags: "Gold, newsleter" } },
    ];
    const refused = await call("update_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: records.map((r, i) => ({ id: `rec0000000000000${i}`, fields: r.fields })),
    });
    expect(refused.isError, refused.text).toBe(true);
    expect(refused.text).toBe(
      "2 select values of this call are new options close to an existing one of their field: typecast, on by " +
        `default, would add each as a new option, and ${closeWhy}. Give the existing option (value given → ` +
        "existing option):\n" +
        '- "Tags": "newsleter" → "newsletter" (records[0].fields, records[2].fields)\n' +
        '- "Stage": "Custmer" → "Customer" (records[1].fields)\n' +
        `To create them as new options on purpose, ${closeEscape}.`,
    );
    expect(recordWrites(base.id)).toBe(0);
    expect(await operationsOn(base.id)).toEqual([]);
    expect(await listedOptions(base.id, "Tags")).toEqual(["vip", "newsletter", "partner"]);

    const created = await call("create_records", { baseId: base.id, tableId: "Tasks", records, typecast: true });
    expect(created.data.status, created.text).toBe("completed");
    expect(created.data.message).toContain('"newsleter" is close to "newsletter"');
    expect(created.data.message).toContain('"Custmer" is close to "Customer"');
    expect(await listedOptions(base.id, "Tags")).toEqual(["vip", "newsletter", "partner", "newsleter", "Gold"]);
  });

  it("is refused in the same answer as a variant of an existing option", async () => {
    const base = crmBase("Close and variant");
    const answer = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "a", Stage: "customer" } }, { fields: { Name: "b", Tags: ["newsleter"] } }],
    });
    expect(answer.isError, answer.text).toBe(true);
    expect(answer.text).toBe(
      'records[0].fields: "customer" is not an option of "Stage" (a single select field), but "Customer" is: ' +
        "Airtable matches option names exactly (case and spaces included), so it would refuse the record without " +
        "typecast, and with typecast add a second option that differs only in case or spaces, splitting the " +
        'field\'s categories. Give "Customer".\n' +
        'records[1].fields: "newsleter" is not an option of "Tags" (a multiple select field) but is close to ' +
        `"newsletter": typecast, on by default, would add "newsleter" as a new option, and ${closeWhy}. To use the ` +
        `existing option, give "newsletter"; to create "newsleter" as a new option on purpose, ${closeEscape}.`,
    );
    expect(recordWrites(base.id)).toBe(0);
  });
});

describe("a select option's id given without typecast", () => {
  it("is refused by Airtable, and the record's error says to give the option's name, not to add the id as an option", async () => {
    // A CRM trial's agent copied an option's id from describe_table into an update with typecast: false. The
    // sandbox, like the field model (whose cell format is the option's name), refuses it with Airtable's
    // "Insufficient permissions to create new select option", and the error went on "to add "sel…" as a new option,
    // pass typecast: true": advice to create an option named after an id (which the next call's checks refuse).
    const base = tasksBase("Option id");
    const table = base.tables.find((t) => t.name === "Tasks")!;
    const described = await call("describe_table", { baseId: base.id, tableId: "Tasks" });
    const fields = (described.data.table as { fields: { name: string; options?: { choices?: unknown[] } }[] }).fields;
    const choices = fields.find((f) => f.name === "Status")!.options!.choices as { id: string; name: string }[];
    const done = choices.find((c) => c.name === "Done")!.id;
    const created = await call("create_records", {
      baseId: base.id,
      tableId: "Tasks",
      typecast: false,
      records: [{ fields: { Name: "By option id", Status: done } }],
    });
    expect(created.isError, created.text).toBe(false);
    const [result] = created.data.results as { error?: { type: string; message: string } }[];
    expect(result?.error?.type).toBe("INVALID_MULTIPLE_CHOICE_OPTIONS");
    expect(result?.error?.message).toBe(
      `"${done}" is not an existing option of the select field "Status", so Airtable refused the record. "${done}" ` +
        "looks like the id of an option (sel…): a select cell takes the option's name (the field model's cell " +
        "format). Give the option's name instead (describe_table lists each option's id and name). " +
        `(Airtable: Insufficient permissions to create new select option ""${done}"")`,
    );
    expect(h.sandbox.listRecordsDirect(base.id, table.id)).toEqual([]);
  });
});
