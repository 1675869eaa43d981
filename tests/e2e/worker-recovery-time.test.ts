/**
 * How fast a killed worker's operation is resumed (issue 13 §2): with the deployment's default lock settings
 * (WORKER_LOCK_MS unset), a worker process SIGKILLed mid-import hands its operation to another worker process,
 * which makes progress on it within 15 s of the kill. Separate processes, real BullMQ and Redis, the sandbox over
 * HTTP. In the timing group: it measures a wall-clock bound.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { callWriteTool, countByName, getOperation, pollOperation, recordName } from "./helpers/write-operations.ts";

const TABLE = "People";
/** Issue 13: "a worker killed mid-operation: another worker resumes within 15 s". */
const RESUME_BOUND_MS = 15_000;

let sandbox: Sandbox;
let deployment: Deployment;
let alice: SeededAccount;
let client: Client;

beforeAll(async () => {
  const plan = await planDeployment("worker-recovery-time", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient], latencyMs: 150 });
  alice = seedAccount(sandbox, "alice");
  // Default WORKER_LOCK_MS and RECONCILE_SETTLE_MS: the bound must hold with what a deployment gets out of the box.
  deployment = await startDeployment(plan, sandbox.url, { WRITE_WAIT_MS: "1000" });
  const provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  client = (await signInAndConnect(`${deployment.instances[0]?.url}/mcp`, provider)).client;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

describe("a worker SIGKILLed mid-import", () => {
  it("has its operation resumed by another worker process within 15 s, each record written once", async () => {
    const baseId = sandbox.createBase(alice.user.id, {
      name: "Recovery time",
      tables: [{ name: TABLE, fields: [{ name: "Name", type: "singleLineText" }], records: [] }],
    }).id;
    const doomed = await deployment.addWorker();
    const records = Array.from({ length: 600 }, (_, i) => ({ fields: { Name: recordName("rec", i) } }));
    const first = await callWriteTool(client, "create_records", { baseId, tableId: TABLE, records });
    await pollOperation([client], first.operationId, {
      until: (a) => a.done || a.progress.batchesDone >= 3,
      intervalMs: 100,
      timeoutMs: 30_000,
    });
    // The successor is up and idle before the kill: what is measured is the hand-over, not a process start.
    await deployment.addWorker();
    doomed.kill("SIGKILL");
    const killedAt = Date.now();
    expect(await doomed.exited).toMatchObject({ signal: "SIGKILL" });
    const atKill = await getOperation(client, first.operationId);
    expect(atKill.done).toBe(false);

    const resumed = await pollOperation([client], first.operationId, {
      until: (a) => a.done || a.progress.batchesDone > atKill.progress.batchesDone,
      intervalMs: 100,
      timeoutMs: 60_000,
    });
    const resumedAfterMs = Date.now() - killedAt;
    expect(resumed.progress.batchesDone).toBeGreaterThan(atKill.progress.batchesDone);
    expect(resumedAfterMs, `resumed ${resumedAfterMs} ms after the kill`).toBeLessThan(RESUME_BOUND_MS);

    const final = await pollOperation([client], first.operationId, { timeoutMs: 120_000, intervalMs: 500 });
    expect(final.status).toBe("completed");
    const counts = countByName(sandbox.listRecordsDirect(baseId, TABLE));
    expect(counts.size).toBe(600);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  }, 240_000);
});
