import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import {
  classifyInboundRequest,
  createMcpHandler,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpHandlerRequestOptions,
  type McpHttpHandler,
  type McpRequestContext,
  type PerRequestResponseMode,
} from "@modelcontextprotocol/server";
import type { Logger } from "../../shared/logger.ts";
import { createMcpServer, createReadCallServer, servedOnReadCallServer } from "../../shared/tools/create-mcp-server.ts";
import type { AnyToolDefinition } from "../../shared/tools/define-tool.ts";
import { calledToolName, type ToolRuntime } from "../../shared/tools/register-tools.ts";
import { presentAcceptToSdk } from "./accept.ts";
import { callKey, cancelNotification, type CallCancels, type TrackedCall } from "./call-cancels.ts";
import { ReadCallTransport } from "./read-call-transport.ts";

/** How one request's answer may be shaped (chosen by content negotiation, see mcp-router.ts). */
export interface AnswerShape {
  /** 2025-era: one JSON object (true) or an SSE stream (false), decided before the request runs. */
  legacyJson: boolean;
  /** 2026-07-28: the SDK's response mode (`auto`: JSON, upgraded to SSE when progress is sent). */
  modern: PerRequestResponseMode;
}

export interface DualEraOptions {
  tools: readonly AnyToolDefinition[];
  instructions: string;
  /** The runtime of the request being served (called by the server factory, once per request). */
  runtime(): ToolRuntime;
  logger: Logger;
  /**
   * 2025-era `tools/call` requests in flight, stopped by their client's `notifications/cancelled` however it
   * reaches the deployment (call-cancels.ts). Absent: such a notification reaches nothing (the SDK's stateless rule).
   */
  cancels?: CallCancels;
}

export interface DualEraHandlers {
  /**
   * The handle of the 2025-era `tools/call` that `parsedBody` is (a single request with an id, classified as the SDK
   * classifies it: no 2026-07-28 envelope), tracked from now on for its client's `notifications/cancelled`
   * (call-cancels.ts); undefined for anything else, or without `cancels` or a grant. Opened by the router as soon as
   * it has read the body, so that a cancel arriving while it builds the call's context (which may refresh the
   * user's Airtable token) is not lost; handed to `serve`, and closed by the caller when `serve` has resolved.
   */
  openCall(req: IncomingMessage & { auth?: AuthInfo }, parsedBody: unknown): TrackedCall | undefined;
  /**
   * Serves one POST /mcp whose body was already read and checked (`parsedBody`), with `req.auth` set. Writes the
   * whole answer to `res`; resolves when it is written (an SSE answer: when the stream ends). `call`: the request's
   * handle from `openCall`; a cancel that reached it before stops the call the instant the SDK takes it.
   */
  serve(
    shape: AnswerShape,
    req: IncomingMessage & { auth?: AuthInfo },
    res: ServerResponse,
    parsedBody: unknown,
    call?: TrackedCall,
  ): Promise<void>;
}

/**
 * Both MCP protocol eras on one URL, on the MCP TypeScript SDK v2, statelessly.
 *
 * - 2026-07-28 (a request carrying the per-request `_meta` envelope): the SDK's `createMcpHandler` in strict
 *   mode (`legacy: 'reject'`), which owns that revision's rules: required `MCP-Protocol-Version`/`Mcp-Method`
 *   headers matching the body, `server/discover`, an unsupported revision refused with
 *   `UnsupportedProtocolVersionError` listing the supported ones.
 * - 2025-era (no envelope: `initialize`, or a bare request with `MCP-Protocol-Version: 2025-11-25`/`2025-06-18`):
 *   a fresh server and stateless Streamable HTTP transport per request, exactly the v1 setup. This is the
 *   SDK's documented composition (route on `isLegacyRequest` in front of a strict handler) rather than its
 *   built-in `legacy: 'stateless'` leg, because that leg always answers over SSE, while /mcp answers JSON
 *   unless progress was asked for, and JSON only to a client that accepts only JSON (accept.ts).
 *
 * Everything is built once here (handlers, adapters; the tool catalog is compiled once by createMcpServer's
 * registerTools): per request only the McpServer binding the request's runtime is new, and for a `tools/call`
 * it binds only the tool called.
 */
