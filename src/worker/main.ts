/**
 * Composition root of the worker tier (the Docker image's entrypoint, `npm run start:worker`): read config, run
 * the BullMQ worker, serve /healthz and /readyz on HEALTH_PORT, stop cleanly on SIGTERM. Run as many worker
 * processes as you like: limits, fairness slots and operation logs all live in Redis.
 */
import { loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/logger.ts";
import { exitOnStartFailure } from "../shared/start-failure.ts";
import { startWorker } from "./start-worker.ts";

const config = loadConfigOrExit("worker");
const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: "worker" });
// A failed start (a port taken…) is one sentence for the operator, not a stack trace.
const running = await startWorker(config, { logger }).catch((error: unknown) =>
  exitOnStartFailure("airtable-oauth-mcp worker", error),
);

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, "shutting down: no new jobs; running operations stop after their current batch");
  // Cloud Run sends SIGKILL 10 s after SIGTERM; a batch takes well under a second, so 8 s is ample.
  const forced = setTimeout(() => {
    logger.warn("shutdown took too long; exiting (unfinished jobs stall and another worker resumes them)");
    process.exit(1);
  }, 8_000);
  await running.close();
  clearTimeout(forced);
  logger.info("stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
