import type { IncomingMessage } from "node:http";
import { presentHeaderToSdk } from "./present-header.ts";
import type { Request } from "express";

/**
 * Content negotiation for POST /mcp, lenient where the spec lets a server be. MCP 2025-11-25 (basic/transports,
 * "Sending Messages to the Server") says the *client* MUST list both `application/json` and `text/event-stream`
 * in Accept, and leaves the answer's type to the server (one JSON object or an SSE stream). RFC 9110 §12.5.1: no
 * Accept means any type is acceptable, and a server may disregard Accept rather than answer 406. Real clients send
 * `application/json` alone, the any-type wildcard, no Accept, or (Claude.ai's proxy) `text/event-stream` alone.
 *
 * - `either`: both types are acceptable (both listed, a wildcard, or no Accept): JSON unless progress was asked for.
 * - `json`: only JSON is: the answer is JSON (progress notifications then cannot be streamed).
 * - `sse`: only an event stream is: the answer is SSE.
 * - undefined: neither (e.g. `text/html` alone, or both with q=0): 406.
 *
 * Quality values and wildcards are read by Express's `req.accepts` (the `accepts`/`negotiator` packages).
 */
export type AcceptedAnswer = "either" | "json" | "sse";

/**
 * What the request's Accept header lets POST /mcp answer with (AcceptedAnswer, above; undefined: answer 406). The same
 * header value always gets the same answer, remembered for the next request that sends it.
 */
export function acceptedAnswer(req: Request): AcceptedAnswer | undefined {
  const accept = req.headers.accept;
  // The answer depends on the Accept value alone, and a client sends the same one on every request: negotiating it
  // again (two `accepts` objects, each parsing the header) cost ~20 µs per /mcp request in the many-users bench.
  if (accept === undefined) return "either";
  const known = negotiated.get(accept);
  if (known !== undefined || negotiated.has(accept)) return known;
  const json = req.accepts("application/json") !== false;
  const sse = req.accepts("text/event-stream") !== false;
  const answer: AcceptedAnswer | undefined = json && sse ? "either" : json ? "json" : sse ? "sse" : undefined;
  // Bounded: Accept values are few in practice, but a client may send any; past the bound, start over.
  if (negotiated.size >= NEGOTIATED_MAX) negotiated.clear();
  negotiated.set(accept, answer);
  return answer;
}

/** Accept values seen → what they accept (see acceptedAnswer); at most NEGOTIATED_MAX entries. */
const negotiated = new Map<string, AcceptedAnswer | undefined>();
const NEGOTIATED_MAX = 256;

/** What the SDK's Accept check wants to see (it checks this even with enableJsonResponse, and answers 406 otherwise). */
const SDK_ACCEPT = "application/json, text/event-stream";

/**
 * After negotiation has chosen the answer's type (the transport's `enableJsonResponse`), shows the SDK's transport
 * an Accept it takes (present-header.ts).
 */
export function presentAcceptToSdk(req: IncomingMessage): void {
  presentHeaderToSdk(req, "Accept", SDK_ACCEPT);
}
