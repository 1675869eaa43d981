/**
 * stdio without Redis (the embedded runner, the local limiter, operations kept in memory), as an MCP client launches
 * it: a write held by Airtable's 429 penalty says so in get_operation's answer (which base, until when, resumes by
 * itself), and the pause goes once requests resume; every record is written once. The stdio trial of Session 26 saw
 * only "Running: N records written of M" for the whole pause. Timing project (vitest.config.ts): it waits out a 3 s
 * penalty in wall-clock time.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";
import type { OperationResultOutput } from "../../src/shared/tools/operation-result.ts";

import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;
const PENALTY_MS = 3_000;

let sandbox: Sandbox;
let demo: DemoData;
let client: Client;

beforeAll(async () => {
  sandbox = await startSandbox({ penaltyMs: PENALTY_MS });
  demo = seedDemo(sandbox);
  // Only what the child should see: the test process's own REDIS_URL must not leak in.
  const env: Record<string, string> = {
    ...getDefaultEnvironment(),
    ...compileCacheEnv,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    AIRTABLE_TOKEN: demo.token,
    AIRTABLE_RATE_LIMIT_PENALTY_MS: String(PENALTY_MS),
    // The write call answers at once; the agent polls.
    WRITE_WAIT_MS: "0",
    LOG_LEVEL: "warn",
    // Its write operations in a directory of its own, not the tester's (src/stdio/state-dir.ts).
    DATA_DIR: privateStateDir(),
  };
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, "stdio"], env, stderr: "pipe" });
  client = new Client({ name: "stdio-pause-test", version: "1.0.0" });
  await client.connect(transport);
}, 30_000);

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
  removeStateDirs();
});

async function getOperation(operationId: string): Promise<OperationResultOutput> {
  const result = await client.callTool({ name: "get_operation", arguments: { operationId } });
  return result.structuredContent as OperationResultOutput;
}

async function pollUntil(
  operationId: string,
  until: (answer: OperationResultOutput) => boolean,
  timeoutMs: number,
): Promise<OperationResultOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await getOperation(operationId);
    if (until(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`not there in time; last answer: ${answer.message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it("without Redis, a write held by Airtable's 429 penalty says it is paused and resumes by itself", async () => {
  sandbox.setFaults({ latencyMs: 250 });
  const label = "stdio paused";
  const records = Array.from({ length: 60 }, (_, i) => ({ fields: { Name: `${label} ${i}` } }));
  const first = await client.callTool({
    name: "create_records",
    arguments: { baseId: demo.base.id, tableId: "Contacts", records },
  });
  const { operationId } = first.structuredContent as OperationResultOutput;
  await pollUntil(operationId, (a) => a.progress.recordsSucceeded >= 10, 20_000);
  sandbox.penalize({ baseId: demo.base.id }, PENALTY_MS);

  const during = await pollUntil(operationId, (a) => a.rateLimitPause !== undefined || a.done, 10_000);
  expect(during.done, during.message).toBe(false);
  expect(during.rateLimitPause?.baseId).toBe(demo.base.id);
  expect(during.message).toContain(`Paused by Airtable's rate limit: a request to base ${demo.base.id}`);
  expect(during.message).toContain("resumes by itself then, with nothing lost");
  const pausedCount = during.progress.recordsSucceeded;

  const resumed = await pollUntil(operationId, (a) => a.progress.recordsSucceeded > pausedCount, 3 * PENALTY_MS);
  expect(resumed.rateLimitPause).toBeUndefined();
  const done = await pollUntil(operationId, (a) => a.done, 60_000);
  sandbox.setFaults({ latencyMs: 0 });
  expect(done.status, done.message).toBe("completed");
  const names = sandbox
    .listRecordsDirect(demo.base.id, "Contacts")
    .map((r) => String(r.fields.Name))
    .filter((name) => name.startsWith(label));
  expect(names).toHaveLength(60);
  expect(new Set(names).size).toBe(60);
}, 90_000);
