/**
 * What an agent reads when a write did nothing, or could not do what it asked, through the real MCP SDK client over
 * HTTP: writes run in the embedded runner against the Airtable sandbox, their logs in real Redis.
 * - cancel_operation on an operation that had already ended (completed, completed_with_errors, failed) or been
 *   cancelled says so, and that nothing was cancelled, before what the operation did; `tasks/cancel` on an ended
 *   task is acknowledged and changes nothing (SEP-2663: "MUST acknowledge"; errors only for an unknown task);
 * - a record id the table does not have is named, with what to do, alike for update_records, upsert_records (whose
 *   item with an id is a plain update that Airtable never turns into a create) and delete_records;
 *   a delete of records already deleted stays completed_with_errors (Airtable answers 404) but says they no longer
 *   exist, so nothing was left to delete;
 * - a write on a base the sign-in cannot reach says that nothing was queued or written (a read's refusal does not).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import type { OperationResultOutput } from "../../../src/shared/tools/operation-result.ts";
import { callToolAnswer, startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { callModern } from "../../support/tasks-client.ts";

let h: McpHarness;
let client: Client;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // A short wait, so that a long import answers while it runs and can be cancelled; shorter writes are polled.
  h = await startMcpHarness({ tools: allTools, writeWaitMs: 200, tasks: true });
  client = await h.connect();
});
afterAll(async () => {
  await h?.close();
});

async function call(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError === true) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as OperationResultOutput;
}

/** A write tool's call, then get_operation until the operation has ended (10 s at most): its final answer. */
async function write(name: string, args: Record<string, unknown>): Promise<OperationResultOutput> {
  let answer = await call(name, args);
  for (let i = 0; i < 100 && !answer.done; i++) {
    await sleep(100);
    answer = await call("get_operation", { operationId: answer.operationId });
  }
  expect(answer.done).toBe(true);
  return answer;
}

function tableOf(name: string, records: string[] = [], owner = h.demo.user.id) {
  const base = h.sandbox.createBase(owner, {
    name,
    tables: [
      {
        name: "Tasks",
        fields: [{ name: "Name", type: "singleLineText" }],
        records: records.map((n) => ({ Name: n })),
      },
    ],
  });
  const rows = () => h.sandbox.listRecordsDirect(base.id, "Tasks");
  return { baseId: base.id, tableId: base.tables[0]!.id, rows };
}

/** The answer without its message, which is the only part a cancel that did nothing changes. */
const withoutMessage = ({ message: _message, ...rest }: OperationResultOutput) => rest;

