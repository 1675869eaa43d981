/**
 * Test-only: the MCP endpoint on a real HTTP port, in front of the Airtable sandbox, with a stand-in for the
 * bearer middleware (`x-test-user` / `x-test-scopes` headers set req.auth) so these tests do not depend on the
 * OAuth server. Two users: A owns the demo base and a fixtures base; B has a base of their own.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import express, { type RequestHandler, type Response } from "express";
import type { Redis } from "ioredis";
import type { pino } from "pino";
import { AirtableClient } from "../../src/shared/airtable/client.ts";
import { allScopes, type Scope } from "../../src/shared/auth/scopes.ts";
import { BottleneckAirtableLimiter } from "../../src/shared/limiter/index.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { SchemaCache } from "../../src/shared/schema-cache.ts";
import { EmbeddedOperationRunner } from "../../src/shared/operations/embedded-runner.ts";
import { OperationLog } from "../../src/shared/operations/operation-log.ts";
import { readTools } from "../../src/shared/tools/catalog.ts";
import { createWriteRunner } from "../../src/shared/tools/run-write.ts";
import { OperationTaskStore } from "../../src/shared/tasks/operation-task-store.ts";
import type { AnyToolDefinition } from "../../src/shared/tools/define-tool.ts";
import type { ToolCallOutcome } from "../../src/shared/tools/register-tools.ts";

import { startSandbox, type BaseInfo, type Sandbox } from "../../src/sandbox/index.ts";

import { seedDemo, type DemoData } from "../../src/sandbox/demo-data.ts";

import { createTestRedis, deleteKeys, uniquePrefix } from "../helpers/redis.ts";
import { BrowserOrigins } from "../../src/server/cors.ts";
import { createMcpRouter } from "../../src/server/mcp/mcp-router.ts";
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS, keepIdleConnections } from "../../src/shared/http/keep-alive.ts";

export interface McpHarness {
  url: string;
  sandbox: Sandbox;
  demo: DemoData;
  /** User A's second base: tables Hostile (search), Big (size budget). */
  fixtures: BaseInfo;
  userB: { id: string; token: string; base: BaseInfo };
  schemaCache: SchemaCache;
  /** Write operations run in this process (the embedded runner) with their logs in Redis. */
  operations: OperationLog;
  /** An Airtable client acting as user A (to set up comments). */
  airtableA: AirtableClient;
  connect(opts?: { userId?: string; scopes?: Scope[]; origin?: string }): Promise<Client>;
  close(): Promise<void>;
}

export const ALLOWED_ORIGIN = "https://allowed.example";
export const HOSTILE_TERM = '") , TRUE(), ("';
export const BIG_RECORDS = 150;

/** Stand-in for requireBearer: the test says who calls and with which scopes. */
const testAuthenticate: RequestHandler = (req, res, next) => {
  const userId = req.headers["x-test-user"];
  if (typeof userId !== "string") {
    res.status(401).set("WWW-Authenticate", 'Bearer realm="test"').json({ error: "invalid_token" });
    return;
  }
  const scopes = req.headers["x-test-scopes"];
  (req as typeof req & { auth: unknown }).auth = {
    token: "test-token",
    clientId: "test-client",
    scopes: typeof scopes === "string" ? scopes.split(" ").filter(Boolean) : [...allScopes],
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    extra: { userId, grantId: "test-grant" },
  };
  next();
};

