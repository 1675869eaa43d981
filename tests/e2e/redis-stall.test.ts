/**
 * A Redis that stops answering without closing its connections (SIGSTOP here; a network partition or a hung host
 * in production), and one that refuses connections: real server and worker processes, a redis-server of this test's
 * own, the sandbox, the MCP SDK client and plain HTTP requests as a client sends them.
 *
 * What a user sees: every answer within STALL_ANSWER_BOUND_MS — /token and /revoke 503 temporarily_unavailable with
 * Retry-After (the client keeps its tokens), /authorize a 503 page, tool calls "temporarily unavailable", /readyz
 * 503 — never a hang and never a 500; once Redis answers again the next request works, the same refresh token
 * included, and a write queued just before the stall runs exactly once.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { startPrivateRedis, type PrivateRedis } from "../helpers/private-redis.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { callTool, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { startRedisProxy, type RedisProxy } from "./helpers/redis-proxy.ts";
import { CLIENT_REDIRECT_URI, TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import type { OperationAnswer } from "./helpers/write-operations.ts";

/**
 * The bound this test holds the server to (README, Health and shutdown): REDIS_COMMAND_TIMEOUT_MS (2 s) for the
 * command that meets the stall, plus room for a loaded test machine. Far below the MCP SDKs' 60 s request timeout and
 * Claude Code's 30 s connection timeout.
 */
const STALL_ANSWER_BOUND_MS = 5_000;

let redis: PrivateRedis;
let proxy: RedisProxy;
let sandbox: Sandbox;
let deployment: Deployment;
let alice: SeededAccount;
let client: Client;
let provider: TestOAuthProvider;

beforeAll(async () => {
  redis = await startPrivateRedis();
  // The proxy only serves the "refuses connections" case; the stall is the redis-server process itself.
  proxy = await startRedisProxy(redis.url);
  const plan = await planDeployment("stall", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url, {
    REDIS_URL: proxy.url,
    WRITE_WAIT_MS: "200",
    // The stall below (~7 s) outlasts BullMQ's blocking reads (BZPOPMIN 5 s + its 1 s watchdog) but not the job
    // lock: a lock that expires while Redis is stopped is the stalled-job path, tested in worker-crash.test.ts.
    WORKER_LOCK_MS: "20000",
  });
  await deployment.addWorker();
  provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  client = (await signInAndConnect(`${deployment.instances[0]!.url}/mcp`, provider)).client;
}, 90_000);

afterAll(async () => {
  redis?.resume();
  await proxy?.up().catch(() => undefined);
  await client?.close().catch(() => undefined);
  await deployment?.stop();
  await proxy?.close();
  await sandbox?.close();
  await redis?.stop();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

/** `fn`'s result and how long it took; a hang past the bound (plus slack) fails instead of hanging the test. */
async function timed<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn(AbortSignal.timeout(STALL_ANSWER_BOUND_MS + 10_000));
  return { value, ms: performance.now() - started };
}

/** Like `timed`, for an answer as a user sees it; no answer at all (a hang) is status 0 and "no answer". */
async function timedAnswer(
  fn: (signal: AbortSignal) => Promise<Response>,
): Promise<{ value: Awaited<ReturnType<typeof seen>>; ms: number }> {
  return timed(async (signal) => {
    try {
      return await seen(await fn(signal));
    } catch (error) {
      return { status: 0, retryAfter: null, text: `no answer: ${String(error)}` };
    }
  });
}

function form(path: string, body: Record<string, string>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${deployment.instances[0]!.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body),
    ...(signal !== undefined && { signal }),
  });
}

function refresh(refreshToken: string, signal?: AbortSignal): Promise<Response> {
  return form(
    "/token",
    { grant_type: "refresh_token", refresh_token: refreshToken, client_id: provider.clientId! },
    signal,
  );
}

/** Refreshes with the client's refresh token and, when that works, keeps the new tokens as the client would. */
async function refreshAndKeep(signal?: AbortSignal): Promise<{ status: number; text: string }> {
  const res = await refresh(provider.tokens()!.refresh_token!, signal);
  const text = await res.text();
  if (res.status === 200) provider.saveTokens(JSON.parse(text));
  return { status: res.status, text };
}

function authorizeUrl(): string {
  const url = new URL(`${deployment.instances[0]!.url}/authorize`);
  const verifier = randomBytes(32).toString("base64url");
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", provider.clientId!);
  url.searchParams.set("redirect_uri", CLIENT_REDIRECT_URI);
  url.searchParams.set("code_challenge", createHash("sha256").update(verifier).digest("base64url"));
  url.searchParams.set("code_challenge_method", "S256");
  url.searchParams.set("state", "s");
  url.searchParams.set("resource", deployment.resource);
  return url.toString();
}

/** A bare tools/call with the client's current access token, as any MCP client posts it. */
function postToolCall(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${deployment.instances[0]!.url}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${provider.tokens()!.access_token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-06-18",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
    ...(signal !== undefined && { signal }),
  });
}

/** What a user of the answer sees: status and text (a tool error's text, an OAuth error, a page). */
async function seen(res: Response): Promise<{ status: number; retryAfter: string | null; text: string }> {
  return { status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() };
}

