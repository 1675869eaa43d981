import type { IncomingMessage, ServerResponse } from "node:http";
import {
  isJSONRPCRequest,
  isJsonContentType,
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type Transport,
} from "@modelcontextprotocol/server";
import type { ToolRequestExtra, ToolRuntime } from "../../shared/tools/register-tools.ts";
import type { TrackedCall } from "./call-cancels.ts";

/**
 * The hot path of a 2025-era read: one `McpServer` per process, connected once to this Transport, answers every
 * plain read `tools/call` (see `ReadCallTransport.takes`) with one JSON body, instead of a new McpServer and a new
 * `WebStandardStreamableHTTPServerTransport` (behind @hono/node-server's Web `Request`/`Response`) per request.
 *
 * Why (issue 15): the many-users benchmark's "SDK floor" rows measured the SDK's per-request serving at ~1.0 ms of
 * CPU per call on a 2-core host (the same I/O: 0.79 ms bare, 1.79 ms through a per-request server and transport,
 * 1.16 ms through one server per process on a transport like this one), more than half of what this server spends
 * above the bare floor. The SDK still does everything of MCP here: its Protocol dispatches the request, validates
 * the tool's input and output with the tool's schemas, builds results and JSON-RPC errors, and aborts a cancelled
 * call (its `notifications/cancelled` handling); this class only frames one request's answer on HTTP.
 *
 * It serves only what the SDK's transport would have passed on unchanged, and everything else goes the SDK's way
 * (dual-era-handler.ts), so every refusal the transport makes keeps the SDK's own answer: a POST whose one
 * `Content-Type` line is JSON (MCP 2025-11-25 basic/transports, "Sending Messages to the Server"), whose body is a
 * single JSON-RPC request (the SDK's own `isJSONRPCRequest`) of `tools/call` naming a read tool, whose
 * `MCP-Protocol-Version` header is absent or one the server supports (else the SDK answers 400), classified 2025-era,
 * answered as JSON (no progress asked). Accept was negotiated by the router. The answer is what the SDK's transport
 * writes in JSON mode: 200, `Content-Type: application/json`, the JSON-RPC response the Protocol sent.
 *
 * Request ids: callers' ids collide (every client starts at 0), so each request gets an id of this process's own
 * while the Protocol holds it, and its own id back in the answer. Per call, the request's `ToolRuntime` is looked up
 * by that id (`runtimeOf`, a `RuntimeLookup` for registerTools) and forgotten with the answer.
 *
 * Stops, as the SDK's per-request path stops a call: the client's `notifications/cancelled` (a `TrackedCall`, from any
 * instance) is handed to the Protocol with the client's reason, and the HTTP request ends 202 without a body (MCP
 * "Cancellation": no response is sent for a cancelled request); a client that closes the connection before the
 * answer gets the call cancelled the same way (a read has nothing to keep running for nobody).
 */
export class ReadCallTransport implements Transport {
  onmessage?: Transport["onmessage"];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  #supported: readonly string[] = [];
  #nextId = 0;
  readonly #calls = new Map<number, ServedCall>();
  readonly #readTools: ReadonlySet<string>;

  /** `readTools`: the names of the tools the connected server offers (the catalog's read tools). */
  constructor(readTools: Iterable<string>) {
    this.#readTools = new Set(readTools);
  }

  async start(): Promise<void> {}

  /** Called by the Protocol on connect: the revisions an `MCP-Protocol-Version` header may name. */
  setSupportedProtocolVersions(versions: string[]): void {
    this.#supported = versions;
  }

  /** Never closed while the process serves: calls in flight end as their requests end. */
  async close(): Promise<void> {
    this.onclose?.();
  }

  /**
   * The Protocol's answer to a call: written as the HTTP answer of the request it came from, with that request's id.
   * Anything else (a notification related to a call: JSON mode has no stream for it, as the SDK's JSON mode drops
   * it) is dropped.
   */
  async send(message: JSONRPCMessage): Promise<void> {
    const { id } = message as { id?: unknown };
    if (typeof id !== "number" || !("result" in message || "error" in message)) return;
    const call = this.#calls.get(id);
    if (call === undefined) return;
    this.#calls.delete(id);
    if (!call.open) return; // stopped: its HTTP request has ended already
    call.finish();
    const text = JSON.stringify({ ...message, id: call.clientId });
    call.res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    call.res.end(text);
  }