export function createDualEraHandlers(opts: DualEraOptions): DualEraHandlers {
  // The tool each request calls, by its Request object: the SDK hands the factory the Request but not the body
  // it already parsed, and a server built for one tools/call binds only that tool (register-tools.ts).
  const calledTools = new WeakMap<Request, string>();
  // The tracked call of a request, by its parsed body (the object the router read, which the Node adapter hands on
  // as it is): how `serve`'s handle reaches the 2025-era leg below.
  const trackedCalls = new WeakMap<object, TrackedCall>();
  // The era decides whether the server offers MCP Tasks (2026-07-28 only; see create-mcp-server.ts).
  const factory = (ctx: McpRequestContext) =>
    createMcpServer(
      opts.tools,
      opts.runtime(),
      opts.instructions,
      ctx.era,
      ctx.requestInfo === undefined ? undefined : calledTools.get(ctx.requestInfo),
    );
  // Refused and failed requests are answered by the SDK; this only records them (debug: clients cause them).
  const onerror = (error: Error) => opts.logger.debug({ err: error }, "MCP request refused or failed in the SDK");

  // Built here, eagerly, outside any request: built lazily inside the first request's AsyncLocalStorage context
  // (mcp-router.ts), anything long-lived they create (timers, emitters, the listen bus) would carry that request's
  // runtime along.
  // The `json` mode (a JSON-only client asking for progress: rare) is built on first use, because the SDK warns on
  // its creation; it runs in the async context captured here, not in the request's.
  const outside = AsyncLocalStorage.snapshot();
  const build = (mode: PerRequestResponseMode) =>
    createMcpHandler(factory, { legacy: "reject", responseMode: mode, onerror });
  const modern = new Map<PerRequestResponseMode, McpHttpHandler>([
    ["auto", build("auto")],
    ["sse", build("sse")],
  ]);
  const modernHandler = (mode: PerRequestResponseMode): McpHttpHandler => {
    let handler = modern.get(mode);
    if (handler === undefined) {
      handler = outside(() => build(mode));
      modern.set(mode, handler);
    }
    return handler;
  };

  const legacy = async (request: Request, options: McpHandlerRequestOptions, json: boolean): Promise<Response> => {
    const server = factory({
      era: "legacy",
      ...(options.authInfo !== undefined && { authInfo: options.authInfo }),
      requestInfo: request,
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: json,
    });
    await server.connect(transport);
    const call = isObject(options.parsedBody) ? trackedCalls.get(options.parsedBody) : undefined;
    // Closing the server closes its transport: per-request state ends with the answer (or the client leaving).
    let tornDown = false;
    const teardown = () => {
      if (tornDown) return;
      tornDown = true;
      call?.close();
      closeQuietly(server);
    };
    request.signal.addEventListener("abort", teardown, { once: true });
    // A tools/call its client may cancel from another request (call-cancels.ts), tracked since the router read its
    // body. Stopped, it gets the SDK's own handling of a cancel (the call's signal aborts with the client's reason;
    // no answer is sent for it, as the cancellation page says), and its HTTP request ends: a JSON answer is 202 with
    // no body, an SSE stream closes. A cancel that came before the SDK took the call (while the router built its
    // context) is handed to the SDK the instant it takes it: the SDK matches a cancel only to a request it holds.
    let cancelled: Promise<Response> | undefined;
    let stopped = false;
    if (call !== undefined) {
      // Whether the SDK holds the call yet: it takes it in handleRequest, a few microtasks from now.
      let held = false;
      const deliver = transport.onmessage!.bind(transport);
      const stopInSdk = (reason: string | undefined) => {
        deliver({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: call.requestId, ...(reason !== undefined && { reason }) },
        });
        // After the SDK has aborted the call with the client's reason (a microtask away): closing first would
        // abort it as a closed connection, which a write call takes for a disconnect, not a cancel (run-write.ts).
        setImmediate(teardown);
      };
      transport.onmessage = (message, extra) => {
        deliver(message, extra);
        if (held || !isRequestWithId(message, call.requestId)) return;
        held = true;
        if (stopped) stopInSdk(call.reason);
      };
      let answer: (response: Response) => void = () => {};
      cancelled = new Promise<Response>((resolve) => (answer = resolve));
      call.onStop((reason) => {
        stopped = true;
        answer(new Response(null, { status: 202 }));
        if (held) stopInSdk(reason);
      });
    }
    let response: Response;
    let answered: Promise<Response>;
    try {
      answered = transport.handleRequest(request, options);
      response = cancelled === undefined ? await answered : await Promise.race([answered, cancelled]);
    } catch (error) {
      teardown();
      throw error;
    }
    if (response.body === null || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
      // A stopped call's teardown is on its way (stopInSdk above, after the SDK's abort) once the SDK took it; a
      // request the SDK refused before taking it ends with its answer.
      if (!stopped) teardown();
      else void answered.then(teardown, teardown);
      return response;
    }
    return new Response(endsWith(response.body, teardown), response);
  };

  /** What `serve` hands the Node adapter for one request, keyed by the request it serves. */
  const served = new WeakMap<IncomingMessage, { shape: AnswerShape; parsedBody: unknown }>();
  const serveOne = async (
    request: Request,
    options: McpHandlerRequestOptions,
    shape: AnswerShape,
  ): Promise<Response> => {
    const tool = calledToolName(options.parsedBody);
    if (tool !== undefined) calledTools.set(request, tool);
    // A tracked call was classified 2025-era by openCall (the SDK's classifyInboundRequest, which isLegacyRequest
    // runs too, on the same headers and body): not classified a second time.
    const tracked = isObject(options.parsedBody) && trackedCalls.has(options.parsedBody);
    if (!tracked && !(await isLegacyRequest(request, options.parsedBody)))
      return modernHandler(shape.modern).fetch(request, options);
    const cancel = opts.cancels === undefined ? undefined : cancelNotification(options.parsedBody);
    const key = cancel === undefined ? undefined : callKey(options.authInfo, cancel.requestId);
    // Passed on before the notification's own 202 (which the SDK answers, reaching no call there).
    if (key !== undefined) await opts.cancels!.cancel(key, cancel!.reason);
    return legacy(request, options, shape.legacyJson);
  };
  // The Node adapter, built once (eagerly, for the reason above): @hono/node-server's, the one the SDK's own Node
  // transport (NodeStreamableHTTPServerTransport) runs on, rather than the SDK's `toNodeHandler`. Both hand the SDK a
  // web `Request` and write its `Response` to `res`; hono's builds the Request lazily over the Node request (the SDK
  // reads a few headers and the signal: no URL parse, body stream or re-serialised body) and writes a finished JSON
  // answer in one piece with its Content-Length, where `toNodeHandler` streamed it chunked (issue 15: ~5–15 % of a read
  // call's CPU). Globals are left alone (`overrideGlobalObjects: false`): Request and Response stay Node's own.
  const listener = getRequestListener(
    async (request, env) => {
      const incoming = env.incoming as IncomingMessage & { auth?: AuthInfo };
      const { shape, parsedBody } = served.get(incoming)!;
      served.delete(incoming);
      try {
        return await serveOne(
          request,
          { ...(incoming.auth !== undefined && { authInfo: incoming.auth }), parsedBody },
          shape,
        );
      } catch (error) {
        // Error level stays: a client that leaves cannot get here. Nothing is read from the request here (the body
        // the router read is handed on; a client that left is logged as such there: mcp-router.ts), the SDK's
        // handlers answer their own serving failures (the debug line above), a call whose client left ends as a
        // cancelled tool call, and a write to a closed response is dropped by Node. What reaches this is a throw of
        // this server's code in `serveOne` (a cancel's Redis publish, the server factory).
        opts.logger.error({ err: error }, "MCP request failed");
        return internalError(parsedBody);
      }
    },
    // A request without a Host header (HTTP/1.0) is served as the SDK's adapter served it, not refused with a 400.
    { overrideGlobalObjects: false, hostname: "localhost" },
  );

  // Plain 2025-era reads (read-call-transport.ts): one server for the process, connected once, outside any request.
  const readCalls = new ReadCallTransport(opts.tools.filter(servedOnReadCallServer).map((tool) => tool.name));
  outside(() => {
    const readServer = createReadCallServer(opts.tools, readCalls.runtimeOf);
    readServer.server.onerror = onerror;
    // connect() only wires the transport and calls its start(), which does nothing: resolved before any request.
    void readServer.connect(readCalls);
  });

  return {
    openCall: (req, parsedBody) => {
      if (opts.cancels === undefined) return undefined;
      const id = trackableCallId(parsedBody);
      if (id === undefined) return undefined;
      const key = callKey(req.auth, id);
      if (key === undefined || !isLegacyCall(req, parsedBody)) return undefined;
      return opts.cancels.open(key, id);
    },
    serve: (shape, req, res, parsedBody, call) => {
      // A tracked call was classified 2025-era by openCall; an untracked one (no grant or no cancels) is classified here.
      const legacy = () => call !== undefined || isLegacyCall(req, parsedBody);
      if (readCalls.takes(req, parsedBody, shape.legacyJson, legacy)) {
        return readCalls.serve(parsedBody, res, req.auth, opts.runtime(), call);
      }
      presentAcceptToSdk(req);
      if (call !== undefined && isObject(parsedBody)) trackedCalls.set(parsedBody, call);
      served.set(req, { shape, parsedBody });
      return listener(req, res) as Promise<void>;
    },
  };
}

