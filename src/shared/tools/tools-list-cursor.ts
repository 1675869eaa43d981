import {
  ProtocolError,
  ProtocolErrorCode,
  type JSONRPCRequest,
  type McpServer,
  type Result,
  type ServerContext,
} from "@modelcontextprotocol/server";
import { z } from "zod";
import { quotedValue } from "./tool-input-error.ts";

/** A request handler as the SDK stores it (the raw request, already lifted out of its `_meta` envelope). */
type StoredHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/**
 * tools/list's params as this handler takes them: any `cursor` (the SDK's own schema takes a string only, and its
 * refusal of anything else is a -32603 Internal error with zod's issue list), the rest (`_meta`) as it came.
 */
const listParams = z.looseObject({ cursor: z.unknown().optional() });

/**
 * Makes `server`'s `tools/list` refuse any `cursor` with JSON-RPC -32602 (Invalid params), whose message says to
 * omit it. This server lists every tool in one page and never answers with a `nextCursor`, so no cursor is one it
 * issued; MCP "Pagination", Error Handling (2025-11-25 and 2026-07-28): "Invalid cursors SHOULD result in an error
 * with code -32602 (Invalid params)". The MCP SDK (2.4.0) ignores the cursor and answers the whole list, which a
 * client continuing a listing would take as a next page (the tools twice). A cursor that is not a string (a number, an
 * object) gets the same answer instead of the SDK's -32603. `""` and `null` are taken as no cursor and answered with
 * the list: the 2026-07-28 text makes `""` a cursor like any other, but a client that sends either for its first
 * page means "from the start", and refusing it would leave that client with no tools at all, for a SHOULD.
 *
 * The list itself stays the SDK's (its handler, taken with the protected `_getRequestHandler` accessor, answers a
 * request without a cursor), so its shape follows the SDK. Call after the tools are registered (registerTools);
 * throws if the SDK registered no tools/list handler by then (a changed SDK: fails at the first server built).
 */
export function refuseToolsListCursors(server: McpServer): void {
  const inner = server.server;
  const sdkList = (
    inner as unknown as { _getRequestHandler(method: string): StoredHandler | undefined }
  )._getRequestHandler("tools/list");
  if (sdkList === undefined) {
    throw new Error("The MCP SDK registered no tools/list handler: register the tools before refuseToolsListCursors");
  }
  inner.removeRequestHandler("tools/list");
  inner.setRequestHandler("tools/list", { params: listParams }, (params, ctx) => {
    if (params.cursor !== undefined && params.cursor !== "" && params.cursor !== null)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, cursorRefusal(params.cursor));
    const { cursor: _none, ...rest } = params;
    return sdkList({ jsonrpc: "2.0", id: ctx.mcpReq.id, method: "tools/list", params: rest }, ctx);
  });
}

/** The message for a tools/list `cursor` (any JSON value): quotes it, cut short, and says to omit it. */
function cursorRefusal(cursor: unknown): string {
  const what =
    typeof cursor === "string"
      ? `the cursor ${quotedValue(cursor)} is not one this server issued`
      : `cursor must be a string taken from a nextCursor, and ${quotedValue(cursor)} is not one`;
  return (
    `Invalid params: ${what}. This server lists every tool in one page and never sends nextCursor, so no cursor is ` +
    "valid: omit cursor to list every tool."
  );
}
