/**
 * A deployment to run the MCP conformance suite against, on this machine: the Airtable sandbox, one real server
 * process (`node src/server/main.ts`, configured only by its environment) and a user signed in through the real
 * OAuth flow (DCR, consent page, the sandbox's Airtable sign-in, code exchange with PKCE), whose access token the
 * suite's requests then carry (token-proxy.ts). No worker: no conformance scenario calls one of our write tools.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { startSandbox, type Sandbox } from "../../../src/sandbox/index.ts";
import { seedAccount } from "../../e2e/fixtures/airtable-accounts.ts";
import { signInAndConnect } from "../../e2e/helpers/mcp-client.ts";
import { freePort, startServerProcess, type ServerProcess } from "../../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../../e2e/helpers/test-oauth-provider.ts";

export interface LocalStack {
  /** The server's /mcp, e.g. `http://127.0.0.1:41234/mcp` (its PUBLIC_URL's). */
  mcpUrl: string;
  /** An access token our authorization server issued to the signed-in user (all our scopes, one hour). */
  accessToken: string;
  /** The sandbox ("Airtable") user who signed in: a browser signing in again names them (`sandbox_user`). */
  sandboxUser: string;
  server: ServerProcess;
  /** Stops the server and the sandbox and deletes the run's Redis keys. */
  close(): Promise<void>;
}

/** Starts it all; `redisUrl` is the Redis the server uses (keys under a fresh prefix). Throws when sign-in fails. */
export async function startLocalStack(opts: { redisUrl: string }): Promise<LocalStack> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const keyPrefix = `test:conformance:${randomBytes(4).toString("hex")}`;
  const airtableClient = {
    clientId: `conformance-${randomBytes(4).toString("hex")}`,
    clientSecret: randomBytes(24).toString("base64url"),
    redirectUris: [`${publicUrl}/oauth/callback`],
  };
  const sandbox: Sandbox = await startSandbox({ oauthClients: [airtableClient] });
  let server: ServerProcess | undefined;
  const close = async (): Promise<void> => {
    await server?.stop();
    await sandbox.close();
    const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${keyPrefix}*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== "0");
    } finally {
      redis.disconnect();
    }
  };
  try {
    // No ALLOWED_HOSTS, no ALLOWED_ORIGINS: the defaults (PUBLIC_URL's host and origin only), which the
    // dns-rebinding scenario judges.
    server = await startServerProcess({
      port,
      label: "server",
      env: {
        PUBLIC_URL: publicUrl,
        REDIS_URL: opts.redisUrl,
        REDIS_KEY_PREFIX: keyPrefix,
        AIRTABLE_CLIENT_ID: airtableClient.clientId,
        AIRTABLE_CLIENT_SECRET: airtableClient.clientSecret,
        AIRTABLE_API_URL: sandbox.url,
        AIRTABLE_AUTH_URL: sandbox.url,
        AIRTABLE_CONTENT_URL: sandbox.url,
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        LOG_LEVEL: "warn",
      },
    });
    const user = seedAccount(sandbox, "conformance").user;
    const provider = new TestOAuthProvider({ sandboxUser: user.id, clientName: "MCP conformance suite" });
    const { client } = await signInAndConnect(`${publicUrl}/mcp`, provider);
    await client.close();
    const accessToken = provider.tokens()?.access_token;
    if (accessToken === undefined) throw new Error("the sign-in saved no access token");
    return { mcpUrl: `${publicUrl}/mcp`, accessToken, sandboxUser: user.id, server, close };
  } catch (error) {
    await close();
    throw error;
  }
}
