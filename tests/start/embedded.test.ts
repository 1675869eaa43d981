/**
 * The embedded mode against a configured Airtable (AIRTABLE_CLIENT_ID set, no REDIS_URL: a self-hoster's one
 * machine), in this process: it says it is single-instance, serves sign-in and writes, and at its next start
 * continues an operation the previous run stopped in the middle of — from where the log stopped, never
 * re-sending what was written.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { loadConfig, type Config } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { SqliteOperationLog } from "../../src/shared/operations/sqlite-operation-log.ts";
import { DATABASE_FILE, openDatabase } from "../../src/shared/sqlite/database.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { connectClient, signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { callWriteTool, pollOperation } from "../e2e/helpers/write-operations.ts";
import { range, started, succeeded, testOperation } from "../support/operations-test-harness.ts";
import { MODERN, modernMeta } from "../support/tasks-client.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "embedded-"));
let sandbox: Sandbox;
let user: { id: string; email: string };
let base: BaseInfo;
let config: Config;
const logs: string[] = [];
const printed: string[] = [];
const logger = createLogger({ level: "info", name: "embedded" }, { write: (line: string) => void logs.push(line) });
const clients: Client[] = [];
let running: RunningEmbedded | undefined;

beforeAll(async () => {
  const port = await freePort();
  const clientId = "self-hosted-integration";
  sandbox = await startSandbox({
    oauthClients: [{ clientId, redirectUris: [`http://localhost:${port}/oauth/callback`] }],
  });
  user = sandbox.addUser({ email: "owner@example.com" });
  base = sandbox.createBase(user.id, {
    name: "Self-hosted",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  config = loadConfig(
    {
      PORT: String(port),
      DATA_DIR: dataDir,
      AIRTABLE_CLIENT_ID: clientId,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
    },
    "start",
  );
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await running?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const names = (): string[] => sandbox.listRecordsDirect(base.id, "Tasks").map((r) => String(r.fields.Name));

describe("npm start with AIRTABLE_CLIENT_ID and no REDIS_URL", () => {
  it("runs single-instance against that Airtable, and resumes an unfinished operation at its next start", async () => {
    running = await startEmbedded(config, { logger, print: (text) => void printed.push(text) });
    expect(running.mcpUrl).toBe(`http://localhost:${config.PORT}/mcp`);
    expect(logs.join()).toMatch(/single-instance mode \(no REDIS_URL\).*set REDIS_URL to scale out/);
    expect(printed.join()).toContain(`Add this URL to your MCP client: ${running.mcpUrl}`);
    // The server's address opened in a browser says where clients go (it was express's "Cannot GET /").
    const home = await fetch(new URL("/", running.mcpUrl));
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(`Add ${running.mcpUrl} to your MCP client`);
    // Idle connections kept for HTTP_KEEP_ALIVE_TIMEOUT_MS (910 s), as the distributed server keeps them.
    expect(home.headers.get("keep-alive")).toBe("timeout=910");
    expect(printed.join()).not.toContain("FAKE");

    const provider = new TestOAuthProvider({ sandboxUser: user.email });
    const { client } = await signInAndConnect(running.mcpUrl, provider);
    clients.push(client);
    const written = await callWriteTool(client, "create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "first run" },
    });
    expect((written.done ? written : await pollOperation([client], written.operationId)).status).toBe("completed");
    expect(names()).toEqual(["first run"]);
    await running.close();
    running = undefined;

    // What a run stopped mid-operation leaves behind: 15 records accepted, the first batch of 10 written.
    const db = await openDatabase(path.join(dataDir, DATABASE_FILE));
    const operations = new SqliteOperationLog({ db, retentionMs: 3_600_000 });
    const operation = testOperation({
      ownerUserId: user.id,
      baseId: base.id,
      tableId: base.tables[0]!.id,
      records: 15,
    });
    await operations.create(operation);
    await operations.append(operation.operationId, started(0));
    await operations.append(operation.operationId, succeeded(0, range(0, 9)));
    db.close();

    logs.length = 0;
    running = await startEmbedded(config, { logger, print: () => undefined });
    // This test process's fetch pool may still hold a kept-alive socket to the stopped server (same origin): a
    // first request finds it closed and drops it, as a client of a restarted server would on its next request.
    await fetch(new URL("/healthz", running.mcpUrl)).catch(() => undefined);
    const again = await connectClient(running.mcpUrl, provider);
    clients.push(again);
    const done = await pollOperation([again], operation.operationId, { timeoutMs: 30_000 });
    expect(done.status, done.message).toBe("completed");
    expect(done.progress).toMatchObject({ recordsTotal: 15, recordsSucceeded: 15 });
    // Only the second batch was sent: r10…r14 (r0…r9 were "written" before the restart).
    expect(names().sort()).toEqual(["first run", ...range(10, 14).map((i) => `r${i}`)].sort());
    expect(logs.join()).toMatch(/"operations":1,"message":"resuming unfinished operations"/);
    expect(provider.authorizationUrls).toHaveLength(1);
  }, 120_000);

  it("a 2026-07-28 write call the server's own shutdown ends answers with its operation, is not a cancel, and the next start finishes it", async () => {
    running ??= await startEmbedded(config, { logger, print: () => undefined });
    const provider = new TestOAuthProvider({ sandboxUser: user.email });
    const { client } = await signInAndConnect(running.mcpUrl, provider);
    clients.push(client);
    const total = 1_000;
    // A base of its own: the first test's restarts may have left its base in a 429 pause.
    const own = sandbox.createBase(user.id, {
      name: "Shutdown",
      tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    const written = () => sandbox.listRecordsDirect(own.id, "Tasks").length;
    const records = Array.from({ length: total }, (_, i) => ({ fields: { Name: `shutdown ${i}` } }));
    // A raw 2026-07-28 call (per-request _meta, no initialize) that waits for its write (WRITE_WAIT_MS, 25 s).
    const call = fetch(running.mcpUrl, {
      method: "POST",
      headers: {
        authorization: `Bearer ${provider.tokens()!.access_token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": "tools/call",
        "mcp-name": "create_records",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "create_records",
          arguments: { baseId: own.id, tableId: "Tasks", records },
          _meta: modernMeta(false),
        },
      }),
    }).then(
      (res) => res.text(),
      () => "",
    );
    for (let i = 0; i < 200 && written() < 20; i++) await new Promise((r) => setTimeout(r, 50));
    expect(written(), "the write had started").toBeGreaterThanOrEqual(20);
    // The shutdown ends the call's wait: it answers with its operation (not a connection closed after the 8 s
    // grace, with no id to poll), and that is no client's cancel.
    const closing = Date.now();
    await running.close();
    const closeMs = Date.now() - closing;
    running = undefined;
    const answer = await call;
    expect(written(), "stopped mid-write by the shutdown").toBeLessThan(total);
    const operationId = /"operationId\\?":\\?"(op_[\w-]+)/.exec(answer)?.[1];
    expect(operationId, answer).toBeDefined();
    expect(answer).toContain("Poll get_operation with this operationId");
    expect(answer).not.toContain("cancel");
    expect(closeMs, "the waiting call no longer holds the shutdown for its 8 s grace").toBeLessThan(5_000);

    // A real restart takes longer than Airtable's one-second window; this process's limiter starts empty.
    await new Promise((r) => setTimeout(r, 1_100));
    running = await startEmbedded(config, { logger, print: () => undefined });
    await fetch(new URL("/healthz", running.mcpUrl)).catch(() => undefined);
    const again = await connectClient(running.mcpUrl, provider);
    clients.push(again);
    const listed = await again.callTool({ name: "list_operations", arguments: {} });
    const newest = (listed.structuredContent as { operations: { operationId: string }[] }).operations[0]!;
    expect(newest.operationId).toBe(operationId);
    const done = await pollOperation([again], operationId!, { timeoutMs: 60_000 });
    expect(done.status, done.message).toBe("completed");
    expect(written()).toBe(total);
  }, 120_000);
});
