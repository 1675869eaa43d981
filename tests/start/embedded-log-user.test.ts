/**
 * The log lines of a write operation in embedded mode name its owner once. The operation runs in this process,
 * started inside the write call's request, whose log context holds the caller's userId (app.ts, since session 30);
 * its Airtable client's logger also bound the owner's userId, so each of its lines ("airtable request", "airtable
 * request outcome unknown") carried the key twice: JSON with a duplicated name, which log tools read one way or
 * another (RFC 8259: names SHOULD be unique). So did `baseId` on "airtable request", bound by the run's client logger and
 * added by the line itself (transport.ts #lineBaseId). startEmbedded in this process against the sandbox, the MCP SDK
 * client.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";
import { loadConfig, type Config } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { startEmbedded, type RunningEmbedded } from "../../src/start/embedded.ts";
import { signInAndConnect } from "../e2e/helpers/mcp-client.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { TestOAuthProvider } from "../e2e/helpers/test-oauth-provider.ts";
import { callWriteTool, pollOperation } from "../e2e/helpers/write-operations.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "embedded-log-user-"));
const logs: string[] = [];
const logger = createLogger({ level: "debug", name: "embedded" }, { write: (line: string) => void logs.push(line) });
let sandbox: Sandbox;
let user: { id: string; email: string };
let base: BaseInfo;
let config: Config;
let client: Client | undefined;
let running: RunningEmbedded | undefined;

beforeAll(async () => {
  const port = await freePort();
  const clientId = "embedded-log-user";
  sandbox = await startSandbox({
    oauthClients: [{ clientId, redirectUris: [`http://localhost:${port}/oauth/callback`] }],
  });
  user = sandbox.addUser({ email: "log-owner@example.com" });
  base = sandbox.createBase(user.id, {
    name: "Logged",
    tables: [{ name: "Tasks", fields: [{ name: "Name", type: "singleLineText" }] }],
  });
  config = loadConfig(
    {
      PORT: String(port),
      DATA_DIR: dataDir,
      AIRTABLE_CLIENT_ID: clientId,
      AIRTABLE_API_URL: sandbox.url,
      AIRTABLE_AUTH_URL: sandbox.url,
      AIRTABLE_CONTENT_URL: sandbox.url,
    },
    "start",
  );
  running = await startEmbedded(config, { logger, print: () => undefined });
  ({ client } = await signInAndConnect(running.mcpUrl, new TestOAuthProvider({ sandboxUser: user.email })));
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await running?.close();
  await sandbox?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("an embedded write operation's log lines", () => {
  it("carry its owner's userId once", async () => {
    const written = await callWriteTool(client!, "create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "logged" },
    });
    const done = written.done ? written : await pollOperation([client!], written.operationId);
    expect(done.status).toBe("completed");
    const lines = logs.filter((line) => line.includes(`"operationId":"${written.operationId}"`));
    const requests = lines.filter((line) => line.includes('"message":"airtable request"'));
    expect(requests.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.split('"userId":').length - 1, line).toBe(1);
    for (const line of lines) expect((JSON.parse(line) as { userId?: string }).userId).toBe(user.id);
  });

  it("carry its base's baseId once", async () => {
    // Session 30 left it: the run's Airtable client's logger binds baseId, and its "airtable request" line added
    // the request's baseId again.
    const written = await callWriteTool(client!, "create_record", {
      baseId: base.id,
      tableId: "Tasks",
      fields: { Name: "logged once" },
    });
    const done = written.done ? written : await pollOperation([client!], written.operationId);
    expect(done.status).toBe("completed");
    const requests = logs.filter(
      (line) =>
        line.includes(`"operationId":"${written.operationId}"`) && line.includes('"message":"airtable request"'),
    );
    expect(requests.length).toBeGreaterThan(0);
    for (const line of requests) expect(line.split('"baseId":').length - 1, line).toBe(1);
    for (const line of requests) expect((JSON.parse(line) as { baseId?: string }).baseId).toBe(base.id);
  });
});
