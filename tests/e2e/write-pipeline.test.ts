/**
 * The write pipeline end to end, as agents see it: two server processes and three worker processes of one
 * deployment, real Redis and BullMQ, the Airtable sandbox (strict: 10 records a request, 5 requests a second
 * per base, 30 s penalty after a 429) and the MCP SDK's own client.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, connectClient, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import {
  allResults,
  answerOf,
  callWriteTool,
  countByName,
  getOperation,
  listOperations,
  pollOperation,
  recordName,
  type OperationAnswer,
} from "./helpers/write-operations.ts";

/**
 * Long enough for a 150-record create (15 batches, ≥ 3 s at 5 requests/s) to end inside its call, so its progress
 * notifications run to the total; far too short for 1,200 records (≥ 24 s), which must be polled.
 */
const WRITE_WAIT_MS = 8_000;
const TABLE = "People";

let sandbox: Sandbox;
let deployment: Deployment;
let alice: SeededAccount;
let bob: SeededAccount;
/** Alice signed in on server A (the public URL), and the same sign-in used on server B. */
let aliceOnA: Client;
let aliceOnB: Client;
let bobOnB: Client;
const clients: Client[] = [];

beforeAll(async () => {
  const plan = await planDeployment("write-pipeline", 2);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  bob = seedAccount(sandbox, "bob");
  deployment = await startDeployment(plan, sandbox.url, {
    WRITE_WAIT_MS: String(WRITE_WAIT_MS),
    WORKER_LOCK_MS: "3000",
  });
  // One at a time: each worker is named after how many were started before it.
  for (let i = 0; i < 3; i++) await deployment.addWorker();
  const a = `${deployment.instances[0]?.url}/mcp`;
  const b = `${deployment.instances[1]?.url}/mcp`;

  const aliceAuth = new TestOAuthProvider({ sandboxUser: alice.user.id });
  aliceOnA = (await signInAndConnect(a, aliceAuth)).client;
  aliceOnB = await connectClient(b, aliceAuth);
  const bobAuth = new TestOAuthProvider({ sandboxUser: bob.user.id });
  clients.push(aliceOnA, aliceOnB, (await signInAndConnect(a, bobAuth)).client);
  bobOnB = await connectClient(b, bobAuth);
  clients.push(bobOnB);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** A base of Alice's of its own per test, so each test's requests and records are only its own. */
function aliceBase(name: string): string {
  return sandbox.createBase(alice.user.id, {
    name,
    tables: [
      {
        name: TABLE,
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Count", type: "number", options: { precision: 0 } },
        ],
      },
    ],
  }).id;
}

/** The record writes (POST/PATCH/PUT/DELETE on records) the sandbox received for the base. */
function recordWrites(baseId: string) {
  return sandbox.requests.filter((r) => r.baseId === baseId && r.recordCount !== undefined);
}

describe("create_records through the queue", () => {
  it("1,200 records in one call: each created once, ≤ 10 per request, never over 5 requests/s, no 429", async () => {
    const baseId = aliceBase("Bulk import");
    const records = Array.from({ length: 1200 }, (_, i) => ({ fields: { Name: recordName("bulk", i), Count: i } }));

    // Sent to server B; polled on A and B in turn: no server holds the operation.
    const first = await callWriteTool(aliceOnB, "create_records", { baseId, tableId: TABLE, records });
    expect(first.operationId).toMatch(/^op_/);
    expect(first.done, "1,200 records cannot be written within WRITE_WAIT_MS at 5 requests/s").toBe(false);
    expect(first.progress.recordsTotal).toBe(1200);
    expect(first.results).toBeUndefined();

    const final = await pollOperation([aliceOnA, aliceOnB], first.operationId, { timeoutMs: 100_000, intervalMs: 500 });
    expect(final.status, final.message).toBe("completed");
    expect(final.progress).toMatchObject({
      recordsTotal: 1200,
      recordsSucceeded: 1200,
      recordsFailed: 0,
      recordsInDoubt: 0,
    });

    const results = await allResults(aliceOnA, first.operationId);
    expect(results.map((r) => r.index)).toEqual(records.map((_, i) => i));
    const stored = sandbox.listRecordsDirect(baseId, TABLE);
    expect(stored).toHaveLength(1200);
    const counts = countByName(stored);
    const byName = new Map(stored.map((r) => [String(r.fields.Name), r]));
    for (const result of results) {
      const name = recordName("bulk", result.index);
      expect(counts.get(name), name).toBe(1);
      expect(result.id, name).toBe(byName.get(name)?.id);
      expect(byName.get(name)?.fields.Count, name).toBe(result.index);
    }

    const writes = recordWrites(baseId);
    expect(Math.max(...writes.map((w) => w.recordCount ?? 0))).toBeLessThanOrEqual(10);
    // Nothing was sent twice: 1,200 records reached the sandbox in all.
    expect(writes.reduce((sum, w) => sum + (w.recordCount ?? 0), 0)).toBe(1200);
    expect(sandbox.count429({ baseId })).toBe(0);
    expect(sandbox.maxRequestsInWindow({ baseId })).toBeLessThanOrEqual(5);
  }, 150_000);

  it("progress notifications reach the SDK client after each batch, up to the total", async () => {
    const baseId = aliceBase("Progress");
    const records = Array.from({ length: 150 }, (_, i) => ({ fields: { Name: recordName("progress", i) } }));
    const seen: Progress[] = [];

    // With onprogress the SDK sends a progressToken in the request's _meta.
    const result = await aliceOnA.callTool(
      { name: "create_records", arguments: { baseId, tableId: TABLE, records } },
      undefined,
      { onprogress: (p) => seen.push(p), timeout: 60_000 },
    );
    const answer = answerOf<OperationAnswer>("create_records", result as CallToolResult);
    expect(answer.status, answer.message).toBe("completed");
    expect(answer.results).toHaveLength(150);

    expect(seen.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(5);
    for (const p of seen) expect(p.total).toBe(150);
    const values = seen.map((p) => p.progress);
    for (let i = 1; i < values.length; i++) expect(values[i], JSON.stringify(values)).toBeGreaterThan(values[i - 1]!);
    expect(values.at(-1)).toBe(150);
    expect(sandbox.listRecordsDirect(baseId, TABLE)).toHaveLength(150);
  }, 90_000);

  it("one bad value among 10: the 9 others are written, the bad one reported by index with Airtable's message", async () => {
    const baseId = aliceBase("Validation");
    // A value the schema cannot rule out before queueing (with typecast, text holding a digit may convert), which
    // Airtable then refuses for that one record; a value the schema rules out ("abc" in a number field) is refused
    // before queueing instead (tests/shared/tools/write/value-errors.test.ts).
    const records = Array.from({ length: 10 }, (_, i) => ({
      fields: { Name: recordName("mixed", i), Count: i === 6 ? "6 apples" : i },
    }));

    const first = await callWriteTool(aliceOnA, "create_records", { baseId, tableId: TABLE, records, typecast: true });
    const answer = first.done ? first : await pollOperation([aliceOnA, aliceOnB], first.operationId);
    expect(answer.status, answer.message).toBe("completed_with_errors");
    expect(answer.progress).toMatchObject({
      recordsTotal: 10,
      recordsSucceeded: 9,
      recordsFailed: 1,
      recordsInDoubt: 0,
    });

    const results = answer.results ?? [];
    expect(results.map((r) => r.index)).toEqual(records.map((_, i) => i));
    expect(results[6]).toMatchObject({
      index: 6,
      error: {
        type: "INVALID_VALUE_FOR_COLUMN",
        // Airtable's words, then what typecast could not convert and what to give (typecast-refusal.ts).
        message:
          'Field "Count" cannot accept the provided value. Airtable\'s typecast could not convert "6 apples" to the ' +
          'type of "Count": give the value in the field\'s own format (describe_table shows its type): a plain number ' +
          "for a number, currency or percent (a fraction: 0.25 is 25 %), a number of seconds for a duration, a date " +
          'as "YYYY-MM-DD", a date and time as "YYYY-MM-DDTHH:mm".',
      },
    });
    expect(results[6]?.id).toBeUndefined();

    const stored = sandbox.listRecordsDirect(baseId, TABLE);
    expect(stored.map((r) => String(r.fields.Name)).sort()).toEqual(
      records.filter((_, i) => i !== 6).map((r) => r.fields.Name),
    );
    const idByName = new Map(stored.map((r) => [String(r.fields.Name), r.id]));
    for (const result of results.filter((r) => r.index !== 6)) {
      expect(result.id).toBe(idByName.get(recordName("mixed", result.index)));
      expect(result.error).toBeUndefined();
    }
    expect(Math.max(...recordWrites(baseId).map((w) => w.recordCount ?? 0))).toBeLessThanOrEqual(10);
  }, 60_000);
});

describe("operations belong to their owner", () => {
  it("get_operation answers its owner on any server and 'not found' to another user; list_operations lists only the caller's", async () => {
    const written = await callWriteTool(aliceOnA, "create_record", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      fields: { Name: "alice: private plan" },
    });
    const aliceOp = written.done ? written : await pollOperation([aliceOnA], written.operationId);
    expect(aliceOp.status, aliceOp.message).toBe("completed");
    const recordId = aliceOp.results?.[0]?.id;
    expect(recordId).toMatch(/^rec/);

    const onB = await getOperation(aliceOnB, written.operationId);
    expect(onB).toMatchObject({ operationId: written.operationId, status: "completed", done: true });
    expect(onB.results?.[0]?.id).toBe(recordId);

    const refused = await callTool(bobOnB, "get_operation", { operationId: written.operationId });
    expect(refused.isError).toBe(true);
    expect(resultText(refused)).toMatch(/no operation|not found/i);
    expect(refused.structuredContent).toBeUndefined();
    expect(JSON.stringify(refused)).not.toContain(recordId as string);
    expect(JSON.stringify(refused)).not.toContain(alice.base.id);

    // An operation id nobody has answers the same as Alice's: an id does not reveal that it exists.
    const missing = await callTool(bobOnB, "get_operation", { operationId: "op_doesnotexist00000000" });
    expect(missing.isError).toBe(true);
    expect(resultText(missing)).toMatch(/no operation|not found/i);

    const bobWrite = await callWriteTool(bobOnB, "create_record", {
      baseId: bob.base.id,
      tableId: bob.tableName,
      fields: { Name: "bob: his own" },
    });
    const bobList = await listOperations(bobOnB);
    expect(bobList.map((o) => o.operationId)).toContain(bobWrite.operationId);
    expect(bobList.map((o) => o.operationId)).not.toContain(written.operationId);
    expect(new Set(bobList.map((o) => o.baseId))).toEqual(new Set([bob.base.id]));

    const aliceList = await listOperations(aliceOnA);
    expect(aliceList.map((o) => o.operationId)).toContain(written.operationId);
    expect(aliceList.map((o) => o.operationId)).not.toContain(bobWrite.operationId);
    expect(aliceList.map((o) => o.baseId)).not.toContain(bob.base.id);
  }, 60_000);

  it("a wrong field name is refused at once, naming the real fields; nothing is queued or sent", async () => {
    const before = (await listOperations(aliceOnA)).map((o) => o.operationId);
    const writesBefore = recordWrites(alice.base.id).length;

    const started = performance.now();
    const result = await callTool(aliceOnB, "create_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      records: [{ fields: { Name: "fine" } }, { fields: { Name: "typo", Stauts: "open" } }],
    });
    const elapsed = performance.now() - started;

    expect(result.isError).toBe(true);
    const text = resultText(result);
    expect(text).toContain('"Stauts"');
    expect(text).toContain("records[1]");
    expect(text).toContain('"Name"');
    expect(text).toContain('"Done"');
    expect(text).not.toMatch(/\n\s+at |\.ts:\d+/);
    // Refused before queueing: no wait for a worker (WRITE_WAIT_MS is 8 s).
    expect(elapsed).toBeLessThan(3_000);

    expect((await listOperations(aliceOnA)).map((o) => o.operationId)).toEqual(before);
    expect(recordWrites(alice.base.id)).toHaveLength(writesBefore);
    expect(sandbox.listRecordsDirect(alice.base.id, alice.tableName).map((r) => r.fields.Name)).not.toContain("fine");
  }, 30_000);
});
