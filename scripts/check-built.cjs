/* global require, process */
/**
 * The "pre" hook of `npm run start:server` and `npm run start:worker` (package.json): those run the build in
 * `dist/` (what the Docker images run), which a fresh clone does not have. Without this check a person who tries
 * them after `npm ci` gets Node's MODULE_NOT_FOUND and a stack trace naming no command; with it, one sentence naming
 * the missing file and the two ways on: `npm run build` first, or `npm start` (the TypeScript sources as they are,
 * README "How `npm start` runs"). Exit code 1.
 *
 * Usage: node scripts/check-built.cjs <file the script runs>. Written for old Node like check-node-version.cjs (ES5,
 * nothing but `fs`), which runs before it in the same hook.
 */
"use strict";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose: old Node must parse it
var fs = require("fs");

var file = process.argv[2];
if (file !== undefined && !fs.existsSync(file)) {
  // npm names the hook prestart:server; the person typed start:server.
  var script = String(process.env.npm_lifecycle_event || "").replace(/^pre/, "") || "this script";
  process.stderr.write(
    "airtable-oauth-mcp: `npm run " +
      script +
      "` runs the build in dist/, and " +
      file +
      " is not there: run `npm run build` first, then run it again. To run from the sources without building, use " +
      "`npm start` (ROLE=server or ROLE=worker picks one role with REDIS_URL; README: How npm start runs).\n",
  );
  process.exitCode = 1;
}