describe("cancel_operation on an operation that had already ended", () => {
  it("completed, completed_with_errors, failed: says it had ended with that status, nothing was cancelled, and what it did", async () => {
    const t = tableOf("Ended", ["keep"]);
    const completed = await write("create_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      records: [{ fields: { Name: "a" } }, { fields: { Name: "b" } }],
    });
    expect(completed.status).toBe("completed");
    const withErrors = await write("update_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      records: [{ id: "recAAAAAAAAAAAAAA", fields: { Name: "x" } }],
    });
    expect(withErrors.status).toBe("completed_with_errors");
    // Failed: a base shared read-only, which only Airtable's 403 on the write reveals (no list_bases remembered),
    // so the operation is queued, refused, and ends failed.
    const owner = h.userB.id;
    const readOnly = tableOf("Read only", [], owner);
    h.sandbox.grantAccess(readOnly.baseId, h.demo.user.id, "read");
    const failed = await write("create_records", {
      baseId: readOnly.baseId,
      tableId: "Tasks",
      records: [{ fields: { Name: "c" } }],
    });
    expect(failed.status).toBe("failed");

    for (const ended of [completed, withErrors, failed]) {
      const answer = await call("cancel_operation", { operationId: ended.operationId });
      expect(answer.message).toBe(
        `This operation had already ended (status ${ended.status}) before this cancel, so nothing was cancelled. ` +
          `What it did: ${ended.message}`,
      );
      // Left as it was: the same status, progress and results, and get_operation says the same as before.
      expect(withoutMessage(answer)).toEqual(withoutMessage(ended));
      expect(await call("get_operation", { operationId: ended.operationId })).toEqual(ended);
    }
    expect(
      t
        .rows()
        .map((r) => r.fields.Name)
        .sort(),
    ).toEqual(["a", "b", "keep"]);
  });

  it("an operation already cancelled: a second cancel says it had already been cancelled", async () => {
    const t = tableOf("Cancelled twice");
    const records = Array.from({ length: 600 }, (_, i) => ({ fields: { Name: `row ${i}` } }));
    const running = await call("create_records", { baseId: t.baseId, tableId: "Tasks", records });
    expect(running.done).toBe(false);
    const first = await call("cancel_operation", { operationId: running.operationId });
    // The cancel took effect (or is taking effect): no "nothing was cancelled".
    expect(first.message).toMatch(/^(Cancelled|Cancelling)/);
    let cancelled = first;
    for (let i = 0; i < 100 && !cancelled.done; i++) {
      await sleep(100);
      cancelled = await call("get_operation", { operationId: running.operationId });
    }
    expect(cancelled.status).toBe("cancelled");

    const again = await call("cancel_operation", { operationId: running.operationId });
    expect(again.message).toBe(
      `This operation had already been cancelled before this call: nothing more was stopped. ${cancelled.message}`,
    );
    expect(withoutMessage(again)).toEqual(withoutMessage(cancelled));
  });

  it("tasks/cancel on an ended task is acknowledged with an empty result and leaves it completed (SEP-2663)", async () => {
    const t = tableOf("Ended task");
    const done = await write("create_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      records: [{ fields: { Name: "t" } }],
    });
    const owner = { "x-test-user": h.demo.user.id };
    const url = `${h.url}/mcp`;
    const ack = await callModern(url, owner, "tasks/cancel", { taskId: done.operationId }, true);
    expect(ack.error).toBeUndefined();
    // An empty result: nothing but its resultType (and the SDK's `_meta` serverInfo, which every answer carries).
    const { _meta: _serverInfo, ...ackBody } = ack.result ?? {};
    expect(ackBody).toEqual({ resultType: "complete" });
    const task = (await callModern(url, owner, "tasks/get", { taskId: done.operationId }, true)).result;
    expect(task).toMatchObject({ status: "completed", statusMessage: "Done: 1 record written of 1." });
    expect(t.rows()).toHaveLength(1);
  });
});

