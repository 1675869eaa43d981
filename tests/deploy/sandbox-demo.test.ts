/**
 * The sandbox as the compose demo runs it (`node src/sandbox/main.ts` with the environment docker-compose.yml
 * gives it): a browser that arrives at the authorize page with no `sandbox_user` is signed in as the demo user, and
 * the whole OAuth code flow and an API call work through the sign-in front. Without SANDBOX_SIGN_IN_AS the sandbox
 * behaves as before (no user, no sign-in).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const mainTs = fileURLToPath(new URL("../../src/sandbox/main.ts", import.meta.url));
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

/** Starts main.ts on a free port and returns the URL it prints once it listens. */
async function startSandboxMain(env: Record<string, string>): Promise<{ url: string; process: ChildProcess }> {
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
  return { url, process: proc };
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

describe("src/sandbox/main.ts for the compose demo", () => {
  it("with SANDBOX_SIGN_IN_AS, signs the browser in as that user and the whole code flow works", async () => {
    const { url, process: proc } = await startSandboxMain({ SANDBOX_SIGN_IN_AS: "demo@example.com" });
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");

    // 1. The browser arrives without a user: one redirect to the same page, naming the demo user.
    const first = await fetch(authorizeUrl(url, challenge), { redirect: "manual" });
    expect(first.status).toBe(302);
    const again = new URL(first.headers.get("location") as string, url);
    expect(again.pathname).toBe("/oauth2/v1/authorize");
    expect(again.searchParams.get("sandbox_user")).toBe("demo@example.com");
    expect(again.searchParams.get("state")).toBe("state-123");

    // 2. The sandbox itself answers it: consent is automatic, back to the client with a code.
    const second = await fetch(again, { redirect: "manual" });
    expect(second.status).toBe(302);
    const callback = new URL(second.headers.get("location") as string);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get("state")).toBe("state-123");
    const code = callback.searchParams.get("code") as string;
    expect(code).toBeTruthy();

    // 3. The server's side: token exchange (a form POST through the front) and an API call with the token.
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
    const whoami = await fetch(new URL("/v0/meta/whoami", url), {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { email?: string }).email).toBe("demo@example.com");

    // A request that names its user is not redirected (the front only fills in a missing user).
    const named = await fetch(`${authorizeUrl(url, challenge)}&sandbox_user=demo@example.com`, { redirect: "manual" });
    expect(new URL(named.headers.get("location") as string).searchParams.get("code")).toBeTruthy();

    proc.kill("SIGTERM");
    const [exitCode] = (await once(proc, "exit")) as [number | null];
    expect(exitCode).toBe(0);
  });

  it("without SANDBOX_SIGN_IN_AS, nobody is signed in (the sandbox's own behaviour)", async () => {
    const { url } = await startSandboxMain({});
    const challenge = createHash("sha256").update("v".repeat(43)).digest("base64url");
    const page = await fetch(authorizeUrl(url, challenge), { redirect: "manual" });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("Not signed in");
  });
});
