/** Builders for operation tests (fold, log, and later the worker): a valid operation and a log of events. Not built. */
import { batchCount } from "../../src/shared/operations/events.ts";
import type { NewOperationEvent, Operation, OperationEvent } from "../../src/shared/operations/events.ts";
import { newOperationId } from "../../src/shared/operations/operation-id.ts";
import { operationFromPlan } from "../../src/shared/operations/plan.ts";

/** An operation of `records` create_records items by default; override any field. */
export function testOperation(overrides: Partial<Operation> & { records?: number } = {}): Operation {
  const { records = 25, ...rest } = overrides;
  return {
    operationId: newOperationId(),
    ownerUserId: "usrOwner",
    kind: "create_records",
    baseId: "appBase",
    tableId: "tblTable",
    input: Array.from({ length: records }, (_, i) => ({ fields: { Name: `r${i}` } })),
    options: { typecast: true, onError: "continue" },
    batchSize: 10,
    createdAt: 1_700_000_000_000,
    ...rest,
  };
}

/**
 * A create_records operation of one record named `name` in `baseId`'s table "Tasks", for `userId`, as submit makes
 * it (operationFromPlan), created `ageMs` ago.
 */
export function oneRecordOperation(baseId: string, userId: string, name: string, ageMs = 0): Operation {
  const op = operationFromPlan(
    {
      kind: "create_records",
      baseId,
      tableId: "Tasks",
      input: [{ fields: { Name: name } }],
      options: { typecast: false, onError: "continue" },
    },
    userId,
  );
  return { ...op, createdAt: op.createdAt - ageMs };
}

/** The log of `operation`: `accepted` (seq 1) then `events` with seq 2, 3, … and `at` one ms apart. */
export function testLog(operation: Operation, ...events: NewOperationEvent[]): OperationEvent[] {
  const start = operation.createdAt;
  const accepted: OperationEvent = {
    type: "accepted",
    seq: 1,
    at: start,
    operation,
    batchesTotal: batchCount(operation),
  };
  return [accepted, ...events.map((e, i) => ({ ...e, seq: i + 2, at: e.at ?? start + i + 1 }) as OperationEvent)];
}

/** `batch.succeeded` for the given input indexes, with record ids `rec<index>`. */
export function succeeded(batch: number, indexes: number[]): NewOperationEvent {
  return { type: "batch.succeeded", batch, results: indexes.map((index) => ({ index, recordId: `rec${index}` })) };
}

export function started(batch: number, attempt = 1, indexes?: number[], asUpsert?: boolean): NewOperationEvent {
  return {
    type: "batch.started",
    batch,
    attempt,
    ...(indexes === undefined ? {} : { indexes }),
    ...(asUpsert === undefined ? {} : { asUpsert }),
  };
}

export function failed(batch: number, indexes: number[], permanent = true): NewOperationEvent {
  const errors = indexes.map((index) => ({
    index,
    type: "INVALID_VALUE_FOR_COLUMN",
    message: `bad value at ${index}`,
  }));
  return { type: "batch.failed", batch, errors, permanent };
}

export function inDoubt(batch: number, indexes: number[]): NewOperationEvent {
  return { type: "batch.in_doubt", batch, indexes, reason: "worker died after sending" };
}

/** Indexes from `from` to `to`, both included. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
