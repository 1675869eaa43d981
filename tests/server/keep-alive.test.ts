/**
 * Idle connections are kept for the next request longer than any proxy in front keeps its own (HTTP_KEEP_ALIVE_TIMEOUT_MS,
 * src/shared/http/keep-alive.ts). With Node's default 5 s, a proxy that reuses an idle upstream connection for up to
 * 60 s (nginx, AWS ALB), 600 s (Google's load balancers) or 900 s (Cloudflare) can send an MCP POST on the connection Node is closing and
 * answer the client 502. The real startServer (src/server/main.ts's) on real Redis, over real sockets, as a proxy's
 * kept-alive upstream connection sees it.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { createConnection } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/server/start-server.ts";
import {
  closeHttpServer,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  keepIdleConnections,
} from "../../src/shared/http/keep-alive.ts";
import { loadConfig } from "../../src/shared/config.ts";
import { createLogger } from "../../src/shared/logger.ts";
import { freePort } from "../e2e/helpers/server-process.ts";
import { deleteKeys, testRedisUrl, useTestRedis } from "../helpers/redis.ts";

const { redis, prefix } = useTestRedis("keep-alive");
const running: RunningServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await deleteKeys(redis, prefix);
});

async function start(env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dead = `http://127.0.0.1:${await freePort()}`;
  const config = loadConfig(
    {
      REDIS_URL: testRedisUrl(),
      REDIS_KEY_PREFIX: `${prefix}:${port}`,
      PORT: String(port),
      PUBLIC_URL: url,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      AIRTABLE_CLIENT_ID: "keep-alive-test",
      AIRTABLE_AUTH_URL: dead,
      AIRTABLE_API_URL: dead,
      AIRTABLE_CONTENT_URL: dead,
      ...env,
    },
    "server",
  );
  running.push(await startServer(config, { logger: createLogger({ level: "silent", pretty: false, name: "test" }) }));
  return url;
}

/**
 * A kept-alive connection as a proxy holds one to its upstream: opened once, requests written on it one after the
 * other, no regard for the answer's `Keep-Alive` hint (Node's own Agent would retire it a second before the hint).
 */
async function connect(url: string) {
  const socket = createConnection({ port: Number(new URL(url).port), host: "127.0.0.1" });
  await once(socket, "connect");
  socket.setEncoding("latin1");
  let received = "";
  socket.on("data", (chunk: string) => (received += chunk));
  return {
    socket,
    /** GET `path`: the answer's status line and headers once its (Content-Length) body is in. */
    async get(path: string): Promise<{ status: number; headers: Map<string, string> }> {
      received = "";
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
      for (;;) {
        const head = received.indexOf("\r\n\r\n");
        if (head >= 0) {
          const [statusLine, ...lines] = received.slice(0, head).split("\r\n");
          const headers = new Map(
            lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
          );
          if (received.length - head - 4 >= Number(headers.get("content-length") ?? 0)) {
            return { status: Number(statusLine!.split(" ")[1]), headers };
          }
        }
        if (socket.destroyed) throw new Error("the server closed the connection");
        await Promise.race([once(socket, "data"), once(socket, "close")]);
      }
    },
  };
}

describe("idle connections", () => {
  it("are kept 910 s by default (past Cloudflare's 900 s to an origin), said in Keep-Alive, and serve a request after Node's old 5 s", async () => {
    const url = await start();
    const upstream = await connect(url);
    try {
      const first = await upstream.get("/healthz");
      expect(first.status).toBe(200);
      expect(first.headers.get("keep-alive")).toBe("timeout=910");
      // The proxy's idle connection, reused 5.5 s later: Node used to have closed it at 5 s.
      await new Promise((resolve) => setTimeout(resolve, 5_500));
      expect(upstream.socket.destroyed).toBe(false);
      expect((await upstream.get("/healthz")).status).toBe(200);
    } finally {
      upstream.socket.destroy();
    }
  }, 20_000);

  it("are closed after HTTP_KEEP_ALIVE_TIMEOUT_MS when it is set", async () => {
    const url = await start({ HTTP_KEEP_ALIVE_TIMEOUT_MS: "1500" });
    const upstream = await connect(url);
    try {
      expect((await upstream.get("/healthz")).headers.get("keep-alive")).toBe("timeout=1");
      const idleFrom = performance.now();
      await once(upstream.socket, "close");
      // Node closes it on its connection check after the timeout: not before 1.5 s of idleness.
      expect(performance.now() - idleFrom).toBeGreaterThanOrEqual(1_400);
    } finally {
      upstream.socket.destroy();
    }
  }, 20_000);

  it("a value below 1 s is a configuration error naming the setting", () => {
    expect(() => loadConfig({ HTTP_KEEP_ALIVE_TIMEOUT_MS: "500" }, "server")).toThrow(/HTTP_KEEP_ALIVE_TIMEOUT_MS/);
  });
});

describe("a shutdown (closeHttpServer)", () => {
  /**
   * A server set up as startServer sets up its own (keepIdleConnections), whose answers wait for `release` (an
   * in-flight MCP call), and a kept-alive connection to it with one request in flight.
   */
  async function inFlight(contentType: string) {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrive = (): void => undefined;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const server = createServer((_req, res) => {
      arrive();
      res.setHeader("Content-Type", contentType);
      // An SSE answer begins at once (its head and a first event); a JSON one is written whole when it is ready.
      if (contentType === "text/event-stream") res.write("event: message\ndata: {}\n\n");
      void released.then(() => res.end(contentType === "text/event-stream" ? "data: {}\n\n" : "{}"));
    });
    keepIdleConnections(server, DEFAULT_KEEP_ALIVE_TIMEOUT_MS);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const socket = createConnection({ port: (server.address() as { port: number }).port, host: "127.0.0.1" });
    await once(socket, "connect");
    socket.setEncoding("latin1");
    let received = "";
    socket.on("data", (chunk: string) => (received += chunk));
    const ended = once(socket, "end").then(() => received);
    socket.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n");
    await arrived;
    while (!received.includes("\r\n\r\n") && contentType === "text/event-stream") await once(socket, "data");
    return { server, socket, release, ended, received: () => received };
  }

  it("answers a request in flight with Connection: close, then closes its connection", async () => {
    const { server, socket, release, ended } = await inFlight("application/json");
    try {
      const closing = closeHttpServer(server, 5_000);
      release();
      // Told "closing" with the answer: the proxy or client sends its next request elsewhere. Told "kept for 910 s",
      // it would write it here as the shutdown closes the connection, and that POST would be cut (a 502).
      const answer = await ended;
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer.toLowerCase()).toContain("connection: close");
      expect(answer.toLowerCase()).not.toContain("keep-alive");
      await closing;
    } finally {
      socket.destroy();
    }
  });

  it("lets an SSE answer begun before it finish, then closes its connection", async () => {
    const { server, socket, release, ended } = await inFlight("text/event-stream");
    try {
      const closing = closeHttpServer(server, 5_000);
      await new Promise((resolve) => setTimeout(resolve, 200)); // several sweeps: the stream is not idle
      expect(socket.destroyed).toBe(false);
      const t0 = performance.now();
      release();
      expect(await ended).toMatch(/data: \{\}\n\n\r\n0\r\n\r\n$/); // the whole stream, its last chunk included
      await closing;
      expect(performance.now() - t0).toBeLessThan(1_000); // closed by the sweep, not at the grace's end
    } finally {
      socket.destroy();
    }
  });
});
