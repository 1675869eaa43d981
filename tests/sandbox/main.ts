/**
 * Runs the Airtable sandbox on its own, seeded with demo data, for manual testing and local development:
 *
 *   node tests/sandbox/main.ts
 *
 * Env: PORT (default 8787), HOST (127.0.0.1), SANDBOX_PENALTY_MS, SANDBOX_BASE_RPS, SANDBOX_TOKEN_RPS,
 * SANDBOX_LATENCY_MS, SANDBOX_CLIENT_ID (default sandbox-client), SANDBOX_CLIENT_SECRET (optional),
 * SANDBOX_REDIRECT_URIS (comma list, default http://localhost:3000/oauth/callback).
 */
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

const sandbox = await startSandbox({
  port: intEnv("PORT") ?? 8787,
  host: process.env.HOST ?? "127.0.0.1",
  penaltyMs: intEnv("SANDBOX_PENALTY_MS"),
  perBaseRps: intEnv("SANDBOX_BASE_RPS"),
  perTokenRps: intEnv("SANDBOX_TOKEN_RPS"),
  latencyMs: intEnv("SANDBOX_LATENCY_MS"),
  oauthClients: [clientSecret === undefined ? { clientId, redirectUris } : { clientId, clientSecret, redirectUris }],
});
const demo = seedDemo(sandbox);

console.log(`Airtable sandbox listening on ${sandbox.url}`);
console.log(`  AIRTABLE_API_URL=${sandbox.url} AIRTABLE_AUTH_URL=${sandbox.url} AIRTABLE_CONTENT_URL=${sandbox.url}`);
console.log(`  user:  ${demo.user.email} (${demo.user.id})`);
console.log(`  token: ${demo.token}`);
console.log(`  base:  ${demo.base.name} (${demo.base.id})`);
console.log(
  `  OAuth client: ${clientId}${clientSecret === undefined ? " (public)" : " (confidential)"}, redirect URIs: ${redirectUris.join(", ")}`,
);
console.log(
  `  sign in as the demo user with ?sandbox_user=${demo.user.email} or the cookie sandbox_user=${demo.user.email}`,
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