  /**
   * Whether `body` (already parsed, with the router's checks done) is a call this transport serves: see the class
   * comment. `legacyJson`: the answer was negotiated as one JSON object; `legacy()`: whether the SDK classifies the
   * request 2025-era (asked last: it is the SDK's classification of headers and body).
   */
  takes(req: IncomingMessage, body: unknown, legacyJson: boolean, legacy: () => boolean): body is JSONRPCRequest {
    if (!legacyJson || typeof body !== "object" || body === null || Array.isArray(body)) return false;
    const { method, params } = body as { method?: unknown; params?: { name?: unknown } };
    if (method !== "tools/call" || typeof params?.name !== "string" || !this.#readTools.has(params.name)) return false;
    const version = req.headers["mcp-protocol-version"];
    if (version !== undefined && (typeof version !== "string" || !this.#supported.includes(version))) return false;
    // Every Content-Type field line, joined as the SDK's transport reads them (a Web `Headers` over the raw headers,
    // @hono/node-server): Node's `req.headers` keeps only the first of duplicated ones, so a request naming it twice
    // (RFC 9110 section 8.3: one value only) is refused by the SDK (415) as for any other request, not served here.
    const contentType = req.headersDistinct["content-type"]?.join(", ");
    return contentType !== undefined && isJsonContentType(contentType) && isJSONRPCRequest(body) && legacy();
  }

  /**
   * Serves one call `takes` accepted: hands it to the connected server with the caller's `authInfo` and `runtime`,
   * and resolves once its HTTP answer is written or the request ended (cancelled by its client, or closed).
   */
  serve(
    body: JSONRPCRequest,
    res: ServerResponse,
    authInfo: AuthInfo | undefined,
    runtime: ToolRuntime,
    call: TrackedCall | undefined,
  ): Promise<void> {
    const id = ++this.#nextId;
    return new Promise<void>((resolve) => {
      const served: ServedCall = {
        clientId: body.id,
        res,
        runtime,
        open: true,
        finish: () => {
          served.open = false;
          res.off("close", onClose);
          resolve();
        },
      };
      const stop = (reason: string | undefined) => {
        if (!served.open) return;
        served.finish();
        this.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, ...(reason !== undefined && { reason }) },
        });
        // The Protocol sends nothing for a cancelled call, so its entry is forgotten here, once the call's handler
        // has taken its runtime: the handler starts in a promise job of `onmessage` below (Protocol._onrequest),
        // and every such job has run before an immediate.
        setImmediate(() => this.#calls.delete(id));
      };
      const onClose = () => stop("The client closed the connection before the answer.");
      this.#calls.set(id, served);
      res.once("close", onClose);
      this.onmessage?.({ ...body, id }, authInfo === undefined ? undefined : { authInfo });
      call?.onStop((reason) => {
        if (!served.open) return;
        stop(reason);
        if (!res.headersSent) res.writeHead(202).end();
      });
    });
  }

  /** The runtime of the call `extra` belongs to (registerTools' `RuntimeLookup`). Throws for a call not served here. */
  readonly runtimeOf = (extra: ToolRequestExtra): ToolRuntime => {
    const call = this.#calls.get(extra.mcpReq.id as number);
    if (call === undefined) throw new Error(`no call ${String(extra.mcpReq.id)} is being served`);
    return call.runtime;
  };

  /** Calls being served now (tests: nothing is kept once a call's request ended). */
  get size(): number {
    return this.#calls.size;
  }
}

interface ServedCall {
  /** The id the client gave its request. */
  clientId: string | number;
  res: ServerResponse;
  runtime: ToolRuntime;
  /** Until its HTTP request ended: answered, cancelled by its client, or closed. */
  open: boolean;
  /** Ends its HTTP side: `serve` resolves. */
  finish(): void;
}
