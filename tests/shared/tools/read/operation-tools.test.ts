import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newOperationId } from "../../../../src/shared/operations/operation-id.ts";
import { failed, range, started, succeeded, testOperation } from "../../../support/operations-test-harness.ts";
import { startToolContextHarness, type ToolContextHarness } from "../../../support/tool-context-test-harness.ts";
import { ToolInputError } from "../../../../src/shared/tools/tool-input-error.ts";
import { getOperation } from "../../../../src/shared/tools/read/get-operation.ts";
import { listOperations } from "../../../../src/shared/tools/read/list-operations.ts";

let h: ToolContextHarness;
beforeAll(async () => {
  h = await startToolContextHarness("operation-tools");
});
afterAll(async () => {
  await h.close();
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ToolInputError)) throw new Error(`expected a ToolInputError, got ${String(error)}`);
  return error.message;
}

const notFound = (id: string) =>
  `There is no operation "${id}" for you. Operations are kept for 72 hours after their last change by default, ` +
  `and only their owner sees them; list_operations lists yours.`;

describe("get_operation", () => {
  it("answers the owner with status, progress and results paged by cursor", async () => {
    const op = testOperation({ ownerUserId: h.demo.user.id, records: 250 });
    await h.operations.create(op);
    await h.operations.append(op.operationId, started(0));
    await h.operations.append(op.operationId, succeeded(0, range(0, 9)));
    await h.operations.append(op.operationId, started(1));
    await h.operations.append(op.operationId, failed(1, range(10, 19)));

    const first = await h.call(getOperation, { operationId: op.operationId });
    expect(first).toMatchObject({
      operationId: op.operationId,
      kind: "create_records",
      status: "running",
      done: false,
      progress: { batchesDone: 2, batchesTotal: 25, recordsTotal: 250, recordsSucceeded: 10, recordsFailed: 10 },
      nextCursor: `${op.operationId}:200`,
    });
    const results = first.results as { index: number }[];
    expect(results).toHaveLength(200);
    expect(results[0]).toEqual({ index: 0, id: "rec0" });
    expect(results[10]).toEqual({
      index: 10,
      error: { type: "INVALID_VALUE_FOR_COLUMN", message: "bad value at 10" },
    });
    expect(results[20]).toEqual({ index: 20, pending: true });
    // The text says the results are a page and how to get the rest (an agent reading only it must not take the
    // other 50 for missing).
    expect(first.message).toMatch(
      /The results field lists items 0–199 of 250: call get_operation with this operationId and cursor set to nextCursor for the rest\.$/,
    );

    const second = await h.call(getOperation, { operationId: op.operationId, cursor: first.nextCursor });
    expect((second.results as { index: number }[]).map((r) => r.index)).toEqual(range(200, 249));
    expect(second.nextCursor).toBeUndefined();
    expect(second.message).not.toContain("results field lists items");

    expect(await refusal(h.call(getOperation, { operationId: op.operationId, cursor: "op_other:5" }))).toMatch(
      /^The cursor "op_other:5" does not belong to operation op_/,
    );
  });

  it("answers another user, an unknown id and a malformed one alike: not found", async () => {
    const op = testOperation({ ownerUserId: h.demo.user.id, records: 3 });
    await h.operations.create(op);
    const other = h.contextFor(h.otherUser.id);
    expect(await refusal(h.call(getOperation, { operationId: op.operationId }, other))).toBe(notFound(op.operationId));
    const missing = newOperationId();
    expect(await refusal(h.call(getOperation, { operationId: missing }))).toBe(notFound(missing));
    expect(await refusal(h.call(getOperation, { operationId: "op_../../x" }))).toBe(notFound("op_../../x"));
    expect(await h.call(getOperation, { operationId: op.operationId })).toMatchObject({ status: "queued" });
  });
});

describe("list_operations", () => {
  it("lists the caller's operations newest first, in pages joined by nextCursor", async () => {
    const lister = h.contextFor("usrListerListerL");
    const ops = [1, 2, 3, 4, 5].map((n) =>
      testOperation({ ownerUserId: lister.userId, records: n, createdAt: 1_800_000_000_000 + n * 1000 }),
    );
    for (const op of ops) await h.operations.create(op);
    await h.operations.create(testOperation({ ownerUserId: "usrSomeoneElse12" }));
    await h.operations.append(ops[4]?.operationId ?? "", started(0));
    const ids = ops.map((op) => op.operationId).reverse();

    const page1 = await h.call(listOperations, { limit: 2 }, lister);
    const page1Ops = page1.operations as Record<string, unknown>[];
    expect(page1Ops.map((o) => o.operationId)).toEqual(ids.slice(0, 2));
    expect(page1.nextCursor).toBe(ids[1]);
    expect(page1Ops[0]).toMatchObject({
      kind: "create_records",
      baseId: "appBase",
      tableId: "tblTable",
      status: "running",
      progress: { recordsTotal: 5, batchesTotal: 1 },
      createdAt: new Date(1_800_000_005_000).toISOString(),
    });
    const page2 = await h.call(listOperations, { limit: 2, cursor: page1.nextCursor }, lister);
    expect((page2.operations as { operationId: string }[]).map((o) => o.operationId)).toEqual(ids.slice(2, 4));
    const page3 = await h.call(listOperations, { limit: 2, cursor: page2.nextCursor }, lister);
    expect((page3.operations as { operationId: string }[]).map((o) => o.operationId)).toEqual(ids.slice(4));
    expect(page3.nextCursor).toBeUndefined();

    const all = await h.call(listOperations, {}, lister);
    expect((all.operations as { operationId: string }[]).map((o) => o.operationId)).toEqual(ids);
    expect(all.nextCursor).toBeUndefined();
  });

  it("shows a user none of another user's operations, and refuses a cursor that is no operation id", async () => {
    const stranger = h.contextFor("usrStrangerStran");
    expect(await h.call(listOperations, {}, stranger)).toEqual({ operations: [] });
    expect(await refusal(h.call(listOperations, { cursor: "page-2" }))).toMatch(
      /^The cursor "page-2" is not a nextCursor of list_operations/,
    );
  });
});
