/**
 * Runs the Airtable sandbox on its own, seeded with demo data, for manual testing and local development
 * (`npm run sandbox`):
 *
 *   node src/sandbox/main.ts
 *
 * Env: PORT (default 8787), HOST (127.0.0.1), SANDBOX_PENALTY_MS, SANDBOX_BASE_RPS, SANDBOX_TOKEN_RPS,
 * SANDBOX_LATENCY_MS, SANDBOX_CLIENT_ID (default sandbox-client), SANDBOX_CLIENT_SECRET (optional),
 * SANDBOX_REDIRECT_URIS (comma list, default http://localhost:8080/oauth/callback: the MCP server's default
 * PUBLIC_URL),
 * SANDBOX_SIGN_IN_AS (a user id or email; default the demo user, demo@example.com).
 *
 * Seeds the "Demo CRM" base and a second one the demo user may only read ("Demo Price List (read-only)", owned by
 * owner@example.com: demo-data.ts seedReadOnlyDemo), so that a refused write can be tried.
 *
 * The sandbox has no login page: a browser arriving from the MCP server's Airtable sign-in is signed in as
 * SANDBOX_SIGN_IN_AS (the demo user unless set), with nothing to type and no cookie or query parameter to add. A
 * request that names its user (`sandbox_user` query parameter or cookie) is signed in as that user instead.
 */
import { seedDemo, seedReadOnlyDemo } from "./demo-data.ts";
import { startSandbox } from "./index.ts";

/** Ends the start with one sentence on stderr and exit code 1: a person at a terminal, not a stack trace. */
function cannotStart(why: string): never {
  process.stderr.write(`The Airtable sandbox could not start: ${why}\n`);
  process.exit(1);
}

function intEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) cannotStart(`${name} must be a non-negative number (got "${raw}").`);
  return n;
}

/** The demo data's user: who signs in when SANDBOX_SIGN_IN_AS is not set. */
const DEMO_USER_EMAIL = "demo@example.com";

const clientId = process.env.SANDBOX_CLIENT_ID ?? "sandbox-client";
const clientSecret = process.env.SANDBOX_CLIENT_SECRET || undefined;
// The MCP server's default address (PORT 8080, PUBLIC_URL http://localhost:8080), so that the two started with
// their defaults work together.
const redirectUris = (process.env.SANDBOX_REDIRECT_URIS ?? "http://localhost:8080/oauth/callback")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
const signInAs = process.env.SANDBOX_SIGN_IN_AS || DEMO_USER_EMAIL;

const port = intEnv("PORT") ?? 8787;
const host = process.env.HOST ?? "127.0.0.1";
const sandbox = await startSandbox({
  port,
  host,
  penaltyMs: intEnv("SANDBOX_PENALTY_MS"),
  perBaseRps: intEnv("SANDBOX_BASE_RPS"),
  perTokenRps: intEnv("SANDBOX_TOKEN_RPS"),
  latencyMs: intEnv("SANDBOX_LATENCY_MS"),
  oauthClients: [clientSecret === undefined ? { clientId, redirectUris } : { clientId, clientSecret, redirectUris }],
  signInAs,
}).catch((error: unknown) => {
  const code = (error as { code?: unknown }).code;
  // Most often a sandbox already running in another terminal: the one a newcomer meant to start is there.
  if (code === "EADDRINUSE") {
    cannotStart(
      `port ${port} (PORT) on ${host} is already in use: another process listens there, perhaps a sandbox ` +
        `started earlier (then use it: the server's AIRTABLE_*_URL values point at http://${host}:${port}). Stop ` +
        `it, or start this one on another port (PORT=${port + 1} npm run sandbox) and point the three ` +
        "AIRTABLE_*_URL values at that port.",
    );
  }
  if (code === "EACCES" || code === "EADDRNOTAVAIL") {
    cannotStart(
      `cannot listen on ${host}:${port} (${String(code)}): set PORT to a free port above 1023, and HOST to an ` +
        "address of this machine (default 127.0.0.1).",
    );
  }
  throw error;
});
const demo = seedDemo(sandbox, DEMO_USER_EMAIL);
// A base the demo user may only read, to try a refused write (README: Try it with the sandbox).
const readOnly = seedReadOnlyDemo(sandbox, demo.user.id);
const url = sandbox.url;

console.log(`Airtable sandbox (a FAKE Airtable for trials and tests) listening on ${url}`);
console.log(`  AIRTABLE_API_URL=${url} AIRTABLE_AUTH_URL=${url} AIRTABLE_CONTENT_URL=${url}`);
console.log(`  user:  ${demo.user.email} (${demo.user.id})`);
console.log(`  token: ${demo.token}`);
console.log(`  base:  ${demo.base.name} (${demo.base.id})`);
console.log(
  `  also:  ${readOnly.base.name} (${readOnly.base.id}), shared with the demo user as read-only (permissionLevel read)`,
);
console.log(
  `  OAuth client: ${clientId}${clientSecret === undefined ? " (public)" : " (confidential)"}, redirect URIs: ${redirectUris.join(", ")}`,
);
console.log(
  `  sign-in: automatic, as ${signInAs}${process.env.SANDBOX_SIGN_IN_AS ? " (SANDBOX_SIGN_IN_AS)" : " (the demo user; SANDBOX_SIGN_IN_AS changes it)"}`,
);
// The command README gives (Running, stdio): scripts/cli.cjs checks the Node version first, so a client that starts
// an older `node` gets one sentence instead of ERR_UNKNOWN_FILE_EXTENSION.
console.log(
  `  stdio (from this clone): AIRTABLE_TOKEN=${demo.token} AIRTABLE_API_URL=${url} AIRTABLE_CONTENT_URL=${url} node scripts/cli.cjs stdio`,
);

let closing = false;
const shutdown = (signal: string): void => {
  if (closing) return;
  closing = true;
  console.log(`${signal}: closing the sandbox`);
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
