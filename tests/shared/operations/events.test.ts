import { describe, expect, it } from "vitest";
import {
  batchCount,
  batchIndexes,
  operationEventSchema,
  operationSchema,
} from "../../../src/shared/operations/events.ts";
import { isOperationId, newOperationId } from "../../../src/shared/operations/operation-id.ts";
import { testOperation } from "../../support/operations-test-harness.ts";

describe("operation ids", () => {
  it("are op_ + 128 random bits in base64url, never repeated", () => {
    const ids = Array.from({ length: 1_000 }, newOperationId);
    expect(new Set(ids).size).toBe(1_000);
    for (const id of ids) expect(id).toMatch(/^op_[A-Za-z0-9_-]{22}$/);
    expect(isOperationId(ids[0]!)).toBe(true);
    expect(isOperationId("op_short")).toBe(false);
    expect(isOperationId("op_../../../../../etc/passwd00")).toBe(false);
  });
});

describe("operationSchema", () => {
  it("accepts a valid operation", () => {
    expect(operationSchema.parse(testOperation())).toEqual(
      testOperation({ operationId: expect.any(String) as string }),
    );
  });

  it.each([
    ["a batch larger than Airtable takes", { batchSize: 11 }, "batchSize"],
    ["an upsert without merge fields", { kind: "upsert_records" }, "fieldsToMergeOn"],
    ["a schema call with two payloads", { kind: "create_table", records: 2 }, "exactly one"],
    ["no input", { records: 0 }, "input"],
    ["a guessable id", { operationId: "op_1" }, "operationId"],
  ] as const)("refuses %s", (_, overrides, message) => {
    const result = operationSchema.safeParse(testOperation(overrides as Parameters<typeof testOperation>[0]));
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });
});

describe("batches", () => {
  it("cut the input by position; the last one may be short", () => {
    const op = testOperation({ records: 23, batchSize: 10 });
    expect(batchCount(op)).toBe(3);
    expect(batchIndexes(op, 0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batchIndexes(op, 2)).toEqual([20, 21, 22]);
    expect(batchIndexes(op, 3)).toEqual([]);
  });
});

describe("operationEventSchema", () => {
  it("tells events apart by type and refuses unknown ones", () => {
    expect(
      operationEventSchema.parse({ type: "batch.in_doubt", seq: 4, at: 1, batch: 0, indexes: [1], reason: "x" }),
    ).toMatchObject({
      type: "batch.in_doubt",
    });
    expect(operationEventSchema.safeParse({ type: "batch.exploded", seq: 4, at: 1, batch: 0 }).success).toBe(false);
    expect(
      operationEventSchema.safeParse({ type: "batch.succeeded", seq: 4, at: 1, batch: 0, results: [] }).success,
    ).toBe(false);
  });
});
