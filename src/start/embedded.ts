/**
 * The embedded mode: `npm start` without REDIS_URL. One process is the whole product — the MCP server and the
 * OAuth authorization server (src/server's app), the operation runner in-process (the processor the workers
 * run), the Airtable limiter in memory, and durable state in one SQLite file under DATA_DIR: registered clients,
 * grants and encrypted Airtable tokens (SqliteTokenStore), operation logs (SqliteOperationLog), sign-ins in
 * progress and the revocation list (SqliteKeyValueStore). A restart keeps every sign-in and the operation
 * history, and continues the operations it stopped in the middle of.
 *
 * Without AIRTABLE_CLIENT_ID (outside production) the fake Airtable runs in this process too (demo-airtable.ts).
 * Without TOKEN_ENCRYPTION_KEY the key is generated once and kept in DATA_DIR; PUBLIC_URL defaults to
 * http://localhost:PORT. Single instance by design: REDIS_URL switches to the distributed mode.
 */
import { createServer } from "node:http";
import path from "node:path";
import { closeHttpServer, keepIdleConnections } from "../shared/http/keep-alive.ts";
import { listenOn } from "../shared/http/listen.ts";
import { airtableClientFactory } from "../shared/airtable/client-factory.ts";
import { AirtableOAuth } from "../shared/airtable/oauth.ts";
import { startPlanOf, type Config, type SettingsFile } from "../shared/config.ts";
import { MemoryKeyValueStore } from "../shared/kv/memory-key-value-store.ts";
import { SqliteKeyValueStore } from "../shared/kv/sqlite-key-value-store.ts";
import { BottleneckAirtableLimiter, limiterSettingsFrom } from "../shared/limiter/index.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { EmbeddedOperationRunner } from "../shared/operations/embedded-runner.ts";
import { SqliteOperationLog } from "../shared/operations/sqlite-operation-log.ts";
import { SchemaCache } from "../shared/schema-cache.ts";
import { DATABASE_FILE, lockDataDir, openDatabase } from "../shared/sqlite/database.ts";
import { AirtableTokenProvider } from "../shared/tokens/airtable-token-provider.ts";
import { TokenCipher } from "../shared/tokens/cipher.ts";
import { SqliteTokenStore } from "../shared/tokens/sqlite-token-store.ts";
import type { TokenStore } from "../shared/tokens/types.ts";
import { AirtableReachability } from "../shared/airtable/reachability.ts";
import { createServerApp } from "../server/app.ts";
import { banner, publicUrlPortMismatch } from "./banner.ts";
import { startDemoAirtable, type DemoAirtable } from "./demo-airtable.ts";
import { encryptionKeyFor } from "./encryption-key.ts";
import { KeyValueFingerprintStore, requireKeyAgreement } from "../shared/key-fingerprint.ts";

export interface RunningEmbedded {
  /** The MCP endpoint, `${PUBLIC_URL}/mcp`. */
  mcpUrl: string;
  port: number;
  /**
   * Stops taking connections (in-flight requests get up to 8 s), stops running operations at their next batch
   * boundary (they continue at the next start; the log names them: pausedOperationsMessage), saves the fake
   * Airtable's data and closes the database.
   */
  close(): Promise<void>;
}

export interface EmbeddedOptions {
  logger: Logger;
  /** Where the banner for a person goes. Default: stdout. */
  print?: (text: string) => void;
  /** What `npm start` read from .env, for the notes that name a variable to change (banner.ts). */
  settingsFile?: SettingsFile;
  /** The banner's notes on names in the environment that misspell a setting (config.ts, environmentTypos). */
  environmentTypos?: readonly string[];
}

/**
 * `config`: loadConfig(…, "start") without REDIS_URL. Throws Errors that name what to fix (DATA_DIR, key file,
 * port, another process already using DATA_DIR: lockDataDir). DATA_DIR stays claimed until `close()` ends.
 */
export async function startEmbedded(config: Config, opts: EmbeddedOptions): Promise<RunningEmbedded> {
  // Claimed before anything in it is read or written (the key file, the fake Airtable's data, the database).
  const dataDirLock = await lockDataDir(path.resolve(config.DATA_DIR));
  let running: RunningEmbedded;
  try {
    running = await startInDataDir(config, opts);
  } catch (error) {
    dataDirLock.release();
    throw error;
  }
  return {
    ...running,
    async close() {
      try {
        await running.close();
      } finally {
        dataDirLock.release();
      }
    },
  };
}

