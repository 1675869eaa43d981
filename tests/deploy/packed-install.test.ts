/**
 * The images' install, done on this machine without Docker: what the final stage of Dockerfile.server and
 * Dockerfile.worker holds (package.json, package-lock.json and the compiled dist/src) is taken from
 * `npm pack` output, installed with `npm ci --omit=dev` into an empty directory, and the server and worker
 * entrypoints are started from there and must answer GET /healthz. A runtime dependency declared as a dev
 * dependency (or not at all) makes a process fail to start, and so this test.
 *
 * The package's command is checked the way `npx airtable-oauth-mcp stdio` would run it from the registry: the packed
 * tarball installed as a dependency of an empty project, its bin (node_modules/.bin/airtable-oauth-mcp →
 * dist/src/cli.js) started with `stdio` and only the sandbox's variables, and the SDK's stdio client listing tools.
 *
 * Like the Docker build stage, the pack runs in a directory holding only the files the Dockerfiles COPY (so a stale
 * dist/ or a stray file in the working tree cannot make it pass); it borrows the repository's node_modules for the
 * compiler instead of running a second full `npm ci`. The install itself needs the npm registry, served from the
 * warm npm cache (--prefer-offline); it takes a few seconds.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, parse } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../../src/sandbox/demo-data.ts";
import { startSandbox } from "../../src/sandbox/index.ts";
import { allTools } from "../../src/shared/tools/catalog.ts";
import { createTestRedis, deleteKeys, testRedisUrl, uniquePrefix } from "../helpers/redis.ts";
import { execForm, parseDockerfile, readRepoFile, repoRoot } from "./deploy-files.ts";

const run = promisify(execFile);
const prefix = uniquePrefix("packed-install");
let work: string;
let app: string;
let packedFiles: string[];
/** The tarball `npm pack` wrote. */
let tarball: string;
const children: ChildProcess[] = [];

/** npm, run by the Node that runs the tests (Node 24), whatever `node` is first on PATH. */
const npmEnv = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
  NODE_ENV: "production",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "atmcp-packed-"));

  // 1. The build stage's inputs (Dockerfile.* COPY lines), packed: prepack compiles src/ into dist/.
  const build = join(work, "build");
  mkdirSync(build);
  // README.md too: `npm publish` from the repository packs it (npm always includes a package's README); the images'
  // build stage does not need it.
  for (const file of ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "README.md"]) {
    cpSync(join(repoRoot, file), join(build, file));
  }
  for (const dir of ["src"]) cpSync(join(repoRoot, dir), join(build, dir), { recursive: true });
  symlinkSync(join(repoRoot, "node_modules"), join(build, "node_modules"), "dir");
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", work], {
    cwd: build,
    env: npmEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  packedFiles = packed.files.map((f) => f.path);
  tarball = join(work, packed.filename);

  // 2. The final stage: the package's files plus the lockfile, then a production install.
  app = join(work, "app");
  mkdirSync(app);
  await run("tar", ["-xzf", join(work, packed.filename), "-C", app, "--strip-components=1"]);
  cpSync(join(repoRoot, "package-lock.json"), join(app, "package-lock.json"));
  await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], {
    cwd: app,
    env: npmEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  const redis = createTestRedis();
  await deleteKeys(redis, prefix);
  redis.disconnect();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * Starts an entrypoint of the installed package with only the environment a container would have: no NODE_OPTIONS,
 * no loader, nothing from the test runner.
 */
function start(entry: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [entry], {
    cwd: app,
    env: { PATH: "/usr/bin:/bin", HOME: work, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

/** Polls GET url until it answers or the process dies; the error carries the process's output. */
async function waitForHealthz(url: string, proc: { child: ChildProcess; output: () => string }): Promise<Response> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`the process exited with ${proc.child.exitCode} before answering ${url}:\n${proc.output()}`);
    }
    try {
      return await fetch(url, { signal: AbortSignal.timeout(2_000) });
    } catch {
      if (Date.now() > deadline) throw new Error(`no answer from ${url} within 20 s:\n${proc.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Runs the image's HEALTHCHECK command (from the Dockerfile) in the installed app. */
async function dockerHealthcheck(dockerfile: string, env: Record<string, string>): Promise<number> {
  const final = parseDockerfile(readRepoFile(dockerfile)).at(-1);
  const healthcheck = final?.instructions.find((i) => i.keyword === "HEALTHCHECK")?.args as string;
  const [, ...args] = execForm(healthcheck);
  try {
    await run(process.execPath, args, { cwd: app, env, timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

async function stopWithSigterm(child: ChildProcess): Promise<number | null> {
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return code;
}

/** One deployment: its server and worker share the key (a worker with another key refuses to start). */
const tokenEncryptionKey = randomBytes(32).toString("base64");
const baseEnv = (): Record<string, string> => ({
  REDIS_URL: testRedisUrl(),
  REDIS_KEY_PREFIX: prefix,
  AIRTABLE_CLIENT_ID: "packed-install-test",
  TOKEN_ENCRYPTION_KEY: tokenEncryptionKey,
  LOG_LEVEL: "warn",
});

describe("npm pack output", () => {
  it("holds the compiled code and package.json, and no tests, sources, patches or secrets", () => {
    expect(packedFiles).toContain("package.json");
    expect(packedFiles).toContain("dist/src/server/main.js");
    expect(packedFiles).toContain("dist/src/worker/main.js");
    for (const path of packedFiles) {
      expect(path).toMatch(/^(package\.json|README\.md|LICENSE(\.\w+)?|dist\/src\/.+\.js(\.map)?)$/);
      expect(path).not.toMatch(/\.test\.|test-harness|\.contract\.|(^|\/)tests?\/|(^|\/)\.env|sandbox\.env/);
    }
  });
});

describe("the production install (npm ci --omit=dev, as in the images' final stage)", () => {
  it("has the runtime dependencies and none of the dev ones", () => {
    const pkg = JSON.parse(readFileSync(join(app, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies)) {
      expect(existsSync(join(app, "node_modules", dep, "package.json")), dep).toBe(true);
    }
    // Dev-only packages per the lockfile (a devDependency that a runtime package also needs, such as @types/node,
    // is not dev-only and rightly present).
    const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path !== "" && p.dev === true);
    expect(devOnly.map(([path]) => path)).toContain("node_modules/vitest");
    for (const [path] of devOnly) expect(existsSync(join(app, path)), `${path} (dev only)`).toBe(false);
    for (const dep of ["typescript", "vitest", "eslint"]) expect(Object.keys(pkg.devDependencies)).toContain(dep);
    // Nothing above the install can lend it a package: resolution stops at the filesystem root.
    for (let dir = dirname(app); dir !== parse(dir).root; dir = dirname(dir)) {
      expect(existsSync(join(dir, "node_modules")), join(dir, "node_modules")).toBe(false);
    }
  });

  it("starts the server entrypoint: /healthz answers 200, the image's HEALTHCHECK passes, SIGTERM exits 0", async () => {
    const port = await freePort();
    const server = start("dist/src/server/main.js", {
      ...baseEnv(),
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
    });
    const res = await waitForHealthz(`http://127.0.0.1:${port}/healthz`, server);
    expect(res.status, server.output()).toBe(200);
    expect(await dockerHealthcheck("Dockerfile.server", { PORT: String(port) })).toBe(0);
    expect(await stopWithSigterm(server.child), server.output()).toBe(0);
  });

  it("starts the worker entrypoint: /healthz on HEALTH_PORT answers 200, the image's HEALTHCHECK passes, SIGTERM exits 0", async () => {
    const port = await freePort();
    const worker = start("dist/src/worker/main.js", { ...baseEnv(), HEALTH_PORT: String(port) });
    const res = await waitForHealthz(`http://127.0.0.1:${port}/healthz`, worker);
    expect(res.status, worker.output()).toBe(200);
    expect(await dockerHealthcheck("Dockerfile.worker", { HEALTH_PORT: String(port) })).toBe(0);
    expect(await stopWithSigterm(worker.child), worker.output()).toBe(0);
  });
});

