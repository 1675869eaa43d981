/**
 * What an agent reads about a write a BullMQ worker ran: the real server app (OAuth, /mcp, the BullMQ queue) and a
 * worker (BullMQ Worker, processor) wired as src/server/main.ts and src/worker/main.ts wire them, in this process,
 * real Redis, the Airtable sandbox over HTTP, and the MCP SDK's client signed in through OAuth.
 * - Records not written because their request was refused as a whole are counted in the answer and in the log's
 *   `completed` summary, beside the written, failed and in-doubt ones.
 * - The new select options a typecast write names are those its written records created: an option given only by a
 *   record that failed was never created (Airtable applies a request whole or not at all), one given only by a record
 *   in doubt may have been, and the answer says which is which.
 * - An upsert refused because a record matches several existing records names those records also when typecast is
 *   what made the values equal ("5" for a number field, 7 for a text field, 3 for the select option "3").
 * - A field deleted after the call was checked: the refused request's records that write it fail, naming the field
 *   and the fix; its other records are not written (send them again as they are), consistent with whole-request.ts.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../../src/sandbox/index.ts";
import { signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import { callWriteTool, pollOperation, type OperationAnswer } from "../../e2e/helpers/write-operations.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const keyPrefix = uniquePrefix("queued-answers");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let client: Client;
let userId: string;

beforeAll(async () => {
  // The schema reads below (optionsOf) go to the base outside the server's limiter: room for them, so that neither
  // they nor the worker's requests meet a 429 and its 30 s penalty (this file is about answers, not rate limits).
  sandbox = await startSandbox({ perBaseRps: 20 });
  server = await startServerHarness({ sandbox, keyPrefix, env: { RECONCILE_SETTLE_MS: "100" } });
  await server.startWorker();
  userId = sandbox.addUser({ email: "queued-answers@example.com", name: "Quinn" }).id;
  ({ client } = await signInAndConnect(`${server.url}/mcp`, new TestOAuthProvider({ sandboxUser: userId })));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

/** A write tool's call, followed with get_operation until its operation has ended: the final answer. */
async function write(name: string, args: Record<string, unknown>): Promise<OperationAnswer> {
  const first = await callWriteTool(client, name, args);
  return first.done ? first : pollOperation([client], first.operationId, { timeoutMs: 30_000 });
}

/** The options of a select field, as Airtable's base schema lists them (read with a personal access token). */
async function optionsOf(base: BaseInfo, table: string, field: string): Promise<string[]> {
  const token = sandbox.createPersonalAccessToken(userId);
  const res = await fetch(`${sandbox.url}/v0/meta/bases/${base.id}/tables`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const schema = (await res.json()) as {
    tables: { name: string; fields: { name: string; options?: { choices?: { name: string }[] } }[] }[];
  };
  const choices = schema.tables.find((t) => t.name === table)?.fields.find((f) => f.name === field)?.options?.choices;
  return (choices ?? []).map((c) => c.name);
}

describe("records not written because their request was refused", () => {
  it("are counted in the answer and in the log's completed summary", async () => {
    const base = sandbox.createBase(userId, {
      name: "Not written",
      tables: [
        {
          name: "People",
          fields: [
            { name: "Email", type: "email" },
            { name: "Note", type: "singleLineText" },
          ],
          records: [
            { Email: "dup@example.com", Note: "first" },
            { Email: "dup@example.com", Note: "second" },
          ],
        },
      ],
    });
    // Batch 0 (records 0–9) is refused as a whole for record 1, which matches two records; with onError "stop" its
    // other records are not written and nothing more is sent (with "continue" they are sent again without record 1
    // since session 29: upsert-many-matches.test.ts).
    const records = Array.from({ length: 12 }, (_, i) => ({
      fields: { Email: i === 1 ? "dup@example.com" : `p${i}@example.com`, Note: "new" },
    }));
    const answer = await write("upsert_records", {
      baseId: base.id,
      tableId: "People",
      fieldsToMergeOn: ["Email"],
      onError: "stop",
      records,
    });
    expect(answer.status, answer.message).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 1, recordsNotWritten: 9 });
    expect(answer.message).toMatch(
      /^Done with errors: 0 records written, 1 failed, 9 not written \(their request was refused\) of 12\./,
    );
    const completed = (await server.operations.read(answer.operationId)).find((e) => e.type === "completed");
    expect(completed?.type === "completed" ? completed.summary : undefined).toEqual({
      succeeded: 0,
      failed: 1,
      inDoubt: 0,
      notWritten: 9,
    });
  }, 60_000);
});

