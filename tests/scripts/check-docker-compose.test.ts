/**
 * `npm run demo` on a Docker without the Compose plugin used to fail with docker's own "unknown flag: --env-file"
 * (`docker compose …` read as docker's options). Its "pre" hook, scripts/check-docker-compose.cjs, stops it first
 * and says what is missing, how to install it, and `npm start` as the demo without Docker. Run for real (the script,
 * and `npm run demo` through npm), with a PATH holding only `node`, `npm`, `sh` and small fake `docker` / `docker-compose`
 * programs that answer as the real ones do (the machine's own docker has no engine and no compose plugin).
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../deploy/deploy-files.ts";

const script = path.join(repoRoot, "scripts/check-docker-compose.cjs");
const root = mkdtempSync(path.join(tmpdir(), "check-docker-compose-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A docker CLI as it answers `docker compose …`: with FAKE_COMPOSE_VERSION unset, like docker 28 without the plugin
 * (`docker compose version`: "docker: unknown command: docker compose", exit 1; `docker compose --flag …`: "unknown
 * flag", exit 125); with it set, like the plugin of that version. Every call is appended to FAKE_LOG.
 */
const FAKE_DOCKER = `#!/bin/sh
echo "docker $*" >> "$FAKE_LOG"
if [ "$1" != compose ]; then echo "fake docker: only compose is faked" >&2; exit 2; fi
if [ -z "$FAKE_COMPOSE_VERSION" ]; then
  case "$2" in
    -*) printf 'unknown flag: %s\\n\\nUsage:  docker [OPTIONS] COMMAND [ARG...]\\n' "$2" >&2; exit 125 ;;
    *) printf 'docker: unknown command: docker compose\\n\\nRun '"'"'docker --help'"'"' for more information\\n' >&2; exit 1 ;;
  esac
fi
if [ "$2" = version ]; then echo "Docker Compose version v$FAKE_COMPOSE_VERSION"; fi
exit 0
`;

/** A standalone docker-compose answering `version` with FAKE_STANDALONE (v1's or v2's first line). */
const FAKE_DOCKER_COMPOSE = `#!/bin/sh
echo "docker-compose $*" >> "$FAKE_LOG"
echo "$FAKE_STANDALONE"
`;

/** The npm on this machine's PATH (its real file: npm finds its own modules from there). */
function findNpm(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "npm");
    if (dir !== "" && existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}
const npm = findNpm();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The fakes' calls, one line each ("docker compose version"). */
  calls: string[];
}

/**
 * Runs the check script (or `npm run demo` in the repository) with PATH holding only node, npm, sh and the fakes asked
 * for: `docker` unless `docker: false`, answering as the plugin `composeVersion` when given; `docker-compose` answering
 * `standalone` when given.
 */
