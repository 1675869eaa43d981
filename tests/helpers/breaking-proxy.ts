/**
 * A TCP proxy in front of a Redis that breaks one connection on cue: what a failover or a reset looks like to a
 * client with a command in flight. `breakOn(marker)` arms it: the next chunk any client sends that contains `marker`
 * is forwarded to Redis (Redis runs the command) or dropped, and that client's connection is then closed without the
 * reply; new connections can be refused for a while after (Redis still away). Everything else passes untouched.
 */
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";

export interface BreakOptions {
  /** Send the chunk to Redis before breaking (the command runs, its answer is lost); else drop it (never runs). */
  forward: boolean;
  /** After the break, refuse new connections for this long (ms); 0: reconnects pass at once. */
  refuseMs?: number;
}

export interface BreakingProxy {
  /** redis://127.0.0.1:PORT */
  url: string;
  /** Arms a one-shot break (see the module comment); resolves once it happened. */
  breakOn(marker: string, options: BreakOptions): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy to the Redis at `redisUrl` (redis://host:port; a database in it is the client's to select). */
export async function startBreakingProxy(redisUrl: string): Promise<BreakingProxy> {
  const { hostname, port: targetPort } = new URL(redisUrl);
  const target = { host: hostname, port: Number(targetPort || 6379) };
  const sockets = new Set<Socket>();
  let armed: { marker: string; options: BreakOptions; done: () => void } | undefined;
  let refuseUntil = 0;
  const server: Server = createServer((client) => {
    if (performance.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    let broken = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on("data", (chunk: Buffer) => {
      if (!broken) client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => {
      if (broken) return;
      const cue = armed;
      if (cue === undefined || !chunk.includes(cue.marker)) {
        upstream.write(chunk);
        return;
      }
      armed = undefined;
      broken = true;
      if (cue.options.forward) upstream.write(chunk);
      // A monotonic clock: a test may move the wall clock (Date.now) without ending the refusal.
      refuseUntil = performance.now() + (cue.options.refuseMs ?? 0);
      // Long enough for Redis to run what it was sent; its reply is not passed on.
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
        cue.done();
      }, 100);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    breakOn(marker, options) {
      return new Promise<void>((resolve) => {
        armed = { marker, options, done: resolve };
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