describe("the new select options a typecast write names", () => {
  let base: BaseInfo;
  beforeAll(() => {
    base = sandbox.createBase(userId, {
      name: "Options written",
      tables: [
        {
          name: "Companies",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Customer" }] } },
            { name: "Account manager", type: "singleCollaborator" },
            { name: "Notes", type: "richText" },
          ],
        },
      ],
    });
  });

  it("are those its written records created; an option only a failed record gives is said not created", async () => {
    const answer = await write("create_records", {
      baseId: base.id,
      tableId: "Companies",
      typecast: true,
      records: [
        { fields: { Name: "o0", Stage: "Prospect" } },
        // An unknown collaborator: Airtable refuses this record, and with it the option it gives.
        { fields: { Name: "o1", Stage: "Custmer", "Account manager": { email: "ghost@example.com" } } },
      ],
    });
    expect(answer.status, answer.message).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 1, recordsFailed: 1 });
    expect(await optionsOf(base, "Companies", "Stage")).toEqual(["Lead", "Customer", "Prospect"]);
    expect(answer.message).toBe(
      "Done with errors: 1 record written, 1 failed of 2. Each failed item's error is in results, by index. New " +
        'select options, which Airtable creates because typecast is on: "Stage": "Prospect" (existing: "Lead", ' +
        '"Customer"). Not created, as no record giving them was written: "Stage": "Custmer".',
    );
    const polled = await callWriteTool(client, "get_operation", { operationId: answer.operationId });
    expect(polled.message).toBe(answer.message);
  }, 60_000);

  it("an option only a record in doubt gives is said to be created if that record was", async () => {
    // Applied, and its answer lost: the read-back finds the record but cannot compare rich text, so it is in doubt.
    sandbox.setFaults({ dropAfterApply: 1 });
    const answer = await write("create_record", {
      baseId: base.id,
      tableId: "Companies",
      fields: { Name: "o2", Stage: "Maybe", Notes: "**hi**" },
    });
    expect(answer.status, answer.message).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 0, recordsInDoubt: 1 });
    expect(await optionsOf(base, "Companies", "Stage")).toContain("Maybe");
    expect(answer.message).toContain(
      "New select options given only by records in doubt, which Airtable created if those records were written: " +
        '"Stage": "Maybe" (existing: "Lead", "Customer"',
    );
  }, 60_000);
});

describe("an upsert record matching several records once typecast converted its merge values", () => {
  let base: BaseInfo;
  let dups: string[];
  beforeAll(() => {
    base = sandbox.createBase(userId, {
      name: "Typecast matches",
      tables: [
        {
          name: "Items",
          fields: [
            { name: "Note", type: "singleLineText" },
            { name: "Code", type: "number", options: { precision: 0 } },
            { name: "Label", type: "singleLineText" },
            { name: "Kind", type: "singleSelect", options: { choices: [{ name: "A" }, { name: "3" }] } },
          ],
          records: [
            { Note: "first", Code: 5, Label: "7", Kind: "3" },
            { Note: "second", Code: 5, Label: "7", Kind: "3" },
          ],
        },
      ],
    });
    dups = sandbox.listRecordsDirect(base.id, "Items").map((r) => r.id);
  });

  for (const [field, value, shown] of [
    ["Code", "5", '"5"'],
    ["Label", 7, "7"],
    ["Kind", 3, "3"],
  ] as const) {
    it(`${field} given as ${shown}: the record and the records it matches are named`, async () => {
      const answer = await write("upsert_records", {
        baseId: base.id,
        tableId: "Items",
        fieldsToMergeOn: [field],
        records: [{ fields: { [field]: value, Note: "changed" } }],
      });
      expect(answer.status, answer.message).toBe("completed_with_errors");
      expect(answer.results?.[0]?.error?.message).toContain(
        `This record's fieldsToMergeOn values ("${field}": ${shown}) match 2 existing records: ${dups.join(", ")}.`,
      );
      expect(sandbox.listRecordsDirect(base.id, "Items").map((r) => r.fields.Note)).toEqual(["first", "second"]);
    }, 60_000);
  }
});