async function runWith(
  command: "script" | "npm run demo",
  fakes: { docker?: boolean; composeVersion?: string; standalone?: string },
): Promise<Run> {
  const dir = mkdtempSync(path.join(root, "bin-"));
  const log = path.join(dir, "calls.log");
  writeFileSync(log, "");
  symlinkSync(process.execPath, path.join(dir, "node"));
  if (npm !== undefined) symlinkSync(npm, path.join(dir, "npm"));
  // npm runs scripts with `sh` found on PATH.
  symlinkSync("/bin/sh", path.join(dir, "sh"));
  const fake = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    chmodSync(path.join(dir, name), 0o755);
  };
  if (fakes.docker !== false) fake("docker", FAKE_DOCKER);
  if (fakes.standalone !== undefined) fake("docker-compose", FAKE_DOCKER_COMPOSE);
  const env: Record<string, string> = {
    PATH: dir,
    HOME: process.env.HOME ?? root,
    FAKE_LOG: log,
    ...(fakes.composeVersion !== undefined && { FAKE_COMPOSE_VERSION: fakes.composeVersion }),
    ...(fakes.standalone !== undefined && { FAKE_STANDALONE: fakes.standalone }),
  };
  const [file, args] =
    command === "script"
      ? [process.execPath, [script]]
      : [path.join(dir, "npm"), ["run", "demo", "--no-update-notifier", "--no-fund", "--no-audit"]];
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { cwd: repoRoot, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
    );
  });
  return { ...result, calls: readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

const NO_PLUGIN =
  "npm run demo needs Docker Compose (`docker compose`), and this Docker has no Compose plugin: `docker compose " +
  'version` failed ("docker: unknown command: docker compose"). (Without the plugin, docker reads compose\'s ' +
  'options as its own: "unknown flag: --env-file".)';
const INSTALL_PLUGIN =
  "Install the Compose plugin: Docker Desktop (macOS, Windows) includes it; on Linux, install the package " +
  "docker-compose-plugin from Docker's apt or dnf repository (`sudo apt-get install docker-compose-plugin`), or " +
  "see https://docs.docker.com/compose/install/linux/.";
const WITHOUT_DOCKER =
  "Without Docker: `npm start` runs the demo in one Node.js process (22.18 or newer): the server with the fake " +
  "Airtable and its demo base, nothing else to install (README: How `npm start` runs).";
const DEMO_UP = "docker compose --env-file deploy/sandbox.env --profile sandbox up --build";

describe.skipIf(process.platform === "win32")("npm run demo's check for Docker Compose", () => {
  it.skipIf(npm === undefined)(
    "npm run demo on a docker without compose: the check's paragraphs, and compose never started",
    async () => {
      const result = await runWith("npm run demo", {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain([NO_PLUGIN, INSTALL_PLUGIN, WITHOUT_DOCKER].join("\n\n") + "\n");
      // Before the check: docker's own "unknown flag: --env-file" and its usage, from the demo's command.
      expect(result.stderr).not.toMatch(/^unknown flag/m);
      expect(result.calls).toEqual(["docker compose version"]);
    },
    90_000,
  );

  it.skipIf(npm === undefined)(
    "npm run demo with the plugin (2.29.1): the check says nothing and the demo's compose command runs",
    async () => {
      const result = await runWith("npm run demo", { composeVersion: "2.29.1" });
      expect(result.code).toBe(0);
      expect(result.stderr).not.toMatch(/npm run demo needs/);
      expect(result.calls).toEqual(["docker compose version", DEMO_UP]);
    },
    90_000,
  );

  it("no docker at all: says Docker is missing, where to get it, and npm start", async () => {
    const result = await runWith("script", { docker: false });
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe(
      "npm run demo needs Docker with its Compose plugin (`docker compose`), and there is no `docker` command on " +
        "this machine's PATH. Install Docker: Docker Desktop (macOS, Windows: https://docs.docker.com/desktop/), " +
        "or on Linux Docker Engine (https://docs.docker.com/engine/install/) with its docker-compose-plugin " +
        `package.\n\n${WITHOUT_DOCKER}\n`,
    );
  });

  it("no plugin, and the legacy docker-compose v1: not used (it cannot build the demo), said why", async () => {
    const result = await runWith("script", { standalone: "docker-compose version 1.29.2, build 5becea4c" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        NO_PLUGIN,
        INSTALL_PLUGIN,
        "A docker-compose 1.29.2 is installed: that is Compose v1 (end of life since July 2023), which cannot build " +
          "this demo (its sandbox image uses dockerfile_inline, Compose 2.17 or newer). Install the plugin instead.",
        WITHOUT_DOCKER,
      ].join("\n\n") + "\n",
    );
    expect(result.calls).toEqual(["docker compose version", "docker-compose version"]);
  });

  it("no plugin, and a standalone docker-compose v2: how to make docker use it, or the command to run", async () => {
    const result = await runWith("script", { standalone: "Docker Compose version v2.29.1" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "\n\nA standalone docker-compose 2.29.1 is installed: let docker use it as its plugin (`mkdir -p " +
        '~/.docker/cli-plugins && ln -s "$(command -v docker-compose)" ~/.docker/cli-plugins/docker-compose`) and ' +
        "run `npm run demo` again, or run it yourself: `docker-compose --env-file deploy/sandbox.env --profile " +
        `sandbox up --build\`.\n\n${WITHOUT_DOCKER}\n`,
    );
  });

  it("a plugin older than 2.17 (no dockerfile_inline): says the version found and the one needed", async () => {
    const result = await runWith("script", { composeVersion: "2.12.2" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "npm run demo needs Docker Compose 2.17 or newer (its sandbox image is built from dockerfile_inline), and " +
        "`docker compose version` says 2.12.2. Update the Compose plugin: Docker Desktop's update, or on Linux the " +
        `docker-compose-plugin package (https://docs.docker.com/compose/install/linux/).\n\n${WITHOUT_DOCKER}\n`,
    );
  });

  it("the plugin 2.17 or newer: silent, exit 0", async () => {
    for (const version of ["2.17.0", "2.29.1", "3.0.0"]) {
      expect(await runWith("script", { composeVersion: version }), version).toMatchObject({
        code: 0,
        stdout: "",
        stderr: "",
      });
    }
  });
});
