import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import type { Scope } from "../../shared/auth/scopes.ts";
import type { Logger } from "../../shared/logger.ts";
import { misconfigurationOf } from "../../shared/misconfiguration.ts";
import { createMcpServer } from "../../shared/tools/create-mcp-server.ts";
import type { AnyToolDefinition } from "../../shared/tools/define-tool.ts";
import { buildInstructions, type InstructionSettings } from "../../shared/tools/instructions.ts";
import type { BaseToolContext, ToolRuntime } from "../../shared/tools/register-tools.ts";
import { JSON_RPC, sendJsonRpcError } from "./json-rpc-error.ts";
import { readJsonBody } from "./read-json-body.ts";
import { BrowserOrigins, mcpCors } from "../cors.ts";
import { acceptedAnswer, presentAcceptToSdk } from "./accept.ts";
import { hostGuard, originGuard } from "./request-guards.ts";
import { McpRequestMultiplexer } from "./request-multiplexer.ts";

export interface McpRouterDeps {
  /** Verifies the bearer token and sets `req.auth` (401 with a challenge otherwise). */
  authenticate: RequestHandler;
  /** The caller's tool context (Airtable client acting as them, caches, logger); only built when a tool runs. */
  buildContext(req: Request): Promise<BaseToolContext>;
  tools: readonly AnyToolDefinition[];
  /**
   * Browser origins allowed to call /mcp (CORS and the Origin check, ../cors.ts); `*` allows every origin.
   * Requests without Origin always pass.
   */
  allowedOrigins: readonly string[];
  /** Host header values accepted (`host` or `host:port`); empty: no check. */
  allowedHosts: readonly string[];
  /** Added to a refused Host's error: the host expected and the setting that changes it (hostPolicy). */
  hostHint?: string;
  logger: Logger;
  /** Answers 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`. */
  insufficientScope(res: Response, needed: Scope[]): void;
  /** Largest accepted request body; default 1 MB. */
  maxBodyBytes?: number;
  /** Runs write tools (queued operations, issue 4). */
  runWrite?: ToolRuntime["runWrite"];
  /** Observes every tool call's duration and outcome (/metrics). */
  onToolCall?: ToolRuntime["onToolCall"];
  /** The settings the MCP instructions quote (records per call, write wait); default: the config's defaults. */
  instructionSettings?: InstructionSettings;
}

type AuthedRequest = Request & { auth?: AuthInfo };

/** The /mcp router, plus how many JSON-RPC requests it is running right now (received, not yet answered). */
export type McpRouter = express.Router & { requestsInFlight(): number };

/** Methods a browser client may use on /mcp: GET and DELETE only ever get 405 here, but readable ones. */
const MCP_METHODS = ["GET", "POST", "DELETE"] as const;

/**
 * `POST /mcp`: MCP Streamable HTTP, stateless: no session, no Mcp-Session-Id, so any instance serves any request.
 * Every request gets a fresh transport; one McpServer, built with the router (tools registered once), serves them
 * all through McpRequestMultiplexer, which keeps each request's JSON-RPC ids, answers and caller context apart. In order: CORS (an allowed origin's preflight is
 * answered there), Host and Origin checks (DNS rebinding), authentication, content negotiation (accept.ts), body
 * limit and JSON parsing, the scope check of `tools/call`, then the SDK.
 */
