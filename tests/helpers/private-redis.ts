/**
 * A redis-server of the calling test's own, on a free port, for tests that stop, stall or reconfigure "Redis" —
 * which they must never do to the Redis every other test file shares. The binary is on every machine of this
 * project's kind (Debian's redis-server; CI installs it too). No persistence: the data lives as long as the process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { Redis } from "ioredis";

export interface PrivateRedis {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /**
   * SIGSTOP: the process stops answering without closing a connection (what a partition or a hung host looks like
   * to a client; the kernel still accepts new connections into the listen backlog). Pair with `resume` in a finally.
   */
  stall(): void;
  /** SIGCONT: answers again, every command sent meanwhile is run in order. */
  resume(): void;
  /** Resumes it if stalled, then stops it (SIGTERM) and waits for the exit. Never rejects. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, "close");
  return port;
}

/** Starts one and resolves once it answers PING (within 10 s, else rejects and stops it). `args`: extra options. */
export async function startPrivateRedis(args: string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--maxmemory-policy",
      "noeviction",
      ...args,
    ],
    { stdio: "ignore" },
  );
  const exited = once(child, "exit").catch(() => undefined);
  const signal = (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
  };
  const running: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    stall: () => signal("SIGSTOP"),
    resume: () => signal("SIGCONT"),
    stop: async () => {
      signal("SIGCONT");
      signal("SIGTERM");
      await exited;
    },
  };
  // Waits in the offline queue until the server listens (no retry limit), bounded by commandTimeout.
  const probe = new Redis({
    port,
    host: "127.0.0.1",
    retryStrategy: () => 50,
    maxRetriesPerRequest: null,
    commandTimeout: 10_000,
  });
  probe.on("error", () => undefined); // until the server listens
  try {
    await probe.ping();
    return running;
  } catch (error) {
    await running.stop();
    throw new Error(`redis-server on port ${port} did not answer PING within 10 s`, { cause: error });
  } finally {
    probe.disconnect();
  }
}
