/**
 * A read tool call during an Airtable outage or slowdown answers by READ_CALL_DEADLINE_MS (here 2 s), saying what
 * Airtable did, and stops sending: before, the transport's retries (5 attempts of up to 30 s, backoff, 30 s waits
 * after a 429) outlasted the MCP client's own timeout (60 s in the MCP TypeScript SDK), so the agent got a bare
 * client timeout and the server went on spending the base's requests for nobody. A read whose request ends (the
 * client closed the connection) stops as well. The real server (embedded mode, in this process) over HTTP, signed
 * in through OAuth, the MCP SDK client, the sandbox with its fault injection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { nowMs } from "../../src/sandbox/recorder.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { postMcp2025, resultText, signInAndConnect, toolsCall } from "./helpers/mcp-client.ts";
import { freePort } from "./helpers/server-process.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";

const DEADLINE_MS = 2_000;
/** What the answer may take beyond the deadline on a busy machine (it is due at once). */
const MARGIN_MS = 1_000;
/** The client's own timeout: the old code (no deadline) fails the test here instead of hanging for minutes. */
const CLIENT_TIMEOUT_MS = 10_000;

const dataDir = mkdtempSync(path.join(tmpdir(), "read-deadline-"));
let sandbox: Sandbox;
let running: RunningEmbedded;
let client: Client;
let provider: TestOAuthProvider;
let base: BaseInfo;
let user: { id: string; email: string };
const logs: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  const clientId = "read-deadline-integration";
  sandbox = await startSandbox({
    oauthClients: [{ clientId, redirectUris: [`http://localhost:${port}/oauth/callback`] }],
  });
  user = sandbox.addUser({ email: "reader@example.com" });
  base = sandbox.createBase(user.id, {
    name: "Outage",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "one" }] }],
  });
  const config = loadConfig(
    {
      PORT: String(port),
      DATA_DIR: dataDir,
      AIRTABLE_CLIENT_ID: clientId,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
      READ_CALL_DEADLINE_MS: String(DEADLINE_MS),
    },
    "start",
  );
  const logger = createLogger({ level: "info", name: "deadline" }, { write: (line: string) => void logs.push(line) });
  running = await startEmbedded(config, { logger, print: () => undefined });
  provider = new TestOAuthProvider({ sandboxUser: user.email });
  client = (await signInAndConnect(running.mcpUrl, provider)).client;
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await running?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => {
  sandbox.setFaults({ latencyMs: 0, serverErrorRate: 0 });
});

