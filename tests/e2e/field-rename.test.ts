/**
 * Writes that outlive a field rename, end to end: a server and a worker process, real Redis and BullMQ, the Airtable
 * sandbox renaming fields through its meta API (as a person does in Airtable) and the MCP SDK's client.
 * - A write waits in the queue (here: no worker yet) while its fields are renamed: it is still written, since the
 *   operation keeps its cells by field id; every record kind, merge fields, and a field the agent gave by id.
 * - A field renamed just before the call, while the server's cached schema (60 s) still has the old name: the call
 *   is checked against the cache, and written all the same; so is a link given by name whose linked table's primary
 *   field was renamed (the name lookup's formula is made again from a fresh schema). A name that passed to another
 *   field (two fields' names swapped) is written where Airtable has it now, the cached schema being read again.
 * - What the agent reads names fields as its call did: an in-doubt record's input after a lost answer, and Airtable's
 *   refusal of a field deleted meanwhile (which names the field id that was sent).
 * - A field deleted while the cached schema still lists it: a read naming it is told by name, with the real fields
 *   (not Airtable's refusal of an id the agent never gave), and after a write's refusal describe_table stops listing it.
 *   An import writing it stops at the first refused request: the rest is not sent, and the operation fails naming it.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { WRITE_NAMES_MAX_AGE_MS } from "../../src/shared/tools/write/check-fields.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { callWriteTool, pollOperation, type OperationAnswer } from "./helpers/write-operations.ts";

const FIELD_ID = /fld[A-Za-z0-9]{14}/;

let sandbox: Sandbox;
let deployment: Deployment;
let account: SeededAccount;
let client: Client;
let pat: string;
let baseId: string;
let peopleId: string;
let companiesId: string;
let placesId: string;
let filesId: string;

beforeAll(async () => {
  const plan = await planDeployment("field-rename", 1);
  // The renames below are requests to the base outside the server's limiter: room for them, so that neither they
  // nor the server's own requests meet a 429 (this test is about renames, not rate limits).
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient], perBaseRps: 20 });
  account = seedAccount(sandbox, "renamer");
  pat = sandbox.createPersonalAccessToken(account.user.id);
  const base = sandbox.createBase(account.user.id, {
    name: "Renames",
    tables: [
      { name: "Companies", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Acme" }] },
      // Two fields whose names are swapped in Airtable while the server's cached schema has them the other way.
      {
        name: "Places",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "City", type: "singleLineText" },
          { name: "Country", type: "singleLineText" },
        ],
        records: [{ Name: "Office", City: "Lyon", Country: "France" }],
      },
      // Two attachment fields whose names are swapped, for the single-item writes that name a field.
      {
        name: "Files",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Photo", type: "multipleAttachments" },
          { name: "Receipt", type: "multipleAttachments" },
        ],
        records: [{ Name: "Trip" }],
      },
      {
        name: "People",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Email", type: "email" },
          { name: "Count", type: "number", options: { precision: 0 } },
          // Rich text: the read-back of a lost create cannot compare it, so such a record stays in doubt.
          { name: "Notes", type: "richText" },
          { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
          // Deleted (in Airtable's interface) by the last tests, one each.
          { name: "Extra", type: "singleLineText" },
          { name: "Spare", type: "singleLineText" },
          { name: "Memo", type: "singleLineText" },
          { name: "Label", type: "singleLineText" },
        ],
        records: [
          { Name: "Ada", Email: "ada@x.io", Count: 1 },
          { Name: "Eve", Email: "eve@x.io", Count: 5 },
        ],
      },
    ],
  });
  baseId = base.id;
  peopleId = base.tables.find((t) => t.name === "People")!.id;
  companiesId = base.tables.find((t) => t.name === "Companies")!.id;
  placesId = base.tables.find((t) => t.name === "Places")!.id;
  filesId = base.tables.find((t) => t.name === "Files")!.id;
  for (const table of base.tables) fieldIds.set(table.id, new Map(table.fields.map((f) => [f.name, f.id])));
  // No worker yet: the first test's writes wait in the queue.
  deployment = await startDeployment(plan, sandbox.url, { WRITE_WAIT_MS: "1500", RECONCILE_SETTLE_MS: "300" });
  const provider = new TestOAuthProvider({ sandboxUser: account.user.id });
  client = (await signInAndConnect(deployment.resource, provider)).client;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** Field ids by table id and the field's name when the base was made (a rename keeps the id). */
