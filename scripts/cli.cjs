/* global require, process */
/**
 * The command from a clone, for any Node.js: `node scripts/cli.cjs <command>` (start, stdio, server, worker), e.g.
 * an MCP client's `{"command": "node", "args": ["/path/to/clone/scripts/cli.cjs", "stdio"]}`. It runs
 * src/cli.ts, after the same version check as the npm scripts' "pre" hooks: on a Node.js too old to run
 * TypeScript (Node 20 fails with ERR_UNKNOWN_FILE_EXTENSION and a stack trace on the first .ts file), one sentence
 * on stderr and exit code 1 instead, which an MCP client shows in its server log.
 *
 * Written for old Node, like check-node-version.cjs: no syntax or API a Node that can start would not parse.
 */
"use strict";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose: old Node must parse it
require("./check-node-version.cjs");
if (process.exitCode) {
  // check-node-version.cjs wrote its sentence; nothing else runs.
} else {
  // A dynamic import: Node ≥ 22.18 loads src/cli.ts as an ES module, stripping its types. argv stays as given, so
  // src/cli.ts reads the command at the same place as when it is run directly.
  import("../src/cli.ts").catch(function (error) {
    process.stderr.write(String((error && error.stack) || error) + "\n");
    process.exitCode = 1;
  });
}