/**
 * Closes a per-request server. The SDK builds an `SdkError("Connection closed")` on every close, for handlers
 * still waiting (a per-request server that has answered has none): its stack trace is never read, yet capturing
 * it was ~1 % of a read call's CPU (issue 15). The close runs synchronously up to that point, so stack capture
 * is off only for that stretch of this call; the close's own failures are ignored, as before.
 */
function closeQuietly(server: { close(): Promise<void> }): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    server.close().catch(() => undefined);
  } catch {
    // close() is async: it does not throw synchronously; nothing to do if it ever does.
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The method and id of `body` when it is a single JSON-RPC request with a string or number id, else undefined. */
function singleRequest(body: unknown): { method: string; id: string | number } | undefined {
  if (!isObject(body) || Array.isArray(body)) return undefined;
  const { method, id } = body as { method?: unknown; id?: unknown };
  return typeof method === "string" && (typeof id === "string" || typeof id === "number") ? { method, id } : undefined;
}

/** The id of a single `tools/call` request (the one request that runs long enough to be cancelled), if `body` is one. */
function trackableCallId(body: unknown): string | number | undefined {
  const request = singleRequest(body);
  return request?.method === "tools/call" ? request.id : undefined;
}

/** Whether `message` is a JSON-RPC request (it has a method) with the id `id`. */
function isRequestWithId(message: unknown, id: unknown): boolean {
  if (typeof message !== "object" || message === null) return false;
  const m = message as { method?: unknown; id?: unknown };
  return typeof m.method === "string" && m.id === id;
}

/**
 * Whether the SDK serves `body` (a single request) as 2025-era: the SDK's own classification (classifyInboundRequest,
 * which isLegacyRequest runs) from the request's headers and body. Only 2025-era calls are cancelled by
 * `notifications/cancelled` from another request; a 2026-07-28 client cancels by closing the call's own stream.
 */
function isLegacyCall(req: IncomingMessage, body: unknown): boolean {
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const outcome = classifyInboundRequest({
    httpMethod: "POST",
    protocolVersionHeader: header("mcp-protocol-version"),
    mcpMethodHeader: header("mcp-method"),
    mcpNameHeader: header("mcp-name"),
    body,
  });
  return outcome.kind === "legacy";
}

/** `body`, calling `onEnd` once when it has been read to the end, failed, or was cancelled. */
function endsWith(body: ReadableStream<Uint8Array>, onEnd: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason).catch(() => undefined);
    },
  });
}

/**
 * The JSON-RPC 500 for a request `serveOne` failed on, echoing the request's id when it is a single request with one
 * (as the SDK's adapter did: JSON-RPC 2.0 §5, the id of the request answered, null when none can be read).
 */
function internalError(body: unknown): Response {
  const id = singleRequest(body)?.id ?? null;
  return Response.json(
    { jsonrpc: "2.0", error: { code: -32603, message: "Internal server error" }, id },
    { status: 500 },
  );
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}
