/**
 * OperationTaskStore: MCP tasks as views of operation logs, on every store the project has (Redis OperationLog,
 * SqliteOperationLog, MemoryOperationLog), and the pollIntervalMs rule.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewOperationEvent } from "../../../src/shared/operations/events.ts";
import type { OperationState } from "../../../src/shared/operations/fold.ts";
import { foldOperation } from "../../../src/shared/operations/fold.ts";
import { EmbeddedOperationRunner } from "../../../src/shared/operations/embedded-runner.ts";
import { MemoryOperationLog } from "../../../src/shared/operations/memory-operation-log.ts";
import { OperationLog } from "../../../src/shared/operations/operation-log.ts";
import type { OperationStore } from "../../../src/shared/operations/operation-store.ts";
import { SqliteOperationLog } from "../../../src/shared/operations/sqlite-operation-log.ts";
import { openDatabase, type SqliteDatabase } from "../../../src/shared/sqlite/database.ts";
import {
  MAX_POLL_INTERVAL_MS,
  MIN_POLL_INTERVAL_MS,
  OperationTaskStore,
  pollIntervalFor,
} from "../../../src/shared/tasks/operation-task-store.ts";
import { operationResult } from "../../../src/shared/tools/operation-result.ts";
import { toolSuccessResult } from "../../../src/shared/tools/tool-result.ts";
import { createLogger } from "../../../src/shared/logger.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { failed, range, started, succeeded, testLog, testOperation } from "../../support/operations-test-harness.ts";

const RETENTION_MS = 3_600_000;
/** When the stores write `accepted` (their clock), a little after the operations' createdAt. */
const T0 = Date.now();
const at = (ms: number) => T0 + ms;

