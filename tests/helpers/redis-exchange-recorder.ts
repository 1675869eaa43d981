import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * One thing that crossed the proxy on client connection `connection` (numbered from 1 in order of connecting): a
 * command the client sent (name, first argument) or an answer Redis sent back to it.
 */
export type RedisExchange = { connection: number } & (
  { kind: "command"; name: string; key: string | undefined } | { kind: "answer" }
);

export interface RedisExchangeRecorder {
  /** redis://127.0.0.1:PORT/DB: give this to the client whose traffic is recorded. */
  url: string;
  /** Everything seen so far, in the order it crossed the proxy (every client connection's, interleaved). */
  exchanges(): RedisExchange[];
  close(): Promise<void>;
}

/** `*N` `$len` NAME `$len` FIRST-ARG, as ioredis writes a command with at least one argument. */
const COMMAND = /\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n(?:\$\d+\r\n([^\r]*)\r\n)?/g;

/**
 * A TCP proxy in front of Redis that records, in order, the commands clients send and the moments Redis answers,
 * so a test can see round trips: two commands with no answer between them were sent before the first one's answer
 * came back (one round trip). Commands are recognised per chunk received (a command split across two TCP chunks
 * is missed: fine for the short commands tests look for).
 */
export async function startRedisExchangeRecorder(redisUrl: string): Promise<RedisExchangeRecorder> {
  const target = new URL(redisUrl);
  const seen: RedisExchange[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    const connection = ++connections;
    const upstream = connect({ host: target.hostname, port: Number(target.port || 6379) });
    sockets.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString("latin1").matchAll(COMMAND)) {
        seen.push({ connection, kind: "command", name: match[1]!.toUpperCase(), key: match[2] });
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      seen.push({ connection, kind: "answer" });
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}${target.pathname}`,
    exchanges: () => [...seen],
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
