/**
 * The processor against the Airtable sandbox over real HTTP, with the operation log in real Redis: batching,
 * the 422 split, the 403 split (a restricted field refuses only the requests that write it), onError stop, lost
 * answers (reconciled by reading the table back, or in_doubt), and resuming a log a crashed worker left behind (also
 * in the middle of a reconciliation).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import type { Operation } from "../../../src/shared/operations/events.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationFromPlan, type OperationPlan } from "../../../src/shared/operations/plan.ts";
import { processOperation } from "../../../src/shared/operations/processor.ts";
import { OperationFailedError } from "../../../src/shared/operations/operation-errors.ts";
import { TokenCipher } from "../../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../../src/shared/tokens/redis-token-store.ts";
import { randomBytes } from "node:crypto";

let f: Fixture;
let log: OperationLog;
let airtable: AirtableClient;
const redis = createTestRedis();
const prefix = uniquePrefix("processor");
const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
const logger = createLogger({ level: "silent" });

beforeAll(async () => {
  f = await fixture({ perBaseRps: 50 });
  log = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 600_000 });
  airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
});

afterAll(async () => {
  await limiter.close();
  await f?.sandbox.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const tasks = () => f.base.tables.find((t) => t.name === "Tasks")!.id;

async function start(plan: Omit<OperationPlan, "baseId" | "options"> & Partial<Pick<OperationPlan, "options">>) {
  const op = operationFromPlan(
    { baseId: f.base.id, options: { typecast: false, onError: "continue" }, ...plan },
    f.user.id,
  );
  await log.create(op);
  return op;
}

/** Settle delay for reconciliations in these tests (the product default is seconds). */
const SETTLE_MS = 50;
const run = (op: Operation, stopSignal?: AbortSignal) =>
  processOperation(op.operationId, {
    store: log,
    airtable,
    logger,
    reconcileSettleMs: SETTLE_MS,
    ...(stopSignal ? { stopSignal } : {}),
  });
const reconciledEvents = async (op: Operation) =>
  (await log.read(op.operationId)).filter((e) => e.type === "batch.reconciled");
const creates = () => recordWrites().filter((r) => r.method === "POST" && !r.path.endsWith("/listRecords"));
const names = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ fields: { Name: `${tag} ${i}` } }));
const rowsNamed = (tag: string) =>
  f.sandbox.listRecordsDirect(f.base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith(`${tag} `));
const recordWrites = () =>
  f.sandbox.requests.filter((r) => r.method !== "GET" && r.path.startsWith(`/v0/${f.base.id}/`));

