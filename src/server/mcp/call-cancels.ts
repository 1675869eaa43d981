/**
 * `notifications/cancelled` for 2025-era tool calls over stateless Streamable HTTP.
 *
 * MCP 2025-11-25 (basic/utilities/cancellation): a client cancels an in-progress request by sending
 * `notifications/cancelled` with that request's id; the receiver SHOULD stop processing it, free its resources and
 * not send a response for it. The 2025 transports add that a dropped connection SHOULD NOT be taken as a cancel, so
 * this notification is how Claude, Cursor, VS Code and the SDK's own client stop a call (the SDK client sends it on
 * an abort, and keeps the request's connection open). Over this server's stateless HTTP the notification arrives as
 * a POST of its own, answered 202, possibly on another instance than the call's; the SDK cannot match it to a call,
 * since each request has its own server object. So each instance keeps its 2025-era `tools/call` requests in
 * flight here, by caller and JSON-RPC id, from the moment the router has read the request's body (before it builds
 * the call's context, which may wait on a refresh of the user's Airtable token: a cancel arriving then stops the
 * call before it runs, see TrackedCall), and a cancel that finds no call here is published to every instance over
 * Redis (`<REDIS_KEY_PREFIX>:mcp:cancel`, pub/sub: nothing is stored), where the instance that has it stops it.
 *
 * The caller is the OAuth grant the bearer token belongs to (one client's sign-in), so a token of another client or
 * user can never stop a call. Two sessions of one client sharing one grant (one token file) share its ids as well:
 * a cancel of one's id 7 would also stop the other's id 7 if it were in flight at that moment. The 2025 revisions
 * give a stateless server nothing finer (no session); 2026-07-28 clients cancel by closing the call's own stream.
 */
import type { Redis } from "ioredis";
import type { AuthInfo } from "@modelcontextprotocol/server";
import type { Logger } from "../../shared/logger.ts";
import { withTimeout } from "../../shared/readiness.ts";

/** Stops one call as if its client's `notifications/cancelled` had reached it; `reason` is the client's. */
export type StopCall = (reason: string | undefined) => void;

