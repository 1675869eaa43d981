/**
 * Runs the official MCP conformance suite's CLI (@modelcontextprotocol/conformance, as SDK maintainers run it)
 * as a child process and reads what it saved (`checks.json` per scenario under `--output-dir`).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { approveConsent, openConsentForm } from "../../e2e/helpers/headless-browser.ts";
import { freePort } from "../../e2e/helpers/server-process.ts";
import type { Check, Revision } from "./scenarios.ts";

const require = createRequire(import.meta.url);
/** The suite's CLI entry (its package's `bin`). */
export const CONFORMANCE_CLI = join(
  dirname(require.resolve("@modelcontextprotocol/conformance/package.json")),
  "dist/index.js",
);

export interface CliRun {
  code: number | null;
  /** stdout and stderr, interleaved. */
  output: string;
}

/**
 * Runs the CLI with `args`; `onOutput` sees the output so far after each chunk; `signal` kills it. Only PATH and
 * HOME reach it (the suite reads GITHUB_TOKEN for other commands; nothing else of ours should leak in).
 */
export async function runCli(
  args: string[],
  opts: { onOutput?: (output: string) => void; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [CONFORMANCE_CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    ...(opts.signal !== undefined && { signal: opts.signal }),
  });
  child.on("error", () => undefined); // an abort; "close" follows
  let output = "";
  const take = (d: Buffer) => {
    output += d.toString();
    opts.onOutput?.(output);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const [code] = (await once(child, "close")) as [number | null];
  return { code, output };
}

/** Reads `<dir>/<kind>-<scenario>-<timestamp>/checks.json` files: scenario → checks. */
async function readChecks(dir: string, kind: "server" | "authorization-server"): Promise<Map<string, Check[]>> {
  const results = new Map<string, Check[]>();
  const stamp = /-\d{4}-\d{2}-\d{2}T[\d-]+Z$/;
  for (const entry of (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    if (!entry.name.startsWith(`${kind}-`) || !stamp.test(entry.name)) continue;
    const scenario = entry.name.slice(kind.length + 1).replace(stamp, "");
    const checks = JSON.parse(await readFile(join(dir, entry.name, "checks.json"), "utf8")) as Check[];
    if (results.has(scenario)) throw new Error(`scenario ${scenario} saved twice in ${dir}`);
    results.set(scenario, checks);
  }
  return results;
}

/**
 * Every server scenario the suite has for `revision`, run against `mcpUrl`: for 2025-11-25 and 2026-07-28 the
 * revision's requirement set (`--requirements`, frozen at the revision's release, at its wire); for 2025-06-18,
 * which has none, the active suite filtered to it (`--spec-version`). The CLI's own exit code is not used: it
 * fails on scenarios that do not apply to us; scenarios.ts judges.
 */
export async function runServerScenarios(
  mcpUrl: string,
  revision: Revision,
): Promise<{ results: Map<string, Check[]>; run: CliRun }> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-conformance-"));
  try {
    const selection = revision === "2025-06-18" ? ["--spec-version", revision] : ["--requirements", revision];
    const run = await runCli(["server", "--url", mcpUrl, ...selection, "--output-dir", dir]);
    const results = await readChecks(dir, "server");
    if (results.size === 0) throw new Error(`the suite saved no results (exit ${run.code}):\n${run.output}`);
    return { results, run };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The server scenarios in the suite's catalog (`conformance list --server`). */
export async function listServerScenarios(): Promise<string[]> {
  const { code, output } = await runCli(["list", "--server"]);
  if (code !== 0) throw new Error(`conformance list failed (exit ${code}):\n${output}`);
  const section = output.split(/\n\s*\n/).find((part) => part.startsWith("Server scenarios")) ?? "";
  return [...section.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1] as string).sort();
}

/**
 * The suite's authorization-server scenarios (`conformance authorization`: the metadata endpoint, RFC 8414, and
 * an authorization code grant with PKCE) against our authorization server at `issuer`. The suite prints an
 * authorization URL for a person to open; here the headless browser (../../e2e/helpers/headless-browser.ts)
 * opens it, approves our consent page, signs in at the sandbox's Airtable as `sandboxUser`, and delivers the
 * redirect to the suite's callback listener. The client is registered first through our /register (DCR,
 * public, PKCE), with the callback the suite listens on.
 */
export async function runAuthorizationScenarios(opts: {
  issuer: string;
  resource: string;
  sandboxUser: string;
}): Promise<{ results: Map<string, Check[]>; run: CliRun }> {
  const port = await freePort();
  const registration = await fetch(`${opts.issuer}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "MCP conformance suite",
      redirect_uris: [`http://127.0.0.1:${port}/callback`],
      token_endpoint_auth_method: "none",
    }),
  });
  if (registration.status !== 201) {
    throw new Error(`registration answered ${registration.status}: ${await registration.text()}`);
  }
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const dir = await mkdtemp(join(tmpdir(), "mcp-conformance-as-"));
  try {
    let browser: Promise<void> | undefined;
    let browserError: unknown;
    // The suite waits 5 minutes for the callback: a failed browser step ends the run at once instead.
    const abort = new AbortController();
    const run = await runCli(
      [
        "authorization",
        ...["--url", opts.issuer, "--client-id", clientId, "--resource", opts.resource],
        ...["--port", String(port), "--output-dir", dir],
      ],
      {
        signal: abort.signal,
        onOutput: (output) => {
          const url = /^(https?:\/\/\S+\/authorize\?\S+)$/m.exec(output)?.[1];
          if (url === undefined || browser !== undefined) return;
          browser = (async () => {
            const back = await approveConsent(await openConsentForm(url), opts.sandboxUser);
            await (await fetch(back)).text();
          })().catch((error: unknown) => {
            browserError = error;
            abort.abort();
          });
        },
      },
    );
    await browser;
    if (browserError !== undefined) {
      throw new Error(`the browser step of the authorization code grant failed; suite output:\n${run.output}`, {
        cause: browserError,
      });
    }
    return { results: await readChecks(dir, "authorization-server"), run };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
