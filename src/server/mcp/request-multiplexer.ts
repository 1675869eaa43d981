import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";

interface Route<C> {
  transport: Transport;
  /** The id the client chose; unique only within its own HTTP request. */
  clientId: RequestId;
  scope: C;
  /** The route set of the HTTP request this message belongs to (removed from it when answered). */
  owner: Set<string>;
}

/**
 * One long-lived MCP server for every HTTP request of a process (issue 15: "a server that is built once").
 *
 * The SDK's McpServer (Protocol) talks to exactly one transport, and the stateless Streamable HTTP transport is
 * one per HTTP request, so the obvious shape builds a new McpServer, a new Ajv and every tool's registration per
 * request. This transport sits between the two instead: the McpServer connects to it once, and each HTTP
 * request's StreamableHTTPServerTransport is `attach`ed to it.
 * - Requests: JSON-RPC ids are chosen by clients and collide across requests, so each request gets a fresh id
 *   here (`m<n>`); the answer is sent back under the client's id on the transport the request came from.
 * - Notifications the server sends for a request (progress) follow its `relatedRequestId` the same way; a
 *   client's `notifications/cancelled` is translated to the fresh id.
 * - When an HTTP request ends (answered, or the client went away), its requests still running are cancelled
 *   (`notifications/cancelled`), which aborts their handlers' signals, as closing a per-request server did.
 * - `scopeOf(requestId)` gives a handler the per-HTTP-request value given to `attach` (the caller's context).
 * State per request lives only until its answer is sent or its HTTP request ends: nothing outlives a request.
 */
export class McpRequestMultiplexer<C> implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #routes = new Map<string, Route<C>>();
  #next = 0;

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.onclose?.();
  }

  /** Requests received and not yet answered or cancelled (for tests: nothing may be left behind). */
  get pending(): number {
    return this.#routes.size;
  }

  /** The value `attach` was given for the HTTP request that carried this (multiplexed) request id. */
  scopeOf(requestId: RequestId): C | undefined {
    return this.#routes.get(String(requestId))?.scope;
  }

  /** Wires one HTTP request's transport to the shared server and starts it; call before `handleRequest`. */
  async attach(transport: Transport, scope: C): Promise<void> {
    const owned = new Set<string>();
    const byClientId = new Map<RequestId, string>();
    transport.onmessage = (message, extra) => {
      if (isJSONRPCRequest(message)) {
        const id = `m${++this.#next}`;
        this.#routes.set(id, { transport, clientId: message.id, scope, owner: owned });
        owned.add(id);
        byClientId.set(message.id, id);
        this.onmessage?.({ ...message, id }, extra);
        return;
      }
      if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") {
        const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
        const id = requestId === undefined ? undefined : byClientId.get(requestId);
        if (id === undefined || !owned.has(id)) return; // not one of this HTTP request's requests
        this.onmessage?.({ ...message, params: { ...message.params, requestId: id } }, extra);
        return;
      }
      // Other notifications, and answers to requests the server sent: nothing to translate.
      this.onmessage?.(message, extra);
    };
    transport.onerror = (error) => this.onerror?.(error);
    transport.onclose = () => {
      for (const id of owned) {
        this.#routes.delete(id);
        this.onmessage?.({
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: id, reason: "the HTTP request ended" },
        });
      }
      owned.clear();
    };
    await transport.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const key = String(message.id);
      const route = this.#routes.get(key);
      if (route === undefined) return; // its HTTP request already ended: nobody to answer
      this.#routes.delete(key);
      route.owner.delete(key);
      await route.transport.send({ ...message, id: route.clientId }, options);
      return;
    }
    // A notification or a server-to-client request: it can only travel on the stream of the request it is for.
    const related = options?.relatedRequestId;
    const route = related === undefined ? undefined : this.#routes.get(String(related));
    if (route === undefined) return; // stateless: no standalone stream to put it on
    await route.transport.send(message, { ...options, relatedRequestId: route.clientId });
  }
}
