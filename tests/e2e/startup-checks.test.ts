/**
 * Start-up and run-time checks that turn silent failures into one clear message, with real server and worker
 * processes (`node src/server/main.ts`, `node src/worker/main.ts`), real Redis, the sandbox and the MCP SDK client:
 * - key agreement: a worker or server whose TOKEN_ENCRYPTION_KEY differs from the deployment's refuses to start,
 *   naming the variable; a rotation (new key + old key as _PREVIOUS) starts and locks out the old key;
 * - no live worker: a write answers "queued; no worker is running — the operator must start one" with its id, and
 *   /readyz says degraded; a worker that starts runs the write and /readyz is ready again;
 * - a stored sign-in the server cannot decrypt: read and write calls say the server is misconfigured (which
 *   setting, the operator must fix it); a queued write whose owner's sign-in the worker cannot decrypt fails at once
 *   with errorType SERVER_MISCONFIGURED, not after eight attempts, and get_operation (which needs no sign-in)
 *   shows that failure.
 */
import { randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestRedis, testRedisUrl } from "../helpers/redis.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { TokenCipher } from "../../src/shared/tokens/cipher.ts";
import { RedisTokenStore } from "../../src/shared/tokens/redis-token-store.ts";
import { seedAccount, type SeededAccount } from "./fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment, type DeploymentPlan } from "./helpers/deployment.ts";
import { callTool, resultText, signInAndConnect } from "./helpers/mcp-client.ts";
import { freePort, startServerProcess } from "./helpers/server-process.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { callWriteTool, pollOperation } from "./helpers/write-operations.ts";

const redis = createTestRedis();
let sandbox: Sandbox;
const deployments: Deployment[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled(deployments.map((d) => d.stop()));
  await sandbox?.close();
  redis.disconnect();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") for (const d of deployments) await d.printOutput();
});

const newKey = (): string => randomBytes(32).toString("base64");

async function deploy(label: string, env: Record<string, string>): Promise<{ plan: DeploymentPlan; d: Deployment }> {
  const plan = await planDeployment(label, 1);
  sandbox.registerOAuthClient(plan.airtableClient);
  const d = await startDeployment(plan, sandbox.url, env);
  deployments.push(d);
  return { plan, d };
}

async function signIn(d: Deployment, account: SeededAccount): Promise<Client> {
  const provider = new TestOAuthProvider({ sandboxUser: account.user.id });
  const { client } = await signInAndConnect(d.resource, provider);
  clients.push(client);
  return client;
}

