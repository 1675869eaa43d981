/**
 * SLOW (about 1–3 minutes; most of it `npm ci` and Node starting under load): a newcomer's first hour, as
 * issue 10 §1 describes it. The committed HEAD is cloned into a temporary directory (uncommitted files are not
 * in it), installed with `npm ci` only (from npm's local cache when it has the packages: --prefer-offline), and
 * started with `npm start`:
 *
 * 1. with nothing configured — an environment of PATH and HOME only: one process, the fake Airtable with its demo
 *    data, a SQLite file under ./data. The real MCP SDK client signs in the way the printed banner says, lists
 *    the tools, creates 25 records and reads them back; after a restart the same stored tokens still work and the
 *    operation is still there.
 * 2. with REDIS_URL: one process with ROLE=all plus a worker-only process (ROLE=worker), against a sandbox this
 *    test runs; the 25 records land exactly once at the sandbox; after restarting the ROLE=all process the
 *    sign-in and the operation are still there.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { callTool, connectClient, signInAndConnect } from "./helpers/mcp-client.ts";
import { startNpm, type NpmProcess } from "./helpers/npm-start.ts";
import { freePort } from "./helpers/server-process.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { answerOf, callWriteTool, getOperation, listOperations, pollOperation } from "./helpers/write-operations.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), "one-command-"));
const clone = path.join(work, "airtable-oauth-mcp");
/** What a user's shell has: PATH (Node 24 and npm on it) and HOME (npm's cache and config live there). */
const userEnv = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
const BANNER_URL = /Add this URL to your MCP client: (http:\/\/\S+\/mcp)/;
/** Starting Node with the whole product takes seconds, many more on a loaded machine. */
const START_TIMEOUT_MS = 120_000;

const running = new Set<NpmProcess>();
const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all([...running].map((p) => p.stop()));
  // A whole node_modules: tens of thousands of files, slow to delete on a busy machine.
  await rm(work, { recursive: true, force: true });
}, 300_000);

beforeAll(async () => {
  await run("git", ["clone", "--quiet", repoRoot, clone]);
  await run("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: clone,
    env: userEnv,
    maxBuffer: 64 * 1024 * 1024,
  });
}, 600_000);

function npmStart(label: string, env: Record<string, string> = {}): NpmProcess {
  const proc = startNpm({ cwd: clone, args: ["start"], env: { ...userEnv, ...env }, label });
  running.add(proc);
  return proc;
}

async function stop(proc: NpmProcess): Promise<void> {
  await proc.stop();
  running.delete(proc);
}

/** Whether nothing listens on `port` (so `npm start` can keep its default). */
async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

async function demoBaseId(client: Client): Promise<string> {
  const { bases } = answerOf<{ bases: { id: string; name: string }[] }>(
    "list_bases",
    await callTool(client, "list_bases", {}),
  );
  const base = bases.find((b) => b.name === "Demo CRM");
  expect(base, JSON.stringify(bases)).toBeDefined();
  return base!.id;
}

/** The records whose Name starts with `prefix`, as list_records answers them. */
async function recordsNamed(client: Client, baseId: string, prefix: string) {
  const answer = answerOf<{ records: { id: string; fields: Record<string, unknown> }[]; nextCursor?: string }>(
    "list_records",
    await callTool(client, "list_records", {
      baseId,
      tableId: "Contacts",
      filterByFormula: `LEFT({Name}, ${prefix.length}) = "${prefix}"`,
      pageSize: 100,
    }),
  );
  expect(answer.nextCursor).toBeUndefined();
  return answer.records;
}

