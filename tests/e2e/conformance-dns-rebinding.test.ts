/**
 * The official MCP conformance suite's `dns-rebinding-protection` scenario (@modelcontextprotocol/conformance, run
 * through its CLI as SDK maintainers run it) against a real server process whose PUBLIC_URL is on localhost. The
 * scenario sends `initialize` twice: with Host and Origin `evil.example.com` (must be refused with a 4xx) and with
 * the server's own host and origin (must be answered 2xx).
 *
 * Authentication, honestly: the scenario sends no credentials, and the suite has no way to add a header
 * (conformance issue #453). Our /mcp needs a bearer token, so unauthenticated the valid request would get 401, and
 * the foreign one would pass only because 401 happens to be a 4xx. So a user signs in through the real OAuth flow
 * first, and the CLI reaches the server through a forwarding proxy that adds that access token as `Authorization`
 * to /mcp requests carrying none and changes nothing else: Host and Origin arrive as the suite sent them. The
 * server sits behind the proxy as it sits behind Cloud Run's front end: PUBLIC_URL is the proxy's address. The
 * test also checks that the foreign request was refused by the Host/Origin check (403), not by authentication.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { seedAccount } from "./fixtures/airtable-accounts.ts";
import { signInAndConnect } from "./helpers/mcp-client.ts";
import { freePort, startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { TestOAuthProvider } from "./helpers/test-oauth-provider.ts";
import { startTokenProxy, type TokenProxy } from "../support/conformance/token-proxy.ts";

const require = createRequire(import.meta.url);
const CONFORMANCE_CLI = join(
  dirname(require.resolve("@modelcontextprotocol/conformance/package.json")),
  "dist/index.js",
);
const SCENARIO = "dns-rebinding-protection";

let sandbox: Sandbox;
let server: ServerProcess;
let proxy: TokenProxy;
let publicUrl: string;
let accessToken: string | undefined;
const keyPrefix = uniquePrefix("e2e-conformance");

beforeAll(async () => {
  const [proxyPort, serverPort] = [await freePort(), await freePort()];
  publicUrl = `http://localhost:${proxyPort}`;
  const airtableClient = {
    clientId: `e2e-conformance-${randomBytes(4).toString("hex")}`,
    clientSecret: randomBytes(24).toString("base64url"),
    redirectUris: [`${publicUrl}/oauth/callback`],
  };
  sandbox = await startSandbox({ oauthClients: [airtableClient] });
  // No ALLOWED_HOSTS and no ALLOWED_ORIGINS: the defaults under test (PUBLIC_URL's host and origin only).
  server = await startServerProcess({
    port: serverPort,
    label: "server",
    env: {
      PUBLIC_URL: publicUrl,
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: keyPrefix,
      AIRTABLE_CLIENT_ID: airtableClient.clientId,
      AIRTABLE_CLIENT_SECRET: airtableClient.clientSecret,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      CIMD_ALLOW_LOOPBACK_HTTP: "true",
      LOG_LEVEL: "warn",
    },
  });
  proxy = await startTokenProxy({
    upstream: server.url,
    token: () => accessToken,
    port: proxyPort,
    passHost: true,
  });

  const user = seedAccount(sandbox, "conformance").user;
  const provider = new TestOAuthProvider({ sandboxUser: user.id });
  const { client } = await signInAndConnect(`${publicUrl}/mcp`, provider);
  await client.close();
  accessToken = provider.tokens()?.access_token;
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await sandbox?.close();
  const redis = createTestRedis();
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") console.error(server.output());
});

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
  details?: { statusCode?: number; hostHeader?: string };
}

/** Runs the CLI for one server scenario; returns its exit code, output and the checks it saved. */
async function runScenario(url: string): Promise<{ code: number | null; output: string; checks: Check[] }> {
  const outputDir = await mkdtemp(join(tmpdir(), "mcp-conformance-"));
  try {
    const child = spawn(
      process.execPath,
      [CONFORMANCE_CLI, "server", "--url", url, "--scenario", SCENARIO, "--output-dir", outputDir],
      { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" } },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const [code] = (await once(child, "close")) as [number | null];
    const files = (await readdir(outputDir, { recursive: true })).filter((f) => f.endsWith("checks.json"));
    if (files.length !== 1) throw new Error(`expected one checks.json, found ${files.length}; output:\n${output}`);
    const checks = JSON.parse(await readFile(join(outputDir, files[0] as string), "utf8")) as Check[];
    return { code, output, checks };
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
}

describe("MCP conformance: dns-rebinding-protection", () => {
  it("passes: a foreign Host/Origin is refused (403, not for want of a token), the server's own is accepted", async () => {
    expect(accessToken, "the sign-in gave no access token").toBeDefined();
    const { code, output, checks } = await runScenario(`${publicUrl}/mcp`);
    expect(code, output).toBe(0);
    const byId = new Map(checks.map((c) => [c.id, c]));
    const rejected = byId.get("localhost-host-rebinding-rejected");
    const accepted = byId.get("localhost-host-valid-accepted");
    expect(rejected?.status, output).toBe("SUCCESS");
    expect(accepted?.status, output).toBe("SUCCESS");
    // The refusal is the DNS-rebinding check's, not authentication's: a token was on the request.
    expect(rejected?.details?.statusCode).toBe(403);
    expect(accepted?.details).toMatchObject({ hostHeader: new URL(publicUrl).host, statusCode: 200 });
  }, 90_000);

  it("needs the token: without it the same valid request is refused with 401, so the scenario fails", async () => {
    const saved = accessToken;
    accessToken = undefined;
    try {
      const { code, checks } = await runScenario(`${publicUrl}/mcp`);
      expect(code).toBe(1);
      expect(checks.find((c) => c.id === "localhost-host-valid-accepted")).toMatchObject({
        status: "FAILURE",
        details: { statusCode: 401 },
      });
    } finally {
      accessToken = saved;
    }
  }, 90_000);
});