/** startEmbedded's work once DATA_DIR is claimed: everything the embedded mode runs; same errors and result. */
async function startInDataDir(config: Config, opts: EmbeddedOptions): Promise<RunningEmbedded> {
  const { logger } = opts;
  const print = opts.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const plan = startPlanOf(config);
  const dataDir = path.resolve(config.DATA_DIR);
  const publicUrl = config.PUBLIC_URL ?? `http://localhost:${config.PORT}`;

  const key = encryptionKeyFor(config.TOKEN_ENCRYPTION_KEY, dataDir);
  if (key.source === "generated") {
    logger.info({ file: key.file }, "generated TOKEN_ENCRYPTION_KEY and saved it (mode 0600): keep this file");
  } else if (key.source === "data-dir") {
    logger.info({ file: key.file }, "using the TOKEN_ENCRYPTION_KEY saved in DATA_DIR");
  }
  for (const warning of key.warnings) logger.warn(warning);

  let demo: DemoAirtable | undefined;
  if (plan.sandbox) {
    demo = await startDemoAirtable({ dataDir, redirectUri: `${publicUrl}/oauth/callback` });
    logger.warn(
      { airtable: demo.sandbox.url, dataFile: demo.dataFile, restored: demo.restored },
      "no AIRTABLE_CLIENT_ID: using the FAKE Airtable (sandbox) with demo data",
    );
  } else {
    logger.info("single-instance mode (no REDIS_URL): this one process serves everything; set REDIS_URL to scale out");
  }
  const effective: Config = {
    ...config,
    PUBLIC_URL: publicUrl,
    TOKEN_ENCRYPTION_KEY: key.key,
    ...demo?.settings,
    ...(demo !== undefined && { AIRTABLE_CLIENT_SECRET: undefined }),
  };

  const db = await openDatabase(path.join(dataDir, DATABASE_FILE));
  const keyPrefix = effective.REDIS_KEY_PREFIX;
  const kv = new SqliteKeyValueStore(db);
  // The database remembers the key it was written with: a changed TOKEN_ENCRYPTION_KEY (without the old one in
  // TOKEN_ENCRYPTION_KEY_PREVIOUS) would leave every stored sign-in unreadable, so it refuses to start instead.
  await requireKeyAgreement(
    new KeyValueFingerprintStore(kv, keyPrefix, (key) => `the key "${key}" of ${path.join(dataDir, DATABASE_FILE)}`),
    effective,
    logger,
  );
  const metrics = new Metrics({ logger });
  const cipher = TokenCipher.create(key.key, effective.TOKEN_ENCRYPTION_KEY_PREVIOUS);
  let store: TokenStore;
  if (effective.TOKEN_STORE === "firestore") {
    // Loaded only when chosen: the Firestore client takes seconds to import, which every start would pay.
    const { createTokenStore } = await import("../shared/tokens/index.ts");
    store = createTokenStore(effective, { cipher, keyPrefix });
  } else {
    store = new SqliteTokenStore({ db, cipher });
  }
  const limiter = BottleneckAirtableLimiter.local({
    settings: limiterSettingsFrom(effective),
    hooks: metrics.limiterHooks,
    logger,
  });
  const airtableOAuth = new AirtableOAuth({
    authUrl: effective.AIRTABLE_AUTH_URL,
    clientId: effective.AIRTABLE_CLIENT_ID!,
    ...(effective.AIRTABLE_CLIENT_SECRET ? { clientSecret: effective.AIRTABLE_CLIENT_SECRET } : {}),
  });
  // One process refreshes: the lock only has to keep this process's concurrent callers apart.
  const tokens = new AirtableTokenProvider({
    store,
    oauth: airtableOAuth,
    locks: new MemoryKeyValueStore(),
    keyPrefix,
    logger,
  });
  const operations = new SqliteOperationLog({ db, retentionMs: effective.OPERATION_RETENTION_HOURS * 3_600_000 });
  const schemas = new SchemaCache({ keyPrefix, logger });
  const clients = airtableClientFactory(effective, { limiter, logger });
  const runner = new EmbeddedOperationRunner({
    store: operations,
    logger,
    processorDeps: (operation) => ({
      airtable: clients({
        userId: operation.ownerUserId,
        getAccessToken: (rejected) => tokens.getAccessToken(operation.ownerUserId, rejected),
        // The owner's userId is in the run's log context (EmbeddedOperationRunner): bound here too, it was written twice.
        logger: logger.child({ baseId: operation.baseId }),
        // A 429 is waited out in place (the penalty) and never counts as a failed attempt, as in the workers.
        retry: { maxRateLimitWaits: 10 },
        onAttempt: metrics.onAirtableAttempt,
      }),
      schemas,
      reconcileSettleMs: effective.RECONCILE_SETTLE_MS,
    }),
    maxAttempts: effective.WORKER_ATTEMPTS,
    rateLimitPauseMs: effective.AIRTABLE_RATE_LIMIT_PENALTY_MS,
  });

  // Aborted first thing in close(): requests the shutdown cuts off are not cancellations (run-write.ts).
  const shutdown = new AbortController();
  // Airtable URLs set by hand (a sandbox of one's own) are checked; the demo's sandbox runs in this process.
  const airtableReachability = demo === undefined ? new AirtableReachability(effective, { logger }) : undefined;
  const app = createServerApp({
    ...(airtableReachability !== undefined && { airtableReachability }),
    shutdown: shutdown.signal,
    config: effective,
    kv,
    keyPrefix,
    store,
    airtableClients: clients,
    airtableOAuth,
    tokens,
    operations,
    runner,
    schemas,
    logger,
    metrics,
  });
  const server = createServer(app);
  keepIdleConnections(server, effective.HTTP_KEEP_ALIVE_TIMEOUT_MS);
  try {
    await listenOn(server, effective.PORT, "PORT");
  } catch (error) {
    await Promise.allSettled([runner.close(), limiter.close(), demo?.sandbox.close()]);
    db.close();
    throw error;
  }
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : effective.PORT;

  // Operations this process stopped in the middle of (shutdown, crash) go on where their logs stopped.
  const unfinished = await operations.unfinished();
  for (const operationId of unfinished) {
    const state = await operations.state(operationId);
    if (state !== undefined) runner.resume(state.operation);
  }
  if (unfinished.length > 0) logger.info({ operations: unfinished.length }, "resuming unfinished operations");

  logger.info({ port, publicUrl, dataDir, mode: "embedded" }, "server listening");
  await airtableReachability?.warnAtStart();
  const portMismatch = publicUrlPortMismatch(publicUrl, port, opts.settingsFile);
  if (portMismatch !== undefined) logger.warn(portMismatch);
  print(
    banner({
      publicUrl,
      port,
      mode: "embedded",
      dataDir,
      ...(demo !== undefined && {
        demo: { userEmail: demo.userEmail, dataFile: demo.dataFile, readOnlyBase: demo.readOnlyBase },
      }),
      ...(opts.settingsFile !== undefined && { settingsFile: opts.settingsFile }),
      ...(opts.environmentTypos !== undefined && { environmentTypos: opts.environmentTypos }),
    }),
  );

  return {
    mcpUrl: `${publicUrl}/mcp`,
    port,
    async close() {
      logger.info("no new connections, finishing in-flight requests");
      shutdown.abort();
      await closeHttpServer(server, 8_000);
      await runner.close();
      // Said in the shutdown's log, or a person who pressed Ctrl-C mid-write sees only "stopped" and cannot tell
      // the write was left half done on purpose: the logs not ended are what the next start resumes (above).
      const paused = await operations.unfinished().catch(() => []);
      if (paused.length > 0) logger.info({ operations: paused }, pausedOperationsMessage(paused));
      await limiter.close().catch(() => undefined);
      await store.close();
      await demo?.sandbox.close();
      db.close();
    },
  };
}

/** How many ids the shutdown line names before "and N more". */
const PAUSED_IDS_SHOWN = 5;

/**
 * The shutdown's line for the operations stopped at a batch boundary (`ids`: their operation ids, oldest first, at
 * least one): `2 operations paused (op_…, op_…): they continue when the server starts again`.
 */
export function pausedOperationsMessage(ids: readonly string[]): string {
  const shown = ids.slice(0, PAUSED_IDS_SHOWN).join(", ");
  const more = ids.length > PAUSED_IDS_SHOWN ? ` and ${ids.length - PAUSED_IDS_SHOWN} more` : "";
  return ids.length === 1
    ? `1 operation paused (${shown}): it continues when the server starts again`
    : `${ids.length} operations paused (${shown}${more}): they continue when the server starts again`;
}