/** Creates 25 contacts named `${prefix} 0…24`, waits for the operation and returns it with the ids written. */
async function create25(client: Client, baseId: string, prefix: string) {
  const records = Array.from({ length: 25 }, (_, i) => ({ fields: { Name: `${prefix} ${i}` } }));
  const first = await callWriteTool(client, "create_records", { baseId, tableId: "Contacts", records });
  const done = first.done ? first : await pollOperation([client], first.operationId, { timeoutMs: 120_000 });
  expect(done.status, done.message).toBe("completed");
  expect(done.progress).toMatchObject({ recordsTotal: 25, recordsSucceeded: 25, recordsFailed: 0, recordsInDoubt: 0 });
  return done;
}

/** After a restart: the same client storage connects without signing in again, and the operation is there. */
async function expectSignInAndOperationKept(
  mcpUrl: string,
  provider: TestOAuthProvider,
  operationId: string,
  baseId: string,
  prefix: string,
): Promise<void> {
  const signIns = provider.authorizationUrls.length;
  const tokenSets = provider.savedTokens.length;
  const client = await connectClient(mcpUrl, provider);
  clients.push(client);
  const tools = await client.listTools();
  expect(tools.tools.length).toBeGreaterThan(10);
  // The very tokens stored before the restart: no new sign-in, not even a refresh.
  expect(provider.authorizationUrls).toHaveLength(signIns);
  expect(provider.savedTokens).toHaveLength(tokenSets);

  const operation = await getOperation(client, operationId);
  expect(operation).toMatchObject({ operationId, status: "completed", done: true });
  expect(operation.progress.recordsSucceeded).toBe(25);
  expect((await listOperations(client)).map((o) => o.operationId)).toContain(operationId);
  // And Airtable's side still has the records.
  expect(await recordsNamed(client, baseId, prefix)).toHaveLength(25);
}

