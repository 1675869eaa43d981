/**
 * How the processes' Redis connections behave when Redis stops answering. Two kinds, by who waits on them:
 *
 * - **Fail-fast** (the server, which answers people: `failFastRedisOptions`). A Redis that stalls without closing its
 *   connections (a stopped process, a network partition, a hung host) never closes them either, so nothing but a
 *   command timeout ends the wait: without one, /token, /authorize and /mcp hung until Redis answered again. Every
 *   command is bounded by `commandTimeout` (REDIS_COMMAND_TIMEOUT_MS). While the connection is down, a command waits
 *   for the next reconnect attempt only (`maxRetriesPerRequest: 0`: every failed attempt rejects what waits), and the
 *   attempts are spaced and bounded to fit well inside the timeout; before, it waited for two attempts of ioredis's
 *   growing back-off (up to 5 s each): 10 to 30 s for a request of several commands. Waiting for that one attempt,
 *   rather than failing at once (`enableOfflineQueue: false`), is what lets the first request after Redis came back
 *   be served instead of refused.
 * - **Waiting** (the worker's, any blocking read, the start-up checks, stdio's in-process write runner:
 *   `blockingDuplicate`, `startupDuplicate`): no command timeout, commands kept until the connection is back. stdio
 *   with REDIS_URL has both kinds, as a server and a worker in one process: fail-fast for its tool calls, waiting for
 *   the runs of its writes (src/stdio/run-stdio.ts says why). Blocking connections need
 *   `maxRetriesPerRequest: null` (BullMQ requires it), and a command timeout shorter than the block would fail
 *   every idle read (BZPOPMIN, XREAD BLOCK); BullMQ bounds its own blocking reads with a watchdog (block time + 1 s,
 *   then it resets the connection: bullmq `RedisQueueBackend.waitForJob`/`readEvents`).
 *
 * Semantics read in ioredis 6's source (Redis.sendCommand, Command.setTimeout, redis/event_handler.js):
 * - `commandTimeout` applies to every command, blocking ones included, and starts when the command is issued; on
 *   expiry it rejects the command with "Command timed out" (isRedisUnavailable knows it) and leaves the connection as
 *   it is. The command stays in the connection's reply queue, so a late reply is matched to it and dropped: no reply
 *   ever goes to the wrong command. But a command already written is still run by Redis when it answers again: a
 *   timeout says "no answer yet", not "not done" (callers that must know, QueuedOperationRunner.submit, say so).
 * - A command that timed out while still in the offline queue is sent anyway once the connection is back (ioredis
 *   issue #2130; PR #2131 not merged). Here a failed reconnect attempt rejects and removes what waits before that
 *   timeout fires: the attempt starts within a quarter of the timeout and its connect gives up after half of it. Left:
 *   a Redis that answers the reconnect's ready check (INFO) later than the remaining quarter, and then carries on.
 * - `maxRetriesPerRequest: 0` also rejects the commands in flight as soon as the connection is lost, and
 *   `autoResendUnfulfilledCommands: false` never sends them again.
 * - `duplicate(override)` copies every option of the connection it is called on: a duplicate of a fail-fast
 *   connection is fail-fast (BullMQ's Queue on the server, the client-side cache's two connections) unless the
 *   override says otherwise. BullMQ duplicates the connection it is given for a Worker's and a QueueEvents' blocking
 *   reads (bullmq utils/create-backend.js `duplicateClient`), so those inherit whatever that connection has: give
 *   them a waiting one (`blockingDuplicate`).
 * - ioredis 6.1 asks Redis for maintenance notifications (`maintNotifications: "auto"`; plain Redis refuses and
 *   nothing changes). While Redis Software/Cloud announces a migration or failover, a command with a timeout gets
 *   max(`commandTimeout`, `maintRelaxedCommandTimeout`) and fails "Command timed out during server maintenance";
 *   fail-fast connections set the latter to their own timeout, and isRedisUnavailable/isCommandTimeout know it.
 * - `connectTimeout` covers the TCP (and TLS) connect only. A stopped Redis's kernel still accepts connections; the
 *   ready check that follows (INFO) is bounded by `commandTimeout`, after which ioredis reconnects.
 */
import type { Redis, RedisOptions } from "ioredis";
import { reconnectOnReadonly } from "./redis-unavailable.ts";

/**
 * Options for a connection that answers people (the server's). `commandTimeoutMs`: REDIS_COMMAND_TIMEOUT_MS, the
 * longest a command waits for Redis before it fails with "Command timed out" (answered "temporarily unavailable").
 * While the connection is down a command waits for the next reconnect attempt, which starts within a quarter of
 * that (50 ms after a loss, growing) and gives up its connect after half of it; a command in flight fails when the
 * connection is lost; nothing whose caller got a failure is sent again.
 */
export function failFastRedisOptions(commandTimeoutMs: number): RedisOptions {
  const maxReconnectDelayMs = Math.max(10, Math.floor(commandTimeoutMs / 4));
  return {
    commandTimeout: commandTimeoutMs,
    // ioredis 6.1 (maintNotifications "auto", RESP3): during a Redis Software/Cloud maintenance window it raises every
    // command's timeout to max(commandTimeout, this), 10 s by default; people keep the bound REDIS_COMMAND_TIMEOUT_MS
    // promises, and are told to try again, rather than wait out a migration.
    maintRelaxedCommandTimeout: commandTimeoutMs,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: Math.max(50, Math.floor(commandTimeoutMs / 2)),
    retryStrategy: (times) => Math.min(times * 50, maxReconnectDelayMs),
    reconnectOnError: reconnectOnReadonly,
  };
}

/**
 * A duplicate of `redis` for blocking reads (XREAD BLOCK, BZPOPMIN, or a connection BullMQ duplicates for them), or
 * for work that must wait for Redis rather than fail (stdio's in-process write runner, as a worker's connection):
 * whatever `redis` has, no command timeout, commands kept while the connection is down (no retry limit), and
 * unanswered commands resent after a reconnect (what BullMQ's watchdogs expect). The caller disconnects it.
 */
export function blockingDuplicate(redis: Redis): Redis {
  return redis.duplicate({
    commandTimeout: undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: true,
  });
}

/**
 * A duplicate of a fail-fast `redis` for the start-up checks (the key fingerprint, the eviction policy), which wait
 * for Redis as they always have: each command waits in the offline queue through two reconnect attempts of ioredis's
 * default back-off (growing to 5 s), then fails ("Reached the max retries per request limit"), and the check says so
 * and tries again — a line every few seconds, not one per fail-fast attempt. No command timeout: nothing is served
 * until they pass. The caller disconnects it.
 */
export function startupDuplicate(redis: Redis): Redis {
  return redis.duplicate({
    commandTimeout: undefined,
    // Undefined: ioredis's defaults (it fills options left undefined).
    retryStrategy: undefined,
    connectTimeout: undefined,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: true,
  });
}
