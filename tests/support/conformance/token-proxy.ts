/**
 * A forwarding HTTP proxy that adds a bearer token, for the official MCP conformance suite
 * (@modelcontextprotocol/conformance), whose `server` command has no option to send an `Authorization` header
 * while our /mcp needs one (conformance issue #453). Test support only: never part of the product.
 *
 * What it changes, and nothing else:
 * - `Authorization: Bearer <token>` is added to requests under `/mcp` that carry none (a request that already
 *   carries one keeps it, so a scenario probing a bad token still can).
 * - `Host` and `Origin` that name the proxy itself are translated to the upstream's (the suite believes the
 *   proxy is the server); any other value (the dns-rebinding scenario's `evil.example.com`) is passed as sent, so
 *   the server's own Host/Origin checks judge it. With `passHost`, nothing is translated: the server's
 *   PUBLIC_URL is the proxy's address, as behind a load balancer.
 * Answers (status, headers, SSE streams) come back unchanged and unbuffered.
 */
import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";

export interface TokenProxy {
  /** The proxy's origin, e.g. `http://localhost:41234` (give the suite `${url}/mcp`). */
  url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export interface TokenProxyOptions {
  /** Where requests go: an origin such as `http://127.0.0.1:8080` or `https://mcp.example.com`. */
  upstream: string;
  /** The access token to add; called per request, `undefined` adds none. */
  token(): string | undefined;
  /** Port to listen on (0 or absent: one the OS picks). Listens on every interface, so `localhost` is IPv4 or 6. */
  port?: number;
  /** The host name the suite is given (default `localhost`): with the port, the Host value that means "me". */
  hostname?: string;
  /** Forward Host and Origin exactly as sent (default false: the proxy's own are translated to the upstream's). */
  passHost?: boolean;
}

/** Starts the proxy; resolves once it listens. */
export async function startTokenProxy(opts: TokenProxyOptions): Promise<TokenProxy> {
  const upstream = new URL(opts.upstream);
  const send = upstream.protocol === "https:" ? httpsRequest : httpRequest;
  let ownHost = "";
  let ownOrigin = "";

  const forwarder: Server = createServer((incoming, outgoing) => {
    const headers: IncomingHttpHeaders = { ...incoming.headers };
    if (opts.passHost !== true) {
      if (headers.host === ownHost) headers.host = upstream.host;
      if (headers.origin === ownOrigin) headers.origin = upstream.origin;
    }
    const token = opts.token();
    if (incoming.url?.startsWith("/mcp") && headers.authorization === undefined && token !== undefined) {
      headers.authorization = `Bearer ${token}`;
    }
    const forwarded = send(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers,
        // The TLS name is the upstream's, whatever Host a scenario sent.
        servername: upstream.hostname,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { "content-type": "text/plain" });
      outgoing.end(`token proxy: ${upstream.origin} unreachable: ${error.message}`);
    });
    incoming.pipe(forwarded);
  });
  forwarder.listen(opts.port ?? 0);
  await once(forwarder, "listening");
  const port = (forwarder.address() as AddressInfo).port;
  ownHost = `${opts.hostname ?? "localhost"}:${port}`;
  ownOrigin = `http://${ownHost}`;
  return {
    url: ownOrigin,
    close: async () => {
      forwarder.closeAllConnections();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    },
  };
}
