import type { Readable, Writable } from "node:stream";
import { serveStdio, StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import { Redis } from "ioredis";
import { pino } from "pino";
import type { AirtableClient } from "../shared/airtable/client.ts";
import { airtableClientFactory } from "../shared/airtable/client-factory.ts";
import { AirtableAuthError, AirtableError, AirtableNetworkError } from "../shared/airtable/errors.ts";
import { loadConfig, type Config } from "../shared/config.ts";
import { BottleneckAirtableLimiter, limiterSettingsFrom } from "../shared/limiter/index.ts";
import { createLogger, type Logger } from "../shared/logger.ts";
import { blockingDuplicate, failFastRedisOptions } from "../shared/redis-connection.ts";
import { logRedisErrors, logSecondaryErrors, redisDoesNotAnswer } from "../shared/redis-unavailable.ts";
import { EmbeddedOperationRunner } from "../shared/operations/embedded-runner.ts";
import { MemoryOperationLog } from "../shared/operations/memory-operation-log.ts";
import { OperationLog } from "../shared/operations/operation-log.ts";
import { RecentCalls } from "../shared/operations/recent-calls.ts";
import { MemoryKeyValueStore } from "../shared/kv/memory-key-value-store.ts";
import { RedisKeyValueStore } from "../shared/kv/redis-key-value-store.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { createWriteRunner } from "../shared/tools/run-write.ts";
import { allTools } from "../shared/tools/catalog.ts";
import { createMcpServer } from "../shared/tools/create-mcp-server.ts";
import { OperationTaskStore } from "../shared/tasks/operation-task-store.ts";
import { buildInstructions } from "../shared/tools/instructions.ts";
import { claimStdioState, stdioStateRoot, type StdioState } from "./state-dir.ts";

/** Startup failed for a reason the user can fix; the message says how (the CLI prints it, no stack). */
export class StdioStartupError extends Error {
  override name = "StdioStartupError";
}

export interface StdioOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: Readable;
  stdout?: Writable;
}

