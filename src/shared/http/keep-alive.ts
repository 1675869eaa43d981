/**
 * How long an idle HTTP/1.1 connection to this server stays open for its next request.
 *
 * Node closes an idle kept-alive connection after 5 s by default (`server.keepAliveTimeout`). A proxy in front of the
 * server that keeps its idle upstream connections longer (Cloudflare 900 s, Google's load balancers 600 s, nginx's
 * `keepalive_timeout` 60 s, AWS ALB 60 s by default) may send a request on a connection just as Node closes it; the proxy then answers 502 (or the
 * client sees ECONNRESET), and a POST, like every MCP message, is not retried for it (RFC 9110 §9.2.2: POST is not
 * idempotent). Keeping idle connections longer than any proxy in front leaves the closing to the proxy, which never
 * races itself. Clients that honour the `Keep-Alive: timeout=N` answer header (undici, the MCP SDK clients' fetch)
 * retire a connection before N.
 */
import { once } from "node:events";
import type { Server, ServerResponse } from "node:http";

/**
 * Default for HTTP_KEEP_ALIVE_TIMEOUT_MS (ms): above the 900 s Cloudflare keeps an idle connection to an origin (its
 * "Proxy Idle Timeout", not configurable below Enterprise) and the 600 s Google's external Application Load
 * Balancers keep one to a backend (fixed), so above every common proxy's default. A proxy set longer (an AWS ALB's
 * idle timeout goes up to 4000 s) needs the setting raised above it.
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 910_000;

/** What closeHttpServer needs from keepIdleConnections: whether the server is closing, and the answers under way. */
interface KeptServer {
  closing: boolean;
  /** Answers whose request has arrived and that have not closed yet. */
  answering: Set<ServerResponse>;
}

const kept = new WeakMap<Server, KeptServer>();

/**
 * Sets how long `server` keeps an idle connection open (`keepAliveTimeout`, ms; its answers then carry
 * `Keep-Alive: timeout=<s>`). Node's header and request timeouts are unaffected: they count from a request's first
 * byte, not the idle time before it. A shutdown's `server.close()` still closes idle connections at once.
 *
 * It also lets closeHttpServer end the connections it is waiting for cleanly: an answer whose head is not yet sent
 * when the shutdown begins, or a request that arrives on a kept connection after it, is answered with
 * `Connection: close` and its connection closed right after, so no client or proxy is told "kept for 910 s" about a
 * connection the shutdown closes a moment later (its next request, a POST, would be cut: a 502).
 */
export function keepIdleConnections(server: Server, timeoutMs: number): void {
  server.keepAliveTimeout = timeoutMs;
  const state: KeptServer = { closing: false, answering: new Set() };
  kept.set(server, state);
  // Before the app's listener, so that an answer the app sends at once is covered too.
  server.prependListener("request", (_req, res: ServerResponse) => {
    if (state.closing) {
      res.shouldKeepAlive = false;
      return;
    }
    state.answering.add(res);
    res.once("close", () => state.answering.delete(res));
  });
}

/** How often a closing server looks for connections its in-flight requests have left idle (ms). */
const CLOSING_SWEEP_MS = 50;

/**
 * A shutdown's HTTP part: stops accepting connections, closes the idle ones at once and each other one as soon as its
 * request in flight is answered, and cuts whatever is still open after `graceMs` (ms). Resolves once every
 * connection has closed; never rejects. Node's `server.close()` closes only the connections idle at that moment: one
 * answered later would stay open for HTTP_KEEP_ALIVE_TIMEOUT_MS (910 s) unless its client let it go, holding the
 * shutdown until `graceMs`. On a server set up by keepIdleConnections, an answer not yet begun says
 * `Connection: close` (Node then closes its connection after it); the sweep closes the connections whose answer had
 * already begun (a text/event-stream one) once it ends.
 */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  const state = kept.get(server);
  if (state !== undefined) {
    state.closing = true;
    for (const res of state.answering) if (!res.headersSent) res.shouldKeepAlive = false;
    state.answering.clear();
  }
  const forced = setTimeout(() => server.closeAllConnections(), graceMs);
  const sweep = setInterval(() => server.closeIdleConnections(), CLOSING_SWEEP_MS);
  const closed = once(server, "close").catch(() => undefined);
  server.close();
  server.closeIdleConnections();
  await closed;
  clearTimeout(forced);
  clearInterval(sweep);
}