/** Carries a cancel to every server instance (Redis pub/sub), and the other instances' cancels to this one. */
export interface CancelRelay {
  publish(message: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The cancellable calls in flight on this instance and, with a relay, on every other. Calls are tracked for as long
 * as their request is served (`track`'s answer untracks); a cancel for an id not in flight is ignored, as the
 * cancellation page allows ("the request may have already completed").
 */
export class CallCancels {
  readonly #calls = new Map<string, Set<StopCall>>();
  #relay: CancelRelay | undefined;
  readonly #logger: Logger | undefined;

  constructor(opts: { logger?: Logger } = {}) {
    this.#logger = opts.logger;
  }

  /**
   * The calls of one server instance of a deployment, their cancels relayed to and from every other instance over
   * Redis (`<keyPrefix>:mcp:cancel`, redisCancelRelay). Resolves once subscribed; `close()` ends the relay.
   */
  static async overRedis(opts: { redis: Redis; keyPrefix: string; logger: Logger }): Promise<CallCancels> {
    const cancels = new CallCancels({ logger: opts.logger });
    cancels.#relay = await redisCancelRelay({
      redis: opts.redis,
      channel: `${opts.keyPrefix}:mcp:cancel`,
      onMessage: (message) => cancels.received(message),
      logger: opts.logger,
    });
    return cancels;
  }

  /** Stops relaying (the listening connection disconnects); calls in flight here stay cancellable from here. */
  async close(): Promise<void> {
    const relay = this.#relay;
    this.#relay = undefined;
    await relay?.close();
  }

  /**
   * Opens a call's handle under `key` (callKey) as soon as its request shows it is a 2025-era `tools/call`, before
   * anything else is done for it (mcp-router.ts: reading the operation a cancel names, building the tool context,
   * which may refresh the user's Airtable token): a cancel that arrives meanwhile is kept by the handle, and stops
   * the call the instant the SDK takes it (dual-era-handler.ts). Tracked until `close()`.
   */
  open(key: string, requestId: string | number): TrackedCall {
    return new TrackedCall(this, key, requestId);
  }

  /** Tracks a call under `key` (callKey) until the returned function is called. */
  track(key: string, stop: StopCall): () => void {
    let stops = this.#calls.get(key);
    if (stops === undefined) {
      stops = new Set();
      this.#calls.set(key, stops);
    }
    stops.add(stop);
    return () => {
      const current = this.#calls.get(key);
      if (current === undefined) return;
      current.delete(stop);
      if (current.size === 0) this.#calls.delete(key);
    };
  }

  /** Calls in flight on this instance (tests and health pages). */
  get size(): number {
    return this.#calls.size;
  }

  /**
   * A client's `notifications/cancelled` for `key`: stops the call if it is in flight here, else publishes the cancel
   * to the other instances. Never rejects: a cancel is advice (a relay failure is logged, the call runs on).
   */
  async cancel(key: string, reason: string | undefined): Promise<void> {
    if (this.#stopHere(key, reason) > 0 || this.#relay === undefined) return;
    try {
      await this.#relay.publish(JSON.stringify({ key, ...(reason !== undefined && { reason }) }));
    } catch (error) {
      this.#logger?.warn({ err: error }, "could not pass a client's cancel on to the other server instances");
    }
  }

  /** A cancel another instance published (CancelRelay's message): stops the call if it is in flight here. */
  received(message: string): void {
    let parsed: { key?: unknown; reason?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (typeof parsed.key !== "string") return;
    this.#stopHere(parsed.key, typeof parsed.reason === "string" ? parsed.reason : undefined);
  }

  #stopHere(key: string, reason: string | undefined): number {
    const stops = this.#calls.get(key);
    if (stops === undefined) return 0;
    this.#calls.delete(key);
    for (const stop of stops) {
      // One call's failure to stop must not keep the others running, nor reach the relay's message handler.
      try {
        stop(reason);
      } catch (error) {
        this.#logger?.warn({ err: error }, "could not stop a cancelled call");
      }
    }
    return stops.size;
  }
}

/**
 * One 2025-era call tracked from the moment its request was read (CallCancels.open) until `close()`. A cancel for it
 * aborts `signal` (its reason: the client's, or undefined) and runs the stop given to `onStop`, at once if the cancel
 * came first; later cancels of the same key find nothing (`#stopHere` forgets the key), as for any call that ended.
 * Nothing is remembered once it is closed: a client that restarts and reuses ids is not tripped by an old cancel.
 */
export class TrackedCall {
  readonly #controller = new AbortController();
  #stop: StopCall | undefined;
  #reason: string | undefined;
  /** Stops tracking (idempotent). */
  readonly close: () => void;
  /** The call's JSON-RPC id, as its client sent it. */
  readonly requestId: string | number;

  constructor(cancels: CallCancels, key: string, requestId: string | number) {
    this.requestId = requestId;
    this.close = cancels.track(key, (reason) => this.#cancel(reason));
  }

  /** Aborted when the client's `notifications/cancelled` for the call arrived (on this instance or relayed). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the client cancelled the call; `reason` is the one it gave. */
  get cancelled(): boolean {
    return this.#controller.signal.aborted;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  /** Runs `stop` when the call is cancelled, or at once when it already was. One stop per call (the last given). */
  onStop(stop: StopCall): void {
    this.#stop = stop;
    if (this.cancelled) stop(this.#reason);
  }

  #cancel(reason: string | undefined): void {
    if (this.cancelled) return;
    this.#reason = reason;
    this.#controller.abort(reason);
    this.#stop?.(reason);
  }
}

/**
 * The key of a call: the caller's grant (the verified token's `extra.grantId`, bearer.ts) and the JSON-RPC id as
 * sent (`1` and `"1"` differ, as in JSON-RPC). Undefined when the request has no grant (then it is not tracked).
 */
export function callKey(auth: AuthInfo | undefined, requestId: unknown): string | undefined {
  const grantId = auth?.extra?.grantId;
  if (typeof grantId !== "string" || (typeof requestId !== "string" && typeof requestId !== "number")) return undefined;
  return `${grantId} ${JSON.stringify(requestId)}`;
}

/** The `requestId` and `reason` of a `notifications/cancelled` message, or undefined for any other message. */
export function cancelNotification(message: unknown): { requestId: unknown; reason: string | undefined } | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const { method, params, id } = message as { method?: unknown; params?: unknown; id?: unknown };
  if (method !== "notifications/cancelled" || id !== undefined || typeof params !== "object" || params === null) {
    return undefined;
  }
  const { requestId, reason } = params as { requestId?: unknown; reason?: unknown };
  return { requestId, reason: typeof reason === "string" ? reason : undefined };
}

/**
 * The Redis relay of one server instance: publishes on `channel` with `redis` (the instance's connection) and
 * listens on a connection of its own (a subscribed connection serves nothing else), handing each message to
 * `onMessage`. Resolves once subscribed; rejects (the connection closed) when Redis does not answer the subscribe
 * within 10 s. `close` disconnects the listening connection.
 */
export async function redisCancelRelay(opts: {
  redis: Redis;
  channel: string;
  onMessage(message: string): void;
  logger: Logger;
}): Promise<CancelRelay> {
  // Reconnects and re-subscribes by itself (ioredis), and never queues commands for long: it sends none after this.
  const listener = opts.redis.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
  });
  // ioredis reconnects by itself; a warning at most every minute says cancels from other instances are not arriving.
  let warnedAt = -Infinity;
  listener.on("error", (error: Error) => {
    if (performance.now() - warnedAt < 60_000) return;
    warnedAt = performance.now();
    opts.logger.warn(
      { err: error },
      "cancel relay: connection to Redis lost; clients' cancels from other instances wait for it",
    );
  });
  listener.on("message", (channel: string, message: string) => {
    if (channel === opts.channel) opts.onMessage(message);
  });
  try {
    // Redis answered the server's start-up checks just before: a subscribe that does not answer in 10 s is a fault.
    await withTimeout(listener.subscribe(opts.channel), 10_000);
  } catch (error) {
    listener.disconnect();
    throw error;
  }
  return {
    publish: async (message) => {
      await opts.redis.publish(opts.channel, message);
    },
    close: async () => {
      listener.disconnect();
    },
  };
}
