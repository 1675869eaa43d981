import { afterAll, describe, expect, it } from "vitest";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { MemoryOperationLog } from "../../../src/shared/operations/memory-operation-log.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import { operationStoreContract } from "../../support/operation-store.contract.ts";
import { testOperation } from "../../support/operations-test-harness.ts";

const redis = createTestRedis();
const keyPrefix = uniquePrefix("operation-store");

afterAll(async () => {
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

operationStoreContract("MemoryOperationLog", () => new MemoryOperationLog({ retentionMs: 60_000 }));
operationStoreContract("OperationLog (Redis)", () => new OperationLog({ redis, keyPrefix, retentionMs: 60_000 }));

describe("MemoryOperationLog", () => {
  it("forgets an operation retentionMs after its last event", async () => {
    let now = 1_000_000;
    const store = new MemoryOperationLog({ retentionMs: 1_000, now: () => now });
    const op = testOperation();
    await store.create(op);
    now += 999;
    expect(await store.state(op.operationId)).toBeDefined();
    now += 1;
    expect(await store.state(op.operationId)).toBeUndefined();
    expect(await store.listForOwner(op.ownerUserId, { limit: 10 })).toEqual([]);
  });
});
