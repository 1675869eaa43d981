/**
 * Test-only: a `POST /mcp` written by hand on a `node:net` socket of its own, for tests of a client that leaves
 * without a word (the socket is destroyed mid-request) — what fetch or the MCP SDK client cannot do at a chosen
 * moment, nor with a body shorter than its Content-Length. Used by tests/server/mcp/client-left-before-read.test.ts
 * and tests/server/mcp/disconnect-during-context.test.ts.
 */
import { connect, type Socket } from "node:net";
import { MODERN, modernMeta } from "./tasks-client.ts";

/** The protocol eras whose `tools/call` {@link toolsCallRequest} builds. */
export type RawEra = "2025-11-25" | typeof MODERN;

/**
 * A `tools/call` of `name` with `args` (JSON-RPC id 1) as `era` sends it: its JSON body, and the headers that go
 * with it as `Name: value` lines (2025-11-25: MCP-Protocol-Version only, no envelope; 2026-07-28: the `_meta`
 * envelope of {@link modernMeta} and the Mcp-Method/Mcp-Name headers that era requires).
 */
export function toolsCallRequest(
  era: RawEra,
  name: string,
  args: Record<string, unknown>,
): { body: string; headers: string[] } {
  const body = JSON.stringify({
    jsonrpc: "2.0",
    id: 1,
    method: "tools/call",
    params: { name, arguments: args, ...(era === MODERN && { _meta: modernMeta(false) }) },
  });
  const headers = [
    `MCP-Protocol-Version: ${era}`,
    ...(era === MODERN ? [`Mcp-Method: tools/call`, `Mcp-Name: ${name}`] : []),
  ];
  return { body, headers };
}

/** A request {@link rawMcpPost} wrote: its socket, to destroy, and everything the server wrote back so far. */
export interface RawPost {
  socket: Socket;
  received: () => string;
}

/**
 * Connects to `mcpUrl`'s host and writes an HTTP/1.1 POST to its path with the bearer `accessToken`, the
 * Content-Type and Accept an MCP client sends, `request.headers` (`Name: value` lines, in order), and
 * `Content-Length: <bytes of request.body>`; then `request.sent` (default: the whole body), which may be only the
 * start of the body, so the server waits for the rest. Resolves once written (not answered); rejects if the
 * connection fails. Socket errors after that are ignored: the test destroys the socket on purpose.
 */
export async function rawMcpPost(
  mcpUrl: string,
  accessToken: string,
  request: { headers?: string[]; body: string; sent?: string },
): Promise<RawPost> {
  const url = new URL(mcpUrl);
  const headers = [
    `POST ${url.pathname} HTTP/1.1`,
    `Host: ${url.host}`,
    `Authorization: Bearer ${accessToken}`,
    `Content-Type: application/json`,
    `Accept: application/json, text/event-stream`,
    ...(request.headers ?? []),
    `Content-Length: ${Buffer.byteLength(request.body)}`,
  ];
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("utf8")));
  socket.on("error", () => undefined); // destroyed by the test
  socket.write(`${headers.join("\r\n")}\r\n\r\n${request.sent ?? request.body}`);
  return { socket, received: () => received };
}
