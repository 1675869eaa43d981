#!/usr/bin/env node
/**
 * The package's command (`npx airtable-oauth-mcp <command>`):
 *   start   everything as configured (`npm start`): embedded by default, distributed with REDIS_URL
 *   stdio   MCP over stdin/stdout for one local user with AIRTABLE_TOKEN (a personal access token)
 *   server  the HTTP server (OAuth + /mcp)
 *   worker  the write-pipeline worker
 */
import { closestNames } from "./shared/closest-name.ts";
import { ConfigError, configReference } from "./shared/config.ts";
import { StdioStartupError, runStdio } from "./stdio/run-stdio.ts";

/** The usage text; a function so that the file it names is looked up only when it is shown, not at every start. */
const usage = (): string => `Usage: airtable-oauth-mcp <command>

Commands:
  start    Run everything as configured: one process with a SQLite file in DATA_DIR (and a fake Airtable
           until AIRTABLE_CLIENT_ID is set), or with REDIS_URL the distributed mode (ROLE=all|server|worker).
  stdio    Serve MCP over stdin/stdout with AIRTABLE_TOKEN (an Airtable personal access token).
  server   Run the HTTP server (OAuth sign-in and the /mcp endpoint).
  worker   Run the write-pipeline worker.

Configuration comes from environment variables; see ${configReference()}.
`;

/** The commands `main` runs (help aside), in the order the usage lists them. */
const COMMANDS = ["start", "stdio", "server", "worker"] as const;

/**
 * The line for a command `main` does not know, naming the one a typo most likely meant (`stdoi` → stdio; the rule of
 * every "did you mean", src/shared/closest-name.ts), so a client's server log says what to fix without reading the
 * usage below it. A command far from every one is only called unknown.
 */
function unknownCommand(command: string): string {
  const [meant] = closestNames(command, COMMANDS, 1);
  return `Unknown command ${JSON.stringify(command)}.${meant === undefined ? "" : ` Did you mean "${meant}"?`}`;
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case "stdio": {
      try {
        const running = await runStdio();
        // A client that stops the process with a signal (the MCP SDK's stdio client sends SIGTERM when it has not
        // exited 2 s after stdin closed; Ctrl-C in a terminal) gets the same close as one that closes stdin: the
        // writes under way end where they stopped. Node's default would exit at once, in the middle of it.
        const stop = () => void running.close();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
        await running.closed;
        // stdin may still be open (a signal, not an end of input): nothing more is served.
        process.exit(0);
      } catch (error) {
        if (error instanceof ConfigError || error instanceof StdioStartupError) {
          process.stderr.write(`airtable-oauth-mcp stdio: ${error.message}\n`);
          process.exit(1);
        }
        throw error;
      }
      return;
    }
    case "start":
      await import("./main.ts");
      return;
    case "server":
      await import("./server/main.ts");
      return;
    case "worker":
      await import("./worker/main.ts");
      return;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage());
      return;
    default:
      process.stderr.write(command === undefined ? usage() : `${unknownCommand(command)}\n\n${usage()}`);
      process.exit(2);
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`airtable-oauth-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
