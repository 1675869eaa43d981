import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";

/** Totals since the counter started; subtract two snapshots for a window. */
export interface RedisCounts {
  /** Commands the clients sent (RESP arrays through the proxy), EVALSHA counted once. */
  commands: number;
  /** Write bursts the clients sent (one pipelined batch is one burst): a stand-in for round trips. */
  roundTrips: number;
  /** Commands Redis executed in the counted database, including those run inside Lua scripts (MONITOR). */
  executed: number;
  /** Of `executed`, those run inside scripts. */
  executedInScripts: number;
  /** `executed` by command name (upper case; inside scripts as `lua:NAME`). */
  executedByName: Record<string, number>;
}

/** Client connections through the proxy: open now, and the most open at once. */
export interface RedisConnections {
  open: number;
  peak: number;
}

export interface RedisCounter {
  /** redis://127.0.0.1:PORT/DB: give this to the processes whose Redis traffic is counted. */
  url: string;
  counts(): RedisCounts;
  connections(): RedisConnections;
  close(): Promise<void>;
}

export const diffCounts = (after: RedisCounts, before: RedisCounts): RedisCounts => ({
  commands: after.commands - before.commands,
  roundTrips: after.roundTrips - before.roundTrips,
  executed: after.executed - before.executed,
  executedInScripts: after.executedInScripts - before.executedInScripts,
  executedByName: Object.fromEntries(
    Object.entries(after.executedByName)
      .map(([name, n]) => [name, n - (before.executedByName[name] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  ),
});

/**
 * Counts RESP commands in a client→Redis byte stream without buffering payloads: `*N` then N bulk strings
 * (`$len` + len bytes + CRLF), the only form ioredis sends.
 */
class RespCommandCounter {
  commands = 0;
  #line = "";
  #skip = 0;

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const nl = chunk.indexOf(10, i);
      if (nl === -1) {
        this.#line += chunk.toString("latin1", i);
        return;
      }
      const line = this.#line + chunk.toString("latin1", i, nl);
      this.#line = "";
      i = nl + 1;
      const head = line.replace(/\r$/, "");
      if (head.startsWith("*")) {
        this.commands += 1;
      } else if (head.startsWith("$")) {
        this.#skip = Number(head.slice(1)) + 2;
      }
    }
  }
}

/**
 * A TCP proxy in front of Redis that counts what its clients send (commands and write bursts), plus a MONITOR
 * connection filtered to one database, which also sees the commands run inside Lua scripts. The machine's Redis
 * is shared with other work, so INFO commandstats would count theirs too: the counted processes use a database
 * of their own (`db`), and MONITOR lines from other databases are ignored.
 */
export async function startRedisCounter(targetUrl: string, db: number): Promise<RedisCounter> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 6379);
  const targetHost = target.hostname;
  const totals: RedisCounts = { commands: 0, roundTrips: 0, executed: 0, executedInScripts: 0, executedByName: {} };
  const sockets = new Set<Socket>();
  const connections: RedisConnections = { open: 0, peak: 0 };
  const server: Server = createServer((client) => {
    connections.open += 1;
    connections.peak = Math.max(connections.peak, connections.open);
    client.once("close", () => (connections.open -= 1));
    const upstream = connect(targetPort, targetHost);
    const parser = new RespCommandCounter();
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.on("data", (chunk: Buffer) => {
      const before = parser.commands;
      parser.feed(chunk);
      totals.commands += parser.commands - before;
      totals.roundTrips += 1;
    });
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("counting proxy has no port");

  const monitorClient = new Redis(targetUrl, { maxRetriesPerRequest: 1 });
  const monitor = await monitorClient.monitor();
  const dbName = String(db);
  monitor.on("monitor", (_time: string, args: string[], source: string, database: string) => {
    if (database !== dbName) return;
    totals.executed += 1;
    if (source === "lua") totals.executedInScripts += 1;
    const name = `${source === "lua" ? "lua:" : ""}${String(args[0] ?? "?").toUpperCase()}`;
    totals.executedByName[name] = (totals.executedByName[name] ?? 0) + 1;
  });

  return {
    url: `redis://127.0.0.1:${address.port}/${db}`,
    counts: () => ({ ...totals, executedByName: { ...totals.executedByName } }),
    connections: () => ({ ...connections }),
    async close() {
      monitor.disconnect();
      monitorClient.disconnect();
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closing;
    },
  };
}
