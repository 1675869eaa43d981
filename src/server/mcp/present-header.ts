import type { IncomingMessage } from "node:http";

/**
 * Shows the SDK's Streamable HTTP transport `name: value` in place of every line of that header the request
 * carried. The transport reads headers through @hono/node-server, from `headers` and `rawHeaders` alike, so both
 * are rewritten. `name` is the header's name as it is written on the wire (e.g. "Accept"); matching is
 * case-insensitive (RFC 9110 section 5.1).
 */
export function presentHeaderToSdk(req: IncomingMessage, name: string, value: string): void {
  const lower = name.toLowerCase();
  req.headers[lower] = value;
  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const line = req.rawHeaders[i] as string;
    if (line.toLowerCase() !== lower) raw.push(line, req.rawHeaders[i + 1] as string);
  }
  raw.push(name, value);
  req.rawHeaders = raw;
}
