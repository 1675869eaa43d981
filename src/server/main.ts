/**
 * Composition root of the web tier (the Docker image's entrypoint, `npm run start:server`): read config, start
 * the server, stop cleanly on SIGTERM. Stateless: run as many instances as you like behind a load balancer.
 * `npm start` (src/main.ts) runs the same server, alone or with a worker or embedded, as configured.
 */
import { loadConfigOrExit } from "../shared/config.ts";
import { createLogger } from "../shared/logger.ts";
import { exitOnStartFailure } from "../shared/start-failure.ts";
import { startServer } from "./start-server.ts";

const config = loadConfigOrExit("server");
const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: "server" });
// A failed start (a port taken…) is one sentence for the operator, not a stack trace.
const running = await startServer(config, { logger }).catch((error: unknown) =>
  exitOnStartFailure("airtable-oauth-mcp server", error),
);

async function shutdown(signal: string): Promise<void> {
  logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
  await running.close();
  logger.info("stopped");
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
