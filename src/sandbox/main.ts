/**
 * Runs the Airtable sandbox on its own, seeded with demo data, for manual testing and local development:
 *
 *   node src/sandbox/main.ts
 *
 * Env: PORT (default 8787), HOST (127.0.0.1), SANDBOX_PENALTY_MS, SANDBOX_BASE_RPS, SANDBOX_TOKEN_RPS,
 * SANDBOX_LATENCY_MS, SANDBOX_CLIENT_ID (default sandbox-client), SANDBOX_CLIENT_SECRET (optional),
 * SANDBOX_REDIRECT_URIS (comma list, default http://localhost:3000/oauth/callback),
 * SANDBOX_SIGN_IN_AS (optional: a user id or email; see below).
 *
 * SANDBOX_SIGN_IN_AS exists for the docker compose demo (`npm run demo`): the sandbox has no login page and signs
 * in the user named by the `sandbox_user` query parameter or cookie, which a browser arriving from the MCP server's
 * redirect has neither of. With it set, an authorization request that names no user is redirected once to the same
 * URL with `sandbox_user` added, so a newcomer's browser flow goes through without typing anything. The sandbox
 * itself stays untouched: a small forwarding front on PORT does this and passes every other request through to the
 * sandbox on an internal loopback port.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { seedDemo } from "./demo-data.ts";
import { startSandbox } from "./index.ts";

function intEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}

const clientId = process.env.SANDBOX_CLIENT_ID ?? "sandbox-client";
const clientSecret = process.env.SANDBOX_CLIENT_SECRET || undefined;
const redirectUris = (process.env.SANDBOX_REDIRECT_URIS ?? "http://localhost:3000/oauth/callback")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
const signInAs = process.env.SANDBOX_SIGN_IN_AS || undefined;
const port = intEnv("PORT") ?? 8787;
const host = process.env.HOST ?? "127.0.0.1";

const sandbox = await startSandbox({
  // With the sign-in front, the sandbox listens on a free loopback port and the front takes PORT.
  port: signInAs === undefined ? port : 0,
  host: signInAs === undefined ? host : "127.0.0.1",
  penaltyMs: intEnv("SANDBOX_PENALTY_MS"),
  perBaseRps: intEnv("SANDBOX_BASE_RPS"),
  perTokenRps: intEnv("SANDBOX_TOKEN_RPS"),
  latencyMs: intEnv("SANDBOX_LATENCY_MS"),
  oauthClients: [clientSecret === undefined ? { clientId, redirectUris } : { clientId, clientSecret, redirectUris }],
});
const demo = seedDemo(sandbox);
const front = signInAs === undefined ? undefined : await startSignInFront(new URL(sandbox.url), signInAs);
const url = front?.url ?? sandbox.url;

console.log(`Airtable sandbox (a FAKE Airtable for trials and tests) listening on ${url}`);
console.log(`  AIRTABLE_API_URL=${url} AIRTABLE_AUTH_URL=${url} AIRTABLE_CONTENT_URL=${url}`);
console.log(`  user:  ${demo.user.email} (${demo.user.id})`);
console.log(`  token: ${demo.token}`);
console.log(`  base:  ${demo.base.name} (${demo.base.id})`);
console.log(
  `  OAuth client: ${clientId}${clientSecret === undefined ? " (public)" : " (confidential)"}, redirect URIs: ${redirectUris.join(", ")}`,
);
console.log(
  signInAs === undefined
    ? `  sign in as the demo user with ?sandbox_user=${demo.user.email} or the cookie sandbox_user=${demo.user.email}`
    : `  sign-in: automatic, as ${signInAs} (SANDBOX_SIGN_IN_AS)`,
);

/** The forwarding front described at the top of this file. */
async function startSignInFront(upstream: URL, user: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? "/", "http://front.invalid");
    const named = target.searchParams.has("sandbox_user") || /(?:^|;\s*)sandbox_user=/.test(req.headers.cookie ?? "");
    if (req.method === "GET" && target.pathname === "/oauth2/v1/authorize" && !named) {
      target.searchParams.set("sandbox_user", user);
      res.writeHead(302, { location: `${target.pathname}${target.search}`, "cache-control": "no-store" });
      res.end();
      return;
    }
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The sandbox can drop connections on purpose (fault injection): the client sees its connection dropped too.
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  server.listen(port, host);
  await once(server, "listening");
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing the sandbox`);
  Promise.all([front?.close(), sandbox.close()]).then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
