/* global process */
/**
 * Stops `npm start`, `npm test`, `npm run dev` and `npm run sandbox` (their "pre" hooks in package.json), and
 * `node scripts/cli.cjs` (which requires it first), on a Node.js older than this project needs, with one sentence naming the version found, the version needed and how to get it. Without
 * it, Node 20 fails on the first .ts file with ERR_UNKNOWN_FILE_EXTENSION and no hint.
 *
 * Written for old Node: ES5 syntax, no modules, nothing required, so any Node that can start can parse it.
 * The minimum is the one of package.json's "engines" (tests/scripts/check-node-version.test.ts keeps them equal):
 * 22.18 is the first Node 22 that strips TypeScript types without a flag.
 *
 * `npm ci` is not hooked here: .npmrc sets engine-strict, so npm itself refuses an old Node before it installs
 * anything (and before any install script of ours could run), naming the required and the actual version.
 *
 * NODE_VERSION_CHECK_AS (tests only) checks that version instead of the running one.
 */
"use strict";

var REQUIRED = "22.18.0";
var RECOMMENDED_MAJOR = "24"; // .nvmrc

function numbers(version) {
  var parts = String(version).replace(/^v/, "").split(/[.+-]/);
  var out = [];
  for (var i = 0; i < 3; i++) {
    var n = parseInt(parts[i], 10);
    out.push(isNaN(n) ? 0 : n);
  }
  return out;
}

function isOlder(version, than) {
  var a = numbers(version);
  var b = numbers(than);
  for (var i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i] < b[i];
  }
  return false;
}

var found = process.env.NODE_VERSION_CHECK_AS || process.versions.node;
if (isOlder(found, REQUIRED)) {
  process.stderr.write(
    "airtable-oauth-mcp needs Node.js " +
      REQUIRED.replace(/\.0$/, "") +
      " or newer, but this is Node.js " +
      String(found).replace(/^v/, "") +
      ": run `nvm install && nvm use` in the project folder (both read .nvmrc, Node.js " +
      RECOMMENDED_MAJOR +
      ") or install Node.js " +
      RECOMMENDED_MAJOR +
      " from https://nodejs.org, then run the command again.\n",
  );
  process.exitCode = 1;
}
