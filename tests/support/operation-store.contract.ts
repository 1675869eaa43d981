/**
 * What every OperationStore must do, run against each implementation (Redis OperationLog, MemoryOperationLog).
 * Redis-only behaviour (key TTLs, concurrent appends from two connections) stays in operation-log.test.ts.
 */
import { describe, expect, it } from "vitest";
import { OperationExistsError, OperationNotFoundError } from "../../src/shared/operations/operation-log.ts";
import type { OperationStore } from "../../src/shared/operations/operation-store.ts";
import { endCancelledIfIdle, recordCancelRequest } from "../../src/shared/operations/cancel.ts";
import { range, started, succeeded, testOperation } from "./operations-test-harness.ts";

export function operationStoreContract(name: string, makeStore: () => OperationStore): void {
  describe(`${name} (OperationStore contract)`, () => {
    it("round-trips an operation and its events, numbering them from 1 (accepted)", async () => {
      const store = makeStore();
      const op = testOperation({ records: 12 });
      await store.create(op);
      expect(await store.append(op.operationId, started(0))).toBe(2);
      expect(await store.append(op.operationId, succeeded(0, range(0, 9)))).toBe(3);
      expect((await store.read(op.operationId)).map((e) => [e.seq, e.type])).toEqual([
        [1, "accepted"],
        [2, "batch.started"],
        [3, "batch.succeeded"],
      ]);
      expect(await store.state(op.operationId)).toMatchObject({
        status: "running",
        progress: { recordsSucceeded: 10 },
      });
    });

    it("refuses a duplicate id and an append to a missing operation; a missing operation reads as nothing", async () => {
      const store = makeStore();
      const op = testOperation();
      await store.create(op);
      await expect(store.create(op)).rejects.toBeInstanceOf(OperationExistsError);
      const missing = testOperation().operationId;
      await expect(store.append(missing, started(0))).rejects.toBeInstanceOf(OperationNotFoundError);
      expect(await store.read(missing)).toEqual([]);
      expect(await store.state(missing)).toBeUndefined();
    });

    it("shows an operation to its owner only; another user's id answers like a missing one", async () => {
      const store = makeStore();
      const op = testOperation({ ownerUserId: "usrAlice" });
      await store.create(op);
      expect((await store.getForOwner(op.operationId, "usrAlice"))?.operation.operationId).toBe(op.operationId);
      expect(await store.getForOwner(op.operationId, "usrMallory")).toBeUndefined();
      expect(await store.getForOwner("not-an-id", "usrAlice")).toBeUndefined();
    });

    it("lists an owner's operations newest first, page by page", async () => {
      const store = makeStore();
      const owner = `usrList${Math.random().toString(36).slice(2, 8)}`;
      const ops = [1, 2, 3, 4, 5].map((i) => testOperation({ ownerUserId: owner, createdAt: 1_700_000_000_000 + i }));
      for (const op of ops) await store.create(op);
      await store.create(testOperation({ ownerUserId: "usrSomeoneElse" }));
      const first = await store.listForOwner(owner, { limit: 2 });
      expect(first.map((s) => s.operationId)).toEqual([ops[4]!.operationId, ops[3]!.operationId]);
      const rest = await store.listForOwner(owner, { limit: 10, before: first[1]!.operationId });
      expect(rest.map((s) => s.operationId)).toEqual([ops[2]!.operationId, ops[1]!.operationId, ops[0]!.operationId]);
    });

    it("cancel: a queued operation ends cancelled with nothing written; asking again changes nothing", async () => {
      const store = makeStore();
      const op = testOperation({ records: 12, ownerUserId: "usrCancel" });
      await store.create(op);
      const requested = await recordCancelRequest(store, op.operationId, "usrCancel", "cancel_operation");
      expect(requested).toMatchObject({ status: "queued", cancellation: { via: "cancel_operation" } });
      const ended = await endCancelledIfIdle(store, op.operationId);
      expect(ended.settled).toBe(true);
      expect(ended.state).toMatchObject({ status: "cancelled", outcomes: [], nextBatch: undefined });
      const again = await recordCancelRequest(store, op.operationId, "usrCancel", "tasks/cancel");
      expect(again?.status).toBe("cancelled");
      expect((await store.read(op.operationId)).map((e) => e.type)).toEqual([
        "accepted",
        "cancel_requested",
        "cancelled",
      ]);
    });

    it("cancel: mid-way keeps what was written; a batch in flight must be settled first; another user gets nothing", async () => {
      const store = makeStore();
      const op = testOperation({ records: 30, ownerUserId: "usrCancel" });
      await store.create(op);
      await store.append(op.operationId, started(0));
      await store.append(op.operationId, succeeded(0, range(0, 9)));
      await store.append(op.operationId, started(1));
      expect(await recordCancelRequest(store, op.operationId, "usrOther", "cancel_operation")).toBeUndefined();
      expect((await store.read(op.operationId)).some((e) => e.type === "cancel_requested")).toBe(false);
      const requested = await recordCancelRequest(store, op.operationId, "usrCancel", "cancel_operation");
      expect(requested).toMatchObject({ status: "running", unfinishedStartedBatch: { batch: 1 } });
      // Batch 1's request is in flight (a create): not ended here, a processor reconciles it first.
      expect((await endCancelledIfIdle(store, op.operationId)).settled).toBe(false);
      await store.append(op.operationId, succeeded(1, range(10, 19)));
      const ended = await endCancelledIfIdle(store, op.operationId);
      expect(ended.state?.status).toBe("cancelled");
      expect(ended.state?.outcomes.map((o) => o.index)).toEqual(range(0, 19));
      expect(ended.state?.progress.recordsSucceeded).toBe(20);
    });

    it("cancel: a finished operation answers its final state, unchanged", async () => {
      const store = makeStore();
      const op = testOperation({ records: 5, ownerUserId: "usrCancel" });
      await store.create(op);
      await store.append(op.operationId, started(0));
      await store.append(op.operationId, succeeded(0, range(0, 4)));
      await store.append(op.operationId, { type: "completed", summary: { succeeded: 5, failed: 0, inDoubt: 0 } });
      const before = await store.read(op.operationId);
      expect((await recordCancelRequest(store, op.operationId, "usrCancel", "cancel_operation"))?.status).toBe(
        "completed",
      );
      expect(await store.read(op.operationId)).toEqual(before);
    });
  });
}
