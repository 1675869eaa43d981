/**
 * EmbeddedOperationRunner.cancel (`npm start` without Redis, stdio) on the SQLite log, against the sandbox over real
 * HTTP: an operation accepted before a restart and not resumed yet is cancelled at once and never sends; a running
 * one stops after its batch in flight; another user's id answers undefined; a second cancel changes nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Fixture } from "../../sandbox/test-helpers.ts";
import { AirtableClient } from "../../../src/shared/airtable/client.ts";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/index.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { EmbeddedOperationRunner } from "../../../src/shared/operations/embedded-runner.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import { SqliteOperationLog } from "../../../src/shared/operations/sqlite-operation-log.ts";
import { openDatabase, type SqliteDatabase } from "../../../src/shared/sqlite/database.ts";

const dir = mkdtempSync(path.join(tmpdir(), "embedded-cancel-"));
const logger = createLogger({ level: "silent" });
let f: Fixture;
let db: SqliteDatabase;
let store: SqliteOperationLog;
let limiter: BottleneckAirtableLimiter;
let runner: EmbeddedOperationRunner;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  f = await fixture({ perBaseRps: 5 });
  db = await openDatabase(path.join(dir, "mcp.db"));
  store = new SqliteOperationLog({ db, retentionMs: 600_000 });
  limiter = BottleneckAirtableLimiter.local();
  const airtable = new AirtableClient({
    apiUrl: f.sandbox.url,
    contentUrl: f.sandbox.url,
    userId: f.user.id,
    getAccessToken: async () => f.token,
    limiter,
    logger,
  });
  runner = new EmbeddedOperationRunner({ store, logger, processorDeps: () => ({ airtable }) });
});

afterAll(async () => {
  await runner?.close();
  await limiter?.close();
  await f?.sandbox.close();
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function operation(tag: string, count: number) {
  return operationFromPlan(
    {
      kind: "create_records",
      baseId: f.base.id,
      tableId: "Tasks",
      input: Array.from({ length: count }, (_, i) => ({ fields: { Name: `${tag} ${i}` } })),
      options: { typecast: false, onError: "continue" },
    },
    f.user.id,
  );
}
const rowsNamed = (tag: string) =>
  f.sandbox.listRecordsDirect(f.base.id, "Tasks").filter((r) => String(r.fields.Name).startsWith(`${tag} `));

describe("EmbeddedOperationRunner.cancel", () => {
  it("cancels an operation accepted before a restart (not resumed) at once; it never sends", async () => {
    const op = operation("restart", 20);
    await store.create(op); // accepted by the previous process
    expect(await runner.cancel(op.operationId, "usrSomeoneElse")).toBeUndefined();
    const state = await runner.cancel(op.operationId, f.user.id);
    expect(state?.status).toBe("cancelled");
    expect(await store.unfinished()).not.toContain(op.operationId);
    runner.resume(op); // what start-up would do: finds the log ended
    await runner.waitForEnd(op.operationId, 2_000);
    expect(rowsNamed("restart")).toEqual([]);
    expect((await runner.cancel(op.operationId, f.user.id))?.lastSeq).toBe(state?.lastSeq);
  });

  it("stops a running operation after the batch in flight", async () => {
    const op = operation("running", 200);
    await runner.submit(op);
    for (let i = 0; i < 100 && rowsNamed("running").length < 20; i++) await sleep(50);
    const asked = await runner.cancel(op.operationId, f.user.id);
    expect(asked?.cancellation?.via).toBe("cancel_operation");
    await runner.waitForEnd(op.operationId, 5_000);
    const state = (await store.state(op.operationId))!;
    expect(state.status).toBe("cancelled");
    expect(state.progress.recordsSucceeded - (asked?.progress.recordsSucceeded ?? 0)).toBeLessThanOrEqual(10);
    await sleep(500);
    expect(rowsNamed("running")).toHaveLength(state.progress.recordsSucceeded);
  });
});