describe("a field deleted after the call was checked", () => {
  let base: BaseInfo;
  beforeAll(() => {
    base = sandbox.createBase(userId, {
      name: "Deleted field",
      tables: [
        {
          name: "Tasks",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Label", type: "singleLineText" },
            { name: "Memo", type: "singleLineText" },
          ],
        },
      ],
    });
  });

  /** Reads the table's schema through the server, so that its cache still lists a field deleted next. */
  async function cacheSchema(): Promise<void> {
    const described = await client.callTool({
      name: "describe_table",
      arguments: { baseId: base.id, tableId: "Tasks" },
    });
    expect(described.isError).not.toBe(true);
  }

  it("a request of records writing it and records not writing it: the writers fail naming it, the others are not written", async () => {
    await cacheSchema();
    sandbox.deleteField(base.id, "Tasks", "Label");
    // Batch 0: records 0–4 write Label, 5–9 do not; batch 1 writes it too, so the operation stops at batch 0.
    const records = Array.from({ length: 20 }, (_, i) => ({
      fields: i < 5 || i >= 10 ? { Name: `del ${i}`, Label: `l${i}` } : { Name: `del ${i}` },
    }));
    const answer = await write("create_records", { baseId: base.id, tableId: "Tasks", records });
    expect(answer.status, answer.message).toBe("failed");
    expect(answer.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 5, recordsNotWritten: 5 });
    const results = answer.results ?? [];
    for (const r of results.slice(0, 5)) {
      expect(r.error?.type).toBe("UNKNOWN_FIELD_NAME");
      expect(r.error?.message).toMatch(/^Unknown field name: "fld[A-Za-z0-9]{14}" \("Label" in this write\): /);
      expect(r.error?.message).toContain('the field "Label"');
      expect(r.error?.message).toContain('Send this record again without "Label"');
    }
    for (const r of results.slice(5, 10)) {
      expect(r).toMatchObject({ notWritten: true });
      expect(r.error).toBeUndefined();
      expect(r.reason).toContain("because of records 0, 1, 2, 3 and 4");
      expect(r.reason).toContain("send it again as it is");
    }
    for (const r of results.slice(10)) expect(r).toEqual({ index: r.index, notWritten: true });
    expect(answer.message).toContain(
      "the 5 records of the refused request that write it failed, its 5 other records were not written (the " +
        "request was refused as a whole: send them again as they are) and 10 more were not sent",
    );
    expect(sandbox.listRecordsDirect(base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith("del "))).toEqual(
      [],
    );
  }, 60_000);

  it("a record alone writing it: its error names the field and the fix", async () => {
    await cacheSchema();
    sandbox.deleteField(base.id, "Tasks", "Memo");
    const answer = await write("create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "memo", Memo: "gone" },
    });
    expect(answer.status, answer.message).toBe("completed_with_errors");
    const error = answer.results?.[0]?.error;
    expect(error?.type).toBe("UNKNOWN_FIELD_NAME");
    expect(error?.message).toContain('("Memo" in this write)');
    expect(error?.message).toContain("see describe_table");
    expect(error?.message).toContain("send this record again without it");
  }, 60_000);
});