export interface StdioRunning {
  /** Resolves when the MCP client has gone (stdin closed) and everything is shut down. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** How long closing waits for the writes under way to stop, and then again for their logs to be ended (ms). */
const CLOSE_WAIT_MS = 1_500;

/**
 * Why a write still running when its stdio process ended is `failed` (get_operation shows it, with each record's
 * outcome): the process stopped it at a batch boundary, and no later process resumes it (its log is in Redis, or
 * in this process's memory). A process keeping its operations on disk (state-dir.ts) leaves them unfinished
 * instead, for the next one to resume.
 */
export const STOPPED_WITH_PROCESS =
  "This write was stopped when the stdio server process running it ended (its MCP client closed the connection), " +
  "and that process's writes are not resumed by a later one. Records listed as written were written; records " +
  "listed in doubt may have been: look them up before writing them again; the others were not sent: call the " +
  "tool again with those.";

/**
 * The end of list_operations' and get_operation's note (operationsNotKeptNote) in a copy whose account directory
 * another copy holds (state-dir.ts): the operations of earlier runs are in that copy's file, not here.
 */
export const HELD_BY_ANOTHER_COPY =
  "Another copy of this stdio server for the same Airtable account (another MCP client or window) is running and " +
  "keeps the operations file, so this copy keeps its own writes in memory only; the earlier writes are resumed and " +
  "listed by that copy. Close the other client, or give each client a DATA_DIR of its own.";

/**
 * stdio mode: one local user with a personal access token (AIRTABLE_TOKEN), no OAuth. The same tool catalog as
 * the HTTP endpoint, and both MCP protocol eras (2026-07-28 and the 2025 revisions, SDK v2 `serveStdio`), with
 * MCP Tasks for 2026-07-28 clients that declare them. The limiter is in-process, or the shared one when REDIS_URL is set (then this process and
 * the servers count against the same Airtable limits); a tool call then answers "temporarily unavailable" within
 * about REDIS_COMMAND_TIMEOUT_MS when Redis stalls or is away, while a write under way waits for it. Write operations
 * are kept in Redis with REDIS_URL, else in the account's SQLite file (state-dir.ts), whose unfinished writes this
 * process resumes at start and leaves unfinished at close for the next one; or in memory when another copy holds
 * that file. stdout carries the protocol: logs go to stderr.
 * Throws ConfigError (bad environment) or StdioStartupError (token refused, Airtable or Redis unreachable, a DATA_DIR
 * that cannot be used).
 */
export async function runStdio(opts: StdioOptions = {}): Promise<StdioRunning> {
  const startedAt = Date.now();
  const config = loadConfig(opts.env ?? process.env, "stdio");
  // Never pretty here: pino-pretty writes to stdout, which belongs to the protocol.
  const logger = createLogger({ level: config.LOG_LEVEL, name: "stdio" }, pino.destination({ fd: 2, sync: true }));
  // With REDIS_URL, two connections, as the server and the worker have (src/shared/redis-connection.ts). Tool calls
  // answer a person: they use a fail-fast one, so a Redis that stalls or refuses connections is answered "temporarily
  // unavailable" within REDIS_COMMAND_TIMEOUT_MS (the HTTP server's answer) instead of hanging until the MCP client's
  // own timeout. The in-process write runner is this process's worker and waits for Redis as a worker does: see
  // `runner` below.
  const redis =
    config.REDIS_URL === undefined
      ? undefined
      : new Redis(config.REDIS_URL, failFastRedisOptions(config.REDIS_COMMAND_TIMEOUT_MS));
  if (redis !== undefined) logRedisErrors(redis, logger);
  const runnerRedis = redis === undefined ? undefined : blockingDuplicate(redis);
  if (runnerRedis !== undefined)
    logSecondaryErrors(runnerRedis, logger, "write runner's Redis connection error", "debug");
  const limiter = createLimiter(config, redis, logger);
  // Without Redis one limiter for both (two in-memory books would each let 5 requests a second through); with it,
  // two clients of the same shared books in Redis, as a server and a worker in one process (ROLE=all) are.
  const runnerLimiter = runnerRedis === undefined ? limiter : createLimiter(config, runnerRedis, logger);
  const token = config.AIRTABLE_TOKEN as string;
  const getAccessToken = async () => token;
  const clients = airtableClientFactory(config, { limiter, logger });
  const clientFor = (userId: string) => clients({ userId, getAccessToken });

  const release = async () => {
    await limiter.close();
    if (runnerLimiter !== limiter) await runnerLimiter.close();
    redis?.disconnect();
    runnerRedis?.disconnect();
  };
  let userId: string;
  try {
    userId = await whoami(clientFor("stdio-startup"), config);
  } catch (error) {
    await release();
    throw error;
  }
  const airtable = clientFor(userId);
  const schemas = new SchemaCache({ ...(redis && { redis }), keyPrefix: config.REDIS_KEY_PREFIX, logger });
  // Writes run in this process (same processor as the worker pool): no queue or worker to set up. With
  // REDIS_URL their logs are kept in Redis (they outlive the process); without it, in memory.
  const retentionMs = config.OPERATION_RETENTION_HOURS * 3_600_000;
  let state: StdioState | undefined;
  try {
    state = redis === undefined ? await claimState(opts.env ?? process.env, userId, retentionMs, logger) : undefined;
  } catch (error) {
    await release();
    throw error;
  }
  const onDisk = state?.kind === "disk" ? state : undefined;
  const operations =
    redis !== undefined
      ? new OperationLog({ redis, keyPrefix: config.REDIS_KEY_PREFIX, retentionMs })
      : (onDisk?.operations ?? new MemoryOperationLog({ retentionMs }));
  // The runs' log appends, limiter bookings and schema updates ride the waiting connection (no command timeout,
  // commands kept until Redis is back), as a worker's do, so a write under way when Redis stalls pauses and goes on
  // when it answers, and never loses a record's outcome. On the fail-fast connection a timed-out append would leave
  // a batch Airtable applied unrecorded (a create then counts as in doubt, never re-sent, though it was written),
  // and a timed-out booking would end the whole operation `failed` (an error from outside an HTTP exchange is not one
  // the runner retries: embedded-runner.ts); nothing here resumes an operation left mid-way. What a tool call waits
  // on (submit's create, cancel, get_operation, tasks) stays on the fail-fast one.
  const runStore =
    runnerRedis === undefined
      ? operations
      : new OperationLog({ redis: runnerRedis, keyPrefix: config.REDIS_KEY_PREFIX, retentionMs });
  const runnerAirtable =
    runnerLimiter === limiter
      ? airtable
      : airtableClientFactory(config, { limiter: runnerLimiter, logger })({ userId, getAccessToken });
  const runnerSchemas =
    runnerRedis === undefined
      ? schemas
      : new SchemaCache({ redis: runnerRedis, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  const runner = new EmbeddedOperationRunner({
    store: operations,
    runStore,
    logger,
    processorDeps: () => ({
      airtable: runnerAirtable,
      schemas: runnerSchemas,
      reconcileSettleMs: config.RECONCILE_SETTLE_MS,
      credential: "personal access token",
    }),
    maxAttempts: config.WORKER_ATTEMPTS,
    rateLimitPauseMs: config.AIRTABLE_RATE_LIMIT_PENALTY_MS,
  });
  // One user, one personal access token that is never refreshed: every tool gets the same context.
  const context = {
    airtable,
    userId,
    // A refusal for a missing scope or base says to edit the token, not to sign in again (there is no sign-in here).
    credential: "personal access token" as const,
    schemas,
    logger,
    operations,
    operationRunner: runner,
    maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
    // In memory (no REDIS_URL, and the account's directory held by another copy or unusable), the operations are
    // this process's alone: list_operations and get_operation say so, or a write of the run before (its client
    // restarted this server) would read as never made.
    ...(state?.kind === "memory" && {
      operationsKeptSince: startedAt,
      operationsInMemoryBecause:
        state.problem === "busy"
          ? HELD_BY_ANOTHER_COPY
          : `Its state directory ${state.dir} cannot be used (${state.detail}): set DATA_DIR in the server's ` +
            "configuration to a directory it can write, or set REDIS_URL.",
    }),
  };
  const runtime = {
    context: async () => context,
    ownRecordsContext: () => context,
    runWrite: createWriteRunner({
      runner,
      operations,
      waitMs: config.WRITE_WAIT_MS,
      // The claims outlive the process as its operations do (Redis, or the account's SQLite file), or live in
      // memory with them.
      recentCalls: new RecentCalls({
        kv: redis !== undefined ? new RedisKeyValueStore(redis) : (onDisk?.kv ?? new MemoryKeyValueStore()),
        keyPrefix: config.REDIS_KEY_PREFIX,
        operations,
      }),
    }),
    readCallDeadlineMs: config.READ_CALL_DEADLINE_MS,
    // MCP Tasks for 2026-07-28 clients that declare them: views of this process's operation logs (operations run
    // here at once, so nothing waits in a queue); tasks/cancel is the runner's cancel.
    tasks: {
      store: new OperationTaskStore({
        operations,
        retentionMs,
        baseRps: config.AIRTABLE_BASE_RPS,
        cancel: (id, owner) => runner.cancel(id, owner, { source: "tasks/cancel" }),
      }),
      ownerUserId: () => userId,
    },
    logger,
  };
  const instructions = buildInstructions(allTools, {
    maxRecordsPerOperation: config.MAX_RECORDS_PER_OPERATION,
    writeWaitMs: config.WRITE_WAIT_MS,
  });

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing = false;
  // Both protocol eras (SDK v2 serveStdio): the connection's first message picks one (`initialize`: 2025-era;
  // `server/discover` or any request with the 2026-07-28 `_meta` envelope: modern), and one server from this
  // factory serves the connection (plus one for a discover probe a legacy client may send first).
  const transport = new StdioServerTransport(opts.stdin, opts.stdout);
  const serving = serveStdio((ctx) => createMcpServer(allTools, runtime, instructions, ctx.era), {
    transport,
    onerror: (error) => logger.debug({ err: error }, "MCP message refused or failed in the SDK"),
  });
  const close = async (): Promise<void> => {
    // Closing the connection closes the transport, which may report its end to us again: only the first works.
    if (closing) return closed;
    closing = true;
    await serving.close().catch(() => undefined);
    if (onDisk !== undefined) {
      // Kept on disk: the writes under way stop at their next batch boundary and stay unfinished in the file, and
      // the next process for this account resumes them where their logs stop (a batch whose answer did not come
      // is settled by reading the table back, never re-sent blindly).
      await runner.close({ waitMs: CLOSE_WAIT_MS });
      const paused = await onDisk.operations.unfinished().catch(() => []);
      if (paused.length > 0) {
        logger.info(
          { operations: paused, file: onDisk.file },
          `${paused.length} write operation${paused.length === 1 ? "" : "s"} paused: ` +
            "resumed when this stdio server next starts for the same Airtable account",
        );
      }
    } else {
      // Nobody resumes this process's writes (in Redis: each client starts its own process, which runs only what
      // it is given; in memory: the log ends with the process): one still running ends `failed`, saying where it
      // stopped, rather than `running` forever. Bounded: the MCP SDK's stdio client sends SIGTERM 2 s after closing
      // stdin and SIGKILL 2 s later (a batch in flight past that is ended in doubt; a Redis that does not answer
      // leaves the log as it was).
      await runner.close({ endRunning: STOPPED_WITH_PROCESS, waitMs: CLOSE_WAIT_MS });
    }
    await release();
    onDisk?.close();
    resolveClosed();
  };
  const stdin = opts.stdin ?? process.stdin;
  stdin.once("end", () => void close());
  stdin.once("close", () => void close());
  // The client gone the other way (its end of stdout closed: EPIPE) while stdin stays open: shut down too, rather
  // than run on with nobody to answer. (serveStdio owns the transport and its onclose.)
  (opts.stdout ?? process.stdout).once("error", () => void close());
  if (onDisk !== undefined) await resumeUnfinished(onDisk, userId, runner, logger);
  logger.info({ userId, tools: allTools.length }, "stdio MCP server ready");
  return { closed, close };
}

/**
 * Without REDIS_URL: the account's state directory claimed (state-dir.ts), or why not. A copy that finds it held
 * by another says so on stderr and keeps its operations in memory; one that cannot use it does the same when the
 * directory is the platform's default, and refuses to start (StdioStartupError) when DATA_DIR named it: the
 * person asked for that directory.
 */
async function claimState(
  env: NodeJS.ProcessEnv,
  userId: string,
  retentionMs: number,
  logger: Logger,
): Promise<StdioState> {
  const { root, fromDataDir } = stdioStateRoot(env);
  const state = await claimStdioState({ root, userId, retentionMs });
  if (state.kind === "disk") {
    if (state.waitedMs > 0) {
      logger.info(
        { file: state.file, waitedMs: state.waitedMs },
        "waited for a previous copy of this stdio server to let go of its write operations file",
      );
    }
    logger.debug({ file: state.file }, "write operations kept in this file");
  } else if (state.problem === "busy") {
    logger.warn(
      { dir: state.dir },
      "another copy of this stdio server is running for the same Airtable account and keeps its write operations " +
        "in this directory: this copy keeps its own in memory only (they end with it, and it does not resume or " +
        "list the other's); close the other MCP client, or give each client a DATA_DIR of its own",
    );
  } else if (fromDataDir) {
    throw new StdioStartupError(
      `Cannot keep write operations in DATA_DIR ${root} (${state.dir}: ${state.detail}). Set DATA_DIR to a ` +
        "directory this process can create and write (an absolute path: the MCP client picks the working directory), " +
        "or unset it to use the default.",
    );
  } else {
    logger.warn(
      { dir: state.dir },
      `cannot keep write operations in ${state.dir} (${state.detail}): kept in memory only, so a write this process ` +
        "leaves unfinished is not resumed; set DATA_DIR to a directory this process can write",
    );
  }
  return state;
}

/**
 * The account's operations an earlier run left unfinished (stopped at a batch boundary, or killed), resumed where
 * their logs stop under this process's runner and limiter. Only this account's (the file is the account's own; an
 * owner check all the same, since the runner would run them with this token). Operations past their retention are
 * not listed by `unfinished` and are not resumed. A log this version cannot read (an event of a newer version's, a
 * damaged row) is left as it is and named on stderr: one such operation must not stop the server from starting
 * (it did, with a stack trace, at every start) nor the others from resuming.
 */
async function resumeUnfinished(
  onDisk: Extract<StdioState, { kind: "disk" }>,
  userId: string,
  runner: EmbeddedOperationRunner,
  logger: Logger,
): Promise<void> {
  const resumed: string[] = [];
  for (const operationId of await onDisk.operations.unfinished()) {
    let state: Awaited<ReturnType<typeof onDisk.operations.state>>;
    try {
      state = await onDisk.operations.state(operationId);
    } catch (error) {
      logger.warn(
        { operationId, file: onDisk.file, err: error },
        "a write operation an earlier run left unfinished cannot be read by this version, so it is not resumed: " +
          "look its records up in the table (search_records or list_records) before writing them again",
      );
      continue;
    }
    if (state === undefined || state.operation.ownerUserId !== userId) continue;
    runner.resume(state.operation);
    resumed.push(operationId);
  }
  if (resumed.length > 0) {
    logger.info(
      { operations: resumed, file: onDisk.file },
      `resuming ${resumed.length} write operation${resumed.length === 1 ? "" : "s"} an earlier run left unfinished`,
    );
  }
}

/**
 * Why a stdio process without REDIS_URL meets a 429 though its own limiter keeps to 5 requests a second per base:
 * something else spent the base's budget with the same base at the same time. Most often a second copy of this
 * server (each MCP client, and each window of some, starts its own), each with a limiter of its own.
 */
export const LOCAL_429_HINT =
  "Something else is using this base at the same time: most often a second copy of this stdio server (each MCP " +
  "client, or client window, starts its own), each keeping to the 5 requests per second alone. Give every copy the " +
  "same REDIS_URL so they share one limiter, or close the other client; a script or app using the base does this too.";

function createLimiter(config: Config, redis: Redis | undefined, logger: Logger): BottleneckAirtableLimiter {
  const settings = limiterSettingsFrom(config);
  // Same key prefix as the server and worker: with REDIS_URL, stdio joins their limits.
  return redis === undefined
    ? BottleneckAirtableLimiter.local({ settings, logger, rateLimitedHint: LOCAL_429_HINT })
    : BottleneckAirtableLimiter.clustered({ redis, keyPrefix: config.REDIS_KEY_PREFIX, settings, logger });
}

/** Airtable's own API, where personal access tokens from airtable.com/create/tokens work (config.ts default). */
const AIRTABLE_API = "https://api.airtable.com";

/**
 * Whether `url` names this machine by a loopback name: 127.0.0.0/8, [::1], localhost or a *.localhost name (RFC 6761
 * §6.3). The project's sandbox is reached that way (`npm run sandbox` listens on 127.0.0.1; the compose demo uses
 * sandbox.localhost); any other host is not it, so a refusal there is not explained by the sandbox.
 */
function onLoopback(url: string): boolean {
  const host = URL.canParse(url) ? new URL(url).hostname.toLowerCase() : "";
  return host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host) || host === "localhost" || host.endsWith(".localhost");
}

/**
 * A personal access token from Airtable is `pat`, 14 letters or digits, a dot and 64 hex digits (82 characters;
 * as Airtable issues them and the sandbox copies, not a documented format): a refused `pat…` of another shape was
 * most likely cut short when copied (Airtable shows the whole token once, at creation). Empty for any other token.
 */
function truncatedPatHint(token: string | undefined): string {
  if (token === undefined || !token.startsWith("pat") || /^pat[A-Za-z0-9]{14}\.[0-9a-f]{64}$/.test(token)) return "";
  return (
    ` The token starts with pat but is not a whole personal access token (pat, 14 letters or digits, a dot, 64 hex ` +
    `digits: 82 characters; this one has ${token.length}): copy it again whole.`
  );
}

/**
 * What to do about a token the API answered 401 (whoami), one paragraph. At Airtable: create a personal access
 * token. At a loopback URL (onLoopback: README's "stdio mode" points AIRTABLE_API_URL at the sandbox there), an
 * airtable.com token is not the fix: the sandbox makes a new demo token at every start (`npm run sandbox` prints
 * it), so a token from an earlier start, pasted into a client's configuration, is refused like this. Elsewhere (a
 * proxy, another host) neither is said for sure: the token must be one that API accepts. A `pat…` token of the
 * wrong length adds that it was likely cut short (truncatedPatHint). The token's form (Bearer, quotes, spaces) was
 * checked at start (config.ts tokenProblems), so it is not the cause here.
 */
export function refusedTokenMessage(
  config: Pick<Config, "AIRTABLE_API_URL"> & Partial<Pick<Config, "AIRTABLE_TOKEN">>,
): string {
  const url = config.AIRTABLE_API_URL.replace(/\/+$/, "");
  const hint = truncatedPatHint(config.AIRTABLE_TOKEN);
  if (url === AIRTABLE_API) {
    return (
      "AIRTABLE_TOKEN was refused by Airtable (401). Create a personal access token at " +
      "https://airtable.com/create/tokens with the scopes data.records:read, schema.bases:read (and the " +
      `others you need) and access to your bases, then set AIRTABLE_TOKEN to it.${hint}`
    );
  }
  const refused = `AIRTABLE_TOKEN was refused (401) by the Airtable API at ${url} (AIRTABLE_API_URL), not ${AIRTABLE_API}.`;
  const direct =
    "For the real Airtable, unset AIRTABLE_API_URL and AIRTABLE_CONTENT_URL and use a personal access token from " +
    "https://airtable.com/create/tokens.";
  if (onLoopback(url)) {
    return (
      `${refused} If that is the project's sandbox (npm run sandbox), its demo token changes at every start: set ` +
      `AIRTABLE_TOKEN to the token it printed this time. ${direct}${hint}`
    );
  }
  return (
    `${refused} Set AIRTABLE_TOKEN to a token that API accepts (a proxy in front of Airtable usually passes a ` +
    `personal access token on), and check that AIRTABLE_API_URL is the one you meant. ${direct}${hint}`
  );
}

/**
 * The token's user id; a refused token, an unreachable Airtable or (with REDIS_URL) a Redis that does not answer
 * within REDIS_COMMAND_TIMEOUT_MS becomes a message saying what to fix (StdioStartupError).
 */
async function whoami(client: AirtableClient, config: Config): Promise<string> {
  try {
    return (await client.whoami()).id;
  } catch (error) {
    if (error instanceof AirtableAuthError) throw new StdioStartupError(refusedTokenMessage(config));
    if (error instanceof AirtableNetworkError) {
      throw new StdioStartupError(
        `Could not reach Airtable at ${config.AIRTABLE_API_URL} (${error.message}). Check the network or AIRTABLE_API_URL.`,
      );
    }
    if (error instanceof AirtableError) {
      throw new StdioStartupError(`Airtable refused to identify the token's user: ${error.describe()}`);
    }
    // The request is booked in the shared limiter first (REDIS_URL): Redis did not answer that.
    if (config.REDIS_URL !== undefined && redisDoesNotAnswer(error)) {
      // Host and port only: REDIS_URL may carry a password.
      const { hostname, port } = new URL(config.REDIS_URL);
      // ioredis's own wording for a connection that never opened ("Reached the max retries per request limit (which
      // is 0). Refer to "maxRetriesPerRequest" option …") names its option, not the trouble (a stdio trial, session 26).
      const why =
        error instanceof Error && error.name === "MaxRetriesPerRequestError"
          ? "no connection could be made to it"
          : error instanceof Error
            ? error.message
            : String(error);
      throw new StdioStartupError(
        `Could not reach Redis at ${hostname}:${port || "6379"} (REDIS_URL; ${why}). Check REDIS_URL and that Redis ` +
          "is running, or unset REDIS_URL to keep the limiter and the operation logs in this process.",
      );
    }
    throw error;
  }
}
