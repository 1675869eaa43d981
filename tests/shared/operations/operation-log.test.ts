import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import type { NewOperationEvent } from "../../../src/shared/operations/events.ts";
import { newOperationId } from "../../../src/shared/operations/operation-id.ts";
import {
  OperationExistsError,
  OperationLog,
  OperationLogFullError,
  OperationNotFoundError,
} from "../../../src/shared/operations/operation-log.ts";
import { range, started, succeeded, testOperation } from "../../support/operations-test-harness.ts";

const redis = createTestRedis();
const other = createTestRedis();
const keyPrefix = uniquePrefix("operation-log");
const retentionMs = 60_000;
const log = new OperationLog({ redis, keyPrefix, retentionMs, now: () => 1_800_000_000_000 });

afterAll(async () => {
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
  other.disconnect();
});

describe("OperationLog", () => {
  it("round-trips an operation and its events; seq is assigned by the log, 1 being `accepted`", async () => {
    const op = testOperation({ records: 12 });
    await log.create(op);
    expect(await log.append(op.operationId, started(0))).toBe(2);
    expect(await log.append(op.operationId, { ...succeeded(0, range(0, 9)), at: 1_800_000_000_500 })).toBe(3);

    const events = await log.read(op.operationId);
    expect(events).toEqual([
      { type: "accepted", seq: 1, at: 1_800_000_000_000, operation: op, batchesTotal: 2 },
      { type: "batch.started", seq: 2, at: 1_800_000_000_000, batch: 0, attempt: 1 },
      { ...succeeded(0, range(0, 9)), seq: 3, at: 1_800_000_000_500 },
    ]);
    const state = await log.state(op.operationId);
    expect(state).toMatchObject({ status: "running", progress: { batchesDone: 1, recordsSucceeded: 10 } });
    expect(state?.nextBatch).toMatchObject({ batch: 1, indexes: [10, 11] });
  });

  it("refuses a second create with the same id, an append to a missing operation and an invalid event", async () => {
    const op = testOperation();
    await log.create(op);
    await expect(log.create({ ...op, ownerUserId: "usrThief" })).rejects.toBeInstanceOf(OperationExistsError);
    expect((await log.read(op.operationId))[0]).toMatchObject({ operation: { ownerUserId: "usrOwner" } });

    const missing = newOperationId();
    await expect(log.append(missing, started(0))).rejects.toBeInstanceOf(OperationNotFoundError);
    expect(await redis.exists(log.keyOf("op", missing))).toBe(0);
    await expect(log.append(op.operationId, { type: "batch.started", batch: -1, attempt: 1 })).rejects.toThrow(
      /invalid event/,
    );
    await expect(log.create({ ...op, operationId: newOperationId(), batchSize: 11 })).rejects.toThrow();
    expect(await log.read(missing)).toEqual([]);
    expect(await log.state(missing)).toBeUndefined();
  });

  it("stops a log at maxEvents instead of trimming its head", async () => {
    const small = new OperationLog({ redis, keyPrefix, retentionMs, maxEvents: 3 });
    const op = testOperation();
    await small.create(op);
    await small.append(op.operationId, started(0));
    await small.append(op.operationId, succeeded(0, range(0, 9)));
    await expect(small.append(op.operationId, started(1))).rejects.toBeInstanceOf(OperationLogFullError);
    expect((await small.read(op.operationId)).map((e) => e.type)).toEqual([
      "accepted",
      "batch.started",
      "batch.succeeded",
    ]);
  });

  it("gives every key a TTL of retentionMs, refreshed on append", async () => {
    const op = testOperation({ ownerUserId: "usrTtl" });
    await log.create(op);
    const keys = [log.keyOf("op", op.operationId), log.keyOf("owner", "usrTtl")];
    for (const key of keys) {
      expect(await redis.pttl(key)).toBeGreaterThan(retentionMs - 5_000);
      expect(await redis.pttl(key)).toBeLessThanOrEqual(retentionMs);
      await redis.pexpire(key, 1_000);
    }
    await log.append(op.operationId, started(0));
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(retentionMs - 5_000);
  });

  it("answers only the owner: another user's id and a missing id look the same", async () => {
    const op = testOperation({ ownerUserId: "usrAlice" });
    await log.create(op);
    expect(await log.getForOwner(op.operationId, "usrAlice")).toMatchObject({
      status: "queued",
      operation: { operationId: op.operationId },
    });
    expect(await log.getForOwner(op.operationId, "usrBob")).toBeUndefined();
    expect(await log.getForOwner(newOperationId(), "usrAlice")).toBeUndefined();
    expect(await log.getForOwner("op_../../*", "usrAlice")).toBeUndefined();
    expect(await log.listForOwner("usrBob", { limit: 10 })).toEqual([]);
  });

  it("lists an owner's operations newest first, page by page, skipping expired ones", async () => {
    const owner = "usrLister";
    const ops = [0, 1, 2, 3, 4].map((i) =>
      testOperation({ ownerUserId: owner, createdAt: 1_700_000_000_000 + i * 1_000 }),
    );
    for (const op of ops) await log.create(op);
    await log.create(testOperation({ ownerUserId: "usrSomeoneElse" }));
    await log.append(ops[4]!.operationId, started(0));
    const ids = ops.map((op) => op.operationId).reverse();

    const page1 = await log.listForOwner(owner, { limit: 2 });
    expect(page1.map((s) => s.operationId)).toEqual(ids.slice(0, 2));
    expect(page1[0]).toEqual({
      operationId: ids[0],
      kind: "create_records",
      baseId: "appBase",
      tableId: "tblTable",
      status: "running",
      progress: {
        batchesDone: 0,
        batchesTotal: 3,
        recordsTotal: 25,
        recordsSucceeded: 0,
        recordsFailed: 0,
        recordsInDoubt: 0,
      },
      createdAt: ops[4]!.createdAt,
      updatedAt: 1_800_000_000_000,
    });
    const page2 = await log.listForOwner(owner, { limit: 2, before: page1[1]!.operationId });
    expect(page2.map((s) => s.operationId)).toEqual(ids.slice(2, 4));

    // ops[1] (ids[3]) expired: the list skips it, fills the page from further down, and prunes the index.
    await redis.del(log.keyOf("op", ops[1]!.operationId));
    const rest = await log.listForOwner(owner, { limit: 2, before: ids[2] });
    expect(rest.map((s) => s.operationId)).toEqual([ids[4]]);
    expect(await redis.zscore(log.keyOf("owner", owner), ops[1]!.operationId)).toBeNull();
    expect(await log.listForOwner(owner, { limit: 2, before: ids[4] })).toEqual([]);
    await expect(log.listForOwner(owner, { limit: 0 })).rejects.toThrow(/limit/);
  });

  it("appends safely from two connections at once: every seq once, no gaps", async () => {
    const op = testOperation({ records: 1_000 });
    await log.create(op);
    const otherLog = new OperationLog({ redis: other, keyPrefix, retentionMs });
    const appendMany = (target: OperationLog, batches: number[]) =>
      Promise.all(batches.map((b) => target.append(op.operationId, started(b) as NewOperationEvent)));
    const [mine, theirs] = await Promise.all([appendMany(log, range(0, 49)), appendMany(otherLog, range(50, 99))]);

    const seqs = [...mine, ...theirs].sort((a, b) => a - b);
    expect(seqs).toEqual(range(2, 101));
    const events = await log.read(op.operationId);
    expect(events.map((e) => e.seq)).toEqual(range(1, 101));
    const state = await log.state(op.operationId);
    expect(state?.lastSeq).toBe(101);
  });

  it("appendIf appends only while the log keeps the length it was read with and the guard's key is absent", async () => {
    const op = testOperation();
    await log.create(op);
    const absentKey = `${keyPrefix}:guard:${op.operationId}`;
    const failed: NewOperationEvent = { type: "failed", reason: "not queued" };
    // Another process appended since the log was read at 1 event.
    await log.append(op.operationId, { type: "cancel_requested", source: "cancel_operation" });
    expect(await log.appendIf(op.operationId, failed, { length: 1, absentKey })).toBe("changed");
    // The key exists (a job added that very moment): refused whatever the length.
    await redis.set(absentKey, "1", "PX", retentionMs);
    expect(await log.appendIf(op.operationId, failed, { length: 2, absentKey })).toBe("key_exists");
    expect((await log.read(op.operationId)).map((e) => e.type)).toEqual(["accepted", "cancel_requested"]);
    await redis.del(absentKey);
    expect(await log.appendIf(op.operationId, failed, { length: 2, absentKey })).toBe(3);
    expect((await log.state(op.operationId))?.status).toBe("failed");
    await expect(log.appendIf(newOperationId(), failed, { length: 1, absentKey })).rejects.toBeInstanceOf(
      OperationNotFoundError,
    );
    await expect(log.appendIf(op.operationId, failed, { length: 0, absentKey })).rejects.toThrow(/guard.length/);
  });
});
