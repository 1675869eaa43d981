/**
 * A TCP proxy in front of the test Redis, so one test can take "Redis" away from its server and worker processes
 * (every connection dropped, new ones refused) and bring it back with its data intact — or make it go silent for
 * them alone (a network partition: connections stay open, nothing passes, while other clients of the same Redis
 * carry on) — without stopping the Redis every other test file shares.
 */
import { once } from "node:events";
import { createServer, connect, type Server, type Socket } from "node:net";

export interface RedisProxy {
  /** redis://127.0.0.1:PORT — give this to the processes instead of the real REDIS_URL. */
  url: string;
  /** Drops every connection and refuses new ones. */
  down(): Promise<void>;
  /** Accepts connections again, on the same port. */
  up(): Promise<void>;
  /**
   * Silence without a disconnect: nothing passes either way (bytes wait in the sockets' buffers), and new connections
   * are accepted but not served, until `thaw`. Pair with `thaw` in a finally.
   */
  freeze(): void;
  /** Everything held passes on, in order, and the proxy forwards again. */
  thaw(): void;
  close(): Promise<void>;
}

export async function startRedisProxy(targetUrl: string): Promise<RedisProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 6379);
  const targetHost = target.hostname;
  const sockets = new Set<Socket>();
  /** Each proxied connection's way to stop and restart forwarding (both directions). */
  const flows = new Set<{ hold(): void; pass(): void }>();
  let frozen = false;
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      sockets.add(client).add(upstream);
      const flow = {
        hold: () => {
          client.unpipe(upstream);
          upstream.unpipe(client);
          client.pause();
          upstream.pause();
        },
        pass: () => {
          client.pipe(upstream);
          upstream.pipe(client);
        },
      };
      flows.add(flow);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
        flows.delete(flow);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      if (frozen) flow.hold();
      else flow.pass();
    });
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    port = address.port;
  };
  const stop = async () => {
    const closing =
      server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closing;
    server = undefined;
  };

  await listen();
  const database = target.pathname.replace(/^\//, "");
  return {
    url: `redis://127.0.0.1:${port}${database === "" ? "" : `/${database}`}`,
    down: stop,
    up: listen,
    close: stop,
    freeze: () => {
      frozen = true;
      for (const flow of flows) flow.hold();
    },
    thaw: () => {
      frozen = false;
      for (const flow of flows) flow.pass();
    },
  };
}
