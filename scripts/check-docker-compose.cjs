/* global require, process */
/**
 * `npm run demo`'s "pre" hook (package.json "predemo"): stops the demo, before `docker compose` runs, when this
 * machine cannot run it, with what is missing, how to install it, and the demo without Docker (`npm start`).
 * Without it, a Docker CLI without the Compose plugin parses `docker compose --env-file …` as its own options and
 * answers "unknown flag: --env-file", which names neither compose nor a fix.
 *
 * What it checks, in order (a failed check: its paragraphs on stderr, exit code 1; all fine: silent, exit 0):
 * - `docker` runs at all (not on PATH: Docker is not installed);
 * - `docker compose version` succeeds (else no Compose plugin). A standalone `docker-compose` is then looked at
 *   to say what it is, never run in the plugin's place: Compose v1 (1.x, end of life since July 2023) cannot build
 *   this demo (below), and a standalone v2 is the plugin's own program, which docker finds once linked into
 *   ~/.docker/cli-plugins (the message gives the command), so `npm run demo` keeps running one command everywhere;
 * - the Compose version is at least 2.17: the demo's sandbox image is built from `dockerfile_inline`
 *   (docker-compose.yml), which older versions reject. A version it cannot read is not held against it.
 * A Docker engine that is not running is left to compose's own message ("Cannot connect to the Docker daemon"),
 * which says so. A check that does not answer within 20 s is skipped.
 *
 * Written for old Node, like check-node-version.cjs: the demo runs in containers, so any Node that runs npm may run
 * this. tests/scripts/check-docker-compose.test.ts runs it (and `npm run demo`) with fake `docker` programs on PATH.
 */
"use strict";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose: old Node must parse it
var spawnSync = require("child_process").spawnSync;

var NEEDED = [2, 17];
var NEEDED_TEXT = NEEDED.join(".");

var WITHOUT_DOCKER =
  "Without Docker: `npm start` runs the demo in one Node.js process (22.18 or newer): the server with the fake " +
  "Airtable and its demo base, nothing else to install (README: How `npm start` runs).";
var INSTALL_PLUGIN =
  "Install the Compose plugin: Docker Desktop (macOS, Windows) includes it; on Linux, install the package " +
  "docker-compose-plugin from Docker's apt or dnf repository (`sudo apt-get install docker-compose-plugin`), or " +
  "see https://docs.docker.com/compose/install/linux/.";

/** Runs `command args`: { missing } when it is not on PATH, { timedOut } when it did not answer, else its output. */
function run(command, args) {
  var result = spawnSync(command, args, { encoding: "utf8", timeout: 20000, windowsHide: true });
  if (result.error && result.error.code === "ENOENT") return { missing: true };
  if (result.error) return { timedOut: true };
  return { status: result.status, stdout: result.stdout || "", stderr: result.stderr || "" };
}

/** The first x.y.z in `text` as [x, y, z], or null. */
function versionIn(text) {
  var match = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

function olderThanNeeded(version) {
  return version[0] < NEEDED[0] || (version[0] === NEEDED[0] && version[1] < NEEDED[1]);
}

/** A program's complaint on one line, quoted, for the message; "" when it said nothing. */
function quoted(output) {
  var line = output.trim().split(/\r?\n/)[0];
  return line ? ' ("' + line + '")' : "";
}

function stop(paragraphs) {
  process.stderr.write(paragraphs.join("\n\n") + "\n");
  process.exitCode = 1;
}

/** What a standalone `docker-compose` on PATH is, and what to do with it; "" when there is none. */
function aboutStandalone() {
  var standalone = run("docker-compose", ["version"]);
  if (standalone.missing || standalone.timedOut || standalone.status !== 0) return "";
  var version = versionIn(standalone.stdout);
  var shown = version ? version.join(".") : "of unknown version";
  if (version && version[0] < 2) {
    return (
      "A docker-compose " +
      shown +
      " is installed: that is Compose v1 (end of life since July 2023), which cannot build this demo (its sandbox " +
      "image uses dockerfile_inline, Compose " +
      NEEDED_TEXT +
      " or newer). Install the plugin instead."
    );
  }
  if (version && olderThanNeeded(version)) {
    return (
      "A standalone docker-compose " +
      shown +
      " is installed, too old for this demo (Compose " +
      NEEDED_TEXT +
      " or newer): install the plugin instead."
    );
  }
  return (
    "A standalone docker-compose " +
    shown +
    " is installed: let docker use it as its plugin (`mkdir -p ~/.docker/cli-plugins && ln -s " +
    '"$(command -v docker-compose)" ~/.docker/cli-plugins/docker-compose`) and run `npm run demo` again, or run ' +
    "it yourself: `docker-compose --env-file deploy/sandbox.env --profile sandbox up --build`."
  );
}

function check() {
  var compose = run("docker", ["compose", "version"]);
  if (compose.missing) {
    stop([
      "npm run demo needs Docker with its Compose plugin (`docker compose`), and there is no `docker` command on " +
        "this machine's PATH. Install Docker: Docker Desktop (macOS, Windows: https://docs.docker.com/desktop/), " +
        "or on Linux Docker Engine (https://docs.docker.com/engine/install/) with its docker-compose-plugin package.",
      WITHOUT_DOCKER,
    ]);
    return;
  }
  if (compose.timedOut) return;
  if (compose.status !== 0) {
    var paragraphs = [
      "npm run demo needs Docker Compose (`docker compose`), and this Docker has no Compose plugin: " +
        "`docker compose version` failed" +
        quoted(compose.stderr || compose.stdout) +
        '. (Without the plugin, docker reads compose\'s options as its own: "unknown flag: --env-file".)',
      INSTALL_PLUGIN,
    ];
    var standalone = aboutStandalone();
    if (standalone) paragraphs.push(standalone);
    paragraphs.push(WITHOUT_DOCKER);
    stop(paragraphs);
    return;
  }
  var version = versionIn(compose.stdout);
  if (version && olderThanNeeded(version)) {
    stop([
      "npm run demo needs Docker Compose " +
        NEEDED_TEXT +
        " or newer (its sandbox image is built from dockerfile_inline), and `docker compose version` says " +
        version.join(".") +
        ". Update the Compose plugin: Docker Desktop's update, or on Linux the docker-compose-plugin package " +
        "(https://docs.docker.com/compose/install/linux/).",
      WITHOUT_DOCKER,
    ]);
  }
}

check();