export function createMcpRouter(deps: McpRouterDeps): McpRouter {
  const router = express.Router() as McpRouter;
  const maxBodyBytes = deps.maxBodyBytes ?? 1024 * 1024;
  const toolsByName = new Map(deps.tools.map((t) => [t.name, t]));
  const origins = new BrowserOrigins(deps.allowedOrigins);

  // Every method, so that refusals (403) and 405s carry the CORS headers too.
  router.all("/mcp", mcpCors(origins, MCP_METHODS), hostGuard(deps.allowedHosts, deps.hostHint), originGuard(origins));

  const instructions = buildInstructions(deps.tools, deps.instructionSettings);

  // Built once: the caller's context is the only per-request part, found through the request's id.
  const mux = new McpRequestMultiplexer<() => Promise<BaseToolContext>>();
  const runtime: ToolRuntime = {
    context: (extra) => {
      const context = mux.scopeOf(extra.requestId);
      if (context === undefined) return Promise.reject(new Error("the MCP request ended before the tool ran"));
      return context();
    },
    logger: deps.logger,
    ...(deps.runWrite !== undefined && { runWrite: deps.runWrite }),
    ...(deps.onToolCall !== undefined && { onToolCall: deps.onToolCall }),
  };
  const server = createMcpServer(deps.tools, runtime, instructions);
  const connected = server.connect(mux);
  // Everything per request lives in the multiplexer until answered or cancelled: this must fall back to 0.
  router.requestsInFlight = () => mux.pending;

  const notAllowed: RequestHandler = (_req, res) => {
    res.setHeader("Allow", "POST");
    sendJsonRpcError(res, 405, JSON_RPC.serverError, "Method not allowed: this server is stateless; use POST /mcp");
  };
  router.get("/mcp", notAllowed);
  router.delete("/mcp", notAllowed);
  router.put("/mcp", notAllowed);
  router.patch("/mcp", notAllowed);

  router.post("/mcp", deps.authenticate, (req, res, next) => {
    handlePost(req, res, next).catch((error: unknown) => {
      deps.logger.error({ err: error }, "MCP request failed");
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, "Internal server error");
    });
  });

  async function handlePost(req: AuthedRequest, res: Response, next: NextFunction): Promise<void> {
    const accepted = acceptedAnswer(req);
    if (accepted === undefined) {
      return sendJsonRpcError(
        res,
        406,
        JSON_RPC.serverError,
        "Not Acceptable: /mcp answers application/json or text/event-stream; send Accept: application/json, text/event-stream",
      );
    }
    const read = await readJsonBody(req, maxBodyBytes);
    if (read.kind === "too_large") {
      res.setHeader("Connection", "close");
      return sendJsonRpcError(res, 413, JSON_RPC.serverError, `Request body larger than ${maxBodyBytes} bytes`);
    }
    if (read.kind === "invalid_json") {
      return sendJsonRpcError(res, 400, JSON_RPC.parseError, "Parse error: invalid JSON");
    }
    const messages: unknown[] = Array.isArray(read.body) ? read.body : [read.body];

    const granted = new Set(req.auth?.scopes ?? []);
    const called = calledTools(messages, toolsByName);
    for (const tool of called) {
      if (!tool.scopes.every((s) => granted.has(s))) return deps.insufficientScope(res, tool.scopes);
    }

    // Built before the SDK sees a tool call, so a failure (e.g. the user's Airtable grant was revoked) reaches
    // the app's error handler and can become an HTTP answer (401 + challenge) instead of a tool error.
    const context = memoize(() => deps.buildContext(req));
    if (called.length > 0) {
      try {
        await context();
      } catch (error) {
        // A misconfigured server (e.g. a sign-in it cannot decrypt) is no HTTP matter: the tool call answers it,
        // saying which setting the operator must fix (tool-errors.ts), instead of a bare HTTP 500.
        if (misconfigurationOf(error) === undefined) return next(error);
      }
    }

    await connected;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      // A plain JSON answer unless the client asked for progress, which needs an SSE stream, and can take one.
      enableJsonResponse: accepted === "json" || (accepted === "either" && !messages.some(hasProgressToken)),
    });
    presentAcceptToSdk(req);
    // Per-request state ends with the response: closing the transport cancels what is still running for it.
    res.on("close", () => void transport.close());
    await mux.attach(transport, context);
    await transport.handleRequest(req, res, read.body);
  }

  return router;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The known tools that `tools/call` messages in the body name (unknown names are left to the SDK to refuse). */
function calledTools(messages: unknown[], tools: Map<string, AnyToolDefinition>): AnyToolDefinition[] {
  const called: AnyToolDefinition[] = [];
  for (const message of messages) {
    if (!isObject(message) || message.method !== "tools/call" || !isObject(message.params)) continue;
    const name = message.params.name;
    const tool = typeof name === "string" ? tools.get(name) : undefined;
    if (tool !== undefined) called.push(tool);
  }
  return called;
}

function hasProgressToken(message: unknown): boolean {
  return isObject(message) && isObject(message.params) && isObject(message.params._meta)
    ? message.params._meta.progressToken !== undefined
    : false;
}

function memoize<T>(fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= fn());
}
