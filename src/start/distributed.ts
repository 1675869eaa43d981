/**
 * The distributed mode: `npm start` with REDIS_URL. ROLE picks what this process runs — all: the server and a
 * write worker together (one process that can be joined by more, each with ROLE=worker or ROLE=server); server
 * or worker: one of them, exactly what the Docker images' entrypoints run. Queue, limiter, operation logs and
 * OAuth state live in Redis, so any number of such processes make one deployment.
 */
import type { Config, SettingsFile } from "../shared/config.ts";
import type { Logger } from "../shared/logger.ts";
import { Metrics } from "../shared/metrics/index.ts";
import { startServer, type RunningServer } from "../server/start-server.ts";
import { startWorker, type RunningWorker } from "../worker/start-worker.ts";
import { banner, publicUrlPortMismatch } from "./banner.ts";

export interface RunningDistributed {
  /** The MCP endpoint, when this process serves it (ROLE all or server). */
  mcpUrl?: string;
  /** Stops the server first (no new requests or operations), then the worker (running operations released). */
  close(): Promise<void>;
}

/**
 * `config`: loadConfig(…, "start") with REDIS_URL (PUBLIC_URL, AIRTABLE_CLIENT_ID, TOKEN_ENCRYPTION_KEY set).
 * `settingsFile`: what `npm start` read from .env, for the banner's note naming a variable to change there.
 * `environmentTypos`: the banner's notes on names in the environment that misspell a setting (environmentTypos).
 */
export async function startDistributed(
  config: Config,
  logger: Logger,
  settingsFile?: SettingsFile,
  environmentTypos: readonly string[] = [],
): Promise<RunningDistributed> {
  const role = config.ROLE;
  // ROLE=all: one /metrics (the server's) shows the worker's counters too; the server's /readyz covers both.
  const metrics = role === "all" ? new Metrics({ logger }) : undefined;
  let server: RunningServer | undefined;
  let worker: RunningWorker | undefined;
  try {
    if (role !== "worker") server = await startServer(config, { logger, ...(metrics && { metrics }) });
    if (role !== "server") {
      // ROLE=all: the server checked the Airtable URLs already (one warning per URL, not two).
      const alone = role === "worker";
      worker = await startWorker(config, {
        logger,
        ...(metrics && { metrics }),
        healthServer: alone,
        checkAirtableUrls: alone,
      });
    }
  } catch (error) {
    await server?.close();
    throw error;
  }
  if (server !== undefined) {
    const portMismatch = publicUrlPortMismatch(config.PUBLIC_URL!, server.port, settingsFile);
    if (portMismatch !== undefined) logger.warn(portMismatch);
    const facts = { publicUrl: config.PUBLIC_URL!, port: server.port, mode: "distributed" as const, environmentTypos };
    process.stdout.write(`${banner({ ...facts, ...(settingsFile !== undefined && { settingsFile }) })}\n`);
  }
  return {
    ...(server !== undefined && { mcpUrl: `${config.PUBLIC_URL}/mcp` }),
    async close() {
      await server?.close();
      await worker?.close();
    },
  };
}