/** A tools/call as the agent makes it; its duration in ms; the moment it was answered (the sandbox's clock). */
async function timedCall(
  name: string,
  args: Record<string, unknown>,
): Promise<{ result: CallToolResult; ms: number; answeredAt: number }> {
  const started = performance.now();
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: CLIENT_TIMEOUT_MS,
  })) as CallToolResult;
  return { result, ms: performance.now() - started, answeredAt: nowMs() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests of the base that reached the sandbox at or after `since` (sandbox clock). */
const requestsSince = (since: number, baseId = base.id) =>
  sandbox.requests.filter((r) => r.baseId === baseId && r.time >= since);

/**
 * Calls `tool` over raw HTTP (a 2025-era request), then leaves as a client whose connection closes would: once its
 * first request to `baseId` is on its way (the sandbox answers it 800 ms later), 200 ms more, then the request is
 * aborted. Answers when it left (sandbox clock), after the aborted call has settled.
 */
async function callThenLeave(tool: string, args: Record<string, unknown>, baseId: string): Promise<number> {
  const leave = new AbortController();
  const call = postMcp2025(running.mcpUrl, provider.tokens()!.access_token, toolsCall(tool, args), leave.signal).then(
    (res) => res.text(),
    () => undefined,
  );
  const before = nowMs();
  for (let i = 0; i < 40 && requestsSince(before, baseId).length === 0; i++) await sleep(25);
  expect(requestsSince(before, baseId)).toHaveLength(1);
  await sleep(200);
  leave.abort();
  const leftAt = nowMs();
  await call;
  return leftAt;
}

/** What every stopped read says besides the cause: the time, that nothing changed, what to do. */
function expectStopAnswer(result: CallToolResult, tool: string): string {
  const text = resultText(result);
  expect(result.isError, text).toBe(true);
  expect(text).toMatch(new RegExp(`^${tool} was stopped after 2\\.\\d s: `));
  expect(text).toContain("at most 2.0 s (READ_CALL_DEADLINE_MS)");
  expect(text).toContain(`Nothing was changed: ${tool} only reads.`);
  expect(text).toContain("Try again in a minute");
  expect(text).toContain("narrower");
  return text;
}

describe("a read call during an Airtable outage answers by its deadline and stops sending", () => {
  it("Airtable answering 5xx to everything, slowly: the call says Airtable kept failing, and nothing more is sent", async () => {
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    const before = nowMs();
    const { result, ms, answeredAt } = await timedCall("list_records", { baseId: base.id, tableId: "Tasks" });
    const text = expectStopAnswer(result, "list_records");
    expect(ms, text).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(text).toMatch(/: Airtable kept failing with HTTP 50[023], an error on Airtable's side\. /);
    expect(text).toMatch(/ \d requests? (was|were) sent to Airtable: \d failed with (HTTP 50[023]|server errors)/);
    const sent = requestsSince(before).length;
    expect(sent).toBeGreaterThanOrEqual(2);
    // The transport would go on for 5 attempts (and the schema read first): none goes after the answer.
    await sleep(1_500);
    expect(requestsSince(answeredAt)).toEqual([]);
    expect(requestsSince(before)).toHaveLength(sent);
  });

  it("Airtable too slow to answer at all: the call says Airtable did not answer, its attempt in flight is cut off", async () => {
    sandbox.setFaults({ latencyMs: 6_000 });
    const before = nowMs();
    const { result, ms, answeredAt } = await timedCall("search_records", {
      baseId: base.id,
      tableId: "Tasks",
      searchTerm: "one",
    });
    const text = expectStopAnswer(result, "search_records");
    expect(ms, text).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(text).toContain("Airtable did not answer in time");
    expect(text).toContain("1 request was sent to Airtable: 1 was still waiting for its answer and was cut off.");
    await sleep(1_000);
    expect(requestsSince(answeredAt)).toEqual([]);
    expect(requestsSince(before)).toHaveLength(1);
  });

  it("Airtable rate limiting the base: the call says so instead of waiting out the 30 s pause", async () => {
    const limited = sandbox.createBase(user.id, {
      name: "Limited",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "x" }] }],
    });
    sandbox.penalize({ baseId: limited.id }, 60_000);
    const before = nowMs();
    const { result, ms, answeredAt } = await timedCall("describe_table", { baseId: limited.id, tableId: "Tasks" });
    const text = expectStopAnswer(result, "describe_table");
    expect(ms, text).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(text).toContain("Airtable was rate limiting: it answered 429 Too Many Requests");
    expect(text).toContain("1 request was sent to Airtable: 1 answered 429, the next one was waiting out the pause.");
    await sleep(500);
    expect(requestsSince(answeredAt, limited.id)).toEqual([]);
    expect(requestsSince(before, limited.id)).toHaveLength(1);
  });

  it("a read whose client leaves (its request's connection closed) stops at once: no retry reaches Airtable", async () => {
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    // The first attempt is on its way (800 ms to its 5xx answer) when the client goes.
    const leftAt = await callThenLeave(
      "get_record",
      { baseId: base.id, tableId: "Tasks", recordId: "recAAAAAAAAAAAAAA" },
      base.id,
    );
    // Well before the 2 s deadline: only the request's end can have stopped the retries.
    await sleep(1_200);
    expect(requestsSince(leftAt)).toEqual([]);
    expect(logs.join("\n")).toMatch(/"tool":"get_record".*"errorType":"CANCELLED"/);
  });

  it("once Airtable is back, the same reads answer as usual", async () => {
    const { result, ms } = await timedCall("list_records", { baseId: base.id, tableId: "Tasks" });
    expect(result.isError, resultText(result)).not.toBe(true);
    expect(ms).toBeLessThan(DEADLINE_MS);
    expect(JSON.stringify(result.structuredContent)).toContain('"one"');
  });
});

/**
 * A write tool's checks before queueing (its `plan`: the base's schema, linked records' names by list records) ask
 * Airtable too: they answer by the same deadline and stop sending, and the write is not queued. Before, a
 * create_records call during an outage hung on the schema read past the client's timeout, as reads did.
 */
