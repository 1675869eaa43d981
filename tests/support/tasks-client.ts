/**
 * Test-only: a 2026-07-28 MCP client that declares the Tasks extension, as the official one does it. The tasks
 * session is `@modelcontextprotocol/ext-tasks/client`'s over a connected SDK v2 `Client`; the SDK client cannot
 * carry task wire shapes (it refuses `resultType: "task"`), so, as ext-tasks documents for 2026-07-28 servers, the
 * session sends tools/call and tasks/* through a raw dispatcher: one JSON-RPC request per HTTP POST with the
 * headers 2026-07-28 requires (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) and the package's own `_meta`
 * framing (protocol version, client info, client capabilities with the extension).
 */
import type { Client as ModernClient } from "@modelcontextprotocol/client";
import {
  createTaskSessionFromClient,
  type JsonRpcResponse,
  type RawClientDispatch,
  type TaskEnabledSession,
} from "@modelcontextprotocol/ext-tasks/client";
import type { JsonValue } from "@modelcontextprotocol/ext-tasks/core";

export const MODERN = "2026-07-28";
export const TASKS = "io.modelcontextprotocol/tasks";

/** The per-request `_meta` of a 2026-07-28 request; `tasks` adds the extension to the client capabilities. */
export function modernMeta(tasks: boolean): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": { name: "tasks-test", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": tasks ? { extensions: { [TASKS]: {} } } : {},
  };
}

let nextId = 1;

/** The JSON-RPC response of an answer in either shape /mcp may use (JSON, or SSE whose last message answers). */
async function responseOf(res: Response): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const text = await res.text();
  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) return JSON.parse(text);
  const messages = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)) as { id?: unknown });
  const answer = messages.filter((m) => m.id !== undefined).at(-1);
  if (answer === undefined) throw new Error(`no JSON-RPC answer in the SSE stream: ${text}`);
  return answer as { result?: unknown; error?: { code: number; message: string } };
}

/** One raw 2026-07-28 request to `url` (`request` already carries its `_meta`); the JSON-RPC answer. */
export async function postModern(
  url: string,
  headers: Record<string, string>,
  request: { method: string; params?: Record<string, unknown> },
): Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } }> {
  return (await responseOf(await fetchModern(url, headers, request))) as Awaited<ReturnType<typeof postModern>>;
}

/**
 * The HTTP answer itself (status, headers) to a 2026-07-28 request, sent as postModern sends it: its `Mcp-Method`
 * and `Mcp-Name` headers (the tool's name, or a task method's `taskId`) set from the request.
 */
export function fetchModern(
  url: string,
  headers: Record<string, string>,
  request: { method: string; params?: Record<string, unknown> },
): Promise<Response> {
  const params = request.params ?? {};
  const name =
    request.method === "tools/call" ? params.name : request.method.startsWith("tasks/") ? params.taskId : undefined;
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN,
      "mcp-method": request.method,
      ...(typeof name === "string" && { "mcp-name": name }),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, ...request }),
  });
}

/** A raw request with the 2026-07-28 `_meta` envelope added (declaring the extension when `tasks`). */
export function callModern(
  url: string,
  headers: Record<string, string>,
  method: string,
  params: Record<string, unknown>,
  tasks: boolean,
): ReturnType<typeof postModern> {
  return postModern(url, headers, { method, params: { ...params, _meta: modernMeta(tasks) } });
}

/** ext-tasks' raw dispatcher over HTTP: the request as the session framed it, sent as one POST. */
export function httpRawDispatch(url: string, headers: Record<string, string>): RawClientDispatch {
  return async (request) => {
    const { method, params } = request as { method: string; params?: Record<string, unknown> };
    const answer = await postModern(url, headers, { method, ...(params !== undefined && { params }) });
    if (answer.error !== undefined) {
      return { kind: "error", error: answer.error as { code: number; message: string } } as JsonRpcResponse;
    }
    return { kind: "result", result: answer.result as JsonValue };
  };
}

/** The ext-tasks session of `client` (connected, 2026-07-28), sending task traffic through `rawDispatch`. */
export function taskSession(client: ModernClient, rawDispatch: RawClientDispatch): TaskEnabledSession {
  return createTaskSessionFromClient(client, {
    endpointId: "airtable-oauth-mcp-test",
    rawDispatch,
    v2RequestFraming: {
      protocolVersion: MODERN,
      clientInfo: { name: "tasks-test", version: "1.0.0" },
      clientCapabilities: {},
    },
  });
}
