/**
 * What an agent polling a write reads while Airtable's 429 penalty holds it: the real server app and a worker wired
 * as src/server/main.ts and src/worker/start-worker.ts wire them (in this process), real Redis, the Airtable sandbox
 * over HTTP, and the MCP SDK's client signed in through OAuth.
 * - The worker whose request meets the 429 records the wait in the operation's log; get_operation and
 *   list_operations, served by the server, say the write is paused: which base, until when, and that it resumes by
 *   itself with nothing lost. Once requests resume, the pause is gone from the answer; every record is written once.
 * - A second write on the same base, whose request never met a 429 but waits for the same penalty (the limiter
 *   shares it across processes), says so too.
 * - A write call waiting for its operation relays the pause in its progress notifications (progress half a record
 *   above the count, so that it still increases).
 * - A read call that meets the penalty twice says so in a progress notification each time, each one's progress
 *   above the last (the MCP spec's "progress MUST increase").
 * Timing project (vitest.config.ts): it waits out a 4 s penalty in wall-clock time.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { callTool, resultText, signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";
import {
  callWriteTool,
  countByName,
  listOperations,
  pollOperation,
  recordName,
  type OperationAnswer,
} from "../../e2e/helpers/write-operations.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { startServerHarness, type ServerHarness } from "../../support/admin-test-harness.ts";

const PENALTY_MS = 4_000;
const keyPrefix = uniquePrefix("rate-limit-pause");
const redis = createTestRedis();
let sandbox: Sandbox;
let server: ServerHarness;
let client: Client;
let userId: string;

beforeAll(async () => {
  sandbox = await startSandbox({ penaltyMs: PENALTY_MS });
  // WRITE_WAIT_MS 0: the write call answers once queued, and the agent polls (what this file is about).
  server = await startServerHarness({
    sandbox,
    keyPrefix,
    env: { AIRTABLE_RATE_LIMIT_PENALTY_MS: String(PENALTY_MS), WRITE_WAIT_MS: "0" },
  });
  await server.startWorker();
  userId = sandbox.addUser({ email: "paused@example.com", name: "Pat" }).id;
  ({ client } = await signInAndConnect(`${server.url}/mcp`, new TestOAuthProvider({ sandboxUser: userId })));
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
  await sandbox?.close();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

const paused = (answer: OperationAnswer) => answer.rateLimitPause !== undefined;

/**
 * A second server process of the same deployment (one queue, the worker of the suite), whose write calls wait for
 * their operation (WRITE_WAIT_MS) and meanwhile relay its progress as notifications/progress; and a client of the
 * suite's user signed in to it. The caller closes both.
 */
