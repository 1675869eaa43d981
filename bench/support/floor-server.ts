/**
 * The many-users benchmark's floor: the least a Node process can spend on one read tool call's I/O, on the machine
 * the benchmark runs on. A bare `node:http` server (no express, no MCP SDK, no auth, no validation) that answers the
 * MCP client's stateless Streamable HTTP exchange with the same I/O per call as the real server:
 * - `initialize` → a JSON result; notifications → 202; GET /mcp → 405 (no SSE stream), as the real server does;
 * - `tools/call` `list_records` / `get_record` → one EVALSHA (INCR + PEXPIRE on the base's key: one round trip, as
 *   the limiter's one script per request) and one Airtable request to the sandbox with undici (as the transport),
 *   the caller's bearer token passed through, then the answer's records as the tool result's text.
 * Its CPU per call, measured like the servers' under the same load and NODE_OPTIONS, lets the benchmark state the
 * server's cost relative to what the machine allows (CPU ms per call differed 1.7× between two hosts for the same
 * code). Run as a child process: `node bench/support/floor-server.ts` with PORT, REDIS_URL, AIRTABLE_API_URL.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import {
  McpServer,
  WebStandardStreamableHTTPServerTransport,
  type JSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/server";
import { Redis } from "ioredis";
import { request } from "undici";
import { z } from "zod";

const port = Number(process.env.PORT);
const apiUrl = process.env.AIRTABLE_API_URL!;
const redis = new Redis(process.env.REDIS_URL!);
const script = "redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], 1000) return 1";
let sha: string | undefined;

interface JsonRpcRequest {
  jsonrpc: "2.0";
  id?: string | number;
  method: string;
  params?: { name?: string; arguments?: Record<string, unknown>; protocolVersion?: string };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function answer(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

async function callTool(message: JsonRpcRequest, authorization: string): Promise<unknown> {
  const args = message.params?.arguments ?? {};
  const baseId = String(args.baseId);
  const tableId = String(args.tableId);
  sha ??= (await redis.script("LOAD", script)) as string;
  await redis.evalsha(sha, 1, `bench:floor:${baseId}`);
  const path =
    message.params?.name === "get_record"
      ? `/v0/${baseId}/${tableId}/${String(args.recordId)}`
      : `/v0/${baseId}/${tableId}?pageSize=${Number(args.pageSize ?? 10)}`;
  const response = await request(`${apiUrl}${path}`, { headers: { authorization } });
  const records = (await response.body.json()) as unknown;
  return {
    content: [{ type: "text", text: JSON.stringify(records) }],
    isError: response.statusCode !== 200,
  };
}

/** The tool's text result for `args` (the same I/O as callTool), for the SDK modes. */
async function toolResult(name: string, args: Record<string, unknown>, authorization: string) {
  return (await callTool(
    { jsonrpc: "2.0", method: "tools/call", params: { name, arguments: args } },
    authorization,
  )) as {
    content: { type: "text"; text: string }[];
    isError: boolean;
  };
}

const inputSchema = z.object({
  baseId: z.string(),
  tableId: z.string(),
  recordId: z.string().optional(),
  pageSize: z.number().int().optional(),
});

/** An McpServer with the two read tools; `auth` gives the caller's Authorization header for a call. */
function sdkServer(auth: (extra: unknown) => string): McpServer {
  const mcp = new McpServer({ name: "floor", version: "0.0.0" }, { capabilities: { tools: {} } });
  for (const name of ["list_records", "get_record"]) {
    mcp.registerTool(name, { inputSchema }, (args, extra) => toolResult(name, args, auth(extra)));
  }
  return mcp;
}

const MODE = process.env.FLOOR_MODE ?? "bare";
const authOfRequest = (extra: unknown): string =>
  (extra as { http?: { req?: Request } }).http?.req?.headers.get("authorization") ?? "";

// FLOOR_MODE=sdk: the MCP SDK's documented stateless 2025-era serving, as src/server does it: a new McpServer and
// WebStandardStreamableHTTPServerTransport per request behind @hono/node-server's adapter; JSON answers.
const perRequest = getRequestListener(
  async (req) => {
    const mcp = sdkServer(authOfRequest);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await mcp.connect(transport);
    const response = await transport.handleRequest(req);
    void mcp.close().catch(() => undefined);
    return response;
  },
  { overrideGlobalObjects: false },
);

// FLOOR_MODE=shared: one McpServer per process on a Transport of its own that answers each HTTP request's
// JSON-RPC request (its id made unique per process, and restored in the answer) with one JSON body.
class SharedTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  #next = 0;
  #open = new Map<number, { res: ServerResponse; id: string | number }>();
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async send(message: JSONRPCMessage): Promise<void> {
    const m = message as { id?: number };
    if (typeof m.id !== "number") return;
    const open = this.#open.get(m.id);
    if (open === undefined) return;
    this.#open.delete(m.id);
    answer(open.res, 200, { ...message, id: open.id });
  }
  serve(message: JsonRpcRequest, req: IncomingMessage, res: ServerResponse): void {
    const id = ++this.#next;
    this.#open.set(id, { res, id: message.id! });
    const authInfo = { token: req.headers.authorization ?? "", clientId: "floor", scopes: [] };
    this.onmessage!({ ...message, id } as JSONRPCMessage, { authInfo });
  }
}
const shared = new SharedTransport();
if (MODE === "shared") {
  await sdkServer(
    (extra) => (extra as { http?: { authInfo?: { token: string } } }).http?.authInfo?.token ?? "",
  ).connect(shared);
}

const server = createServer((req, res) => {
  if (req.url === "/healthz") return answer(res, 200, { ok: true });
  if (req.url !== "/mcp" || req.method !== "POST") return answer(res, 405);
  if (MODE === "sdk") return void perRequest(req, res);
  void (async () => {
    const message = JSON.parse(await readBody(req)) as JsonRpcRequest;
    if (message.id === undefined) return answer(res, 202);
    if (message.method === "initialize") {
      return answer(res, 200, {
        jsonrpc: "2.0",
        id: message.id,
        result: {
          protocolVersion: message.params?.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: "floor", version: "0.0.0" },
        },
      });
    }
    if (MODE === "shared" && message.method === "tools/call") return shared.serve(message, req, res);
    const result = await callTool(message, req.headers.authorization ?? "");
    answer(res, 200, { jsonrpc: "2.0", id: message.id, result });
  })().catch((error: unknown) => {
    process.stderr.write(`floor: ${String(error)}\n`);
    if (!res.headersSent) answer(res, 500);
  });
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
});