describe("a record id the table does not have", () => {
  it("update_records names the id and how to find the right one, in the words delete_records uses", async () => {
    const t = tableOf("Unknown id", ["there"]);
    const missing = "recAAAAAAAAAAAAAA";
    const update = await write("update_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      records: [{ id: missing, fields: { Name: "x" } }],
    });
    expect(update.status).toBe("completed_with_errors");
    expect(update.results).toEqual([
      {
        index: 0,
        error: {
          // Airtable's answer to an update naming a record the table lacks (src/sandbox/errors.ts recordNotInTable).
          type: "ROW_DOES_NOT_EXIST",
          message:
            // Looked up in the base (session 30): in no table, so neither "another table" nor its tableId.
            `Record ${missing} does not exist in table "Tasks" (${t.tableId}), nor in any other table of the base: ` +
            "it was deleted, the id is mistyped, or it is a record of another base (a record is written through " +
            "its own base's baseId). Find the record with list_records or search_records in this table and call " +
            "again with its id. (Airtable refused the request carrying it with 422 " +
            `ROW_DOES_NOT_EXIST: Record ID ${missing} does not exist in this table.)`,
        },
      },
    ]);
    // The same id in a request of several records (settled by one read of which ids exist) reads the same.
    const existing = t.rows()[0]!.id;
    const mixed = await write("update_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      records: [
        { id: existing, fields: { Name: "still there" } },
        { id: missing, fields: { Name: "x" } },
      ],
    });
    expect(mixed.results?.[1]?.error?.message).toBe(
      update.results![0]!.error!.message.replace(
        "does not exist in this table.)",
        "does not exist in this table. The other records of that request were sent again without it.)",
      ),
    );

    // onError stop: the request is refused as a whole and not split. Airtable's 422 names the id it did not find, so
    // that record fails, in the words above, and the other is not written, to be sent again as it is.
    const other = "recBBBBBBBBBBBBBB";
    const stopped = await write("update_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      onError: "stop",
      records: [
        { id: existing, fields: { Name: "not written" } },
        { id: other, fields: { Name: "y" } },
      ],
    });
    expect(stopped.message).toContain(
      "Airtable refused records 0, 1 (one request, refused as a whole) because of record 1 (see its error)",
    );
    expect(stopped.progress).toMatchObject({ recordsFailed: 1, recordsNotWritten: 1 });
    expect(stopped.results).toHaveLength(2);
    expect(stopped.results?.[0]).toMatchObject({ index: 0, notWritten: true });
    expect(stopped.results?.[0]?.reason).toContain(
      "onError was stop, so the request was not split: none of its records was written. Nothing was said against " +
        "this record: send it again as it is.",
    );
    expect(stopped.results?.[1]?.error).toEqual({
      type: "ROW_DOES_NOT_EXIST",
      message:
        `Record ${other} does not exist in table "Tasks" (${t.tableId}), nor in any other table of the base: it was ` +
        "deleted, the id is mistyped, or it is a record of another base (a record is written through its own " +
        "base's baseId). Find the record with list_records or search_records in this table and call again with " +
        "its id. (Airtable refused the request carrying it with 422 ROW_DOES_NOT_EXIST: Record ID " +
        `${other} does not exist in this table.) Airtable refused records 0, 1 (one request, refused as a whole) ` +
        "for this record: the 1 other record was not written, and can be sent again as it is.",
    });
    expect(t.rows().map((r) => r.fields.Name)).toEqual(["still there"]);
  });

  it("upsert_records names an unknown id and the fix in update_records' words, and says an id is never created", async () => {
    const t = tableOf("Unknown upsert id", ["there"]);
    const existing = t.rows()[0]!.id;
    const missing = "recAAAAAAAAAAAAAA";
    const upsert = (records: unknown[], onError?: string) =>
      write("upsert_records", {
        baseId: t.baseId,
        tableId: "Tasks",
        fieldsToMergeOn: ["Name"],
        records,
        ...(onError !== undefined && { onError }),
      });
    const said =
      `Record ${missing} does not exist in table "Tasks" (${t.tableId}), nor in any other table of the base: it was ` +
      "deleted, the id is mistyped, or it is a record of another base (a record is written through its own base's " +
      "baseId). Find the record with list_records or search_records in this table and call again with its id. With an id, upsert_records only updates that record (Airtable ignores fieldsToMergeOn for " +
      "it and never creates it): to create the record when no record matches, leave id out and give its " +
      "fieldsToMergeOn values.";
    const refusal = `422 ROW_DOES_NOT_EXIST: Record ID ${missing} does not exist in this table`;
    const one = await upsert([{ id: missing, fields: { Name: "x" } }]);
    expect(one.status).toBe("completed_with_errors");
    expect(one.results).toEqual([
      {
        index: 0,
        error: {
          type: "ROW_DOES_NOT_EXIST",
          message: `${said} (Airtable refused the request carrying it with ${refusal}.)`,
        },
      },
    ]);

    // Among an item with a known id and one matched on fieldsToMergeOn: those two are written, the unknown id is
    // named in the same words (settled by one read of which ids exist, not by splitting the request).
    const requestsBefore = h.sandbox.requests.length;
    const mixed = await upsert([
      { id: existing, fields: { Name: "renamed" } },
      { id: missing, fields: { Name: "x" } },
      { fields: { Name: "new" } },
    ]);
    expect(mixed.results?.[0]).toMatchObject({ index: 0, id: existing, action: "updated" });
    expect(mixed.results?.[1]).toEqual({
      index: 1,
      error: {
        type: "ROW_DOES_NOT_EXIST",
        message:
          `${said} (Airtable refused the request carrying it with ${refusal}. The other records of that request were ` +
          "sent again without it.)",
      },
    });
    expect(mixed.results?.[2]).toMatchObject({ index: 2, action: "created" });
    const writes = h.sandbox.requests
      .slice(requestsBefore)
      .filter((r) => r.method === "PATCH" && r.path.startsWith(`/v0/${t.baseId}/`));
    expect(writes).toHaveLength(2);
    expect(
      t
        .rows()
        .map((r) => r.fields.Name)
        .sort(),
    ).toEqual(["new", "renamed"]);

    // onError stop: the request is refused whole; the id Airtable names fails in the words above, the two other
    // records are not written with their request, and nothing is written.
    const stopped = await upsert(
      [
        { id: existing, fields: { Name: "not written" } },
        { id: missing, fields: { Name: "y" } },
        { fields: { Name: "not created" } },
      ],
      "stop",
    );
    expect(stopped.message).toContain(
      "Airtable refused records 0–2 (one request, refused as a whole) because of record 1 (see its error)",
    );
    expect(stopped.results).toHaveLength(3);
    for (const r of [stopped.results?.[0], stopped.results?.[2]]) {
      expect(r).toMatchObject({ notWritten: true });
      expect(r?.reason).toContain("Airtable refused records 0–2 (one request, refused as a whole)");
      expect(r?.reason).toContain("onError was stop, so the request was not split: none of its records was written.");
    }
    expect(stopped.results?.[1]?.error?.type).toBe("ROW_DOES_NOT_EXIST");
    expect(stopped.results?.[1]?.error?.message).toContain(
      `${said} (Airtable refused the request carrying it with ${refusal}.)`,
    );
    expect(
      t
        .rows()
        .map((r) => r.fields.Name)
        .sort(),
    ).toEqual(["new", "renamed"]);
  });

  it("delete_records of records already deleted: completed_with_errors, saying they no longer exist", async () => {
    const t = tableOf(
      "Deleted twice",
      Array.from({ length: 12 }, (_, i) => `r${i}`),
    );
    const ids = t.rows().map((r) => r.id);
    const first = await write("delete_records", { baseId: t.baseId, tableId: "Tasks", recordIds: ids });
    expect(first.message).toBe("Done: 12 records deleted of 12.");
    expect(t.rows()).toEqual([]);

    const again = await write("delete_records", { baseId: t.baseId, tableId: "Tasks", recordIds: ids });
    // Faithful to Airtable, which refuses a delete of a record that is not there (404; its errors page: "if the
    // resource doesn't exist (e.g. has been deleted)"): the records failed, and the operation says so.
    expect(again.status).toBe("completed_with_errors");
    expect(again.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 12 });
    expect(again.message).toBe(
      "Done with errors: 0 records deleted, 12 failed of 12. The 12 failed records do not exist in the table any " +
        "more (already deleted, or never in it: an id from another table), so nothing was left to delete for them. " +
        "Each failed item's error is in results, by index.",
    );
    for (const [index, r] of (again.results ?? []).entries()) {
      // The first 10 ids are looked up in the base (one get-record each, at most 10 per run): in no table.
      expect(r.error?.message).toMatch(
        index < 10
          ? new RegExp(
              `^Record ${ids[index]} no longer exists in table "Tasks" \\(${t.tableId}\\), nor in any other table ` +
                "of the base: it was already deleted, the id is mistyped, or it is a record of another base\\. " +
                "Nothing is left to delete for it in this base\\.",
            )
          : new RegExp(
              `^Record ${ids[index]} no longer exists in table "Tasks" \\(${t.tableId}\\), or never did: it was ` +
                "already deleted, or it is an id from another table \\(record ids belong to one table\\)\\. Nothing " +
                "is left to delete for it: if it was deleted already, that goal is reached\\. If the id came from " +
                "another table, find the record with list_records or search_records in that table\\.",
            ),
      );
    }

    // One id, one request (refused outright, not settled by a read): the same words.
    const one = await write("delete_records", { baseId: t.baseId, tableId: "Tasks", recordIds: [ids[0]] });
    expect(one.message).toContain(
      "The failed record does not exist in the table any more (already deleted, or never in it: an id from " +
        "another table), so nothing was left to delete for it.",
    );
    expect(one.results?.[0]?.error?.message).toMatch(new RegExp(`^Record ${ids[0]} no longer exists in table`));
  });

  it("onError stop with two missing ids: both fail, named by one read; the record that exists is the one to send again", async () => {
    // Airtable names only the first missing id of a refused request (422 for an update, 404 for a delete): the second
    // was told "Nothing was said against this record: send it again as it is", and the call sent again was refused.
    const t = tableOf("Two missing, stop", ["kept"]);
    const kept = t.rows()[0]!.id;
    const [first, second] = ["recAAAAAAAAAAAAAA", "recBBBBBBBBBBBBBB"];
    const update = await write("update_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      onError: "stop",
      records: [
        { id: first, fields: { Name: "x" } },
        { id: kept, fields: { Name: "not written" } },
        { id: second, fields: { Name: "y" } },
      ],
    });
    expect(update.progress).toMatchObject({ recordsFailed: 2, recordsNotWritten: 1 });
    for (const [index, id] of [
      [0, first],
      [2, second],
    ] as const) {
      expect(update.results?.[index]?.error?.message).toMatch(
        new RegExp(`^Record ${id} does not exist in table "Tasks" \\(${t.tableId}\\), nor in any other table`),
      );
    }
    expect(update.results?.[1]).toMatchObject({ index: 1, notWritten: true });
    expect(update.results?.[1]?.reason).toContain("Nothing was said against this record: send it again as it is.");

    const del = await write("delete_records", {
      baseId: t.baseId,
      tableId: "Tasks",
      onError: "stop",
      recordIds: [kept, second, first],
    });
    expect(del.progress).toMatchObject({ recordsFailed: 2, recordsNotWritten: 1 });
    expect(del.results?.[1]?.error?.message).toMatch(new RegExp(`^Record ${second} no longer exists in table`));
    expect(del.results?.[2]?.error?.message).toMatch(new RegExp(`^Record ${first} no longer exists in table`));
    expect(del.results?.[0]).toMatchObject({ index: 0, notWritten: true });
    expect(t.rows().map((r) => r.fields.Name)).toEqual(["kept"]);
  });
});