async function startWaitingServer(): Promise<{ waitingServer: ServerHarness; waitingClient: Client }> {
  const waitingServer = await startServerHarness({
    sandbox,
    keyPrefix,
    env: { AIRTABLE_RATE_LIMIT_PENALTY_MS: String(PENALTY_MS), WRITE_WAIT_MS: "60000" },
  });
  const { client: waitingClient } = await signInAndConnect(
    `${waitingServer.url}/mcp`,
    new TestOAuthProvider({ sandboxUser: userId }),
  );
  return { waitingServer, waitingClient };
}
describe("a write held by Airtable's 429 penalty", () => {
  it("says it is paused, until when, and that it resumes by itself; the pause goes once requests resume", async () => {
    const base = sandbox.createBase(userId, {
      name: "Paused",
      tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    // Slow answers, so that the write is still running when the penalty starts, and after it ends.
    sandbox.setFaults({ latencyMs: 250 });
    const records = Array.from({ length: 80 }, (_, i) => ({ fields: { Name: recordName("p", i) } }));
    const first = await callWriteTool(client, "create_records", { baseId: base.id, tableId: "People", records });
    await pollOperation([client], first.operationId, {
      until: (a) => a.progress.recordsSucceeded >= 10,
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    const penalizedAt = Date.now();
    sandbox.penalize({ baseId: base.id }, PENALTY_MS);

    // The worker's next request is answered 429; the limiter holds the base's requests for the penalty.
    const during = await pollOperation([client], first.operationId, {
      until: paused,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(during.status).toBe("running");
    const pause = during.rateLimitPause!;
    expect(pause.baseId).toBe(base.id);
    const until = Date.parse(pause.until);
    expect(until).toBeGreaterThan(Date.now());
    expect(until).toBeLessThanOrEqual(penalizedAt + 2 * PENALTY_MS + 1_000);
    expect(pause.secondsLeft).toBeGreaterThanOrEqual(1);
    expect(pause.secondsLeft).toBeLessThanOrEqual(PENALTY_MS / 1000 + 1);
    expect(during.message).toContain(`Paused by Airtable's rate limit: a request to base ${base.id} was answered 429`);
    expect(during.message).toContain(`until ${pause.until}`);
    expect(during.message).toContain(
      "resumes by itself then, with nothing lost: no need to cancel it or send it again",
    );
    const pausedCount = during.progress.recordsSucceeded;
    expect(pausedCount).toBeLessThan(80);
    // The answer's text, as an agent that reads only the text sees it, names the pause too.
    const text = resultText(await callTool(client, "get_operation", { operationId: first.operationId }));
    expect(text).toContain("Paused by Airtable's rate limit");
    const listed = (await listOperations(client)).find((o) => o.operationId === first.operationId);
    expect(listed?.rateLimitPause?.baseId).toBe(base.id);

    // Requests resume after the penalty: the next batch is written and the pause is gone from the answer.
    const resumed = await pollOperation([client], first.operationId, {
      until: (a) => a.progress.recordsSucceeded > pausedCount,
      timeoutMs: 3 * PENALTY_MS,
      intervalMs: 50,
    });
    expect(resumed.rateLimitPause).toBeUndefined();
    expect(resumed.message).not.toContain("Paused");
    const done = await pollOperation([client], first.operationId, { timeoutMs: 60_000, intervalMs: 200 });
    expect(done.status, done.message).toBe("completed");
    expect(done.rateLimitPause).toBeUndefined();
    expect(done.progress.recordsSucceeded).toBe(80);
    sandbox.setFaults({ latencyMs: 0 });
    // Every record exactly once: the paused request was sent once the penalty ended, not twice.
    const counts = countByName(sandbox.listRecordsDirect(base.id, "People"));
    expect(counts.size).toBe(80);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(sandbox.count429({ baseId: base.id })).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("a second write on the base waits for the same penalty without meeting a 429, and says so", async () => {
    const base = sandbox.createBase(userId, {
      name: "Shared penalty",
      tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    sandbox.setFaults({ latencyMs: 250 });
    const bulk = Array.from({ length: 60 }, (_, i) => ({ fields: { Name: recordName("bulk", i) } }));
    const first = await callWriteTool(client, "create_records", { baseId: base.id, tableId: "People", records: bulk });
    await pollOperation([client], first.operationId, {
      until: (a) => a.progress.recordsSucceeded >= 10,
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    sandbox.penalize({ baseId: base.id }, PENALTY_MS);
    await pollOperation([client], first.operationId, { until: paused, timeoutMs: 10_000, intervalMs: 50 });
    const refusedBefore = sandbox.count429({ baseId: base.id });

    // One batch (its own lane at the worker): its request finds the penalty in the shared limiter and waits.
    const small = Array.from({ length: 3 }, (_, i) => ({ fields: { Name: recordName("small", i) } }));
    const second = await callWriteTool(client, "create_records", {
      baseId: base.id,
      tableId: "People",
      records: small,
    });
    const waiting = await pollOperation([client], second.operationId, {
      until: (a) => paused(a) || a.done,
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(waiting.done, waiting.message).toBe(false);
    expect(waiting.rateLimitPause?.baseId).toBe(base.id);
    expect(waiting.message).toContain("resumes by itself");

    const doneSmall = await pollOperation([client], second.operationId, { timeoutMs: 30_000, intervalMs: 200 });
    expect(doneSmall.status, doneSmall.message).toBe("completed");
    expect(doneSmall.rateLimitPause).toBeUndefined();
    const doneBulk = await pollOperation([client], first.operationId, { timeoutMs: 60_000, intervalMs: 200 });
    expect(doneBulk.status, doneBulk.message).toBe("completed");
    sandbox.setFaults({ latencyMs: 0 });
    // The limiter held the second write's request: no request of the base met a 429 after the first one's.
    expect(sandbox.count429({ baseId: base.id })).toBe(refusedBefore);
    const counts = countByName(sandbox.listRecordsDirect(base.id, "People"));
    expect(counts.size).toBe(63);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 90_000);

  it("the write call's progress notifications say it is paused, and keep increasing", async () => {
    const { waitingServer, waitingClient } = await startWaitingServer();
    try {
      const base = sandbox.createBase(userId, {
        name: "Paused progress",
        tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
      });
      sandbox.setFaults({ latencyMs: 250 });
      const seen: { progress: number; total?: number; message?: string }[] = [];
      let penalized = false;
      const records = Array.from({ length: 60 }, (_, i) => ({ fields: { Name: recordName("n", i) } }));
      const result = await waitingClient.callTool(
        { name: "create_records", arguments: { baseId: base.id, tableId: "People", records } },
        undefined,
        {
          timeout: 90_000,
          resetTimeoutOnProgress: true,
          onprogress: (p) => {
            seen.push(p);
            if (!penalized && p.progress >= 10) {
              penalized = true;
              sandbox.penalize({ baseId: base.id }, PENALTY_MS);
            }
          },
        },
      );
      sandbox.setFaults({ latencyMs: 0 });
      const answer = result.structuredContent as OperationAnswer;
      expect(answer.status, answer.message).toBe("completed");
      const pausedNote = seen.find((p) => p.message?.includes("paused by Airtable's rate limit"));
      expect(pausedNote, JSON.stringify(seen)).toBeDefined();
      expect(pausedNote!.message).toContain(`(429) on base ${base.id} until `);
      expect(pausedNote!.message).toContain("resumes by itself with nothing lost");
      expect(pausedNote!.message).toContain(`operation ${answer.operationId}`);
      // It settles nothing: half a record above the count, so that every notification's progress increases.
      expect(pausedNote!.progress % 1).toBe(0.5);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
      expect(seen.at(-1)?.progress).toBe(60);
      expect(seen.at(-1)?.message).not.toContain("paused");
      const counts = countByName(sandbox.listRecordsDirect(base.id, "People"));
      expect(counts.size).toBe(60);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await waitingClient.close();
      await waitingServer.close();
    }
  }, 90_000);

  it("a write whose checks meet the penalty, before anything is queued, says so in a progress notification", async () => {
    // A base whose schema is not cached: the write's checks read it, and that read waits out the penalty (30 s at
    // Airtable). The call was silent all that time, then answered.
    const { waitingServer, waitingClient } = await startWaitingServer();
    try {
      const base = sandbox.createBase(userId, {
        name: "Paused checks",
        tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
      });
      const seen: { progress: number; total?: number; message?: string }[] = [];
      sandbox.penalize({ baseId: base.id }, PENALTY_MS);
      const records = Array.from({ length: 3 }, (_, i) => ({ fields: { Name: recordName("c", i) } }));
      const result = await waitingClient.callTool(
        { name: "create_records", arguments: { baseId: base.id, tableId: "People", records } },
        undefined,
        { timeout: 60_000, resetTimeoutOnProgress: true, onprogress: (p) => void seen.push(p) },
      );
      const answer = result.structuredContent as OperationAnswer;
      expect(answer.status, answer.message).toBe("completed");
      expect(seen[0]?.message, JSON.stringify(seen)).toMatch(
        new RegExp(
          `^Checking the write against base ${base.id} before queueing it: paused by Airtable's rate limit \\(429\\) ` +
            "until \\S+ \\(\\d+ s\\): a request to the base was answered 429 Too Many Requests \\(more than 5 " +
            "requests per second reached it; .+\\)\\. Then the check goes on by itself\\. Nothing is queued yet: no " +
            "need to call again\\.$",
        ),
      );
      // The operation's own notifications follow, still increasing (its first count, 0, is not sent again).
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
      expect(seen.at(-1)?.progress).toBe(3);
    } finally {
      await waitingClient.close();
      await waitingServer.close();
    }
  }, 60_000);
  it("a write whose checks meet the penalty twice says both pauses, then its operation's progress", async () => {
    const { waitingServer, waitingClient } = await startWaitingServer();
    try {
      const base = sandbox.createBase(userId, {
        name: "Paused checks twice",
        tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
      });
      const seen: { progress: number; total?: number; message?: string }[] = [];
      // Airtable's penalty outlasts this deployment's: the schema read sent again after the first pause meets a
      // second 429.
      sandbox.penalize({ baseId: base.id }, PENALTY_MS * 1.6);
      const records = Array.from({ length: 3 }, (_, i) => ({ fields: { Name: recordName("t", i) } }));
      const result = await waitingClient.callTool(
        { name: "create_records", arguments: { baseId: base.id, tableId: "People", records } },
        undefined,
        { timeout: 60_000, resetTimeoutOnProgress: true, onprogress: (p) => void seen.push(p) },
      );
      const answer = result.structuredContent as OperationAnswer;
      expect(answer.status, answer.message).toBe("completed");
      const refused = sandbox.count429({ baseId: base.id });
      expect(refused).toBeGreaterThanOrEqual(2);
      const checks = seen.filter((p) => p.message?.startsWith("Checking the write against base"));
      expect(checks.length, JSON.stringify(seen)).toBe(refused);
      expect(checks[1]?.message).toContain("This is the call's pause 2.");
      // Then the operation's own notifications, records settled of 3: every progress above the one before.
      expect(seen.slice(0, checks.length)).toEqual(checks);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
      expect(seen.at(-1)).toMatchObject({ progress: 3, total: 3 });
    } finally {
      await waitingClient.close();
      await waitingServer.close();
    }
  }, 60_000);
});

describe("a read held by Airtable's 429 penalty", () => {
  it("says so in a progress notification at each pause, each with a larger progress", async () => {
    const base = sandbox.createBase(userId, {
      name: "Paused read",
      tables: [{ name: "People", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    // Airtable's penalty outlasts this deployment's (AIRTABLE_RATE_LIMIT_PENALTY_MS): the request sent again after
    // the first pause meets a second 429, and waits out a second pause, all within one call.
    sandbox.penalize({ baseId: base.id }, PENALTY_MS * 1.6);
    const seen: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: "list_records", arguments: { baseId: base.id, tableId: "People" } },
      undefined,
      { timeout: 30_000, resetTimeoutOnProgress: true, onprogress: (p) => void seen.push(p) },
    );
    expect(result.isError, resultText(result as CallToolResult)).not.toBe(true);
    const refused = sandbox.count429({ baseId: base.id });
    expect(refused).toBeGreaterThanOrEqual(2);
    // One notification per pause, none dropped: each 429 was followed by one wait.
    expect(seen.length, JSON.stringify(seen)).toBe(refused);
    for (const [i, note] of seen.entries()) {
      expect(note.message).toMatch(
        new RegExp(
          `^Paused by Airtable's rate limit \\(429\\) on base ${base.id} until \\S+ \\(\\d+ s\\): a request to the ` +
            "base was answered 429 Too Many Requests \\(more than 5 requests per second reached it; .+\\)\\. " +
            "Then this read goes on by itself\\.",
        ),
      );
      expect(note.total).toBeUndefined();
      if (i > 0) expect(note.message).toContain(`This is the call's pause ${i + 1}.`);
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.progress).toBeGreaterThan(seen[i - 1]!.progress);
  }, 60_000);
});
