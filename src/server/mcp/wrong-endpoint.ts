import type { Express, RequestHandler } from "express";
import { JSON_RPC, sendJsonRpcError } from "./json-rpc-error.ts";

/**
 * The paths where an MCP client lands when given the server's address without `/mcp`, and the methods it uses
 * there:
 * - `POST /`: a Streamable HTTP client configured with the bare origin (`http://localhost:8080`) posts its
 *   `initialize` to the URL it was given (MCP 2025-11-25, basic/transports: the endpoint is whatever URL the
 *   client holds; nothing makes it append `/mcp`).
 * - `GET /sse`, `POST /sse`: the HTTP+SSE transport of MCP 2024-11-05, which clients fall back to (or are
 *   configured for) and whose conventional endpoint is `/sse`; this server speaks only Streamable HTTP.
 * - `POST /messages` (and `GET`, as on `/sse`): that transport's other endpoint, where the client posts its
 *   messages (MCP 2024-11-05, basic/transports, "HTTP with SSE": the URL the server's `endpoint` event names,
 *   conventionally `/messages?sessionId=…`). A client configured with it directly, or holding it from an old
 *   server at this address, posts there first. The query string is not part of the route: any `sessionId` matches.
 * `GET /` is not among them: it stays the server's plain-text page for a person (app.ts).
 */
export const WRONG_MCP_ENDPOINTS: ReadonlyArray<{ method: "get" | "post"; path: string }> = [
  { method: "post", path: "/" },
  { method: "post", path: "/sse" },
  { method: "get", path: "/sse" },
  { method: "post", path: "/messages" },
  { method: "get", path: "/messages" },
];

/**
 * Answers a request on one of {@link WRONG_MCP_ENDPOINTS} with HTTP 404 and a JSON-RPC error body (code -32000,
 * `id: null`) whose message names the endpoint to use: "This is not the MCP endpoint: connect your MCP client to
 * `<publicUrl>/mcp`". A client shows that message (an SDK client puts the body in its error), where express's
 * HTML "Cannot POST /" told the user nothing. Nothing of the request is read or echoed; `publicUrl` is
 * PUBLIC_URL (an origin, no trailing slash).
 */
export function notTheMcpEndpoint(publicUrl: string): RequestHandler {
  const message = `This is not the MCP endpoint: connect your MCP client to ${publicUrl}/mcp`;
  return (_req, res) => {
    sendJsonRpcError(res, 404, JSON_RPC.serverError, message);
  };
}

/**
 * Installs {@link notTheMcpEndpoint} on `app` for every entry of {@link WRONG_MCP_ENDPOINTS}, behind `cors` (the
 * CORS of /mcp, mcpCors: its preflight answered on those paths too), so that a browser-based client (the MCP
 * Inspector) given the bare address can read the hint instead of failing on CORS.
 */
export function answerWrongMcpEndpoints(app: Express, publicUrl: string, cors: RequestHandler): void {
  const handler = notTheMcpEndpoint(publicUrl);
  for (const path of new Set(WRONG_MCP_ENDPOINTS.map((e) => e.path))) app.options(path, cors);
  for (const { method, path } of WRONG_MCP_ENDPOINTS) app[method](path, cors, handler);
}

/**
 * True when a request no route answered looks like an MCP client's: a POST that accepts `text/event-stream` (every
 * Streamable HTTP client sends `Accept: application/json, text/event-stream` with each message, MCP 2025-11-25,
 * basic/transports) or a GET that asks for an event stream (an SSE client's first request). A client pointed at a
 * path it guessed or copied from another server's docs (`/api/mcp`, `/mcp/sse`, `/v1/mcp`) sends that; a person's
 * browser and curl do not, and keep express's 404.
 */
function looksLikeMcpClient(accept: string | undefined, method: string): boolean {
  return (method === "POST" || method === "GET") && /\btext\/event-stream\b/i.test(accept ?? "");
}

/**
 * The last route: an MCP client's request to a path no route has (looksLikeMcpClient) gets the same JSON-RPC 404
 * naming `<publicUrl>/mcp` as {@link WRONG_MCP_ENDPOINTS}, with /mcp's CORS on the answer; anything else goes on to
 * express's own 404.
 */
export function answerMcpClientsElsewhere(app: Express, publicUrl: string, cors: RequestHandler): void {
  const handler = notTheMcpEndpoint(publicUrl);
  app.use((req, res, next) => {
    if (!looksLikeMcpClient(req.headers.accept, req.method)) {
      next();
      return;
    }
    // The cors package passes on with next(null) where a request has no allowed Origin.
    cors(req, res, (error?: unknown) =>
      error === undefined || error === null ? handler(req, res, next) : next(error),
    );
  });
}
