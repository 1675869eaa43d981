import { Redis } from "ioredis";

/** The emitter ioredis's `monitor()` resolves with. */
interface Monitor {
  on(event: "monitor", listener: (time: string, args: string[], source: string) => void): void;
  off(event: "monitor", listener: (time: string, args: string[], source: string) => void): void;
  disconnect(): void;
}

/** What a `RedisCommandCounter` saw between two readings. */
export interface RedisCommandCount {
  /** Every command Redis ran for the watched keys, commands inside Lua scripts included (EVALSHA itself counts too). */
  commands: number;
  /** Commands a client sent (EVALSHA, GET, …): each is one network round trip unless pipelined. */
  roundTrips: number;
  /** Commands by name (upper case), for the reader who wants to know where they went. */
  byName: Record<string, number>;
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
  readonly #connection: Redis;
  readonly #keyFilter: string;
  #monitor: Monitor | undefined;
  #insideWatchedScript = false;
  #count: RedisCommandCount = { commands: 0, roundTrips: 0, byName: {} };

  private constructor(url: string, keyFilter: string) {
    this.#connection = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    this.#keyFilter = keyFilter;
  }

  /** Starts watching: resolves once Redis has confirmed MONITOR, so every later command is seen. */
  static async start(url: string, keyFilter: string): Promise<RedisCommandCounter> {
    const counter = new RedisCommandCounter(url, keyFilter);
    const monitor = await counter.#connection.monitor();
    counter.#monitor = monitor as unknown as Monitor;
    monitor.on("monitor", (_time: string, args: string[], source: string) => counter.#see(args, source));
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
  }

  /**
   * The count since start or the last `take`, and starts a new one. Waits until Redis has echoed a marker command
   * sent after everything the caller awaited, so no earlier command is still on its way to the monitor.
   */
  async take(marker: Redis): Promise<RedisCommandCount> {
    const token = `${this.#keyFilter}:monitor-marker:${Math.random().toString(36).slice(2)}`;
    const seen = new Promise<void>((resolve) => {
      const onLine = (_time: string, args: string[]) => {
        if (args.includes(token)) {
          this.#monitor?.off("monitor", onLine);
          resolve();
        }
      };
      this.#monitor?.on("monitor", onLine);
    });
    await marker.exists(token);
    await seen;
    const count = this.#count;
    // The marker itself matched the filter: it is not the caller's.
    count.commands -= 1;
    count.roundTrips -= 1;
    count.byName.EXISTS = (count.byName.EXISTS ?? 1) - 1;
    if (count.byName.EXISTS === 0) delete count.byName.EXISTS;
    this.#count = { commands: 0, roundTrips: 0, byName: {} };
    return count;
  }

  stop(): void {
    this.#monitor?.disconnect();
    this.#connection.disconnect();
  }
}
