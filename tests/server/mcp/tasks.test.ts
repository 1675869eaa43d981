/**
 * MCP Tasks (the 2026-07-28 `io.modelcontextprotocol/tasks` extension) on /mcp, in one process over real HTTP:
 * the SDK v2 client with ext-tasks' own task session, raw 2026-07-28 requests for the protocol errors, the v1
 * client for the 2025 era. Writes run in the embedded runner against the Airtable sandbox, their logs in Redis.
 * The two-process deployment with a worker pool is tests/e2e/tasks.test.ts.
 */
import { Client as ModernClient, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../../src/shared/tools/catalog.ts";
import { MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from "../../../src/shared/tasks/operation-task-store.ts";
import { startMcpHarness, type McpHarness } from "../../support/mcp-test-harness.ts";
import { oneRecordOperation } from "../../support/operations-test-harness.ts";
import { createTestRedis } from "../../helpers/redis.ts";
import {
  callModern,
  fetchModern,
  httpRawDispatch,
  MODERN,
  modernMeta,
  TASKS,
  taskSession,
} from "../../support/tasks-client.ts";

let h: McpHarness;
let url: string;
const clients: ModernClient[] = [];
beforeAll(async () => {
  h = await startMcpHarness({ tools: allTools, tasks: true, writeWaitMs: 20_000 });
  url = `${h.url}/mcp`;
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await h?.close();
});

const as = (userId: string) => ({ "x-test-user": userId });

async function connectModern(userId = h.demo.user.id): Promise<ModernClient> {
  const client = new ModernClient(
    { name: "tasks-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: MODERN } } },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: as(userId) } }));
  clients.push(client);
  return client;
}

const contacts = () => ({ baseId: h.demo.base.id, tableId: "Contacts" });
const records = (label: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ fields: { Name: `${label} ${String(i).padStart(2, "0")}` } }));
const namesAtSandbox = (prefix: string) =>
  h.sandbox
    .listRecordsDirect(h.demo.base.id, "Contacts")
    .map((r) => String(r.fields.Name))
    .filter((n) => n.startsWith(prefix))
    .sort();

/** tasks/get as `headers` until the task is no longer working (10 s at most): its last answer. */
async function settledTask(taskId: string, headers: Record<string, string>): Promise<Record<string, unknown>> {
  let got = (await callModern(url, headers, "tasks/get", { taskId }, true)).result!;
  for (let i = 0; got.status === "working" && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    got = (await callModern(url, headers, "tasks/get", { taskId }, true)).result!;
  }
  return got;
}

describe("MCP Tasks on /mcp (2026-07-28)", () => {
  it("server/discover advertises the extension; a 2025-era initialize does not", async () => {
    const modern = await connectModern();
    expect(modern.getDiscoverResult()?.capabilities.extensions).toEqual({ [TASKS]: {} });
    const legacy = await h.connect();
    expect(legacy.getServerCapabilities()?.extensions?.[TASKS]).toBeUndefined();
  });

  it("ext-tasks' session: a write becomes a task at once, polled to the same result get_operation gives", async () => {
    const client = await connectModern();
    const session = taskSession(client, httpRawDispatch(url, as(h.demo.user.id)));
    try {
      const execution = await session.callTool("create_records", {
        ...contacts(),
        records: records("task-session", 25),
      });
      expect(execution.kind).toBe("task");
      const taskId = execution.handle!.taskId;
      expect(taskId).toMatch(/^op_[A-Za-z0-9_-]{22}$/);
      const { outcome } = await execution.settle();
      const result = resultFromTaskOutcome(outcome) as { content: unknown; structuredContent: Record<string, unknown> };
      expect(result.structuredContent).toMatchObject({ operationId: taskId, status: "completed", done: true });
      expect(namesAtSandbox("task-session")).toHaveLength(25);

      const viaTool = await client.callTool({ name: "get_operation", arguments: { operationId: taskId } });
      // The task's result is exactly the get_operation answer (text and structured), records by input index.
      expect(
        JSON.parse(JSON.stringify({ content: result.content, structuredContent: result.structuredContent })),
      ).toEqual(JSON.parse(JSON.stringify({ content: viaTool.content, structuredContent: viaTool.structuredContent })));
    } finally {
      await session.close();
    }
  });

  it("the task answer and tasks/get on the wire: status, timestamps, ttl, poll interval; update and cancel acknowledged", async () => {
    const owner = as(h.demo.user.id);
    const created = await callModern(
      url,
      owner,
      "tools/call",
      {
        name: "create_records",
        arguments: { ...contacts(), records: records("task-wire", 3) },
      },
      true,
    );
    const task = created.result!;
    expect(task).toMatchObject({ resultType: "task", status: "working" });
    expect(task.statusMessage).toMatch(/^Queued \(3 records\)/);
    expect(Date.parse(String(task.createdAt))).toBeGreaterThan(Date.now() - 60_000);
    expect(task.ttlMs).toBeGreaterThanOrEqual(3_600_000 - 60_000);
    expect(task.pollIntervalMs).toBeGreaterThanOrEqual(MIN_POLL_INTERVAL_MS);
    expect(task.pollIntervalMs).toBeLessThanOrEqual(MAX_POLL_INTERVAL_MS);
    const taskId = String(task.taskId);

    const got = await settledTask(taskId, owner);
    expect(got).toMatchObject({ resultType: "complete", taskId, status: "completed", createdAt: task.createdAt });
    expect(got.pollIntervalMs).toBeUndefined();
    expect(got.statusMessage).toBe("Done: 3 records written of 3.");
    expect((got.result as { resultType: string; structuredContent: { results: unknown[] } }).resultType).toBe(
      "complete",
    );
    expect(
      (got.result as { structuredContent: { results: { id?: string }[] } }).structuredContent.results,
    ).toHaveLength(3);

    expect((await callModern(url, owner, "tasks/update", { taskId, inputResponses: {} }, true)).result).toMatchObject({
      resultType: "complete",
    });
    expect((await callModern(url, owner, "tasks/cancel", { taskId }, true)).result).toMatchObject({
      resultType: "complete",
    });
  });

  it("a task whose write creates a select option says so in its statusMessage and result, from the first answer on", async () => {
    const owner = as(h.demo.user.id);
    const base = h.sandbox.createBase(h.demo.user.id, {
      name: "Task options",
      tables: [
        {
          name: "Deals",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Stage", type: "singleSelect", options: { choices: [{ name: "Lead" }, { name: "Customer" }] } },
          ],
        },
      ],
    });
    const created = await callModern(
      url,
      owner,
      "tools/call",
      {
        name: "create_record",
        // typecast given: left to its default, an option this close to "Customer" is refused before queueing.
        arguments: { baseId: base.id, tableId: "Deals", fields: { Name: "x", Stage: "Custmer" }, typecast: true },
      },
      true,
    );
    const sentence =
      'New select options, which Airtable creates because typecast is on: "Stage": "Custmer" (existing: "Lead", ' +
      '"Customer"). "Custmer" is close to "Customer"; to use the existing option, update these records with ' +
      '"Customer": results index 0.';
    expect(String(created.result!.statusMessage)).toContain(sentence);
    const got = await settledTask(String(created.result!.taskId), owner);
    expect(got.statusMessage).toMatch(/^Done: 1 record written of 1\. New select options/);
    expect(got.statusMessage).toContain(sentence);
    const result = got.result as { structuredContent: { message: string } };
    expect(result.structuredContent.message).toContain(sentence);
  });

  it("the task answer's message points to tasks/get, as its statusMessage does, not to get_operation alone", async () => {
    const created = await callModern(
      url,
      as(h.demo.user.id),
      "tools/call",
      { name: "create_records", arguments: { ...contacts(), records: records("task-message", 2) } },
      true,
    );
    const task = created.result as {
      statusMessage: string;
      structuredContent: { message: string };
      content: { text: string }[];
    };
    expect(task.statusMessage).toMatch(/^Queued \(2 records\)/);
    expect(task.structuredContent.message).toBe(task.statusMessage);
    expect(task.structuredContent.message).toContain(
      "Poll tasks/get with this taskId (or get_operation with it as operationId) for the result.",
    );
    expect(task.structuredContent.message).not.toContain("Poll get_operation with this operationId");
    expect(JSON.parse(task.content[0]!.text)).toMatchObject({ message: task.statusMessage });
    await settledTask(String((created.result as { taskId: string }).taskId), as(h.demo.user.id));
  });

  it("tasks/cancel stops a running write after its batch in flight: cancelled, and get_operation lists what was written", async () => {
    const owner = as(h.demo.user.id);
    const created = await callModern(
      url,
      owner,
      "tools/call",
      { name: "create_records", arguments: { ...contacts(), records: records("task-cancel", 300) } },
      true,
    );
    const taskId = String(created.result!.taskId);
    await new Promise((r) => setTimeout(r, 150));
    expect((await callModern(url, owner, "tasks/cancel", { taskId }, true)).result).toMatchObject({
      resultType: "complete",
    });
    const got = await settledTask(taskId, owner);
    expect(got).toMatchObject({ taskId, status: "cancelled" });
    expect(got.result).toBeUndefined();
    // The message counts what was written once, and points at get_operation for the items (the task has no result).
    expect(got.statusMessage).toMatch(
      /^Cancelled by its owner (after \d+ of 300 items were written; the \d+ items listed as not written were never sent|before anything was sent: nothing was written)\. get_operation with this id lists each item by index: an id if it was written, notWritten if it was never sent\.$/,
    );
    const op = await callModern(
      url,
      owner,
      "tools/call",
      { name: "get_operation", arguments: { operationId: taskId } },
      false,
    );
    const content = op.result?.structuredContent as {
      status: string;
      progress: { recordsSucceeded: number };
      results: { id?: string; notWritten?: true }[];
    };
    expect(content.status).toBe("cancelled");
    const written = namesAtSandbox("task-cancel");
    expect(written.length).toBe(content.progress.recordsSucceeded);
    expect(written.length).toBeLessThan(300);
    // Batches go in order: the first page (200 results) is the written records, then the ones never sent.
    const succeeded = content.progress.recordsSucceeded;
    expect(content.results.filter((r) => r.id !== undefined)).toHaveLength(Math.min(200, succeeded));
    expect(content.results.filter((r) => r.notWritten)).toHaveLength(Math.max(0, 200 - succeeded));
  });

  it("tasks/cancel needs records:write like cancel_operation: a read-only token gets 403 insufficient_scope and the write goes on", async () => {
    const owner = as(h.demo.user.id);
    const readOnly = { ...owner, "x-test-scopes": "records:read schema:read" };
    const created = await callModern(
      url,
      owner,
      "tools/call",
      { name: "create_records", arguments: { ...contacts(), records: records("task-readonly-cancel", 30) } },
      true,
    );
    const taskId = String(created.result!.taskId);
    const refused = await fetchModern(url, readOnly, {
      method: "tasks/cancel",
      params: { taskId, _meta: modernMeta(true) },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer error="insufficient_scope", scope="records:write"');
    // Reading the task needs no more than get_operation does.
    const got = await settledTask(taskId, readOnly);
    expect(got).toMatchObject({ taskId, status: "completed" });
    expect(namesAtSandbox("task-readonly-cancel")).toHaveLength(30);
  });

  it("another user's task is unknown (tasks/get, tasks/update, tasks/cancel), the same error as a missing one", async () => {
    const created = await callModern(
      url,
      as(h.demo.user.id),
      "tools/call",
      {
        name: "create_record",
        arguments: { ...contacts(), fields: { Name: "task-owner only" } },
      },
      true,
    );
    const taskId = String(created.result!.taskId);
    const missing = "op_AAAAAAAAAAAAAAAAAAAAAA";
    for (const method of ["tasks/get", "tasks/update", "tasks/cancel"]) {
      const theirs = await callModern(url, as(h.userB.id), method, { taskId, inputResponses: {} }, true);
      const none = await callModern(url, as(h.userB.id), method, { taskId: missing, inputResponses: {} }, true);
      expect(theirs.error?.code).toBe(-32602);
      expect(theirs.error?.message).toBe(none.error?.message.replace(missing, taskId));
    }
    // The owner still sees it.
    expect((await callModern(url, as(h.demo.user.id), "tasks/get", { taskId }, true)).result?.taskId).toBe(taskId);
  });

  it("tasks/* from a request that does not declare the extension: -32021 naming it", async () => {
    const answer = await callModern(
      url,
      as(h.demo.user.id),
      "tasks/get",
      { taskId: "op_AAAAAAAAAAAAAAAAAAAAAA" },
      false,
    );
    expect(answer.error?.code).toBe(-32021);
    expect(answer.error?.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });
  });

  it("subscriptions/listen asking for task notifications without declaring the extension: 400, -32021 naming it", async () => {
    const listen = (tasks: boolean, signal: AbortSignal) =>
      fetch(url, {
        method: "POST",
        signal,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": MODERN,
          "mcp-method": "subscriptions/listen",
          ...as(h.demo.user.id),
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 7,
          method: "subscriptions/listen",
          params: { notifications: { taskIds: ["op_AAAAAAAAAAAAAAAAAAAAAA"] }, _meta: modernMeta(tasks) },
        }),
      });
    const refused = await listen(false, AbortSignal.timeout(10_000));
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { id: unknown; error: { code: number; message: string; data: unknown } };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32021);
    expect(body.error.message).toContain(TASKS);
    expect(body.error.data).toEqual({ requiredCapabilities: { extensions: { [TASKS]: {} } } });

    // Declared: the subscription is served (an event stream that stays open; the test leaves it).
    const abort = new AbortController();
    const served = await listen(true, abort.signal);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toMatch(/^text\/event-stream/);
    abort.abort();
  });

  it("HTTP: tasks/get whose Mcp-Name header is not its taskId is refused before it runs (400, -32020)", async () => {
    const created = await callModern(
      url,
      as(h.demo.user.id),
      "tools/call",
      { name: "create_record", arguments: { ...contacts(), fields: { Name: "task-header check" } } },
      true,
    );
    const taskId = String(created.result!.taskId);
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": "tasks/get",
        "mcp-name": "op_BBBBBBBBBBBBBBBBBBBBBB",
        ...as(h.demo.user.id),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tasks/get", params: { taskId, _meta: modernMeta(true) } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });

  it("a write refused before it is queued (a wrong field name) answers the tool error at once, not a task", async () => {
    const answer = await callModern(
      url,
      as(h.demo.user.id),
      "tools/call",
      { name: "create_record", arguments: { ...contacts(), fields: { Nmae: "typo" } } },
      true,
    );
    expect(answer.result).toMatchObject({ resultType: "complete", isError: true });
    expect(answer.result?.taskId).toBeUndefined();
    expect(JSON.stringify(answer.result?.content)).toMatch(/Nmae/);
  });

  it("a read tool answers directly even when tasks are declared", async () => {
    const answer = await callModern(
      url,
      as(h.demo.user.id),
      "tools/call",
      {
        name: "list_records",
        arguments: { ...contacts(), pageSize: 2 },
      },
      true,
    );
    expect(answer.result?.resultType).toBe("complete");
    expect((answer.result?.structuredContent as { records: unknown[] }).records).toHaveLength(2);
  });

  it("clients without the extension keep waiting: a 2026-07-28 client without it, and a 2025-era client", async () => {
    const modern = await connectModern();
    const waited = await modern.callTool({
      name: "create_record",
      arguments: { ...contacts(), fields: { Name: "task-less modern" } },
    });
    expect(waited.structuredContent).toMatchObject({ status: "completed", done: true });

    const legacy = await h.connect();
    const legacyWaited = await legacy.callTool({
      name: "create_record",
      arguments: { ...contacts(), fields: { Name: "task-less legacy" } },
    });
    expect(legacyWaited.structuredContent).toMatchObject({ status: "completed", done: true });
    // A 2025-era client has no tasks/get (the 2025-11-25 tasks are not served).
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        ...as(h.demo.user.id),
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tasks/get",
        params: { taskId: "op_AAAAAAAAAAAAAAAAAAAAAA" },
      }),
    });
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
  });
});

describe("a task whose operation log this version cannot read", () => {
  it("tasks/get, tasks/update and tasks/cancel answer an error that says so, not a parse error", async () => {
    const userId = h.demo.user.id;
    const op = oneRecordOperation(h.demo.base.id, userId, "unreadable task");
    await h.operations.create(op);
    // An event of a newer version's (a type this version does not know), as a downgrade leaves it.
    const stream = h.operations.keyOf("op", op.operationId);
    const redis = createTestRedis();
    try {
      await redis.xadd(stream, "*", "event", JSON.stringify({ seq: 2, at: Date.now(), type: "batch.verified" }));
    } finally {
      redis.disconnect();
    }
    for (const method of ["tasks/get", "tasks/update", "tasks/cancel"]) {
      const answer = await callModern(url, as(userId), method, { taskId: op.operationId }, true);
      // A task request has no tool error to answer with: a JSON-RPC error, whose message is the agent's sentence.
      expect(answer.error?.code, JSON.stringify(answer)).toBe(-32603);
      expect(answer.error?.message).toMatch(
        new RegExp(`^Operation ${op.operationId} \\(create_records, on base ${h.demo.base.id}, .*cannot read`),
      );
      expect(answer.error?.message).toContain("before writing them again");
    }
  });
});
