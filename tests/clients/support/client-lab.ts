/**
 * One test file's world for a client profile: the Airtable sandbox, a user who owns a small base in it, and one
 * deployment of the server (1 or 2 real OS processes behind one PUBLIC_URL, real Redis). Every client-profile
 * file starts exactly one lab in `beforeAll` and reuses it across its tests, so the suite stays fast on 2 cores.
 */
import { afterEach } from "vitest";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { seedAccount, type SeededAccount } from "../../e2e/fixtures/airtable-accounts.ts";
import { planDeployment, startDeployment, type Deployment } from "../../e2e/helpers/deployment.ts";

/**
 * Every client file starts its servers while the others run: on 2 busy cores a server process can take well over
 * the default 20 s to import its code and answer /healthz.
 */
const START_TIMEOUT_MS = 60_000;

export interface ClientLab {
  sandbox: Sandbox;
  deployment: Deployment;
  /** PUBLIC_URL: the issuer, the base of every OAuth endpoint (instance 0's address). */
  publicUrl: string;
  /** `${publicUrl}/mcp`: the resource every token is issued for. */
  mcpUrl: string;
  /** The /mcp URL of instance `i` (another process behind the same PUBLIC_URL). */
  instanceMcpUrl(i: number): string;
  /** The user who signs in at "Airtable", owner of one base with a "Tasks" table of 3 records. */
  user: SeededAccount;
  /** The record names of the user's table as the sandbox holds them (what a tool call must return). */
  recordNames(): string[];
  stop(): Promise<void>;
}

/**
 * Starts the sandbox and a deployment of `instances` server processes. `env` is merged over the deployment's
 * environment (e.g. ALLOWED_ORIGINS, REDIRECT_URI_SCHEMES). Also registers an `afterEach` that prints every
 * server's output when a test of the calling file fails.
 */
export async function startClientLab(
  label: string,
  opts: { instances?: number; env?: Record<string, string> } = {},
): Promise<ClientLab> {
  const plan = await planDeployment(label, opts.instances ?? 1);
  const sandbox = await startSandbox({ oauthClients: [plan.airtableClient] });
  const user = seedAccount(sandbox, label);
  let deployment: Deployment;
  try {
    deployment = await startDeployment(plan, sandbox.url, opts.env ?? {}, { startTimeoutMs: START_TIMEOUT_MS });
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  return {
    sandbox,
    deployment,
    publicUrl: deployment.publicUrl,
    mcpUrl: deployment.resource,
    instanceMcpUrl: (i) => {
      const instance = deployment.instances[i];
      if (instance === undefined) throw new Error(`the lab has no instance ${i}`);
      return `${instance.url}/mcp`;
    },
    user,
    recordNames: () =>
      sandbox
        .listRecordsDirect(user.base.id, user.tableName)
        .map((r) => String(r.fields.Name))
        .sort(),
    stop: async () => {
      await deployment.stop();
      await sandbox.close();
    },
  };
}

/** In a file's top level: prints the servers' output after a failed test (the lab is read lazily). */
export function printServerOutputOnFailure(lab: () => ClientLab | undefined): void {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") await lab()?.deployment.printOutput();
  });
}