// The two flows run at once: they share only the clone (the embedded one keeps its state in ./data, the distributed
// one in Redis and the sandbox), listen on different ports, and spend most of their time waiting on processes.
describe.concurrent("npm start from a fresh clone", () => {
  it("with nothing configured: the embedded mode and the fake Airtable, sign-in and history kept across a restart", async () => {
    // Zero configuration, unless another program already holds the default port on this machine.
    const env: Record<string, string> = (await portIsFree(8080)) ? {} : { PORT: String(await freePort()) };
    const first = npmStart("npm start (embedded)", env);
    const mcpUrl = (await first.waitFor(BANNER_URL, START_TIMEOUT_MS))[1]!;
    expect(mcpUrl).toBe(`http://localhost:${env.PORT ?? 8080}/mcp`);
    const banner = first.output();
    expect(banner).toContain("FAKE Airtable");
    expect(banner).toMatch(/AIRTABLE_CLIENT_ID=/);
    expect(banner).toContain("https://airtable.com/create/oauth");

    // The key was generated once, kept in ./data with mode 0600, and the log said so.
    const keyFile = path.join(clone, "data", "token-encryption-key");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    await first.waitFor(/generated TOKEN_ENCRYPTION_KEY/, 10_000);
    expect(existsSync(path.join(clone, "data", "airtable-oauth-mcp.sqlite"))).toBe(true);
    const key = readFileSync(keyFile, "utf8");

    // As the banner says: add the URL to an MCP client and allow; the fake Airtable signs the browser in.
    const provider = new TestOAuthProvider({ clientName: "Newcomer's client" });
    const { client } = await signInAndConnect(mcpUrl, provider);
    clients.push(client);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["list_bases", "list_records", "create_records", "get_operation"]));
    expect(tools).toContain("list_operations");

    const baseId = await demoBaseId(client);
    const prefix = `E2E-${randomBytes(3).toString("hex")}`;
    const operation = await create25(client, baseId, prefix);
    const written = await recordsNamed(client, baseId, prefix);
    expect(written.map((r) => r.fields.Name).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `${prefix} ${i}`).sort(),
    );
    expect(new Set(written.map((r) => r.id))).toEqual(new Set(operation.results?.map((r) => r.id)));

    await stop(first);
    expect(first.output()).toMatch(/"message":"stopped"/);

    const second = npmStart("npm start (embedded, restarted)", env);
    expect((await second.waitFor(BANNER_URL, START_TIMEOUT_MS))[1]).toBe(mcpUrl);
    await second.waitFor(/using the TOKEN_ENCRYPTION_KEY saved in DATA_DIR/, 10_000);
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    await expectSignInAndOperationKept(mcpUrl, provider, operation.operationId, baseId, prefix);
    await stop(second);
  }, 420_000);

  describe("with REDIS_URL: ROLE=all and a worker-only process", () => {
    const keyPrefix = uniquePrefix("one-command");
    let sandbox: Sandbox;
    afterAll(async () => {
      await sandbox?.close();
      const redis = createTestRedis();
      await deleteKeys(redis, keyPrefix);
      redis.disconnect();
    });

    it("runs the same flow, the write lands once, and a restart keeps the sign-in and the operation", async () => {
      const port = await freePort();
      const publicUrl = `http://localhost:${port}`;
      const airtableClient = {
        clientId: `one-command-${randomBytes(3).toString("hex")}`,
        clientSecret: randomBytes(24).toString("base64url"),
        redirectUris: [`${publicUrl}/oauth/callback`],
      };
      sandbox = await startSandbox({ signInAs: "demo@example.com", oauthClients: [airtableClient] });
      const demo = seedDemo(sandbox);
      const env = {
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: keyPrefix,
        PUBLIC_URL: publicUrl,
        PORT: String(port),
        AIRTABLE_CLIENT_ID: airtableClient.clientId,
        AIRTABLE_CLIENT_SECRET: airtableClient.clientSecret,
        AIRTABLE_API_URL: sandbox.url,
        AIRTABLE_AUTH_URL: sandbox.url,
        AIRTABLE_CONTENT_URL: sandbox.url,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      };
      const healthPort = await freePort();
      const all = npmStart("npm start (ROLE=all)", { ...env, ROLE: "all" });
      const worker = npmStart("npm start (ROLE=worker)", { ...env, ROLE: "worker", HEALTH_PORT: String(healthPort) });
      const mcpUrl = (await all.waitFor(BANNER_URL, START_TIMEOUT_MS))[1]!;
      expect(mcpUrl).toBe(`${publicUrl}/mcp`);
      expect(all.output()).not.toContain("FAKE Airtable");
      await all.waitFor(/"message":"worker ready"/, START_TIMEOUT_MS);
      await worker.waitFor(/"message":"worker ready"/, START_TIMEOUT_MS);
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

      const provider = new TestOAuthProvider({ clientName: "Distributed client" });
      const { client } = await signInAndConnect(mcpUrl, provider);
      clients.push(client);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("create_records");
      const baseId = await demoBaseId(client);
      expect(baseId).toBe(demo.base.id);

      const prefix = `E2E-${randomBytes(3).toString("hex")}`;
      sandbox.clearRequests();
      const operation = await create25(client, baseId, prefix);
      expect(await recordsNamed(client, baseId, prefix)).toHaveLength(25);
      // Exactly once at Airtable's side: 25 records, sent in 3 requests (10 + 10 + 5), none re-sent.
      const atSandbox = sandbox
        .listRecordsDirect(baseId, "Contacts")
        .filter((r) => String(r.fields.Name).startsWith(prefix));
      expect(atSandbox).toHaveLength(25);
      const writes = sandbox.requests.filter((r) => r.method === "POST" && r.recordCount !== undefined);
      expect(writes.map((w) => w.recordCount).sort()).toEqual([10, 10, 5]);

      await stop(all);
      const again = npmStart("npm start (ROLE=all, restarted)", { ...env, ROLE: "all" });
      expect((await again.waitFor(BANNER_URL, START_TIMEOUT_MS))[1]).toBe(mcpUrl);
      await expectSignInAndOperationKept(mcpUrl, provider, operation.operationId, baseId, prefix);
      await stop(again);
      await stop(worker);
    }, 420_000);
  });
});
