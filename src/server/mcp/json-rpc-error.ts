import type { Response } from "express";

/** JSON-RPC error codes used before a request reaches the SDK. */
export const JSON_RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  /** Implementation-defined server errors (-32000…-32099), as the SDK uses for transport refusals. */
  serverError: -32000,
} as const;

/** Answers an HTTP error with a JSON-RPC error body (`id: null`: the request was not read or not trusted). */
export function sendJsonRpcError(res: Response, status: number, code: number, message: string): void {
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id: null });
}
