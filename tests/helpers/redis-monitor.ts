import { createConnection, type Socket } from "node:net";
import type { Redis } from "ioredis";

type MonitorListener = (args: string[], source: string) => void;

/**
 * MONITOR over a plain socket. ioredis's own `monitor()` failed with "Command queue state error" when other clients
 * kept Redis busy (lines of script commands arriving with the MONITOR confirmation), so the lines are parsed here:
 * `+<unix time> [<db> <source>] "<arg>" "<arg>" …`, source "lua" for commands a script ran.
 */
class MonitorConnection {
  readonly #socket: Socket;
  readonly #listeners = new Set<MonitorListener>();
  #buffer = "";

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static async open(url: string): Promise<MonitorConnection> {
    const parsed = new URL(url);
    const socket = createConnection({ host: parsed.hostname, port: Number(parsed.port || 6379) });
    const connection = new MonitorConnection(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.once("connect", () => resolve());
    });
    const preamble: string[][] = [];
    if (parsed.password)
      preamble.push(parsed.username ? ["AUTH", parsed.username, parsed.password] : ["AUTH", parsed.password]);
    const db = parsed.pathname.replace(/^\//, "");
    if (db) preamble.push(["SELECT", db]);
    preamble.push(["MONITOR"]);
    let confirmations = preamble.length;
    const confirmed = new Promise<void>((resolve, reject) => {
      connection.#onLine = (line) => {
        if (line.startsWith("-")) reject(new Error(`Redis refused MONITOR: ${line}`));
        else if (--confirmations === 0) {
          connection.#onLine = (next) => connection.#dispatch(next);
          resolve();
        }
      };
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => connection.#receive(chunk));
    socket.write(preamble.map((command) => encode(command)).join(""));
    await confirmed;
    return connection;
  }

  #onLine: (line: string) => void = () => undefined;

  on(listener: MonitorListener): void {
    this.#listeners.add(listener);
  }

  off(listener: MonitorListener): void {
    this.#listeners.delete(listener);
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf("\r\n")) >= 0) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      this.#onLine(line);
    }
  }

  #dispatch(line: string): void {
    const match = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
    if (!match) return;
    const source = match[1] === "lua" ? "lua" : match[1]!;
    const args = parseQuoted(match[2]!);
    for (const listener of this.#listeners) listener(args, source);
  }
}

function encode(command: string[]): string {
  return `*${command.length}\r\n${command.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** The arguments of a MONITOR line: double-quoted, with \\, \" and \xNN escapes. */
function parseQuoted(text: string): string[] {
  const args: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"/g;
  for (const match of text.matchAll(pattern)) {
    args.push(
      match[1]!.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
        e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e,
      ),
    );
  }
  return args;
}

/** What a `RedisCommandCounter` saw between two readings. */
export interface RedisCommandCount {
  /** Every command Redis ran for the watched keys, commands inside Lua scripts included (EVALSHA itself counts too). */
  commands: number;
  /** Commands a client sent (EVALSHA, GET, …): each is one network round trip unless pipelined. */
  roundTrips: number;
  /** Commands by name (upper case), for the reader who wants to know where they went. */
  byName: Record<string, number>;
  /** Of `byName`, those a client sent (not run inside a script): what a process asked Redis for itself. */
  sentByName: Record<string, number>;
}

/**
 * Counts the Redis commands that touch keys containing `keyFilter`, with Redis's MONITOR on a connection of its own.
 * MONITOR also reports the commands a Lua script runs (source "lua", right after the EVAL/EVALSHA that ran them), so
 * a script's TIME, GET and SET are counted when the script call itself named a watched key; a command run by a
 * client counts when one of its arguments contains the filter. This is how the limiter's cost per request and its
 * idle cost are measured (tests/shared/limiter, bench/scenarios/limiter-redis-cost.ts).
 *
 * MONITOR costs Redis throughput while it runs: use it in tests and benchmarks only, on a filter unique to the run.
 */
export class RedisCommandCounter {
  readonly #keyFilter: string;
  #monitor: MonitorConnection | undefined;
  #insideWatchedScript = false;
  #count: RedisCommandCount = { commands: 0, roundTrips: 0, byName: {}, sentByName: {} };

  private constructor(keyFilter: string) {
    this.#keyFilter = keyFilter;
  }

  /** Starts watching: resolves once Redis has confirmed MONITOR, so every later command is seen. */
  static async start(url: string, keyFilter: string): Promise<RedisCommandCounter> {
    const counter = new RedisCommandCounter(keyFilter);
    counter.#monitor = await MonitorConnection.open(url);
    counter.#monitor.on((args, source) => counter.#see(args, source));
    return counter;
  }

  #see(args: string[], source: string): void {
    const name = (args[0] ?? "").toUpperCase();
    if (source === "lua") {
      if (this.#insideWatchedScript) this.#add(name, false);
      return;
    }
    const watched = args.some((a) => a.includes(this.#keyFilter));
    this.#insideWatchedScript = watched && (name === "EVALSHA" || name === "EVAL" || name.startsWith("FCALL"));
    if (watched) this.#add(name, true);
  }

  #add(name: string, roundTrip: boolean): void {
    this.#count.commands += 1;
    if (roundTrip) this.#count.roundTrips += 1;
    this.#count.byName[name] = (this.#count.byName[name] ?? 0) + 1;
    if (roundTrip) this.#count.sentByName[name] = (this.#count.sentByName[name] ?? 0) + 1;
  }

  /**
   * The count since start or the last `take`, and starts a new one. Waits until Redis has echoed a marker command
   * sent after everything the caller awaited, so no earlier command is still on its way to the monitor.
   */
  async take(marker: Redis): Promise<RedisCommandCount> {
    const token = `${this.#keyFilter}:monitor-marker:${Math.random().toString(36).slice(2)}`;
    const seen = new Promise<void>((resolve) => {
      const onLine = (args: string[]) => {
        if (args.includes(token)) {
          this.#monitor?.off(onLine);
          resolve();
        }
      };
      this.#monitor?.on(onLine);
    });
    await marker.exists(token);
    await seen;
    const count = this.#count;
    // The marker itself matched the filter: it is not the caller's.
    count.commands -= 1;
    count.roundTrips -= 1;
    for (const names of [count.byName, count.sentByName]) {
      names.EXISTS = (names.EXISTS ?? 1) - 1;
      if (names.EXISTS === 0) delete names.EXISTS;
    }
    this.#count = { commands: 0, roundTrips: 0, byName: {}, sentByName: {} };
    return count;
  }

  stop(): void {
    this.#monitor?.close();
  }
}
