/**
 * Fairness between bases (docs/architecture.md invariant 6) across real processes: one server, two worker processes
 * with the default WORKER_CONCURRENCY (8) and WORKER_MAX_ACTIVE_PER_BASE (3). Imports on base A must not hold
 * back a small write on base B — neither one big import, nor more imports than the pool has worker slots.
 * The deployment is stopped with base A's imports still running.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "./helpers/deployment.ts";
import { signInAndConnect } from "./helpers/mcp-client.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import {
  callWriteTool,
  getOperation,
  listOperations,
  recordName,
  type OperationAnswer,
  type OperationSummary,
} from "./helpers/write-operations.ts";

/** A 1-record write must answer "completed" within this; imports on A take far longer and answer with progress. */
const WRITE_WAIT_MS = 8_000;
const WORKERS = 2;
const WORKER_CONCURRENCY = 8;
const TABLE = "People";

let sandbox: Sandbox;
let deployment: Deployment;
let alice: SeededAccount;
let client: Client;
let baseA: string;
let baseB: string;
/** Calls still waiting for their answer when a test ends; settled before the deployment stops. */
const pending: Promise<unknown>[] = [];

beforeAll(async () => {
  const plan = await planDeployment("fairness", 1);
  sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  alice = seedAccount(sandbox, "alice");
  deployment = await startDeployment(plan, sandbox.url, {
    WRITE_WAIT_MS: String(WRITE_WAIT_MS),
    WORKER_LOCK_MS: "3000",
  });
  for (let i = 0; i < WORKERS; i++) await deployment.addWorker();
  const provider = new TestOAuthProvider({ sandboxUser: alice.user.id });
  client = (await signInAndConnect(`${deployment.instances[0]?.url}/mcp`, provider)).client;
  baseA = newBase("Base A (imports)");
  baseB = newBase("Base B (small writes)");
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(pending);
  await client?.close();
  await deployment?.stop();
  await sandbox?.close();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") await deployment.printOutput();
});

function newBase(name: string): string {
  return sandbox.createBase(alice.user.id, {
    name,
    tables: [{ name: TABLE, fields: [{ name: "Name", type: "singleLineText" }] }],
  }).id;
}

function importRecords(label: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({ fields: { Name: recordName(label, i) } }));
}

/** Starts a create_records call on base A without waiting for its answer (it waits WRITE_WAIT_MS). */
function startImport(label: string, count: number): void {
  pending.push(
    callWriteTool(client, "create_records", { baseId: baseA, tableId: TABLE, records: importRecords(label, count) }),
  );
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const recordsInA = () => sandbox.listRecordsDirect(baseA, TABLE).length;

async function operationsOnA(): Promise<OperationSummary[]> {
  return (await listOperations(client)).filter((o) => o.baseId === baseA);
}

/** One record on base B through create_record; its answer and how long the call took. */
async function writeToB(name: string): Promise<{ answer: OperationAnswer; ms: number }> {
  const started = performance.now();
  const answer = await callWriteTool(client, "create_record", {
    baseId: baseB,
    tableId: TABLE,
    fields: { Name: name },
  });
  return { answer, ms: performance.now() - started };
}

function expectWrittenToB(answer: OperationAnswer, name: string): void {
  expect(answer.status, answer.message).toBe("completed");
  expect(answer.done).toBe(true);
  const id = answer.results?.[0]?.id;
  expect(id).toMatch(/^rec/);
  expect(sandbox.listRecordsDirect(baseB, TABLE).find((r) => r.id === id)?.fields.Name).toBe(name);
}

describe("a write to base B while base A imports", () => {
  it("a 1-record write to B completes before a 2,000-record import on A is 10 % done", async () => {
    startImport("big", 2000);
    await waitFor("the import on A to start writing", () => recordsInA() > 0);

    const { answer } = await writeToB("b-during-import");
    // Read at once: where A's import stood when B's call answered.
    const storedInA = recordsInA();
    expectWrittenToB(answer, "b-during-import");

    const [importOp] = await operationsOnA();
    expect(importOp).toBeDefined();
    const importNow = await getOperation(client, importOp!.operationId);
    expect(importNow.progress.recordsTotal).toBe(2000);
    expect(importNow.done).toBe(false);
    expect(importNow.progress.recordsSucceeded).toBeGreaterThan(0);
    expect(importNow.progress.recordsSucceeded).toBeLessThan(200);
    expect(storedInA).toBeLessThan(200);
  }, 60_000);

  it("more imports on A than the pool has worker slots: B's write still completes at once", async () => {
    // More operations on A than all workers can run at once, so only a cap per base leaves B a slot.
    const imports = WORKERS * WORKER_CONCURRENCY + 4;
    for (let i = 0; i < imports; i++) startImport(`many${i}`, 50);
    await waitFor(`${imports} more operations on A`, async () => (await operationsOnA()).length >= imports + 1);

    const { answer, ms } = await writeToB("b-during-many-imports");
    expectWrittenToB(answer, "b-during-many-imports");
    expect(ms).toBeLessThan(WRITE_WAIT_MS);

    // B did not wait for A: more of A's operations were still unfinished than there are worker slots.
    const unfinished = (await operationsOnA()).filter((o) => o.status === "queued" || o.status === "running");
    expect(unfinished.length).toBeGreaterThan(WORKERS * WORKER_CONCURRENCY);
  }, 60_000);
});