async function readyz(d: Deployment): Promise<Record<string, unknown>> {
  const res = await fetch(`${d.publicUrl}/readyz`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("TOKEN_ENCRYPTION_KEY agreement across processes", () => {
  it("refuses a worker and a second server with another key, naming the variable; accepts a rotation", async () => {
    const keyA = newKey();
    const { plan, d } = await deploy("keys", { TOKEN_ENCRYPTION_KEY: keyA });

    // The README's old mistake: the worker's shell generated its own key.
    const worker = d.addWorker({ TOKEN_ENCRYPTION_KEY: newKey() });
    await expect(worker).rejects.toThrow(/exited during start \(code 1/);
    const message = String(await worker.catch((e: unknown) => e));
    expect(message).toContain("Refusing to start: TOKEN_ENCRYPTION_KEY differs from the key this deployment's");
    expect(message).toContain(`the Redis key "${plan.keyPrefix}:deployment:key-fingerprint"`);
    expect(message).toContain("Give every server and worker the same TOKEN_ENCRYPTION_KEY");
    expect(message).not.toMatch(/\n\s+at /); // no stack trace

    const secondServer = startServerProcess({
      port: await freePort(),
      env: serverEnvOf(plan, { TOKEN_ENCRYPTION_KEY: newKey() }),
      label: "server with another key",
    });
    await expect(secondServer).rejects.toThrow(/Refusing to start: TOKEN_ENCRYPTION_KEY differs/);

    // The same key starts; a rotation (new key, old key as _PREVIOUS) starts and is recorded…
    await d.addWorker({ TOKEN_ENCRYPTION_KEY: keyA });
    const keyB = newKey();
    const rotated = await d.addWorker({ TOKEN_ENCRYPTION_KEY: keyB, TOKEN_ENCRYPTION_KEY_PREVIOUS: keyA });
    expect(rotated.fullOutput()).toContain("recorded the rotation from TOKEN_ENCRYPTION_KEY_PREVIOUS");
    // …after which a process with only the old key would not be able to read new tokens, and is refused.
    await expect(d.addWorker({ TOKEN_ENCRYPTION_KEY: keyA })).rejects.toThrow(
      /TOKEN_ENCRYPTION_KEY is a key this deployment has rotated away from/,
    );
    await d.addWorker({ TOKEN_ENCRYPTION_KEY: keyB });
  }, 180_000);
});

/** The environment startDeployment gives its processes (planDeployment's values), with `env` on top. */
function serverEnvOf(plan: DeploymentPlan, env: Record<string, string>): Record<string, string> {
  return {
    PUBLIC_URL: plan.publicUrl,
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: plan.keyPrefix,
    AIRTABLE_CLIENT_ID: plan.airtableClient.clientId,
    AIRTABLE_API_URL: sandbox.url,
    AIRTABLE_AUTH_URL: sandbox.url,
    AIRTABLE_CONTENT_URL: sandbox.url,
    LOG_LEVEL: "warn",
    ...env,
  };
}

describe("no worker alive", () => {
  it("a write says it is queued and that the operator must start a worker; /readyz is degraded until one runs", async () => {
    const { d } = await deploy("no-worker", { WRITE_WAIT_MS: "1000" });
    const account = seedAccount(sandbox, "noworker");
    const client = await signIn(d, account);
    expect(await readyz(d)).toMatchObject({ status: "ready", workers: { alive: 0, writesWaiting: 0 } });

    const answer = await callWriteTool(client, "create_records", {
      baseId: account.base.id,
      tableId: account.tableName,
      records: [{ fields: { Name: "waits for a worker" } }],
    });
    expect(answer).toMatchObject({ status: "queued", done: false });
    expect(answer.message).toMatch(/^Queued; no worker is running — the operator must start one\. /);
    expect(answer.message).toContain(answer.operationId);
    expect(await readyz(d)).toMatchObject({
      status: "degraded",
      degraded: ["workers"],
      workers: { alive: 0, writesWaiting: 1 },
    });

    await d.addWorker();
    const done = await pollOperation([client], answer.operationId, { timeoutMs: 30_000 });
    expect(done.status).toBe("completed");
    expect(sandbox.listRecordsDirect(account.base.id, account.tableName).map((r) => r.fields.Name)).toContain(
      "waits for a worker",
    );
    expect(await readyz(d)).toMatchObject({ status: "ready", workers: { alive: 1, writesWaiting: 0 } });
  }, 120_000);
});

describe("a stored sign-in that cannot be decrypted", () => {
  it("read and write calls say the server is misconfigured; a queued write fails at once, not after every retry", async () => {
    const key = newKey();
    const { plan, d } = await deploy("undecryptable", { TOKEN_ENCRYPTION_KEY: key, WRITE_WAIT_MS: "500" });
    const account = seedAccount(sandbox, "undecryptable");
    const client = await signIn(d, account);

    // A write queued while the sign-in is readable (no worker yet)…
    const queued = await callWriteTool(client, "create_records", {
      baseId: account.base.id,
      tableId: account.tableName,
      records: [{ fields: { Name: "never written" } }],
    });
    expect(queued.status).toBe("queued");

    // …then the stored sign-in is replaced by one encrypted under a key this deployment does not have (as a
    // record written by another deployment sharing the store, or keys changed without _PREVIOUS).
    const ours = new RedisTokenStore({
      redis,
      keyPrefix: plan.keyPrefix,
      cipher: TokenCipher.create(Buffer.from(key, "base64")),
    });
    const stored = (await ours.getAirtableAccount(account.user.id))!;
    const foreign = new RedisTokenStore({
      redis,
      keyPrefix: plan.keyPrefix,
      cipher: TokenCipher.create(randomBytes(32)),
    });
    await foreign.putAirtableAccount(stored);

    const read = await callTool(client, "list_records", { baseId: account.base.id, tableId: account.tableName });
    expect(read.isError).toBe(true);
    expect(resultText(read)).toMatch(/^This server is misconfigured: .*TOKEN_ENCRYPTION_KEY/);
    expect(resultText(read)).toContain("The server's operator must fix TOKEN_ENCRYPTION_KEY");
    const write = await callTool(client, "create_records", {
      baseId: account.base.id,
      tableId: account.tableName,
      records: [{ fields: { Name: "not queued" } }],
    });
    expect(write.isError).toBe(true);
    expect(resultText(write)).toMatch(/^This server is misconfigured/);

    // The worker (same key: it starts) cannot decrypt the owner's sign-in: the operation fails on its first run
    // (eight attempts with BullMQ's backoff would take minutes). Read from the log, and through get_operation: it
    // reads only this server's records, not the sign-in (session 20), so it answers the failed operation, whose
    // failure names the misconfiguration and the setting to fix.
    const log = new OperationLog({ redis, keyPrefix: plan.keyPrefix, retentionMs: 3_600_000 });
    await d.addWorker({ WORKER_ATTEMPTS: "8" });
    await expect.poll(async () => (await log.state(queued.operationId))?.status, { timeout: 20_000 }).toBe("failed");
    const failed = (await log.state(queued.operationId))!;
    expect(failed.failure?.errorType).toBe("SERVER_MISCONFIGURED");
    expect(failed.failure?.reason).toContain("The server's operator must fix TOKEN_ENCRYPTION_KEY");
    const getOperation = await callTool(client, "get_operation", { operationId: queued.operationId });
    expect(getOperation.isError).not.toBe(true);
    expect(getOperation.structuredContent).toMatchObject({ operationId: queued.operationId, status: "failed" });
    expect(resultText(getOperation)).toContain("SERVER_MISCONFIGURED");
    expect(resultText(getOperation)).toContain("The server's operator must fix TOKEN_ENCRYPTION_KEY");
    const names = sandbox.listRecordsDirect(account.base.id, account.tableName).map((r) => r.fields.Name);
    expect(names).not.toContain("never written");
    expect(names).not.toContain("not queued");
  }, 120_000);
});