const fieldIds = new Map<string, Map<string, string>>();

/** Renames a field as a person would in Airtable: through the meta API, not through this server. */
async function rename(tableId: string, from: string, to: string): Promise<void> {
  const id = fieldIds.get(tableId)?.get(from);
  const response = await fetch(`${sandbox.url}/v0/meta/bases/${baseId}/tables/${tableId}/fields/${id}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${pat}`, "content-type": "application/json" },
    body: JSON.stringify({ name: to }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  fieldIds.get(tableId)?.set(to, id!);
}

/** The People records in the sandbox, by their (current) name field. */
function people(nameField: string): Map<string, Record<string, unknown>> {
  return new Map(sandbox.listRecordsDirect(baseId, peopleId).map((r) => [String(r.fields[nameField]), r.fields]));
}

/**
 * Leaves the server's schema cache (60 s) with the base's current names, as an agent's read does: a read naming
 * `field`, which a cached schema older than its last rename lacks, reads the schema afresh.
 */
async function cacheSchemaWith(field: string): Promise<void> {
  const read = await callTool(client, "list_records", { baseId, tableId: peopleId, fields: [field], maxRecords: 1 });
  expect(read.isError, resultText(read)).not.toBe(true);
}

async function finished(answer: OperationAnswer): Promise<OperationAnswer> {
  return pollOperation([client], answer.operationId, { timeoutMs: 60_000 });
}

describe("a write and a rename of its fields", () => {
  it("queued before the rename, sent after it: every record kind is written, by field id", async () => {
    const ada = sandbox.listRecordsDirect(baseId, peopleId).find((r) => r.fields.Name === "Ada")!.id;
    const countId = fieldIds.get(peopleId)!.get("Count")!;

    const calls: [string, Record<string, unknown>][] = [
      ["create_records", { records: [{ fields: { Name: "Ben", Count: 2 } }, { fields: { name: "Cy", count: 3 } }] }],
      ["update_records", { records: [{ id: ada, fields: { Count: 10 } }] }],
      [
        "upsert_records",
        {
          fieldsToMergeOn: ["Email"],
          records: [{ fields: { Email: "eve@x.io", Count: 50 } }, { fields: { Email: "dee@x.io", Name: "Dee" } }],
        },
      ],
      ["create_records", { fieldsToMergeOn: ["Email"], records: [{ fields: { Name: "Fay", Email: "fay@x.io" } }] }],
      // A field given by id keeps working.
      ["create_record", { fields: { Name: "Gus", [countId]: 7 } }],
    ];
    const queued: OperationAnswer[] = [];
    for (const [tool, args] of calls) {
      const answer = await callWriteTool(client, tool, { baseId, tableId: "People", ...args });
      expect(answer.status, `${tool}: no worker runs yet`).toBe("queued");
      queued.push(answer);
    }

    // Renamed in Airtable while every write waits in the queue.
    await rename(peopleId, "Name", "Full name");
    await rename(peopleId, "Email", "E-mail");
    await rename(peopleId, "Count", "Qty");
    await deployment.addWorker();

    const done = await Promise.all(queued.map(finished));
    for (const answer of done) {
      expect(answer.status, answer.message).toBe("completed");
      expect(answer.progress.recordsFailed).toBe(0);
      expect(answer.results?.every((r) => r.id?.startsWith("rec") === true)).toBe(true);
    }
    expect(done[2]!.results?.map((r) => r.action)).toEqual(["updated", "created"]);
    expect(done[0]!.message).toBe("Done: 2 records written of 2.");

    const after = people("Full name");
    expect(after.get("Ben")).toMatchObject({ Qty: 2 });
    expect(after.get("Cy")).toMatchObject({ Qty: 3 });
    expect(after.get("Ada")).toMatchObject({ Qty: 10, "E-mail": "ada@x.io" });
    expect(after.get("Eve")).toMatchObject({ Qty: 50 });
    expect(after.get("Dee")).toMatchObject({ "E-mail": "dee@x.io" });
    expect(after.get("Fay")).toMatchObject({ "E-mail": "fay@x.io" });
    expect(after.get("Gus")).toMatchObject({ Qty: 7 });
    expect(after.size, "nothing written twice").toBe(7);

    // The answer the agent reads names no field it never saw.
    for (const answer of done) {
      const text = resultText(await callTool(client, "get_operation", { operationId: answer.operationId }));
      expect(text).not.toMatch(FIELD_ID);
      expect(text).not.toContain("UNKNOWN_FIELD_NAME");
    }
  }, 120_000);

  it("renamed just before the call, while the server's cached schema has the old name: written", async () => {
    await cacheSchemaWith("Qty");
    await rename(peopleId, "Qty", "Amount");
    const ada = sandbox.listRecordsDirect(baseId, peopleId).find((r) => r.fields["Full name"] === "Ada")!.id;

    // "Qty" is what the schema the server holds says (its cache is younger than 60 s).
    const answer = await finished(
      await callWriteTool(client, "update_records", {
        baseId,
        tableId: "People",
        records: [{ id: ada, fields: { Qty: 99 } }],
      }),
    );
    expect(answer.status, answer.message).toBe("completed");
    expect(answer.results).toEqual([{ index: 0, id: ada }]);
    expect(people("Full name").get("Ada")).toMatchObject({ Amount: 99 });
  }, 60_000);

  it("a name passed to another field within the cache window (two fields swapped): written where the name is now", async () => {
    const office = sandbox.listRecordsDirect(baseId, placesId)[0]!.id;
    // The server's schema cache now has City and Country as the base was made.
    const read = await callTool(client, "list_records", { baseId, tableId: "Places", fields: ["City"], maxRecords: 1 });
    expect(read.isError, resultText(read)).not.toBe(true);
    // A person swaps the two names in Airtable (three renames, as its interface allows no two fields one name),
    // which takes them a few seconds: the server's cached schema is then older than a write trusts for its names.
    await rename(placesId, "City", "Swapping");
    await rename(placesId, "Country", "City");
    await rename(placesId, "Swapping", "Country");
    await new Promise((resolve) => setTimeout(resolve, WRITE_NAMES_MAX_AGE_MS + 500));

    const answer = await finished(
      await callWriteTool(client, "update_records", {
        baseId,
        tableId: "Places",
        records: [{ id: office, fields: { City: "Paris" } }],
      }),
    );
    expect(answer.status, answer.message).toBe("completed");
    // Airtable, given "City", writes the field called City now; the field that was City (now Country) keeps its value.
    expect(sandbox.listRecordsDirect(baseId, placesId)[0]!.fields).toMatchObject({ City: "Paris", Country: "Lyon" });
  }, 60_000);

  it("upload_attachment and update_field naming a field swapped within the cache window change the field so named now", async () => {
    const trip = sandbox.listRecordsDirect(baseId, filesId)[0]!.id;
    const photo = fieldIds.get(filesId)!.get("Photo")!;
    const receipt = fieldIds.get(filesId)!.get("Receipt")!;
    /** Swaps Photo and Receipt in Airtable as a person does (three renames), after the server cached the schema. */
    const swapAfterCaching = async () => {
      const read = await callTool(client, "list_records", {
        baseId,
        tableId: "Files",
        fields: ["Photo"],
        maxRecords: 1,
      });
      expect(read.isError, resultText(read)).not.toBe(true);
      await rename(filesId, "Photo", "Swapping");
      await rename(filesId, "Receipt", "Photo");
      await rename(filesId, "Swapping", "Receipt");
      await new Promise((resolve) => setTimeout(resolve, WRITE_NAMES_MAX_AGE_MS + 500));
    };

    // The field called Receipt now is the one created as Photo: the file goes there, the other stays empty.
    await swapAfterCaching();
    const uploaded = await finished(
      await callWriteTool(client, "upload_attachment", {
        baseId,
        tableId: "Files",
        recordId: trip,
        fieldId: "Receipt",
        filename: "receipt.txt",
        contentType: "text/plain",
        file: Buffer.from("12.50 EUR").toString("base64"),
      }),
    );
    expect(uploaded.status, uploaded.message).toBe("completed");
    const cells = sandbox.listRecordsDirect(baseId, filesId)[0]!.fields;
    expect(cells.Receipt).toEqual([expect.objectContaining({ filename: "receipt.txt" })]);
    expect(cells.Photo ?? []).toEqual([]);

    // Swapped back (the server's cached schema, read by the upload above, again older than the names): the
    // description goes to the field called Photo now, the one created as Photo.
    await swapAfterCaching();
    const described = await finished(
      await callWriteTool(client, "update_field", {
        baseId,
        tableId: "Files",
        fieldId: "Photo",
        description: "Pictures",
      }),
    );
    expect(described.status, described.message).toBe("completed");
    const meta = await fetch(`${sandbox.url}/v0/meta/bases/${baseId}/tables`, {
      headers: { authorization: `Bearer ${pat}` },
    });
    const { tables } = (await meta.json()) as {
      tables: { id: string; fields: { id: string; name: string; description?: string }[] }[];
    };
    const fields = tables.find((t) => t.id === filesId)!.fields;
    expect(fields.find((f) => f.id === photo)).toMatchObject({ name: "Photo", description: "Pictures" });
    expect(fields.find((f) => f.id === receipt)?.description).toBeUndefined();
  }, 60_000);

  it("a link given by name, its linked table's primary field renamed within the cache window: written", async () => {
    await cacheSchemaWith("Full name");
    await rename(companiesId, "Name", "Company name");
    const acme = sandbox.listRecordsDirect(baseId, companiesId)[0]!.id;
    const ada = sandbox.listRecordsDirect(baseId, peopleId).find((r) => r.fields["Full name"] === "Ada")!.id;

    const result = await callTool(client, "update_records", {
      baseId,
      tableId: "People",
      records: [{ id: ada, fields: { Company: ["Acme"] } }],
    });
    // Not "Fix the formula: …": the agent wrote no formula; the name lookup's was built from a stale name.
    expect(result.isError, resultText(result)).not.toBe(true);
    const answer = await finished(result.structuredContent as OperationAnswer);
    expect(answer.status, answer.message).toBe("completed");
    expect(people("Full name").get("Ada")).toMatchObject({ Company: [acme] });
  }, 60_000);

  it("an answer lost after a rename: in doubt, the input shown with the call's field names", async () => {
    await cacheSchemaWith("Notes");
    await rename(peopleId, "Notes", "Remarks");
    // The create is applied and its answer lost; reading the table back finds it but cannot compare rich text.
    sandbox.setFaults({ dropAfterApply: 1 });

    const answer = await finished(
      await callWriteTool(client, "create_records", {
        baseId,
        tableId: "People",
        records: [{ fields: { "Full name": "Hal", Notes: "**hi**" } }],
      }),
    );
    expect(answer.status, answer.message).toBe("completed_with_errors");
    const [result] = answer.results ?? [];
    expect(result).toMatchObject({
      index: 0,
      inDoubt: true,
      input: { fields: { "Full name": "Hal", Notes: "**hi**" } },
    });
    expect(result?.reason).toContain("its field(s) Notes cannot be compared");
    expect(JSON.stringify(answer)).not.toMatch(FIELD_ID);
    expect(people("Full name").get("Hal"), "written once, not sent again").toBeDefined();
  }, 60_000);

  it("a field deleted after the call was checked: each record's error names it as the call did", async () => {
    await cacheSchemaWith("Remarks");
    // Deleted in Airtable's interface (the Web API cannot delete fields); the server's cache still lists it.
    sandbox.deleteField(baseId, peopleId, "Remarks");

    const answer = await finished(
      await callWriteTool(client, "create_records", {
        baseId,
        tableId: "People",
        records: [{ fields: { "Full name": "Ivy", Remarks: "gone" } }],
      }),
    );
    expect(answer.status, answer.message).toBe("completed_with_errors");
    const error = answer.results?.[0]?.error;
    expect(error?.type).toBe("UNKNOWN_FIELD_NAME");
    expect(error?.message).toMatch(/^Unknown field name: "fld[A-Za-z0-9]{14}" \("Remarks" in this write\): /);
    expect(error?.message).toContain(`this field is no longer in table ${peopleId}`);
    expect(people("Full name").has("Ivy")).toBe(false);
  }, 60_000);

  it("a field deleted while the cached schema lists it: list_records and search_records name it as the agent did", async () => {
    await cacheSchemaWith("Extra");
    sandbox.deleteField(baseId, peopleId, "Extra");
    const listed = await callTool(client, "list_records", {
      baseId,
      tableId: peopleId,
      fields: ["Extra"],
      maxRecords: 1,
    });
    expect(listed.isError).toBe(true);
    // Before: 'Airtable refused the request: Unknown field name: "fld…" (UNKNOWN_FIELD_NAME). Check the field names
    // with describe_table.' — an id the agent never gave, and describe_table (cached) still listed "Extra".
    expect(resultText(listed)).toMatch(/^Unknown field "Extra" in table "People" .*The fields are: /);
    expect(resultText(listed)).not.toContain("UNKNOWN_FIELD_NAME");

    await cacheSchemaWith("Spare");
    sandbox.deleteField(baseId, peopleId, "Spare");
    const searched = await callTool(client, "search_records", {
      baseId,
      tableId: peopleId,
      searchTerm: "Ada",
      fields: ["Spare"],
    });
    expect(searched.isError).toBe(true);
    expect(resultText(searched)).toMatch(/^Unknown field "Spare" in table "People" /);
    expect(resultText(searched)).not.toContain("UNKNOWN_FIELD_NAME");
  }, 60_000);

  it("a write refused for a field deleted meanwhile: describe_table no longer lists the field", async () => {
    await cacheSchemaWith("Memo");
    sandbox.deleteField(baseId, peopleId, "Memo");
    const answer = await finished(
      await callWriteTool(client, "create_records", {
        baseId,
        tableId: "People",
        records: [{ fields: { "Full name": "Jo", Memo: "gone" } }],
      }),
    );
    expect(answer.results?.[0]?.error?.type).toBe("UNKNOWN_FIELD_NAME");
    expect(answer.results?.[0]?.error?.message).toContain("see describe_table");

    // What the refusal points to shows the table as it is now, not the schema cached before the deletion.
    const described = await callTool(client, "describe_table", { baseId, tableId: peopleId });
    expect(described.isError, resultText(described)).not.toBe(true);
    const names = (described.structuredContent as { table: { fields: { name: string }[] } }).table.fields.map(
      (f) => f.name,
    );
    expect(names).toContain("Company");
    expect(names).not.toContain("Memo");
  }, 60_000);

  it("an import writing a field deleted after the call was checked: one refused request, then it fails naming the field", async () => {
    await cacheSchemaWith("Label");
    const labelId = fieldIds.get(peopleId)!.get("Label")!;
    // Deleted in Airtable's interface; the server's cached schema (60 s) still lists it, so the call is accepted.
    sandbox.deleteField(baseId, peopleId, "Label");
    sandbox.clearRequests();

    // Three batches: the first writes no label, the other two do.
    const records = Array.from({ length: 30 }, (_, i) => ({
      fields: i < 10 ? { "Full name": `imp ${i}` } : { "Full name": `imp ${i}`, Label: `l${i}` },
    }));
    const answer = await finished(
      await callWriteTool(client, "create_records", { baseId, tableId: "People", records }),
    );

    expect(answer.status, answer.message).toBe("failed");
    expect(answer.message).toMatch(
      new RegExp(`^Failed: The field "Label" \\(${labelId}\\) is no longer in table "People" \\(${peopleId}\\): `),
    );
    expect(answer.message).toContain("it was deleted after this write was accepted");
    expect(answer.message).toContain("so the remaining batches were not sent");
    expect(answer.message).toContain("10 records were written before that and stay written");
    expect(answer.message).toContain("the 10 records of the refused request failed and 10 more were not sent");
    expect(answer.message).toContain('without "Label" (describe_table shows the table\'s fields now)');
    expect(answer.message).toContain("or recreate the field in Airtable first");
    expect(answer.message).toContain("(10 records written, 10 failed of 30)");

    // What was written is reported as written; the refused batch's records fail naming the field; the rest: not sent.
    const results = answer.results ?? [];
    expect(results).toHaveLength(30);
    expect(results.slice(0, 10).every((r) => r.id?.startsWith("rec") === true)).toBe(true);
    expect(results.slice(10, 20).every((r) => r.error?.type === "UNKNOWN_FIELD_NAME")).toBe(true);
    expect(results[10]?.error?.message).toContain('("Label" in this write)');
    expect(results.slice(20).every((r) => r.notWritten === true)).toBe(true);
    expect([...people("Full name").keys()].filter((name) => name.startsWith("imp "))).toHaveLength(10);

    // One refused request: the third batch was not sent only to be refused too (before: one refused request each).
    const writes = sandbox.requests.filter((r) => r.method === "POST" && r.path === `/v0/${baseId}/${peopleId}`);
    expect(writes.map((r) => r.status)).toEqual([200, 422]);
  }, 60_000);
});