function testInsufficientScope(res: Response, needed: Scope[]): void {
  res
    .status(403)
    .set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="${needed.join(" ")}"`)
    .json({ error: "insufficient_scope", error_description: `needs ${needed.join(" ")}` });
}

export async function startMcpHarness(
  opts: {
    maxBodyBytes?: number;
    allowedHosts?: string[];
    extraTools?: AnyToolDefinition[];
    /** Instead of the read tools. */
    tools?: readonly AnyToolDefinition[];
    /** WRITE_WAIT_MS; default 25,000. */
    writeWaitMs?: number;
    maxRecordsPerOperation?: number;
    /** MCP Tasks (2026-07-28 extension) over the operations, as the server wires them. */
    tasks?: boolean;
    /** How each tool call ended, as the server's metrics see it (ToolRuntime.onToolCall). */
    onToolCall?: (tool: string, ms: number, outcome: ToolCallOutcome) => void;
    /** The router's onStaleVersionHeader, e.g. a real Metrics' (what /metrics counts). */
    onStaleVersionHeader?: (client: string) => void;
    /**
     * Where the server's log lines go (one JSON line per `write`), at `logLevel` (default info): a test that reads
     * what the server logged. Without it the logger is silent.
     */
    logDestination?: pino.DestinationStream;
    logLevel?: string;
  } = {},
): Promise<McpHarness> {
  // Faster than Airtable's 5 req/s so the suite stays quick; limiter and sandbox agree, so no 429s.
  // One base per page of GET /v0/meta/bases, so list_bases has to follow the offset.
  const sandbox = await startSandbox({ perBaseRps: 25, basesPageSize: 1 });
  const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 25 } });
  const redis: Redis = createTestRedis();
  const prefix = uniquePrefix("mcp");
  const logger =
    opts.logDestination === undefined
      ? createLogger({ level: "silent" })
      : createLogger({ level: opts.logLevel ?? "info" }, opts.logDestination);
  const schemaCache = new SchemaCache({ redis, keyPrefix: prefix });

  const demo = seedDemo(sandbox);
  const fixtures = sandbox.createBase(demo.user.id, {
    name: "Fixtures",
    tables: [
      {
        name: "Hostile",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Notes", type: "multilineText" },
          { name: "Count", type: "number", options: { precision: 0 } },
        ],
        records: [
          { Name: "plain apple", Notes: "nothing special", Count: 1 },
          { Name: `injection ${HOSTILE_TERM} here`, Count: 2 },
          { Name: "quote \"double\" and 'single'", Count: 3 },
          { Name: "braces {Name} and parens (x)", Count: 4 },
          { Name: "back\\slash", Notes: "ends with backslash \\", Count: 5 },
          { Name: "Apple pie", Notes: "has APPLE in caps", Count: 6 },
        ],
      },
      {
        name: "Big",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Text", type: "multilineText" },
        ],
        records: Array.from({ length: BIG_RECORDS }, (_, i) => ({
          Name: `big ${String(i).padStart(3, "0")}`,
          Text: `${i} `.repeat(600),
        })),
      },
    ],
  });
  const userB = sandbox.addUser({ email: "b@example.com", name: "User B" });
  const tokenB = sandbox.createPersonalAccessToken(userB.id);
  const baseB = sandbox.createBase(userB.id, {
    name: "B's base",
    tables: [{ name: "Secrets", fields: [{ name: "Name", type: "singleLineText" }], records: [{ Name: "hidden" }] }],
  });
  const tokens = new Map([
    [demo.user.id, demo.token],
    [userB.id, tokenB],
  ]);
  const clientFor = (userId: string) =>
    new AirtableClient({
      apiUrl: sandbox.url,
      contentUrl: sandbox.url,
      userId,
      getAccessToken: async () => tokens.get(userId) ?? "unknown-user",
      limiter,
      logger,
    });

  const operations = new OperationLog({ redis, keyPrefix: prefix, retentionMs: 3_600_000 });
  const runner = new EmbeddedOperationRunner({
    store: operations,
    logger,
    processorDeps: (op) => ({ airtable: clientFor(op.ownerUserId), schemas: schemaCache }),
    backoffMs: 50,
  });

  // Tokens here are the sandbox's personal access tokens, never refreshed: every tool gets the same context.
  const contextFor = (req: express.Request) => {
    const auth = (req as typeof req & { auth: { extra: { userId: string } } }).auth;
    const userId = auth.extra.userId;
    return {
      airtable: clientFor(userId),
      userId,
      schemas: schemaCache,
      logger,
      operations,
      operationRunner: runner,
      maxRecordsPerOperation: opts.maxRecordsPerOperation ?? 5_000,
    };
  };
  const app = express();
  app.use(
    createMcpRouter({
      authenticate: testAuthenticate,
      buildContext: async (req) => contextFor(req),
      buildOwnRecordsContext: contextFor,
      tools: [...(opts.tools ?? readTools), ...(opts.extraTools ?? [])],
      runWrite: createWriteRunner({ runner, operations, waitMs: opts.writeWaitMs ?? 25_000 }),
      callerUserId: (req) => (req as typeof req & { auth: { extra: { userId: string } } }).auth.extra.userId,
      operations,
      ...(opts.tasks === true && {
        tasks: {
          store: new OperationTaskStore({
            operations,
            retentionMs: 3_600_000,
            baseRps: 25,
            cancel: (id, owner) => runner.cancel(id, owner, { source: "tasks/cancel" }),
          }),
        },
      }),
      allowedOrigins: new BrowserOrigins([ALLOWED_ORIGIN]),
      allowedHosts: opts.allowedHosts ?? [],
      logger,
      insufficientScope: testInsufficientScope,
      ...(opts.maxBodyBytes !== undefined && { maxBodyBytes: opts.maxBodyBytes }),
      ...(opts.onToolCall !== undefined && { onToolCall: opts.onToolCall }),
      ...(opts.onStaleVersionHeader !== undefined && { onStaleVersionHeader: opts.onStaleVersionHeader }),
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  // As the server process does: with Node's 5 s, a connection the in-process client took from its pool after an
  // event-loop stall could be the one the server was closing (ECONNRESET under a loaded CI host).
  keepIdleConnections(server, DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: Client[] = [];

  return {
    url,
    sandbox,
    demo,
    fixtures,
    userB: { id: userB.id, token: tokenB, base: baseB },
    schemaCache,
    operations,
    airtableA: clientFor(demo.user.id),
    async connect(connectOpts = {}) {
      const headers: Record<string, string> = { "x-test-user": connectOpts.userId ?? demo.user.id };
      if (connectOpts.scopes !== undefined) headers["x-test-scopes"] = connectOpts.scopes.join(" ");
      if (connectOpts.origin !== undefined) headers.origin = connectOpts.origin;
      const client = new Client({ name: "mcp-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner.close();
      await limiter.close();
      await sandbox.close();
      await deleteKeys(redis, prefix);
      redis.disconnect();
    },
  };
}

/** A tool call's answer as a test reads it: the error flag, the first text content and the structured content. */
export interface ToolAnswer {
  isError: boolean;
  text: string;
  data: Record<string, unknown>;
}

/** Calls tool `name` with `args` through the MCP SDK client `client` and answers what the agent would read. */
export async function callToolAnswer(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  return {
    isError: result.isError === true,
    text: content[0]?.text ?? "",
    data: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}

/**
 * How the SDK starts the text of a call its input schema refused (`isError: true`): the wording tests compare what
 * follows it with the sentence the tool's rewordIssues made.
 */
export const invalidArguments = (tool: string): string =>
  `Input validation error: Invalid arguments for tool ${tool}: `;