describe("a write call whose checks meet an Airtable outage answers by the deadline and queues nothing", () => {
  /** What every write stopped before queueing says: the time, that it was not queued, what to do. */
  function expectWriteStopAnswer(result: CallToolResult, tool: string): string {
    const text = resultText(result);
    expect(result.isError, text).toBe(true);
    expect(text).toMatch(new RegExp(`^${tool} was stopped after 2\\.\\d s: `));
    expect(text).toContain("this server gives a write call at most 2.0 s (READ_CALL_DEADLINE_MS) to check it");
    expect(text).toContain("Nothing was changed: the write was NOT queued");
    expect(text).toContain(`Call ${tool} again in a minute with the same arguments.`);
    // A read's wording would be false here.
    expect(text).not.toContain("only reads.");
    expect(text).not.toContain("narrower");
    return text;
  }

  /** The caller's operations, as list_operations shows them. */
  async function operations(): Promise<unknown[]> {
    const { result } = await timedCall("list_operations", {});
    expect(result.isError, resultText(result)).not.toBe(true);
    return (result.structuredContent as { operations: unknown[] }).operations;
  }

  it("Airtable answering 5xx to the schema request: create_records says so, nothing is queued or sent after", async () => {
    const fresh = sandbox.createBase(user.id, {
      name: "Write outage",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "kept" }] }],
    });
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    const before = nowMs();
    const { result, ms, answeredAt } = await timedCall("create_records", {
      baseId: fresh.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "new" } }],
    });
    const text = expectWriteStopAnswer(result, "create_records");
    expect(ms, text).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    expect(text).toMatch(/: Airtable kept failing with HTTP 50[023], an error on Airtable's side\. /);
    expect(text).toMatch(/ \d requests? (was|were) sent to Airtable: \d failed with (HTTP 50[023]|server errors)/);
    const sent = requestsSince(before, fresh.id);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    // Only the schema read, retried: nothing was written.
    expect(sent.every((r) => r.method === "GET" && r.path === `/v0/meta/bases/${fresh.id}/tables`)).toBe(true);
    await sleep(1_500);
    expect(requestsSince(answeredAt, fresh.id)).toEqual([]);
    expect(await operations()).toEqual([]);
    expect(logs.join("\n")).not.toContain("operation queued");
    expect(logs.join("\n")).toMatch(/"tool":"create_records".*"errorType":"READ_CALL_DEADLINE"/);

    // Once Airtable is back, the table is as it was: the write never runs later.
    sandbox.setFaults({ serverErrorRate: 0, latencyMs: 0 });
    await sleep(500);
    const read = await timedCall("list_records", { baseId: fresh.id, tableId: "Tasks" });
    expect(read.result.isError, resultText(read.result)).not.toBe(true);
    const records = (read.result.structuredContent as { records: { fields: Record<string, unknown> }[] }).records;
    expect(records.map((r) => r.fields.Name)).toEqual(["kept"]);
  });

  it("Airtable answering 5xx to the lookup of a linked record's name: the same answer, nothing queued", async () => {
    const linked = sandbox.createBase(user.id, {
      name: "Link outage",
      tables: [
        { name: "People", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "Ada" }] },
        {
          name: "Tasks",
          fields: [
            { name: "Name", type: "singleLineText" },
            { name: "Owner", type: "multipleRecordLinks", options: { linkedTableId: "People" } },
          ],
          records: [],
        },
      ],
    });
    // The schema is read (and cached) while Airtable answers; then only the name lookup meets the outage.
    const described = await timedCall("describe_table", { baseId: linked.id, tableId: "Tasks" });
    expect(described.result.isError, resultText(described.result)).not.toBe(true);
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    const before = nowMs();
    const { result, ms, answeredAt } = await timedCall("create_records", {
      baseId: linked.id,
      tableId: "Tasks",
      records: [{ fields: { Name: "Write docs", Owner: ["Ada"] } }],
    });
    const text = expectWriteStopAnswer(result, "create_records");
    expect(ms, text).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    const sent = requestsSince(before, linked.id);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    const people = linked.tables.find((t) => t.name === "People")!.id;
    // Only reads of the linked table (list records, by GET or POST …/listRecords): nothing was written.
    expect(
      sent.every((r) => r.path.startsWith(`/v0/${linked.id}/${people}`)),
      JSON.stringify(sent),
    ).toBe(true);
    await sleep(1_500);
    expect(requestsSince(answeredAt, linked.id)).toEqual([]);
    expect(await operations()).toEqual([]);
  });

  it("a write whose client leaves while it is checked stops at once: no retry reaches Airtable, nothing is queued", async () => {
    const left = sandbox.createBase(user.id, {
      name: "Left",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }], records: [] }],
    });
    sandbox.setFaults({ serverErrorRate: 1, latencyMs: 800 });
    // The schema read is on its way (800 ms to its 5xx answer) when the client goes.
    const leftAt = await callThenLeave(
      "create_records",
      { baseId: left.id, tableId: "Tasks", records: [{ fields: { Name: "never" } }] },
      left.id,
    );
    // Well before the 2 s deadline: only the request's end can have stopped the retries.
    await sleep(1_200);
    expect(requestsSince(leftAt, left.id)).toEqual([]);
    expect(logs.join("\n")).toMatch(/"tool":"create_records".*"errorType":"CANCELLED"/);
    sandbox.setFaults({ serverErrorRate: 0, latencyMs: 0 });
    expect(await operations()).toEqual([]);
  });
});
