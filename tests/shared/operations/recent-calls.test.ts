/**
 * RecentCalls (src/shared/operations/recent-calls.ts) on the stores of stdio mode without Redis (memory key-value
 * store and operation log; the Redis and SQLite ones are exercised through the server in
 * tests/server/mcp/identical-create-retry.test.ts and tests/start/retry-after-crash.test.ts): which earlier
 * operation an identical create is attached to, and the claim's life between a call's claim and its operation.
 */
import { describe, expect, it } from "vitest";
import { MemoryKeyValueStore } from "../../../src/shared/kv/memory-key-value-store.ts";
import { MemoryOperationLog } from "../../../src/shared/operations/memory-operation-log.ts";
import { operationFromPlan } from "../../../src/shared/operations/plan.ts";
import {
  canonicalJson,
  createCallFingerprint,
  HOLDER_WAIT_MS,
  RecentCalls,
  RECENT_CALL_WINDOW_MS,
} from "../../../src/shared/operations/recent-calls.ts";

const createPlan = (names: string[], typecast = true) => ({
  kind: "create_records" as const,
  baseId: "app00000000000001",
  tableId: "tbl00000000000001",
  input: names.map((Name) => ({ fields: { fld00000000000001: Name } })),
  options: { typecast, onError: "continue" as const },
});

function setup(now = () => Date.now()) {
  const operations = new MemoryOperationLog({ retentionMs: 3_600_000, now });
  const recent = new RecentCalls({ kv: new MemoryKeyValueStore({ now }), keyPrefix: "t", operations, now });
  return { operations, recent };
}

describe("createCallFingerprint", () => {
  it("is the same for the same call whatever its keys' order, and differs with records or typecast", () => {
    const a = operationFromPlan(createPlan(["x", "y"]), "usr1");
    const b = operationFromPlan(
      { ...createPlan(["x", "y"]), options: { onError: "continue", typecast: true } },
      "usr1",
    );
    expect(createCallFingerprint(a)).toBe(createCallFingerprint(b));
    expect(createCallFingerprint(a)).not.toBe(createCallFingerprint(operationFromPlan(createPlan(["y", "x"]), "usr1")));
    expect(createCallFingerprint(a)).not.toBe(
      createCallFingerprint(operationFromPlan(createPlan(["x", "y"], false), "usr1")),
    );
    // Another option (onError) is another call: a retry with "stop" is not the "continue" one.
    expect(createCallFingerprint(a)).not.toBe(
      createCallFingerprint(
        operationFromPlan({ ...createPlan(["x", "y"]), options: { typecast: true, onError: "stop" } }, "usr1"),
      ),
    );
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it("leaves out the select options typecast creates: a retry checked after the first batch created them is the same call", () => {
    const first = operationFromPlan(
      {
        ...createPlan(["x"]),
        options: {
          typecast: true,
          onError: "continue",
          addsSelectOptions: true,
          newSelectOptions: [
            { fieldId: "fld00000000000002", field: "Stage", options: [{ name: "Custmer" }], existing: ["Lead"] },
          ],
        },
      },
      "usr1",
    );
    // The retry's check sees "Custmer" as an existing option already: no new options are derived.
    expect(createCallFingerprint(operationFromPlan(createPlan(["x"]), "usr1"))).toBe(createCallFingerprint(first));
  });

  it("is undefined for kinds other than create_records", () => {
    const update = operationFromPlan(
      { ...createPlan([]), kind: "update_records", input: [{ id: "rec00000000000001", fields: { Name: "x" } }] },
      "usr1",
    );
    expect(createCallFingerprint(update)).toBeUndefined();
  });
});

describe("RecentCalls.findOrClaim", () => {
  it("attaches an identical create to the unfinished one, not to another user's, a finished one or an old one", async () => {
    let clock = 1_000_000;
    const { operations, recent } = setup(() => clock);
    const first = operationFromPlan(createPlan(["a"]), "usr1", clock);
    expect(await recent.findOrClaim(first)).toBeUndefined();
    await operations.create(first);

    const retry = operationFromPlan(createPlan(["a"]), "usr1", clock);
    expect((await recent.findOrClaim(retry))?.operation.operationId).toBe(first.operationId);
    expect(await recent.findOrClaim(operationFromPlan(createPlan(["a"]), "usr2", clock))).toBeUndefined();

    await operations.append(first.operationId, {
      at: clock,
      type: "completed",
      summary: { succeeded: 1, failed: 0, inDoubt: 0 },
    });
    const afterEnd = operationFromPlan(createPlan(["a"]), "usr1", clock);
    expect(await recent.findOrClaim(afterEnd)).toBeUndefined();
    await operations.create(afterEnd);
    expect((await recent.findOrClaim(operationFromPlan(createPlan(["a"]), "usr1")))?.operation.operationId).toBe(
      afterEnd.operationId,
    );

    clock += RECENT_CALL_WINDOW_MS + 1; // the claim has expired: a new call queues
    expect(await recent.findOrClaim(operationFromPlan(createPlan(["a"]), "usr1", clock))).toBeUndefined();
  });

  it("waits for the operation of a call that has claimed but not yet created it; one that never appears is taken over", async () => {
    const { operations, recent } = setup();
    const holder = operationFromPlan(createPlan(["h"]), "usr1");
    expect(await recent.findOrClaim(holder)).toBeUndefined();
    const waiting = recent.findOrClaim(operationFromPlan(createPlan(["h"]), "usr1"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await operations.create(holder);
    expect((await waiting)?.operation.operationId).toBe(holder.operationId);

    // A holder whose operation never appears (its queueing failed before the log was written) is taken over.
    const failed = operationFromPlan(createPlan(["f"]), "usr1");
    expect(await recent.findOrClaim(failed)).toBeUndefined();
    const next = operationFromPlan(createPlan(["f"]), "usr1");
    const started = Date.now();
    expect(await recent.findOrClaim(next)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(HOLDER_WAIT_MS - 50);
    await operations.create(next);
    expect((await recent.findOrClaim(operationFromPlan(createPlan(["f"]), "usr1")))?.operation.operationId).toBe(
      next.operationId,
    );
  });

  it("does not attach to an operation being cancelled: a client that cancelled and sends again wants the records", async () => {
    const { operations, recent } = setup();
    const first = operationFromPlan(createPlan(["c"]), "usr1");
    expect(await recent.findOrClaim(first)).toBeUndefined();
    await operations.create(first);
    // Still queued (a worker has not ended it yet), but its cancel is logged.
    await operations.append(first.operationId, {
      at: Date.now(),
      type: "cancel_requested",
      source: "cancel_operation",
    });
    expect((await operations.getForOwner(first.operationId, "usr1"))?.status).toBe("queued");
    const again = operationFromPlan(createPlan(["c"]), "usr1");
    expect(await recent.findOrClaim(again)).toBeUndefined();
    // The new call holds the claim now: a retry of it is attached to it.
    await operations.create(again);
    expect((await recent.findOrClaim(operationFromPlan(createPlan(["c"]), "usr1")))?.operation.operationId).toBe(
      again.operationId,
    );
  });

  it("ends with a frozen clock: the wait for a holder's operation is counted in polls", async () => {
    const frozen = 5_000_000;
    const { recent } = setup(() => frozen);
    expect(await recent.findOrClaim(operationFromPlan(createPlan(["z"]), "usr1", frozen))).toBeUndefined();
    // The holder never creates its operation; the old clock-based wait never ended here.
    expect(await recent.findOrClaim(operationFromPlan(createPlan(["z"]), "usr1", frozen))).toBeUndefined();
  }, 10_000);
});
