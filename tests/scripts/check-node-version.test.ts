/**
 * scripts/check-node-version.cjs, the "pre" hook of `npm start`, `npm test`, `npm run dev` and `npm run sandbox`: on a Node.js older
 * than package.json's engines it stops with one sentence (version found, version needed, how to get it). Checked with
 * stubbed versions (NODE_VERSION_CHECK_AS), and for real with an old Node when the machine has one (the development
 * machines' system Node is 20): the script itself, `npm test` / `npm run sandbox` through that Node's npm (the sentence,
 * not ERR_UNKNOWN_FILE_EXTENSION), and `npm ci`, which .npmrc's engine-strict stops before it installs anything.
 */
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { readRepoFile, repoRoot } from "../deploy/deploy-files.ts";

const run = promisify(execFile);
const script = join(repoRoot, "scripts/check-node-version.cjs");
const pkg = JSON.parse(readRepoFile("package.json")) as { engines: { node: string }; scripts: Record<string, string> };

async function check(version: string): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? "", NODE_VERSION_CHECK_AS: version },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The one sentence for `found`. */
function sentenceFor(found: string): string {
  return (
    `airtable-oauth-mcp needs Node.js 22.18 or newer, but this is Node.js ${found}: run \`nvm install && nvm use\` ` +
    "in the project folder (both read .nvmrc, Node.js 24) or install Node.js 24 from https://nodejs.org, then run " +
    "the command again."
  );
}

/** The clone's command for MCP clients' configs (README: stdio mode): the version check, then src/cli.ts. */
const cliLauncher = join(repoRoot, "scripts/cli.cjs");

async function launch(version: string | undefined, args: string[]): Promise<{ code: number; stderr: string }> {
  const env = { PATH: process.env.PATH ?? "", ...(version !== undefined && { NODE_VERSION_CHECK_AS: version }) };
  return run(process.execPath, [cliLauncher, ...args], { env }).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
}

describe("scripts/cli.cjs, the command from a clone", () => {
  it("on a Node too old for TypeScript: the sentence and exit code 1, nothing loaded", async () => {
    const result = await launch("20.20.2", ["stdio"]);
    expect(result).toEqual({ code: 1, stderr: `${sentenceFor("20.20.2")}\n` });
  });

  it("on this Node: runs src/cli.ts with the command as given (stdio without AIRTABLE_TOKEN says what is missing)", async () => {
    const result = await launch(undefined, ["stdio"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("AIRTABLE_TOKEN: required for the stdio process but not set");
    expect((await launch(undefined, ["nonsense"])).stderr).toContain("Usage: airtable-oauth-mcp <command>");
  });
});

describe("the version check with a stubbed version", () => {
  it.each(["20.20.2", "22.17.1", "v18.19.0", "16.0.0"])("refuses %s with one sentence and exit code 1", async (v) => {
    const result = await check(v);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`${sentenceFor(v.replace(/^v/, ""))}\n`);
  });

  it.each(["22.18.0", "22.22.1", "23.0.0", "24.21.0", "25.1.0-nightly"])("lets %s through silently", async (v) => {
    expect(await check(v)).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("asks for what package.json's engines and .nvmrc say", () => {
    expect(pkg.engines.node).toBe(">=22.18");
    expect(readRepoFile(".nvmrc").trim()).toBe("24");
    expect(readFileSync(script, "utf8")).toContain('var REQUIRED = "22.18.0";');
  });

  it("runs before npm start, npm test, npm run dev and npm run sandbox; .npmrc makes npm ci strict about engines", () => {
    for (const name of ["test", "sandbox", "dev", ...("start" in pkg.scripts ? ["start"] : [])]) {
      expect(pkg.scripts[`pre${name}`], `pre${name}`).toBe("node scripts/check-node-version.cjs");
    }
    expect(readRepoFile(".npmrc")).toMatch(/^engine-strict=true$/m);
  });
});

/** A system Node older than 22.18 (the development machines have Node 20 in /usr/bin), if there is one. */
function findOldNode(): { node: string; version: string } | undefined {
  for (const node of ["/usr/bin/node", "/usr/local/bin/node"]) {
    if (!existsSync(node)) continue;
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
    const [major = 0, minor = 0] = version.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 18)) return { node, version };
  }
  return undefined;
}
const old = findOldNode();

describe.skipIf(old === undefined)(`with a real old Node (${old?.node ?? "none found"}, ${old?.version ?? ""})`, () => {
  const { node, version } = old ?? { node: "", version: "" };
  // Only that Node (and the npm beside it) on PATH: what `npm test` runs is what a person with Node 20 gets.
  const env = { PATH: `${dirname(node)}:/bin`, HOME: tmpdir(), npm_config_update_notifier: "false" };
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A copy of the files a clone has before `npm ci` (no node_modules: nothing could run past the check anyway). */
  function clone(): string {
    const dir = mkdtempSync(join(tmpdir(), "atmcp-old-node-"));
    dirs.push(dir);
    for (const file of ["package.json", "package-lock.json", ".npmrc", ".nvmrc"]) {
      cpSync(join(repoRoot, file), join(dir, file));
    }
    cpSync(join(repoRoot, "scripts"), join(dir, "scripts"), { recursive: true });
    return dir;
  }

  async function npm(dir: string, args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await run("npm", args, { cwd: dir, env, timeout: 60_000 });
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, output: e.stdout + e.stderr };
    }
  }

  it("the script refuses it by itself", async () => {
    const result = await run(node, [script], { env }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${sentenceFor(version)}\n`);
  });

  it("`node scripts/cli.cjs stdio` (the MCP client command from a clone) stops with the sentence, no stack trace", async () => {
    const result = await run(node, [cliLauncher, "stdio"], { env }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${sentenceFor(version)}\n`);
  });

  it.each(["test", "sandbox", ...("start" in pkg.scripts ? ["start"] : [])])(
    "npm %s stops with the sentence, before any TypeScript is loaded",
    async (name) => {
      const result = await npm(clone(), name === "start" || name === "test" ? [name] : ["run", name]);
      expect(result.code).not.toBe(0);
      expect(result.output).toContain(sentenceFor(version));
      expect(result.output).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|SyntaxError/);
    },
  );

  it("npm ci stops at once (engine-strict), naming the version needed and the version found, installing nothing", async () => {
    const dir = clone();
    const started = Date.now();
    const result = await npm(dir, ["ci", "--no-audit", "--no-fund"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("EBADENGINE");
    expect(result.output).toContain('"node":">=22.18"');
    expect(result.output).toContain(`v${version}`);
    expect(existsSync(join(dir, "node_modules"))).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
