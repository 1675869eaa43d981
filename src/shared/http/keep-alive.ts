/**
 * How long an idle HTTP/1.1 connection to this server stays open for its next request.
 *
 * Node closes an idle kept-alive connection after 5 s by default (`server.keepAliveTimeout`). A proxy in front of the
 * server that keeps its idle upstream connections longer (Google's load balancers 600 s, nginx's `keepalive_timeout`
 * 60 s, AWS ALB 60 s) may send a request on a connection just as Node closes it; the proxy then answers 502 (or the
 * client sees ECONNRESET), and a POST, like every MCP message, is not retried for it (RFC 9110 §9.2.2: POST is not
 * idempotent). Keeping idle connections longer than any proxy in front leaves the closing to the proxy, which never
 * races itself. Clients that honour the `Keep-Alive: timeout=N` answer header (undici, the MCP SDK clients' fetch)
 * retire a connection before N.
 */
import { once } from "node:events";
import type { Server } from "node:http";

/**
 * Default for HTTP_KEEP_ALIVE_TIMEOUT_MS (ms): above the 600 s Google's external HTTP(S) load balancers keep an idle
 * connection to a backend (their documented backend keepalive timeout), so above every common proxy's.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 620_000;

/**
 * Sets how long `server` keeps an idle connection open (`keepAliveTimeout`, ms; its answers then carry
 * `Keep-Alive: timeout=<s>`). Node's header and request timeouts are unaffected: they count from a request's first
 * byte, not the idle time before it. A shutdown's `server.close()` still closes idle connections at once.
 */
export function keepIdleConnections(server: Server, timeoutMs: number): void {
  server.keepAliveTimeout = timeoutMs;
}

/** How often a closing server looks for connections its in-flight requests have left idle (ms). */
const CLOSING_SWEEP_MS = 50;

/**
 * A shutdown's HTTP part: stops accepting connections, closes the idle ones at once and each other one as soon as its
 * request in flight is answered, and cuts whatever is still open after `graceMs` (ms). Resolves once every
 * connection has closed; never rejects. Node's `server.close()` closes only the connections idle at that moment: one
 * answered later would stay open for HTTP_KEEP_ALIVE_TIMEOUT_MS (620 s) unless its client let it go, holding the
 * shutdown until `graceMs`.
 */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  const forced = setTimeout(() => server.closeAllConnections(), graceMs);
  const sweep = setInterval(() => server.closeIdleConnections(), CLOSING_SWEEP_MS);
  const closed = once(server, "close").catch(() => undefined);
  server.close();
  server.closeIdleConnections();
  await closed;
  clearTimeout(forced);
  clearInterval(sweep);
}
