/**
 * A native MCP client's loopback redirect listener (RFC 8252 §7.3): a real HTTP server on 127.0.0.1 at the port
 * the OS gave it (or a fixed one, like VS Code's 33418), which the user's browser reaches at the end of sign-in.
 * It answers a small "you can close this window" page, as the real clients do, and hands the URL to the test.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RedirectListener {
  /** The port it listens on (OS-chosen unless one was asked for). */
  port: number;
  /** `http://<host>:<port><path>`: the redirect URI to send at /authorize. */
  redirectUri(host: "127.0.0.1" | "localhost", path: string): string;
  /** Every URL the browser was sent to here, in order. */
  readonly received: URL[];
  /** The next redirect to arrive (or the first one not yet taken). */
  next(timeoutMs?: number): Promise<URL>;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1:`port` (0: any free port). Rejects with EADDRINUSE when a fixed port is taken, which is
 * how VS Code learns it must fall back to a random one.
 */
export async function listenForRedirect(port = 0): Promise<RedirectListener> {
  const received: URL[] = [];
  const waiting: ((url: URL) => void)[] = [];
  let taken = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    received.push(url);
    waiting.shift()?.(url);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Signed in</title><p>Authentication complete. You can close this window.</p>");
  });
  server.listen(port, "127.0.0.1");
  await Promise.race([
    once(server, "listening"),
    once(server, "error").then(([error]) => {
      throw error;
    }),
  ]);
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    redirectUri: (host, path) => `http://${host}:${actual}${path}`,
    received,
    next: (timeoutMs = 10_000) => {
      if (taken < received.length) return Promise.resolve(received[taken++] as URL);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no redirect reached the loopback listener")), timeoutMs);
        waiting.push((url) => {
          clearTimeout(timer);
          taken++;
          resolve(url);
        });
      });
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/**
 * The browser's last hop: it follows the authorization server's redirect to the loopback URI. Resolves with
 * the listener's page status (200 when the app received it).
 */
export async function deliverToLoopback(redirect: URL): Promise<number> {
  if (redirect.protocol !== "http:") throw new Error(`${redirect.href} is not a loopback http redirect`);
  const res = await fetch(redirect, { redirect: "manual" });
  await res.arrayBuffer();
  return res.status;
}
