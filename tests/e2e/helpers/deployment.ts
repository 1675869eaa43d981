/**
 * One deployment of the server: N instances (OS processes) behind one public URL, sharing Redis (one key
 * prefix), one encryption key and one Airtable OAuth integration registered in the sandbox. The first instance's
 * address is the PUBLIC_URL (the issuer and the audience of every token); clients may talk to any instance.
 */
import { randomBytes } from "node:crypto";
import type { OAuthClient } from "../../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../../helpers/redis.ts";
import { freePort, startServerProcess, startWorkerProcess, type ServerProcess } from "./server-process.ts";

/** What must exist before the sandbox starts: addresses and the Airtable integration that names them. */
export interface DeploymentPlan {
  ports: number[];
  publicUrl: string;
  keyPrefix: string;
  /** Register this in the sandbox (`startSandbox({ oauthClients: [plan.airtableClient] })`). */
  airtableClient: Required<Omit<OAuthClient, "scopes">>;
}

export async function planDeployment(label: string, instances: number): Promise<DeploymentPlan> {
  const ports: number[] = [];
  while (ports.length < instances) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const publicUrl = `http://127.0.0.1:${ports[0]}`;
  return {
    ports,
    publicUrl,
    keyPrefix: uniquePrefix(`e2e-${label}`),
    airtableClient: {
      clientId: `e2e-${label}-${randomBytes(4).toString("hex")}`,
      clientSecret: randomBytes(24).toString("base64url"),
      redirectUris: [`${publicUrl}/oauth/callback`],
    },
  };
}

export interface Deployment {
  publicUrl: string;
  /** `${publicUrl}/mcp`: the resource every token is issued for. */
  resource: string;
  instances: ServerProcess[];
  /** Worker processes started with `addWorker` (same environment as the servers). */
  workers: ServerProcess[];
  /** Starts one more worker process of this deployment; extra env is merged over the deployment's. */
  addWorker(env?: Record<string, string>): Promise<ServerProcess>;
  /** Prints every instance's output after a moment (log lines travel through pipes, slower than HTTP answers). */
  printOutput(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDeployment(
  plan: DeploymentPlan,
  sandboxUrl: string,
  env: Record<string, string> = {},
  /** How long each instance may take to answer /healthz (default 60 s, see server-process.ts). */
  opts: { startTimeoutMs?: number } = {},
): Promise<Deployment> {
  const hosts = plan.ports.map((p) => `127.0.0.1:${p}`).join(",");
  const shared: Record<string, string> = {
    PUBLIC_URL: plan.publicUrl,
    ALLOWED_HOSTS: hosts,
    REDIS_URL: testRedisUrl(),
    REDIS_KEY_PREFIX: plan.keyPrefix,
    AIRTABLE_CLIENT_ID: plan.airtableClient.clientId,
    AIRTABLE_CLIENT_SECRET: plan.airtableClient.clientSecret,
    AIRTABLE_API_URL: sandboxUrl,
    AIRTABLE_AUTH_URL: sandboxUrl,
    AIRTABLE_CONTENT_URL: sandboxUrl,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    CIMD_ALLOW_LOOPBACK_HTTP: "true",
    LOG_LEVEL: "warn",
    ...env,
  };
  const started = await Promise.allSettled(
    plan.ports.map((port, i) =>
      startServerProcess({
        port,
        env: shared,
        label: `server ${i}`,
        ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      }),
    ),
  );
  const instances = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  const workers: ServerProcess[] = [];
  const addWorker = async (extra: Record<string, string> = {}): Promise<ServerProcess> => {
    const worker = await startWorkerProcess({
      port: await freePort(),
      env: { ...shared, ...extra },
      label: `worker ${workers.length}`,
    });
    workers.push(worker);
    return worker;
  };
  const stop = async (): Promise<void> => {
    await Promise.all([...instances, ...workers].map((p) => p.stop()));
    const redis = createTestRedis();
    await deleteKeys(redis, plan.keyPrefix);
    redis.disconnect();
  };
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return {
    publicUrl: plan.publicUrl,
    resource: `${plan.publicUrl}/mcp`,
    instances,
    workers,
    addWorker,
    printOutput: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      console.error([...instances, ...workers].map((p) => p.output()).join("\n"));
    },
    stop,
  };
}