describe("the package's command, installed as a dependency (what npx airtable-oauth-mcp runs)", () => {
  it("`airtable-oauth-mcp stdio` starts from node_modules/.bin and lists every tool over stdio, against the sandbox", async () => {
    const consumer = join(work, "consumer");
    mkdirSync(consumer);
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
    await run("npm", ["install", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund", tarball], {
      cwd: consumer,
      env: npmEnv,
      maxBuffer: 16 * 1024 * 1024,
    });
    const bin = join(consumer, "node_modules/.bin/airtable-oauth-mcp");
    expect(existsSync(bin), "npm linked the package's bin").toBe(true);

    const sandbox = await startSandbox();
    const demo = seedDemo(sandbox);
    const transport = new StdioClientTransport({
      command: bin,
      args: ["stdio"],
      // What the README tells a newcomer to set to try stdio without Airtable, and nothing else (no REDIS_URL).
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: work,
        AIRTABLE_TOKEN: demo.token,
        AIRTABLE_API_URL: sandbox.url,
        AIRTABLE_CONTENT_URL: sandbox.url,
      },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: "packed-stdio-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort(), stderr).toEqual(allTools.map((t) => t.name).sort());
      const bases = await client.callTool({ name: "list_bases", arguments: {} });
      expect(bases.isError, stderr).not.toBe(true);
      expect(JSON.stringify(bases.structuredContent)).toContain(demo.base.id);
    } finally {
      await client.close();
      await sandbox.close();
    }

    // A mistake in the configuration points at a file the npm user has: the package's README, not the
    // repository's .env.example, which the package does not ship.
    const refused = await run(bin, ["stdio"], {
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: work,
        AIRTABLE_TOKEN: "pat123",
        LOG_LEVEL: "loud",
      },
    }).then(
      () => "",
      (error: { stderr?: string }) => error.stderr ?? "",
    );
    expect(refused).toContain("LOG_LEVEL");
    const named = /"Configuration" in (\S+README\.md)/.exec(refused)?.[1];
    expect(named, refused).toBeDefined();
    expect(existsSync(named!), `${named} exists in the installed package`).toBe(true);
    expect(refused).not.toContain(".env.example");
  }, 300_000);
});
