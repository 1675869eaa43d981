/**
 * What every OperationStore must do, run against each implementation (Redis OperationLog, MemoryOperationLog).
 * Redis-only behaviour (key TTLs, concurrent appends from two connections) stays in operation-log.test.ts.
 */
import { describe, expect, it } from "vitest";
import { OperationExistsError, OperationNotFoundError } from "../../src/shared/operations/operation-log.ts";
import type { OperationStore } from "../../src/shared/operations/operation-store.ts";
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
  });
}
