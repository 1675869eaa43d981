/**
 * The sandbox as `npm run sandbox` and the compose demo run it (`node src/sandbox/main.ts`), over real HTTP: a browser
 * that arrives at the authorize page with no `sandbox_user` is signed in as the demo user (or SANDBOX_SIGN_IN_AS)
 * and sent straight back to the client with a code; the whole OAuth code flow and an API call work. Where sign-in
 * still fails, the 400 page offers a link that signs in as the demo user, and following it completes the flow.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { privateStateDir, removeStateDirs } from "../helpers/state-dir.ts";
import { compileCacheEnv } from "../helpers/compile-cache.ts";

const mainTs = fileURLToPath(new URL("../../src/sandbox/main.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const redirectUri = "http://localhost:8080/oauth/callback";
const clientId = "compose-demo-test";

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  child = undefined;
});
afterAll(() => removeStateDirs());

/**
 * Starts main.ts on a free port and returns the URL it prints once it listens, and `output`, which resolves to its
 * stdout once that holds a line matching `until`.
 */
async function startSandboxMain(env: Record<string, string>): Promise<{
  url: string;
  process: ChildProcess;
  output(until: RegExp): Promise<string>;
}> {
  const proc = spawn(process.execPath, [mainTs], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      SANDBOX_CLIENT_ID: clientId,
      SANDBOX_REDIRECT_URIS: redirectUri,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  let out = "";
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    proc.on("exit", (code) => reject(new Error(`sandbox exited ${code} before listening:\n${out}\n${err}`)));
  });
  const output = async (until: RegExp): Promise<string> => {
    while (!until.test(out)) {
      if (proc.exitCode !== null) throw new Error(`sandbox exited ${proc.exitCode}:\n${out}\n${err}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return out;
  };
  return { url, process: proc, output };
}

function authorizeUrl(base: string, challenge: string): string {
  const url = new URL("/oauth2/v1/authorize", base);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    state: "state-123",
    code_challenge: challenge,
    code_challenge_method: "S256",
    scope: "data.records:read schema.bases:read user.email:read",
  }).toString();
  return url.toString();
}

/** The rest of the code flow after the browser came back with `code`: token exchange, then whoami with the token. */
async function exchangeAndWhoami(url: string, code: string, verifier: string): Promise<string | undefined> {
  const token = await fetch(new URL("/oauth2/v1/token", url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      client_id: clientId,
    }),
  });
  expect(token.status).toBe(200);
  const { access_token: accessToken } = (await token.json()) as { access_token: string };
  const whoami = await fetch(new URL("/v0/meta/whoami", url), { headers: { authorization: `Bearer ${accessToken}` } });
  expect(whoami.status).toBe(200);
  return ((await whoami.json()) as { email?: string }).email;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The callback URL a 302 sends the browser to, checked to be the client's with the request's state. */
function callbackOf(answer: Response): URL {
  expect(answer.status).toBe(302);
  const callback = new URL(answer.headers.get("location") as string);
  expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
  expect(callback.searchParams.get("state")).toBe("state-123");
  return callback;
}

describe("src/sandbox/main.ts (npm run sandbox, and the compose demo)", () => {
  it("signs a browser that names no user in as the demo user by default: one step, no cookie, no query parameter", async () => {
    const { url, process: proc } = await startSandboxMain({});
    const { verifier, challenge } = pkce();

    // The browser arrives from the MCP server's sign-in as a real one would: nothing but the authorization request.
    const answer = await fetch(authorizeUrl(url, challenge), { redirect: "manual" });
    const code = callbackOf(answer).searchParams.get("code") as string;
    expect(code).toBeTruthy();
    expect(await exchangeAndWhoami(url, code, verifier)).toBe("demo@example.com");

    proc.kill("SIGTERM");
    const [exitCode] = (await once(proc, "exit")) as [number | null];
    expect(exitCode).toBe(0);
  });

  it("with SANDBOX_SIGN_IN_AS, signs in that user; a sandbox_user named in the request takes precedence", async () => {
    const { url } = await startSandboxMain({ SANDBOX_SIGN_IN_AS: "demo@example.com" });
    const { verifier, challenge } = pkce();
    const code = callbackOf(await fetch(authorizeUrl(url, challenge), { redirect: "manual" })).searchParams.get("code");
    expect(await exchangeAndWhoami(url, code as string, verifier)).toBe("demo@example.com");

    const named = await fetch(`${authorizeUrl(url, challenge)}&sandbox_user=nobody@example.com`, {
      redirect: "manual",
    });
    // Not signed in as SANDBOX_SIGN_IN_AS: the named user is looked up, and does not exist (the page below).
    expect(named.status).toBe(400);
  });

  it("where sign-in still fails (SANDBOX_SIGN_IN_AS names nobody), the 400 page links to signing in as the demo user", async () => {
    const { url } = await startSandboxMain({ SANDBOX_SIGN_IN_AS: "nobody@example.com" });
    const { verifier, challenge } = pkce();
    const page = await fetch(authorizeUrl(url, challenge), { redirect: "manual" });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain("Not signed in");
    expect(html).toContain("There is no sandbox user nobody@example.com.");
    const href = /<a href="([^"]+)">Sign in as Demo User \(demo@example\.com\)<\/a>/.exec(html)?.[1];
    expect(href).toBeDefined();

    // The person clicks the link: the same authorization request, signed in as the demo user, back to the client.
    const link = new URL(href!.replace(/&amp;/g, "&"), url);
    const callback = callbackOf(await fetch(link, { redirect: "manual" }));
    expect(await exchangeAndWhoami(url, callback.searchParams.get("code") as string, verifier)).toBe(
      "demo@example.com",
    );
  });

  it("prints the stdio command README gives (node scripts/cli.cjs stdio, which checks the Node version first), and it works as printed", async () => {
    const { url, output } = await startSandboxMain({});
    const banner = await output(/^ {2}stdio \(from this clone\): .*\n/m);
    const line = /^ {2}stdio \(from this clone\): (.*)$/m.exec(banner)?.[1] ?? "";
    const words = line.split(" ");
    const assignments = words.filter((w) => /^[A-Z_]+=/.test(w));
    expect(words.slice(assignments.length)).toEqual(["node", "scripts/cli.cjs", "stdio"]);
    const env = Object.fromEntries(assignments.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
    expect(env).toMatchObject({ AIRTABLE_API_URL: url, AIRTABLE_CONTENT_URL: url });
    const baseName = / {2}base: {2}(.+) \(app\w+\)$/m.exec(banner)?.[1];
    expect(baseName).toBeTruthy();

    // Run from the clone as printed (only the environment it names), through a real MCP client.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ["scripts/cli.cjs", "stdio"],
      cwd: repoRoot,
      // Its write operations in a directory of its own (the platform's default, moved by XDG_DATA_HOME), not the
      // tester's: src/stdio/state-dir.ts.
      env: { ...getDefaultEnvironment(), ...compileCacheEnv, XDG_DATA_HOME: privateStateDir("sandbox-demo"), ...env },
      stderr: "pipe",
    });
    const client = new Client({ name: "sandbox-banner-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const bases = await client.callTool({ name: "list_bases", arguments: {} });
      expect(bases.isError).not.toBe(true);
      expect(JSON.stringify(bases.structuredContent)).toContain(`"name":${JSON.stringify(baseName)}`);
    } finally {
      await client.close();
    }
  });
});
