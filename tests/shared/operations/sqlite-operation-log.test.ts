import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationLogFullError } from "../../../src/shared/operations/operation-log.ts";
import { SqliteOperationLog } from "../../../src/shared/operations/sqlite-operation-log.ts";
import { openDatabase, type SqliteDatabase } from "../../../src/shared/sqlite/database.ts";
import { operationStoreContract } from "../../support/operation-store.contract.ts";
import { range, started, succeeded, testOperation } from "../../support/operations-test-harness.ts";

const dir = mkdtempSync(path.join(tmpdir(), "operation-log-sqlite-"));
const file = path.join(dir, "state.sqlite");
let db: SqliteDatabase;
beforeAll(async () => {
  db = await openDatabase(file);
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

operationStoreContract("SqliteOperationLog", () => new SqliteOperationLog({ db, retentionMs: 60_000 }));

describe("SqliteOperationLog", () => {
  it("keeps operations across a reopen of the file (a restart), and lists the unfinished ones to resume", async () => {
    const log = new SqliteOperationLog({ db, retentionMs: 60_000 });
    const running = testOperation({ ownerUserId: "usrRestart", records: 12 });
    const done = testOperation({ ownerUserId: "usrRestart", records: 1 });
    await log.create(running);
    await log.append(running.operationId, started(0));
    await log.append(running.operationId, succeeded(0, range(0, 9)));
    await log.create(done);
    await log.append(done.operationId, started(0));
    await log.append(done.operationId, succeeded(0, [0]));
    await log.append(done.operationId, { type: "completed", summary: { succeeded: 1, failed: 0, inDoubt: 0 } });

    const reopened = await openDatabase(file);
    try {
      const again = new SqliteOperationLog({ db: reopened, retentionMs: 60_000 });
      expect(await again.state(running.operationId)).toMatchObject({
        status: "running",
        progress: { recordsSucceeded: 10 },
      });
      expect(await again.getForOwner(done.operationId, "usrRestart")).toMatchObject({ status: "completed" });
      const unfinished = await again.unfinished();
      expect(unfinished).toContain(running.operationId);
      expect(unfinished).not.toContain(done.operationId);
      expect(await again.append(running.operationId, started(1))).toBe(4);
    } finally {
      reopened.close();
    }
  });

  it("forgets an operation retentionMs after its last event, and its id can be used again", async () => {
    let now = 1_000_000;
    const log = new SqliteOperationLog({ db, retentionMs: 1_000, now: () => now });
    const op = testOperation({ ownerUserId: "usrExpiry" });
    await log.create(op);
    now += 999;
    expect(await log.state(op.operationId)).toBeDefined();
    await log.append(op.operationId, started(0));
    now += 999;
    expect(await log.state(op.operationId)).toBeDefined();
    now += 1;
    expect(await log.state(op.operationId)).toBeUndefined();
    expect(await log.read(op.operationId)).toEqual([]);
    expect(await log.listForOwner("usrExpiry", { limit: 10 })).toEqual([]);
    expect(await log.unfinished()).not.toContain(op.operationId);
    await log.create(op);
    expect((await log.read(op.operationId)).map((e) => e.seq)).toEqual([1]);
  });

  it("stops a log at maxEvents instead of dropping its head", async () => {
    const log = new SqliteOperationLog({ db, retentionMs: 60_000, maxEvents: 3 });
    const op = testOperation();
    await log.create(op);
    await log.append(op.operationId, started(0));
    await log.append(op.operationId, succeeded(0, range(0, 9)));
    await expect(log.append(op.operationId, started(1))).rejects.toBeInstanceOf(OperationLogFullError);
    expect((await log.read(op.operationId)).map((e) => e.type)).toEqual([
      "accepted",
      "batch.started",
      "batch.succeeded",
    ]);
  });

  it("pages an owner's operations with equal createdAt by id, newest first, without repeats", async () => {
    const log = new SqliteOperationLog({ db, retentionMs: 60_000 });
    const owner = "usrSameTime";
    const ops = [1, 2, 3, 4].map(() => testOperation({ ownerUserId: owner, createdAt: 1_700_000_000_000 }));
    for (const op of ops) await log.create(op);
    const expected = ops
      .map((op) => op.operationId)
      .sort()
      .reverse();
    const first = await log.listForOwner(owner, { limit: 3 });
    const rest = await log.listForOwner(owner, { limit: 3, before: first.at(-1)!.operationId });
    expect([...first, ...rest].map((s) => s.operationId)).toEqual(expected);
    // Another user's id as a cursor ends the list rather than revealing anything.
    const mine = testOperation({ ownerUserId: "usrOther" });
    await log.create(mine);
    expect(await log.listForOwner(owner, { limit: 3, before: mine.operationId })).toEqual([]);
  });
});