describe("processOperation", () => {
  it("creates 25 records in batches of at most 10, each index mapped to the id Airtable gave it", async () => {
    f.sandbox.clearRequests();
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(25, "bulk") });
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ batchesDone: 3, recordsSucceeded: 25 });
    const rows = rowsNamed("bulk");
    expect(rows).toHaveLength(25);
    for (const outcome of state.outcomes) {
      const row = rows.find((r) => "recordId" in outcome && r.id === outcome.recordId);
      expect(row?.fields.Name).toBe(`bulk ${outcome.index}`);
    }
    expect(recordWrites()).toHaveLength(3);
  });

  it("writes the 9 good records of a batch with one bad value and reports the bad one by index", async () => {
    const input = names(10, "split");
    input[6] = { fields: { Name: "split 6", Count: "not a number" } } as never;
    const op = await start({ kind: "create_records", tableId: tasks(), input });
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(rowsNamed("split")).toHaveLength(9);
    const bad = state.outcomes.find((o) => o.index === 6);
    expect(bad).toMatchObject({ error: { type: "INVALID_VALUE_FOR_COLUMN" } });
    expect(bad && "error" in bad ? bad.error.message : "").toMatch(/Count/);
    expect(state.outcomes.filter((o) => "recordId" in o)).toHaveLength(9);
  });

  it("with onError stop writes nothing after the failing batch and says so", async () => {
    const input = names(30, "stop");
    input[14] = { fields: { Name: "stop 14", Count: "nope" } } as never;
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input,
      options: { typecast: false, onError: "stop" },
    });
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(state.stopped).toBe(true);
    expect(rowsNamed("stop")).toHaveLength(10); // batch 0 only
    expect(state.outcomes.filter((o) => "error" in o).map((o) => o.index)).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ]);
    expect(state.outcomes.some((o) => o.index >= 20)).toBe(false);
  });

  it("reconciles a create whose answer was lost after Airtable applied it as written, never re-sending it", async () => {
    f.sandbox.clearRequests();
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(20, "lost") });
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ recordsSucceeded: 20, recordsInDoubt: 0 });
    // The dropped batch was applied once and never sent again: exactly 20 rows exist, one POST per batch.
    const rows = rowsNamed("lost");
    expect(rows).toHaveLength(20);
    expect(creates()).toHaveLength(2);
    // Every index maps to the row holding its own input.
    for (const outcome of state.outcomes) {
      const row = rows.find((r) => "recordId" in outcome && r.id === outcome.recordId);
      expect(row?.fields.Name).toBe(`lost ${outcome.index}`);
    }
    const [reconciled] = await reconciledEvents(op);
    expect(reconciled).toMatchObject({ batch: 0, absent: [], inDoubt: [] });
    expect(reconciled?.type === "batch.reconciled" && reconciled.written).toHaveLength(10);
  });

  it("reconciles a lost create of dates alone in a dateTime field of another time zone as written, not absent", async () => {
    // Airtable reads "2030-09-08" in a Los Angeles dateTime field as midnight there (07:00Z): the read-back must
    // compare instants the same way, or it finds the records "absent" and sends them a second time.
    const base = f.sandbox.createBase(f.user.id, {
      name: "Meetings",
      tables: [
        {
          name: "Meetings",
          fields: [
            { name: "Name", type: "singleLineText" },
            {
              name: "At",
              type: "dateTime",
              options: {
                dateFormat: { name: "iso" },
                timeFormat: { name: "24hour" },
                timeZone: "America/Los_Angeles",
              },
            },
          ],
        },
      ],
    });
    f.sandbox.clearRequests();
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const input = Array.from({ length: 10 }, (_, i) => ({
      fields: { Name: `meeting ${i}`, At: i % 2 === 0 ? `2030-09-${10 + i}` : `2030-09-${10 + i}T09:30:00Z` },
    }));
    const op = operationFromPlan(
      {
        kind: "create_records",
        baseId: base.id,
        tableId: base.tables[0]!.id,
        input,
        options: { typecast: false, onError: "continue" },
      },
      f.user.id,
    );
    await log.create(op);
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ recordsSucceeded: 10, recordsInDoubt: 0 });
    const rows = f.sandbox.listRecordsDirect(base.id, "Meetings");
    expect(rows).toHaveLength(10);
    expect(rows.find((r) => r.fields.Name === "meeting 0")?.fields.At).toBe("2030-09-10T07:00:00.000Z");
    const posts = f.sandbox.requests.filter(
      (r) => r.method === "POST" && r.path === `/v0/${base.id}/${base.tables[0]!.id}`,
    );
    expect(posts).toHaveLength(1);
    const [reconciled] = await reconciledEvents(op);
    expect(reconciled).toMatchObject({ batch: 0, absent: [], inDoubt: [] });
  });

  it("never re-sends a lost create whose date the read-back cannot compare (typecast text): in doubt, not absent", async () => {
    // With typecast Airtable stores "9/5/2030" as 2030-09-05; comparing the text with the stored date would find
    // nothing and send the batch a second time.
    f.sandbox.clearRequests();
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const input = Array.from({ length: 10 }, (_, i) => ({ fields: { Name: `due ${i}`, Due: `9/${i + 1}/2030` } }));
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input,
      options: { typecast: true, onError: "continue" },
    });
    const state = await run(op);
    expect(rowsNamed("due")).toHaveLength(10);
    expect(rowsNamed("due").find((r) => r.fields.Name === "due 0")?.fields.Due).toBe("2030-09-01");
    expect(creates()).toHaveLength(1);
    expect(state.progress).toMatchObject({ recordsSucceeded: 0, recordsInDoubt: 10 });
  });

  it("re-sends once, after the read-back confirmed its absence, a create answered 503 that Airtable never applied", async () => {
    f.sandbox.clearRequests();
    f.sandbox.setFaults({ failBeforeApply: 1 });
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(20, "n503") });
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ recordsSucceeded: 20, recordsInDoubt: 0 });
    expect(rowsNamed("n503")).toHaveLength(20);
    // Batch 0: the 503, then exactly one re-send; batch 1: one POST.
    expect(creates()).toHaveLength(3);
    const events = await log.read(op.operationId);
    const reconciled = events.find((e) => e.type === "batch.reconciled");
    expect(reconciled).toMatchObject({ batch: 0, written: [], inDoubt: [], absent: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    // The re-send came after the settle delay.
    const started = events.filter((e) => e.type === "batch.started" && e.batch === 0);
    expect(started.map((e) => e.type === "batch.started" && e.attempt)).toEqual([1, 2]);
    expect(started[1]!.at - started[0]!.at).toBeGreaterThanOrEqual(SETTLE_MS);
  });

  it("resolves identical inputs in one in-doubt batch by count: two sent, two found, each with its own id", async () => {
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const input = [
      ...names(3, "twin"),
      { fields: { Name: "twin same", Count: 2 } },
      { fields: { Name: "twin same", Count: 2 } },
    ];
    const op = await start({ kind: "create_records", tableId: tasks(), input });
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ recordsSucceeded: 5, recordsInDoubt: 0 });
    const ids = state.outcomes.map((o) => ("recordId" in o ? o.recordId : ""));
    expect(new Set(ids).size).toBe(5);
    expect(rowsNamed("twin")).toHaveLength(5);
  });

  it("leaves identical inputs in doubt when more matching records were created since than were sent", async () => {
    const input = [
      { fields: { Name: "extra same" } },
      { fields: { Name: "extra same" } },
      { fields: { Name: "extra other" } },
    ];
    const op = await start({ kind: "create_records", tableId: tasks(), input });
    // A crashed worker's request that Airtable applied, and, meanwhile, someone else created one more "extra same".
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    await airtable.createRecords(f.base.id, tasks(), input as never);
    await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "extra same" } }]);
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(state.outcomes.find((o) => o.index === 2)).toMatchObject({ recordId: expect.any(String) });
    for (const index of [0, 1]) {
      const outcome = state.outcomes.find((o) => o.index === index);
      expect(outcome && "inDoubt" in outcome && outcome.reason).toMatch(/3 records .* for 2 sent/);
    }
    expect(creates()).toHaveLength(0);
    expect(rowsNamed("extra")).toHaveLength(4);
  });

  it("resumes a reconciliation interrupted during its settle delay from the log, then from its batch.reconciled", async () => {
    f.sandbox.clearRequests();
    f.sandbox.setFaults({ failBeforeApply: 1 });
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(10, "midrec") });
    // The worker is told to stop while it waits to read the table back: the log holds only the unanswered request.
    const stop = new AbortController();
    const first = processOperation(op.operationId, {
      store: log,
      airtable,
      logger,
      reconcileSettleMs: 60_000,
      stopSignal: stop.signal,
    });
    await vi.waitFor(async () =>
      expect((await log.read(op.operationId)).some((e) => e.type === "batch.started")).toBe(true),
    );
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await expect(first).rejects.toThrow(/released while reconciling/);
    expect((await log.state(op.operationId))?.unfinishedStartedBatch).toMatchObject({ batch: 0 });
    expect(await reconciledEvents(op)).toHaveLength(0);
    // Another process resumes: it reads back (nothing there), records the absence, re-sends once.
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(rowsNamed("midrec")).toHaveLength(10);
    expect(creates()).toHaveLength(2);
    expect(await reconciledEvents(op)).toHaveLength(1);
  });

  it("resumes after a crash between batch.reconciled (absent) and the re-send: sends once, no second read-back", async () => {
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(10, "afterrec") });
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    await log.append(op.operationId, {
      type: "batch.reconciled",
      batch: 0,
      written: [],
      absent: names(10, "x").map((_, i) => i),
      inDoubt: [],
    });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(rowsNamed("afterrec")).toHaveLength(10);
    expect(creates()).toHaveLength(1);
    expect(f.sandbox.requests.filter((r) => r.path.endsWith("/listRecords") || r.method === "GET")).toHaveLength(0);
    expect(await reconciledEvents(op)).toHaveLength(1);
  });

  it("leaves a record in doubt when a field the read-back cannot compare keeps the match from being certain", async () => {
    const input = [{ fields: { Name: "attach 0", Files: [{ url: `${f.sandbox.url}/nowhere.png` }] } }];
    const op = await start({ kind: "create_records", tableId: tasks(), input });
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "attach 0" } }]);
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    const outcome = state.outcomes[0];
    expect(outcome && "inDoubt" in outcome && outcome.reason).toMatch(/cannot be compared/);
  });

  it("re-sends a create as an upsert on fieldsToMergeOn after a lost answer, without duplicates", async () => {
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input: names(20, "merge"),
      options: { typecast: false, onError: "continue", fieldsToMergeOn: ["Name"] },
    });
    // The first run stops with a retryable error (a worker would back off); the second resumes.
    await expect(run(op)).rejects.toThrow(/answer|connection|lost|socket/i);
    const state = await run(op);
    expect(state.status).toBe("completed");
    expect(state.progress.recordsSucceeded).toBe(20);
    expect(rowsNamed("merge")).toHaveLength(20);
  });

  it("a re-send after a lost answer refused as a whole never says its records were not written: the lost request wrote them", async () => {
    // One "lostdup 3" exists. The create (merged on Name) is applied but its answer lost, so the table now holds two
    // "lostdup 3"; the re-send as an upsert is refused as a whole (record 3 matches both). Records 0–2 and 4–9 were
    // written by the lost request: "not written … send it again as it is" would have the agent create them twice.
    await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "lostdup 3" } }]);
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input: names(10, "lostdup"),
      options: { typecast: false, onError: "continue", fieldsToMergeOn: ["Name"] },
    });
    await expect(run(op)).rejects.toThrow(/answer|connection|lost|socket/i);
    const state = await run(op);
    expect(rowsNamed("lostdup")).toHaveLength(11);
    expect(state.progress.recordsNotWritten).toBeUndefined();
    expect(state.outcomes.some((o) => "refusedWith" in o)).toBe(false);
    expect(state.refusedRequests).toEqual([]);
  });

  it("resumes a log a crashed worker left: a started create is reconciled (absent → re-sent), the rest written", async () => {
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(30, "crash") });
    // What a worker killed mid-request leaves: batch 0 done, batch 1 started, no answer recorded.
    const first = await airtable.createRecords(f.base.id, tasks(), op.input.slice(0, 10) as never);
    await log.append(op.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    await log.append(op.operationId, {
      type: "batch.succeeded",
      batch: 0,
      results: first.map((r, index) => ({ index, recordId: r.id })),
    });
    await log.append(op.operationId, { type: "batch.started", batch: 1, attempt: 1 });
    const state = await run(op);
    // Batch 1 never reached Airtable in this simulation: the read-back confirms it, and it is sent once.
    expect(state.progress).toMatchObject({ recordsSucceeded: 30, recordsInDoubt: 0 });
    expect(rowsNamed("crash")).toHaveLength(30);
    expect(await reconciledEvents(op)).toMatchObject([{ batch: 1, absent: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19] }]);
  });

  it("re-sends an update or delete a crashed worker left in flight, and a delete whose records are gone succeeds", async () => {
    const created = await airtable.createRecords(f.base.id, tasks(), names(10, "upd") as never);
    const update = await start({
      kind: "update_records",
      tableId: tasks(),
      input: created.map((r) => ({ id: r.id, fields: { Count: 7 } })),
    });
    await log.append(update.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    expect((await run(update)).progress.recordsSucceeded).toBe(10);
    expect(rowsNamed("upd").every((r) => r.fields.Count === 7)).toBe(true);

    const del = await start({ kind: "delete_records", tableId: tasks(), input: created.map((r) => ({ id: r.id })) });
    // The first delete was applied but its answer lost before the worker died.
    await log.append(del.operationId, { type: "batch.started", batch: 0, attempt: 1 });
    await airtable.deleteRecords(
      f.base.id,
      tasks(),
      created.map((r) => r.id),
    );
    const state = await run(del);
    expect(state.status).toBe("completed");
    expect(state.progress.recordsSucceeded).toBe(10);
    expect(rowsNamed("upd")).toHaveLength(0);
  });

  it("counts a delete whose answer was lost, and whose client-level retry found the records gone, as done", async () => {
    const created = await airtable.createRecords(f.base.id, tasks(), names(10, "gone") as never);
    const del = await start({ kind: "delete_records", tableId: tasks(), input: created.map((r) => ({ id: r.id })) });
    // The DELETE is applied, its connection cut; the client re-sends it (idempotent) and gets 404 for all 10.
    f.sandbox.setFaults({ dropAfterApply: 1 });
    const state = await run(del);
    expect(state.status).toBe("completed");
    expect(state.progress).toMatchObject({ recordsSucceeded: 10, recordsFailed: 0 });
    expect(rowsNamed("gone")).toHaveLength(0);
  });

  it("deletes the 17 existing records of 20 ids, 3 stale, with one read per refused batch instead of splitting it", async () => {
    const kept = await airtable.createRecords(f.base.id, tasks(), names(10, "stale a") as never);
    const more = await airtable.createRecords(f.base.id, tasks(), names(9, "stale b") as never);
    const other = await airtable.createTable(f.base.id, {
      name: "Stale other",
      fields: [{ name: "Name", type: "singleLineText" }],
    });
    const [foreign] = await airtable.createRecords(f.base.id, other.id, [{ fields: { Name: "elsewhere" } }] as never);
    const ids = [...kept, ...more].map((r) => r.id);
    // Two ids of batch 0 deleted already, one id of batch 1 from another table.
    await airtable.deleteRecords(f.base.id, tasks(), [ids[3]!, ids[7]!]);
    ids.splice(15, 0, foreign!.id);
    const op = await start({ kind: "delete_records", tableId: tasks(), input: ids.map((id) => ({ id })) });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(state.progress).toMatchObject({ recordsSucceeded: 17, recordsFailed: 3 });
    const failed = state.outcomes.filter((o) => "error" in o);
    expect(failed.map((o) => o.index)).toEqual([3, 7, 15]);
    const messages = failed.map((o) => ("error" in o ? o.error.message : ""));
    for (const [i, message] of messages.slice(0, 2).entries()) {
      // A delete's words (missing-records.ts), after one lookup in the base: in no table, so nothing is left to
      // delete for it.
      expect(message).toContain(
        `Record ${ids[failed[i]!.index]!} no longer exists in table "Tasks" (${tasks()}), nor in any other table of ` +
          "the base: it was already deleted, the id is mistyped, or it is a record of another base. Nothing is left " +
          "to delete for it in this base.",
      );
    }
    // The id of another table is named with its table (h-left32: it said "already deleted, or an id from another
    // table").
    expect(messages[2]).toContain(
      `Record ${foreign!.id} is not in table "Tasks" (${tasks()}): it is a record of table "Stale other" ` +
        `(${other.id}) (record ids belong to one table). To delete it there, call delete_records again with tableId ` +
        `"${other.id}"`,
    );
    expect(rowsNamed("stale a")).toHaveLength(0);
    expect(rowsNamed("stale b")).toHaveLength(0);
    expect(f.sandbox.listRecordsDirect(f.base.id, other.id).map((r) => r.id)).toEqual([foreign!.id]);
    // Per batch: the refused DELETE, one read, a get-record per missing id (where it is: at most 10 per run), the
    // DELETE of the rest (splitting took ~9 per batch).
    const requests = f.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${f.base.id}/`));
    expect(requests.map((r) => r.method)).toEqual([
      "DELETE",
      "GET",
      "GET",
      "GET",
      "DELETE",
      "DELETE",
      "GET",
      "GET",
      "DELETE",
    ]);
    // The log: the refusal answered (not permanent), the missing ids failed, the rest started and written.
    const batch0 = (await log.read(op.operationId)).filter((e) => "batch" in e && e.batch === 0);
    expect(batch0.map((e) => e.type)).toEqual([
      "batch.started",
      "batch.failed",
      "batch.failed",
      "batch.started",
      "batch.succeeded",
    ]);
    expect(batch0[1]).toMatchObject({ permanent: false });
    expect(batch0[2]).toMatchObject({ permanent: true, errors: [{ index: 3 }, { index: 7 }] });
    expect(batch0[3]).toMatchObject({ attempt: 2, indexes: [0, 1, 2, 4, 5, 6, 8, 9] });
  });

  it("deletes ids already deleted under a sign-in without schema.bases:read: one schema read per run, not one per batch", async () => {
    // A failed delete's ids are looked up in the base (#whereabouts, since session 32), which first reads the schema.
    // A sign-in whose schema.bases:read box was unticked is refused that read; it was tried again for every batch
    // with a missing record, one more refused request per batch (30 ids already deleted: 3 batches, 3 reads).
    const noSchemaToken = f.sandbox.createPersonalAccessToken(f.user.id, ["data.records:read", "data.records:write"]);
    const narrow = new AirtableClient({
      apiUrl: f.sandbox.url,
      contentUrl: f.sandbox.url,
      userId: f.user.id,
      getAccessToken: async () => noSchemaToken,
      limiter,
      logger,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const created = [
      ...(await airtable.createRecords(f.base.id, tasks(), names(10, "gone a") as never)),
      ...(await airtable.createRecords(f.base.id, tasks(), names(10, "gone b") as never)),
      ...(await airtable.createRecords(f.base.id, tasks(), names(10, "gone c") as never)),
    ];
    const ids = created.map((r) => r.id);
    for (let i = 0; i < ids.length; i += 10) await airtable.deleteRecords(f.base.id, tasks(), ids.slice(i, i + 10));
    const op = await start({ kind: "delete_records", tableId: tasks(), input: ids.map((id) => ({ id })) });
    f.sandbox.clearRequests();
    const state = await processOperation(op.operationId, { store: log, airtable: narrow, logger });
    expect(state.status).toBe("completed_with_errors");
    expect(state.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 30 });
    const first = state.outcomes.find((o) => o.index === 0);
    expect(first && "error" in first ? first.error.message : "").toContain(`Record ${ids[0]!}`);
    expect(f.sandbox.requests.filter((r) => r.path === `/v0/meta/bases/${f.base.id}/tables`)).toHaveLength(1);
  });

  it("updates the existing records of a batch with a stale id with one read, and reports the stale one", async () => {
    const created = await airtable.createRecords(f.base.id, tasks(), names(10, "stale u") as never);
    const ids = created.map((r) => r.id);
    await airtable.deleteRecords(f.base.id, tasks(), [ids[4]!]);
    const op = await start({
      kind: "update_records",
      tableId: tasks(),
      input: ids.map((id) => ({ id, fields: { Count: 5 } })),
    });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(state.progress).toMatchObject({ recordsSucceeded: 9, recordsFailed: 1 });
    const failed = state.outcomes.find((o) => "error" in o);
    expect(failed?.index).toBe(4);
    // The stale id looked up in the base once (session 30: get-record, in no table), the table named.
    expect(failed && "error" in failed ? failed.error.message : "").toContain(
      `Record ${ids[4]!} does not exist in table "Tasks" (${tasks()}), nor in any other table of the base`,
    );
    expect(rowsNamed("stale u").every((r) => r.fields.Count === 5)).toBe(true);
    const requests = f.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${f.base.id}/`));
    expect(requests.map((r) => r.method)).toEqual(["PATCH", "GET", "GET", "PATCH"]);
    expect(requests[2]?.path).toBe(`/v0/${f.base.id}/${tasks()}/${ids[4]!}`);
  });

  it("fails a batch whose ids are all stale after one read, sending nothing again and saying so", async () => {
    const created = await airtable.createRecords(f.base.id, tasks(), names(2, "stale all") as never);
    const ids = created.map((r) => r.id);
    await airtable.deleteRecords(f.base.id, tasks(), ids);
    const op = await start({
      kind: "update_records",
      tableId: tasks(),
      input: ids.map((id) => ({ id, fields: { Count: 5 } })),
    });
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.progress).toMatchObject({ recordsSucceeded: 0, recordsFailed: 2 });
    for (const o of state.outcomes) {
      const message = "error" in o ? o.error.message : "";
      expect(message).toContain(
        `Record ${ids[o.index]!} does not exist in table "Tasks" (${tasks()}), nor in any other table of the base`,
      );
      // No record of the request exists: none was sent again, and the message must not say otherwise.
      expect(message).not.toMatch(/sent again/);
    }
    const requests = f.sandbox.requests.filter((r) => r.path.startsWith(`/v0/${f.base.id}/`));
    // The read of which ids exist, then each stale id looked up in the base once (session 30); nothing re-sent.
    expect(requests.map((r) => r.method)).toEqual(["PATCH", "GET", "GET", "GET"]);
  });

  it("fails a schema change Airtable refuses, with its message, and stops", async () => {
    const op = await start({
      kind: "create_field",
      tableId: tasks(),
      input: [{ name: "Name", type: "singleLineText" }],
    });
    await expect(run(op)).rejects.toThrow(/refused/);
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("failed");
    expect(state?.failure?.reason).toMatch(/Airtable refused/);
  });

  it("splits a batch refused with 403 INVALID_PERMISSIONS like a 422: the others are written, later batches sent", async () => {
    f.sandbox.clearRequests();
    f.sandbox.restrictField(f.base.id, "Tasks", "Count", f.user.id);
    const countId = f.base.tables.find((t) => t.name === "Tasks")!.fields.find((x) => x.name === "Count")!.id;
    try {
      const input = names(25, "perm");
      input[13] = { fields: { Name: "perm 13", Count: 13 } } as never;
      const op = await start({ kind: "create_records", tableId: tasks(), input });
      const state = await run(op);
      expect(state.status).toBe("completed_with_errors");
      expect(rowsNamed("perm")).toHaveLength(24);
      const refused = state.outcomes.filter((o) => "error" in o);
      expect(refused).toEqual([
        {
          index: 13,
          error: {
            type: "INVALID_PERMISSIONS",
            message: `You are not permitted to write cell values in field Count (${countId})`,
          },
        },
      ]);
      // Batch 2 (records 20–24) was sent after batch 1's split.
      expect(rowsNamed("perm").some((r) => r.fields.Name === "perm 24")).toBe(true);
      expect(recordWrites().length).toBeGreaterThan(3);
    } finally {
      f.sandbox.clearRestrictions(f.base.id);
    }
  });

  it("ends early, keeping Airtable's message, when a 403 refuses every record of the first batch", async () => {
    f.sandbox.restrictTable(f.base.id, "Tasks", f.user.id, ["create"]);
    try {
      f.sandbox.clearRequests();
      const op = await start({ kind: "create_records", tableId: tasks(), input: names(30, "locked") });
      await expect(run(op)).rejects.toThrow(/INVALID_PERMISSIONS/);
      const state = await log.state(op.operationId);
      expect(state?.status).toBe("failed");
      expect(state?.failure?.reason).toContain(`You are not permitted to create records in table Tasks (${tasks()})`);
      expect(state?.failure?.reason).toMatch(/remaining batches were not sent/);
      // The level was looked up and allows the write: the reason points at the restriction, not at the level, and
      // names the table (session 29: by name and id, and what it limits).
      expect(state?.failure?.reason).toContain(`Table "Tasks" (${tasks()}) limits who can create records`);
      expect(state?.failure?.reason).not.toMatch(/read or comment/);
      expect(state?.outcomes.filter((o) => "error" in o)).toHaveLength(10);
      expect(state?.outcomes.some((o) => o.index >= 10)).toBe(false);
      expect(rowsNamed("locked")).toHaveLength(0);
    } finally {
      f.sandbox.clearRestrictions(f.base.id);
    }
  });

  it("on a base the user may only read: fails at its first request, without splitting it, naming the permission level", async () => {
    f.sandbox.grantAccess(f.base.id, f.user.id, "read");
    try {
      f.sandbox.clearRequests();
      const op = await start({ kind: "create_records", tableId: tasks(), input: names(30, "readonly") });
      await expect(run(op)).rejects.toThrow(/INVALID_PERMISSIONS/);
      const state = await log.state(op.operationId);
      expect(state?.status).toBe("failed");
      // Airtable's message has no full stop; the next sentence does not run into it.
      expect(state?.failure?.reason).toContain(
        "(403 INVALID_PERMISSIONS: You are not permitted to perform this operation.) Your permission level on base",
      );
      expect(state?.failure?.reason).toContain(
        "is read-only (permissionLevel read): create records needs editor (permissionLevel edit) or more",
      );
      expect(state?.outcomes).toEqual([]); // every item not written: none was refused record by record
      // One refused request and one list bases: the batch was not split into 19 refused requests.
      expect(recordWrites()).toHaveLength(1);
      expect(f.sandbox.requests.filter((r) => r.path === "/v0/meta/bases")).toHaveLength(1);
      expect(rowsNamed("readonly")).toHaveLength(0);
    } finally {
      f.sandbox.grantAccess(f.base.id, f.user.id, "create");
    }
  });

  it("stops an import whose access is lowered to read mid-way: what was written stays, the rest is not sent", async () => {
    try {
      f.sandbox.clearRequests();
      const op = await start({ kind: "create_records", tableId: tasks(), input: names(60, "lowered") });
      const state = await processOperation(op.operationId, {
        store: log,
        airtable,
        logger,
        // The base's owner makes the user read-only once two batches are written.
        onProgress: (s) => {
          if (s.progress.recordsSucceeded === 20) f.sandbox.grantAccess(f.base.id, f.user.id, "read");
        },
      }).catch(() => log.state(op.operationId));
      expect(state?.status).toBe("failed");
      expect(state?.progress).toMatchObject({ recordsSucceeded: 20, recordsFailed: 0, recordsInDoubt: 0 });
      expect(state?.failure?.reason).toMatch(/read-only \(permissionLevel read\)/);
      expect(rowsNamed("lowered")).toHaveLength(20);
      // Two batches written, one refused, nothing after it: not 4 batches split record by record (~19 requests each).
      expect(recordWrites()).toHaveLength(3);
    } finally {
      f.sandbox.grantAccess(f.base.id, f.user.id, "create");
    }
  });

  it("says a field needs a creator when an editor creates one, instead of 'the base does not exist'", async () => {
    f.sandbox.grantAccess(f.base.id, f.user.id, "edit");
    try {
      const op = await start({
        kind: "create_field",
        tableId: tasks(),
        input: [{ name: "Editor's field", type: "singleLineText" }],
      });
      await expect(run(op)).rejects.toThrow(/INVALID_PERMISSIONS/);
      const reason = (await log.state(op.operationId))?.failure?.reason ?? "";
      expect(reason).toContain("is editor (permissionLevel edit): create field needs creator (permissionLevel create)");
      expect(reason).not.toMatch(/does not exist/);
    } finally {
      f.sandbox.grantAccess(f.base.id, f.user.id, "create");
    }
  });

  it("a base whose data the user can no longer open (permissionLevel none) ends the import with that reason", async () => {
    const seeded = await airtable.createRecords(f.base.id, tasks(), [{ fields: { Name: "none 0" } }]);
    f.sandbox.grantAccess(f.base.id, f.user.id, "none");
    try {
      const op = await start({
        kind: "update_records",
        tableId: tasks(),
        input: [{ id: seeded[0]!.id, fields: { Name: "none 1" } }],
      });
      await expect(run(op)).rejects.toThrow(/INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND/);
      const reason = (await log.state(op.operationId))?.failure?.reason ?? "";
      expect(reason).toContain("(list_bases shows permissionLevel none");
    } finally {
      f.sandbox.grantAccess(f.base.id, f.user.id, "create");
    }
  });

  it("names the missing scope when a listed base refuses a write as not found (a token without data.records:write)", async () => {
    // Airtable answers a missing scope like a missing table: 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND.
    const readOnlyToken = f.sandbox.createPersonalAccessToken(f.user.id, ["data.records:read", "schema.bases:read"]);
    const narrow = new AirtableClient({
      apiUrl: f.sandbox.url,
      contentUrl: f.sandbox.url,
      userId: f.user.id,
      getAccessToken: async () => readOnlyToken,
      limiter,
      logger,
    });
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(3, "unscoped") });
    await expect(processOperation(op.operationId, { store: log, airtable: narrow, logger })).rejects.toThrow(
      /INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND/,
    );
    const reason = (await log.state(op.operationId))?.failure?.reason ?? "";
    expect(reason).toContain("lacks the scope data.records:write");
    expect(reason).toContain(`table ${tasks()} no longer exists in it`);
    expect(rowsNamed("unscoped")).toHaveLength(0);
  });

  it("names only the missing scope for create_table, which has no table that could be gone", async () => {
    const dataOnlyToken = f.sandbox.createPersonalAccessToken(f.user.id, [
      "data.records:read",
      "data.records:write",
      "schema.bases:read",
    ]);
    const narrow = new AirtableClient({
      apiUrl: f.sandbox.url,
      contentUrl: f.sandbox.url,
      userId: f.user.id,
      getAccessToken: async () => dataOnlyToken,
      limiter,
      logger,
    });
    const op = await start({
      kind: "create_table",
      input: [{ name: "Unscoped table", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    await expect(processOperation(op.operationId, { store: log, airtable: narrow, logger })).rejects.toThrow(
      /INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND/,
    );
    const reason = (await log.state(op.operationId))?.failure?.reason ?? "";
    expect(reason).toContain("so the Airtable sign-in lacks the scope schema.bases:write");
    expect(reason).not.toMatch(/no longer exists/);
  });

  /** A field added to Tasks for one test, to be deleted in it (as in Airtable's interface): its id and Name's. */
  async function addedField(name: string): Promise<{ fieldId: string; nameId: string }> {
    const field = await airtable.createField(f.base.id, tasks(), { name, type: "singleLineText" });
    const nameId = f.base.tables.find((t) => t.name === "Tasks")!.fields.find((x) => x.name === "Name")!.id;
    return { fieldId: field.id, nameId };
  }
  const schemaReads = () => f.sandbox.requests.filter((r) => r.path === `/v0/meta/bases/${f.base.id}/tables`);

  it("stops an import at the first request refused for a field deleted mid-way: one refused request, the rest not sent", async () => {
    const { fieldId, nameId } = await addedField("Label");
    // Stored and sent by field id, as the write tools plan it; fieldNames are the call's names.
    const input = Array.from({ length: 40 }, (_, i) => ({ fields: { [nameId]: `deleted ${i}`, [fieldId]: `l${i}` } }));
    f.sandbox.clearRequests();
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input,
      fieldNames: { [nameId]: "Name", [fieldId]: "Label" },
    });
    const state = await processOperation(op.operationId, {
      store: log,
      airtable,
      logger,
      // Deleted in Airtable's interface once two batches are written.
      onProgress: (s) => {
        if (s.progress.recordsSucceeded === 20 && s.progress.recordsFailed === 0) {
          f.sandbox.deleteField(f.base.id, "Tasks", fieldId);
        }
      },
    }).catch((e: unknown) => {
      expect(e).toBeInstanceOf(OperationFailedError);
      return log.state(op.operationId);
    });
    expect(state?.status).toBe("failed");
    expect(state?.failure?.errorType).toBe("UNKNOWN_FIELD_NAME");
    expect(state?.progress).toMatchObject({ recordsSucceeded: 20, recordsFailed: 10, recordsInDoubt: 0 });
    const reason = state?.failure?.reason ?? "";
    expect(reason).toMatch(
      new RegExp(
        `^The field "Label" \\(${fieldId}\\) is no longer in table "Tasks" \\(${tasks()}\\): it was deleted after`,
      ),
    );
    expect(reason).toContain("the remaining batches were not sent");
    expect(reason).toContain("20 records were written before that and stay written");
    expect(reason).toContain("the 10 records of the refused request failed and 10 more were not sent");
    expect(reason).toContain('without "Label"');
    expect(reason).toContain("recreate the field in Airtable");
    // Written stays written; the refused batch's records fail naming the field; the last batch was never sent.
    expect(state?.outcomes.filter((o) => "recordId" in o).map((o) => o.index)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    const refused = state?.outcomes.find((o) => o.index === 20);
    expect(refused && "error" in refused ? refused.error.message : "").toContain('("Label" in this write)');
    expect(state?.outcomes.some((o) => o.index >= 30)).toBe(false);
    expect(rowsNamed("deleted")).toHaveLength(20);
    // Two written, one refused, one look at the schema: not one more refused request per remaining batch.
    expect(recordWrites().map((r) => r.status)).toEqual([200, 200, 422]);
    expect(schemaReads()).toHaveLength(1);
  });

  it("keeps sending the batches that do not write a deleted field: only the refused request's records fail", async () => {
    const { fieldId, nameId } = await addedField("Tag");
    const input = Array.from({ length: 30 }, (_, i) => ({
      fields: i < 10 ? { [nameId]: `untagged ${i}`, [fieldId]: "t" } : { [nameId]: `untagged ${i}` },
    }));
    const op = await start({
      kind: "create_records",
      tableId: tasks(),
      input,
      fieldNames: { [nameId]: "Name", [fieldId]: "Tag" },
    });
    f.sandbox.deleteField(f.base.id, "Tasks", fieldId);
    f.sandbox.clearRequests();
    const state = await run(op);
    expect(state.status).toBe("completed_with_errors");
    expect(state.progress).toMatchObject({ recordsSucceeded: 20, recordsFailed: 10 });
    expect(rowsNamed("untagged")).toHaveLength(20);
    expect(recordWrites().map((r) => r.status)).toEqual([422, 200, 200]);
    expect(schemaReads()).toHaveLength(0);
  });

  it("fails at once, as a configuration error naming TOKEN_ENCRYPTION_KEY, when the owner's token cannot be decrypted", async () => {
    // The sign-in was stored under one key; this process has another (what the start-up check prevents between
    // processes, but not when every process's key was changed without TOKEN_ENCRYPTION_KEY_PREVIOUS).
    const storedWith = new RedisTokenStore({ redis, keyPrefix: prefix, cipher: TokenCipher.create(randomBytes(32)) });
    const readWith = new RedisTokenStore({ redis, keyPrefix: prefix, cipher: TokenCipher.create(randomBytes(32)) });
    await storedWith.putAirtableAccount({
      userId: f.user.id,
      tokens: { accessToken: f.token, refreshToken: "r", accessTokenExpiresAt: Date.now() + 3_600_000, scopes: [] },
      updatedAt: Date.now(),
    });
    const misconfigured = new AirtableClient({
      apiUrl: f.sandbox.url,
      contentUrl: f.sandbox.url,
      userId: f.user.id,
      getAccessToken: async () => (await readWith.getAirtableAccount(f.user.id))!.tokens.accessToken,
      limiter,
      logger,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    f.sandbox.clearRequests();
    const op = await start({ kind: "create_records", tableId: tasks(), input: names(15, "undecryptable") });
    const error = await processOperation(op.operationId, { store: log, airtable: misconfigured, logger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OperationFailedError);
    const state = await log.state(op.operationId);
    expect(state?.status).toBe("failed");
    expect(state?.failure?.errorType).toBe("SERVER_MISCONFIGURED");
    expect(state?.failure?.reason).toMatch(/^This server is misconfigured: .*TOKEN_ENCRYPTION_KEY/);
    expect(state?.failure?.reason).toContain("The server's operator must fix TOKEN_ENCRYPTION_KEY");
    expect(state?.failure?.reason).not.toMatch(/internal error/i);
    expect(recordWrites()).toHaveLength(0);
    expect(rowsNamed("undecryptable")).toHaveLength(0);
  });
});
