/**
 * `npm run conformance`: the official MCP conformance suite against a server's /mcp, judged by
 * scenarios.ts (which scenarios apply, and why the others do not), at 2025-06-18, 2025-11-25 and 2026-07-28.
 *
 * Environment:
 * - `MCP_URL` and `MCP_TOKEN`: a running deployment's /mcp (e.g. `https://mcp.example.com/mcp`) and an access
 *   token it issued (README, "Getting a token by hand"). The suite reaches it through a local proxy that adds the
 *   token (token-proxy.ts). Only the server scenarios run: the authorization-server ones need a person at a
 *   browser (run `npx conformance authorization --url <issuer> --client-id <id> --resource <MCP_URL>` for them).
 * - Neither: a local deployment is started for the run (the Airtable sandbox, one server process, a user signed
 *   in through the real OAuth flow; Redis at `REDIS_URL`, default redis://127.0.0.1:6379), and the suite's
 *   authorization-server scenarios run too, the sign-in done by a headless browser.
 * - `CONFORMANCE_REVISIONS`: a comma-separated subset of the revisions (default: all three).
 *
 * Prints a report per revision (passed, failed with the suite's message, excluded with the reason); exits 1 when
 * an applicable scenario failed, 2 on bad settings.
 */
import { startLocalStack, type LocalStack } from "./local-stack.ts";
import { runAuthorizationScenarios, runServerScenarios } from "./run-suite.ts";
import { formatJudgement, judge, REVISIONS, type Revision } from "./scenarios.ts";
import { startTokenProxy, type TokenProxy } from "./token-proxy.ts";

function fail(message: string): never {
  console.error(`npm run conformance: ${message}`);
  process.exit(2);
}

const mcpUrl = process.env.MCP_URL?.trim() || undefined;
const token = process.env.MCP_TOKEN?.trim() || undefined;
if ((mcpUrl === undefined) !== (token === undefined)) {
  fail("set both MCP_URL and MCP_TOKEN (a running server's /mcp and an access token it issued), or neither");
}
if (mcpUrl !== undefined && !/^https?:\/\/[^/]+\/mcp\/?$/.test(mcpUrl)) {
  fail(`MCP_URL must be a server's /mcp URL, such as https://mcp.example.com/mcp; got ${mcpUrl}`);
}
const revisions = (process.env.CONFORMANCE_REVISIONS?.split(",").map((r) => r.trim()) ?? [...REVISIONS]).filter(
  (r) => r !== "",
);
for (const r of revisions) {
  if (!(REVISIONS as readonly string[]).includes(r)) fail(`unknown revision ${r}: use ${REVISIONS.join(", ")}`);
}

let stack: LocalStack | undefined;
let proxy: TokenProxy | undefined;
let failed = false;
try {
  if (mcpUrl === undefined) {
    console.log("Starting a local deployment (sandbox, server, sign-in)…");
    stack = await startLocalStack({ redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
  }
  const target = mcpUrl ?? stack!.mcpUrl;
  const bearer = token ?? stack!.accessToken;
  proxy = await startTokenProxy({ upstream: new URL(target).origin, token: () => bearer });
  console.log(`Suite → ${proxy.url}/mcp → ${target} (with the access token)\n`);

  for (const revision of revisions as Revision[]) {
    const { results } = await runServerScenarios(`${proxy.url}/mcp`, revision);
    const judgement = judge(revision, results);
    failed ||= judgement.failures.length > 0;
    console.log(`${formatJudgement(judgement)}\n`);
  }

  if (stack !== undefined) {
    const { results, run } = await runAuthorizationScenarios({
      issuer: new URL(stack.mcpUrl).origin,
      resource: stack.mcpUrl,
      sandboxUser: stack.sandboxUser,
    });
    console.log("Authorization server scenarios:");
    for (const [scenario, checks] of results) {
      for (const c of checks) {
        console.log(
          `  ${c.status === "SUCCESS" ? "✓" : "✗"} ${scenario} / ${c.id}: ${c.status} ${c.errorMessage ?? ""}`,
        );
        failed ||= c.status === "FAILURE";
      }
    }
    if (results.size === 0 || run.code !== 0) {
      failed = true;
      console.log(run.output);
    }
  }
} catch (error) {
  failed = true;
  console.error(error);
  if (stack !== undefined) console.error(stack.server.output());
} finally {
  await proxy?.close();
  await stack?.close();
}
console.log(failed ? "\nConformance: FAILED" : "\nConformance: every applicable scenario passed");
process.exit(failed ? 1 : 0);