describe("a write on a base this sign-in cannot reach", () => {
  it("create_records explains the refusal and says nothing was queued or written; a read's refusal does not", async () => {
    const elsewhere = h.userB.base.id;
    const operationsBefore = (await call("list_operations", {})) as unknown as { operations: unknown[] };
    const answer = await callToolAnswer(client, "create_records", {
      baseId: elsewhere,
      tableId: "Secrets",
      records: [{ fields: { Name: "x" } }],
    });
    expect(answer.isError).toBe(true);
    expect(answer.text).toMatch(
      /^Airtable refused access \(INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND\)\. Base app\w+ is not among/,
    );
    expect(answer.text.endsWith(" Nothing was queued: nothing was written.")).toBe(true);
    // Indeed: no operation was made, and nothing reached B's table.
    const operationsAfter = (await call("list_operations", {})) as unknown as { operations: unknown[] };
    expect(operationsAfter.operations).toHaveLength(operationsBefore.operations.length);
    expect(h.sandbox.listRecordsDirect(elsewhere, "Secrets")).toHaveLength(1);

    const read = await callToolAnswer(client, "list_records", { baseId: elsewhere, tableId: "Secrets" });
    expect(read.isError).toBe(true);
    expect(read.text).toMatch(/^Airtable refused access/);
    expect(read.text).not.toContain("queued");
  });
});
