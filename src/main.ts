/**
 * `npm start` (and `npx airtable-oauth-mcp start`): the whole product as the configuration says, in this one
 * process. A thin composition root: read the config (the environment, and .env when present), start, stop cleanly
 * on SIGTERM.
 *
 * - No REDIS_URL: the embedded mode (src/start/embedded.ts): server, operation runner, in-memory limiter and a
 *   SQLite file under DATA_DIR; with no AIRTABLE_CLIENT_ID (outside production) a fake Airtable with demo data.
 *   Needs no configuration at all.
 * - REDIS_URL: the distributed mode (src/start/distributed.ts), ROLE=all|server|worker.
 *
 * The Docker images keep running src/server/main.ts and src/worker/main.ts (separate roles); ROLE does not
 * change them.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import {
  environmentTypos,
  loadConfigOrExit,
  settingsFileOf,
  settingsFileTypos,
  startPlanOf,
  type SettingsFile,
} from "./shared/config.ts";
import { createLogger } from "./shared/logger.ts";
import { exitOnStartFailure } from "./shared/start-failure.ts";
import { onParentExit, startedByNpm } from "./shared/parent-exit.ts";

// A closed stdout (a log pipe whose reader died, `npm start | head`) must not stop or hang the server: the logger
// ends logging on EPIPE (logger.ts), and the banner's write error is ignored here; any other error is a fault.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

// The environment as given, before .env adds to it: a name there that misspells a setting is named below.
const givenEnvironment = { ...process.env };
// A .env in the working directory (e.g. a copy of .env.example) is read; variables already set win over it.
const envFile = existsSync(".env");
let settingsFile: SettingsFile | undefined;
if (envFile) {
  // What the file sets that the environment does not: a configuration error names those as the file's.
  settingsFile = settingsFileOf(".env", parseEnv(readFileSync(".env", "utf8")), process.env);
  process.loadEnvFile(".env");
}
const config = loadConfigOrExit("start", process.env, settingsFile, givenEnvironment);
const plan = startPlanOf(config);
const logger = createLogger({
  level: config.LOG_LEVEL,
  pretty: config.LOG_PRETTY,
  name: plan.mode === "embedded" ? "embedded" : config.ROLE,
});
if (envFile) logger.info("read settings from .env (variables set in the environment take precedence)");
// The banner repeats these (banner.ts): a misspelt name is ignored, and the log alone is easy to miss.
const typosOfEnvironment = environmentTypos(givenEnvironment);
for (const typo of [...typosOfEnvironment, ...settingsFileTypos(settingsFile)]) logger.warn(typo);

let running: { close(): Promise<void> };
try {
  // Imported once the configuration is known good: a configuration problem is reported at once, and each mode
  // loads only its own parts (the embedded mode no worker, the distributed one no SQLite or sandbox).
  if (plan.mode === "embedded") {
    const { startEmbedded } = await import("./start/embedded.ts");
    running = await startEmbedded(config, {
      logger,
      ...(settingsFile !== undefined && { settingsFile }),
      environmentTypos: typosOfEnvironment,
    });
  } else {
    const { startDistributed } = await import("./start/distributed.ts");
    running = await startDistributed(config, logger, settingsFile, typosOfEnvironment);
  }
} catch (error) {
  // Start-up problems (DATA_DIR not writable, a bad key file, the port taken…) are messages for a person.
  exitOnStartFailure("airtable-oauth-mcp", error);
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  // Cloud Run and docker stop send SIGKILL 10 s after SIGTERM: exit on our own terms before that.
  const forced = setTimeout(() => {
    logger.warn("shutdown took too long; exiting (unfinished operations continue at the next start)");
    process.exit(1);
  }, 9_000);
  await running.close();
  clearTimeout(forced);
  logger.info("stopped");
  process.exit(0);
}
// `on`, not `once`: Ctrl-C in a terminal signals npm and node alike, and npm passes it on, so the same signal can
// arrive twice; the second must not kill the process in the middle of its clean stop.
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// A SIGTERM sent to `npm start` stops npm and its shell but never reaches this process (parent-exit.ts): under npm, a
// parent that exits is a stop too.
if (startedByNpm()) onParentExit(() => void shutdown("npm exited"));