/** Every answer the stalled or refusing Redis is met with, asked at once. */
async function askEverything() {
  const refreshToken = provider.tokens()!.refresh_token!;
  const [token, revoke, authorize, tool, readyz] = await Promise.all([
    timedAnswer((signal) => refresh(refreshToken, signal)),
    // A made-up grant's token: a revocation that Redis runs after the stall must not sign this test's client out.
    timedAnswer((signal) =>
      form("/revoke", { token: `gr_${randomBytes(8).toString("hex")}.x`, client_id: provider.clientId! }, signal),
    ),
    timedAnswer((signal) => fetch(authorizeUrl(), { redirect: "manual", signal })),
    timedAnswer((signal) =>
      postToolCall("list_records", { baseId: alice.base.id, tableId: alice.tableName, pageSize: 2 }, signal),
    ),
    timedAnswer((signal) => fetch(`${deployment.instances[0]!.url}/readyz`, { signal })),
  ]);
  return { token, revoke, authorize, tool, readyz };
}

function expectAnsweredUnavailable(answers: Awaited<ReturnType<typeof askEverything>>): void {
  const summary = Object.entries(answers).map(
    ([name, a]) => `${name}: ${a.value.status} in ${Math.round(a.ms)} ms: ${a.value.text.slice(0, 160)}`,
  );
  console.log(summary.join("\n"));
  for (const [name, answer] of Object.entries(answers)) {
    expect(answer.ms, `${name} answered in ${Math.round(answer.ms)} ms`).toBeLessThan(STALL_ANSWER_BOUND_MS);
    expect(answer.value.status, `${name}: ${answer.value.text.slice(0, 300)}`).not.toBe(500);
  }
  const { token, revoke, authorize, tool, readyz } = answers;
  expect(token.value.status).toBe(503);
  expect(JSON.parse(token.value.text)).toMatchObject({ error: "temporarily_unavailable" });
  expect(token.value.retryAfter).toBe("30");
  expect(revoke.value.status).toBe(503);
  expect(JSON.parse(revoke.value.text)).toMatchObject({ error: "temporarily_unavailable" });
  expect(authorize.value.status).toBe(503);
  expect(authorize.value.text).toContain("Temporarily unavailable");
  expect(tool.value.text).toMatch(/temporarily unavailable/i);
  expect(tool.value.text).not.toMatch(/at \w+ \(|node_modules/); // no stack trace
  expect(readyz.value.status).toBe(503);
  expect(JSON.parse(readyz.value.text)).toMatchObject({
    status: "unavailable",
    failing: expect.arrayContaining(["redis"]),
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const names = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${String(i).padStart(3, "0")}`);

function rowsOf(tag: string): string[] {
  return sandbox
    .listRecordsDirect(alice.base.id, alice.tableName)
    .map((r) => String(r.fields.Name))
    .filter((name) => name.startsWith(`${tag} `));
}

describe("a Redis that stalls or refuses connections", () => {
  it("stalled (SIGSTOP): every endpoint answers within the bound; resumed: the next requests work and a write queued before runs once", async () => {
    const queued = await callTool(client, "create_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      records: names("stall", 40).map((Name) => ({ fields: { Name } })),
    });
    expect(queued.isError, resultText(queued)).not.toBe(true);
    const { operationId } = queued.structuredContent as unknown as OperationAnswer;

    redis.stall();
    let first: Awaited<ReturnType<typeof askEverything>>;
    let later: Awaited<ReturnType<typeof askEverything>>;
    try {
      first = await askEverything();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      later = await askEverything();
    } finally {
      redis.resume();
    }
    // The first requests of a stall and those seconds into it alike.
    expectAnsweredUnavailable(first);
    expectAnsweredUnavailable(later);

    // The next requests work, without a restart of anything.
    const refreshed = await timed(async (signal) => refreshAndKeep(signal));
    expect(refreshed.value.status, refreshed.value.text).toBe(200);
    expect(refreshed.ms).toBeLessThan(STALL_ANSWER_BOUND_MS);
    const read = await callTool(client, "list_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      pageSize: 2,
    });
    expect(read.isError, resultText(read)).not.toBe(true);
    expect((await fetch(`${deployment.instances[0]!.url}/readyz`)).status).toBe(200);

    const done = await waitFor("the queued write to finish", async () => {
      const op = (await callTool(client, "get_operation", { operationId }))
        .structuredContent as unknown as OperationAnswer;
      return op.done ? op : undefined;
    });
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ recordsSucceeded: 40, recordsInDoubt: 0, recordsFailed: 0 });
    const rows = rowsOf("stall");
    expect(rows).toHaveLength(40);
    expect(new Set(rows)).toEqual(new Set(names("stall", 40)));
  }, 120_000);

  it("refusing connections: the same answers within the bound; back: the next requests work", async () => {
    await proxy.down();
    let answers: Awaited<ReturnType<typeof askEverything>>;
    try {
      // Wait until the server has noticed (its connections were dropped): the outage is under way, not beginning.
      await waitFor("/readyz 503", async () =>
        (await fetch(`${deployment.instances[0]!.url}/readyz`)).status === 503 ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // past the first reconnect attempts
      answers = await askEverything();
    } finally {
      await proxy.up();
    }
    expectAnsweredUnavailable(answers);

    await waitFor("/readyz 200", async () =>
      (await fetch(`${deployment.instances[0]!.url}/readyz`)).status === 200 ? true : undefined,
    );
    const refreshed = await refreshAndKeep();
    expect(refreshed.status, refreshed.text).toBe(200);
    const read = await callTool(client, "list_records", {
      baseId: alice.base.id,
      tableId: alice.tableName,
      pageSize: 2,
    });
    expect(read.isError, resultText(read)).not.toBe(true);
  }, 120_000);
});