const redis = createTestRedis();
const keyPrefix = uniquePrefix("task-store");
const dir = mkdtempSync(path.join(tmpdir(), "task-store-sqlite-"));
let db: SqliteDatabase;
beforeAll(async () => {
  db = await openDatabase(path.join(dir, "state.sqlite"));
});
afterAll(async () => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const stores: [string, () => OperationStore][] = [
  ["Redis OperationLog", () => new OperationLog({ redis, keyPrefix, retentionMs: RETENTION_MS, now: () => T0 })],
  ["SqliteOperationLog", () => new SqliteOperationLog({ db, retentionMs: RETENTION_MS, now: () => T0 })],
  ["MemoryOperationLog", () => new MemoryOperationLog({ retentionMs: RETENTION_MS, now: () => T0 })],
];

describe.each(stores)("OperationTaskStore over %s", (_name, makeStore) => {
  const owner = "usrTaskOwner";
  /** A 25-record create_records operation (3 batches) created at T0 − 10 ms, in a fresh store. */
  async function setUp(queueDepth = 0) {
    const store = makeStore();
    const operation = testOperation({ ownerUserId: owner, records: 25, createdAt: at(-10) });
    await store.create(operation);
    // The runner's cancel, as the server wires it; it never runs anything here (nothing is submitted to it).
    const runner = new EmbeddedOperationRunner({
      store,
      logger: createLogger({ level: "silent" }),
      processorDeps: () => {
        throw new Error("nothing runs in this test");
      },
    });
    const tasks = new OperationTaskStore({
      operations: store,
      retentionMs: RETENTION_MS,
      baseRps: 5,
      queueDepth: async () => queueDepth,
      cancel: (id, who) => runner.cancel(id, who, { source: "tasks/cancel" }),
    });
    return { store, operation, tasks, id: operation.operationId };
  }

  it("queued: working, the queued message, timestamps, ttl from creation to the log's expiry, a poll interval", async () => {
    const { tasks, id } = await setUp(5); // the queue's count: 4 ahead and this operation's own job
    const task = await tasks.get(id, owner);
    expect(task).toEqual({
      taskId: id,
      status: "working",
      statusMessage:
        "Queued (25 records). Poll tasks/get with this taskId (or get_operation with it as operationId) for the result.",
      createdAt: new Date(at(-10)).toISOString(),
      lastUpdatedAt: new Date(T0).toISOString(),
      ttlMs: RETENTION_MS + 10,
      // 4 operations ahead + ceil(3 remaining batches / 10) = 5 requests at 200 ms.
      pollIntervalMs: 1_000,
    });
  });

  it("queued, the queue's count unreadable: still answered, polled as if nothing waited ahead", async () => {
    const store = makeStore();
    const operation = testOperation({ ownerUserId: owner, records: 25, createdAt: at(-10) });
    await store.create(operation);
    const tasks = new OperationTaskStore({
      operations: store,
      retentionMs: RETENTION_MS,
      baseRps: 5,
      queueDepth: () => Promise.reject(new Error("Redis is away")),
      cancel: () => Promise.reject(new Error("not used here")),
    });
    expect(await tasks.get(operation.operationId, owner)).toMatchObject({
      status: "working",
      pollIntervalMs: MIN_POLL_INTERVAL_MS,
    });
  });

  it("running: working with progress as the status message; the ttl follows the latest event", async () => {
    const { store, tasks, id } = await setUp(50);
    await store.append(id, { ...started(0), at: at(100) });
    await store.append(id, { ...succeeded(0, range(0, 9)), at: at(400) });
    const task = await tasks.get(id, owner);
    expect(task).toMatchObject({
      status: "working",
      statusMessage:
        "Running: 10 records written of 25. Poll tasks/get with this taskId (or get_operation with it as operationId) for the result.",
      lastUpdatedAt: new Date(at(400)).toISOString(),
      ttlMs: RETENTION_MS + 410,
      // Running: the queue no longer matters; 2 batches left → one request's spacing, raised to the minimum.
      pollIntervalMs: MIN_POLL_INTERVAL_MS,
    });
  });

  it("completed_with_errors: completed, the result get_operation gives (by index), no poll interval", async () => {
    const { store, tasks, id } = await setUp();
    await store.append(id, { ...started(0), at: at(1) });
    await store.append(id, { ...succeeded(0, range(0, 9)), at: at(2) });
    await store.append(id, { ...started(1), at: at(3) });
    await store.append(id, { ...failed(1, range(10, 19)), at: at(4) });
    await store.append(id, { ...started(2), at: at(5) });
    await store.append(id, { ...succeeded(2, range(20, 24)), at: at(6) });
    await store.append(id, { type: "completed", summary: { succeeded: 15, failed: 10, inDoubt: 0 }, at: at(7) });
    const state = (await store.getForOwner(id, owner))!;
    const task = await tasks.get(id, owner);
    expect(task).toMatchObject({ status: "completed", statusMessage: expect.stringMatching(/^Done with errors/) });
    expect(task?.pollIntervalMs).toBeUndefined();
    expect(task?.status === "completed" && task.result).toEqual({
      ...toolSuccessResult(operationResult(state)),
      resultType: "complete",
    });
    const results = (
      task as unknown as { result: { structuredContent: { results: { index: number; error?: unknown }[] } } }
    ).result.structuredContent.results;
    expect(results).toHaveLength(25);
    expect(results[12]).toMatchObject({ index: 12, error: { type: "INVALID_VALUE_FOR_COLUMN" } });
  });

  it("failed: completed (a tool result, not a JSON-RPC error), the result saying failed and why", async () => {
    const { store, tasks, id } = await setUp();
    await store.append(id, { type: "failed", reason: "Airtable refused the token (401).", at: at(50) });
    const task = await tasks.get(id, owner);
    expect(task).toMatchObject({
      status: "completed",
      statusMessage: expect.stringMatching(/^Failed: Airtable refused the token/),
      result: { structuredContent: { status: "failed", done: true, failure: { reason: expect.any(String) } } },
    });
  });

  it("owner-bound: another user's task and a missing one are both unknown to get, update and cancel", async () => {
    const { tasks, id } = await setUp();
    expect(await tasks.get(id, "usrSomeoneElse")).toBeUndefined();
    expect(await tasks.get("op_AAAAAAAAAAAAAAAAAAAAAA", owner)).toBeUndefined();
    expect(await tasks.known(id, "usrSomeoneElse")).toBe(false);
    expect(await tasks.cancel(id, "usrSomeoneElse")).toBe(false);
    expect(await tasks.known(id, owner)).toBe(true);
  });

  it("cancel: a queued operation's task ends cancelled (no result, no poll interval); another user's cancel changes nothing", async () => {
    const { store, tasks, id } = await setUp(3);
    const before = await store.read(id);
    expect(await tasks.cancel(id, "usrSomeoneElse")).toBe(false);
    expect(await store.read(id)).toEqual(before);
    expect(await tasks.cancel(id, owner)).toBe(true);
    const task = await tasks.get(id, owner);
    expect(task).toMatchObject({ taskId: id, status: "cancelled", statusMessage: expect.stringMatching(/^Cancelled/) });
    expect(task).not.toHaveProperty("result");
    expect(task?.pollIntervalMs).toBeUndefined();
    // Idempotent: a second cancel is acknowledged and appends nothing.
    const after = await store.read(id);
    expect(await tasks.cancel(id, owner)).toBe(true);
    expect(await store.read(id)).toEqual(after);
  });

  it("created: the task fields with resultType task, plus the operation's state as structured content", async () => {
    const { tasks, id } = await setUp();
    const created = await tasks.created(id, owner);
    expect(created).toMatchObject({
      resultType: "task",
      taskId: id,
      status: "working",
      structuredContent: { operationId: id, status: "queued", done: false },
    });
    expect(created?.structuredContent).not.toHaveProperty("results");
    expect(await tasks.created(id, "usrSomeoneElse")).toBeUndefined();
  });
});

describe("pollIntervalFor", () => {
  /** The state of a `records`-record operation whose first `done` batches have succeeded. */
  function stateOf(records: number, done: number): OperationState {
    const op = testOperation({ records });
    const events = [];
    for (let b = 0; b < done; b++) {
      events.push(started(b), succeeded(b, range(b * 10, Math.min(records, b * 10 + 10) - 1)));
    }
    return foldOperation(testLog(op, ...events));
  }

  it("a 2,000-record import at 5 req/s: a tenth of the remaining batches at 200 ms each, 500 ms near the end", () => {
    expect(pollIntervalFor(stateOf(2_000, 1), { queueDepth: 0, baseRps: 5 })).toBe(4_000); // running, 199 left
    expect(pollIntervalFor(stateOf(2_000, 150), { queueDepth: 0, baseRps: 5 })).toBe(1_000); // 50 left
    expect(pollIntervalFor(stateOf(2_000, 199), { queueDepth: 0, baseRps: 5 })).toBe(MIN_POLL_INTERVAL_MS);
  });

  it("queued: one request per operation waiting ahead; never above 10 s", () => {
    expect(pollIntervalFor(stateOf(5, 0), { queueDepth: 0, baseRps: 5 })).toBe(MIN_POLL_INTERVAL_MS);
    expect(pollIntervalFor(stateOf(5, 0), { queueDepth: 9, baseRps: 5 })).toBe(2_000);
    expect(pollIntervalFor(stateOf(5, 0), { queueDepth: 1_000, baseRps: 5 })).toBe(MAX_POLL_INTERVAL_MS);
    expect(pollIntervalFor(stateOf(2_000, 0), { queueDepth: 1_000, baseRps: 5 })).toBe(MAX_POLL_INTERVAL_MS);
  });

  it("while Airtable's 429 penalty holds it: when the pause ends (at most 10 s), not sooner; once it has, as before", () => {
    const op = testOperation({ records: 2_000 });
    const events: NewOperationEvent[] = [];
    for (let b = 0; b < 199; b++) events.push(started(b), succeeded(b, range(b * 10, b * 10 + 9)));
    const now = Date.now();
    // The last batch's request waits out the penalty until now + ms (the note the processor records).
    const pausedFor = (ms: number) => {
      const note: NewOperationEvent = {
        type: "batch.started",
        batch: 199,
        attempt: 1,
        rateLimitPause: { baseId: op.baseId, until: now + ms },
      };
      return foldOperation(testLog(op, ...events, started(199), note));
    };
    const rates = { queueDepth: 0, baseRps: 5, now };
    expect(pollIntervalFor(pausedFor(3_000), rates)).toBe(3_000); // the last batch, 500 ms without the pause
    expect(pollIntervalFor(pausedFor(25_000), rates)).toBe(MAX_POLL_INTERVAL_MS);
    expect(pollIntervalFor(pausedFor(-1_000), rates)).toBe(MIN_POLL_INTERVAL_MS);
  });

  it("follows the base's rate: a slower base polls later", () => {
    expect(pollIntervalFor(stateOf(500, 0), { queueDepth: 0, baseRps: 5 })).toBe(1_000);
    expect(pollIntervalFor(stateOf(500, 0), { queueDepth: 0, baseRps: 1 })).toBe(5_000);
  });
});
