/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, its CLI, as SDK maintainers run it)
 * against a real server process's /mcp, at 2025-06-18, 2025-11-25 and 2026-07-28, with a user signed in through
 * the real OAuth flow; and its authorization-server scenarios against our OAuth authorization server.
 *
 * The suite has no option to send a token (conformance issue #453), so it talks to /mcp through a forwarding
 * proxy that adds the access token and changes nothing else (tests/support/conformance/token-proxy.ts). Which
 * scenarios apply, and why the others do not, is tests/support/conformance/scenarios.ts; this file asserts the
 * applicable ones by name, so a scenario that newly fails, is skipped, appears or disappears fails here.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testRedisUrl } from "../helpers/redis.ts";
import { startLocalStack, type LocalStack } from "../support/conformance/local-stack.ts";
import {
  listServerScenarios,
  runAuthorizationScenarios,
  runCli,
  runServerScenarios,
} from "../support/conformance/run-suite.ts";
import {
  applicableAt,
  formatJudgement,
  judge,
  NOT_RUN,
  REVISIONS,
  SCENARIOS,
  TASKS_EXTENSION_MERGED,
  type Revision,
} from "../support/conformance/scenarios.ts";
import { startTokenProxy, type TokenProxy } from "../support/conformance/token-proxy.ts";

/** Tasks scenarios whose checks count once the tasks branch is merged (see TASKS_EXTENSION_MERGED). */
const TASKS = TASKS_EXTENSION_MERGED
  ? ["tasks-capability-negotiation", "tasks-dispatch-and-envelope", "tasks-request-headers"]
  : [];

/** The scenarios that must pass, by name. */
const MUST_PASS: Record<Revision, string[]> = {
  "2025-06-18": ["ping", "server-initialize", "tools-list"],
  "2025-11-25": ["dns-rebinding-protection", "ping", "server-initialize", "tools-list"],
  "2026-07-28": [
    "caching",
    "dns-rebinding-protection",
    "http-header-validation",
    "input-required-result-unsupported-methods",
    "server-sse-multiple-streams",
    "server-stateless",
    ...TASKS,
    "tools-list",
  ].sort(),
};

let stack: LocalStack;
let proxy: TokenProxy;

beforeAll(async () => {
  stack = await startLocalStack({ redisUrl: testRedisUrl() });
  proxy = await startTokenProxy({ upstream: new URL(stack.mcpUrl).origin, token: () => stack.accessToken });
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === "fail") console.error(stack.server.output());
});

describe("MCP conformance suite against /mcp", () => {
  it("every server scenario in the suite's catalog has a decision (applies, or excluded with a reason)", async () => {
    const decided = [...Object.keys(SCENARIOS), ...Object.keys(NOT_RUN)].sort();
    expect(await listServerScenarios()).toEqual(decided);
  }, 60_000);

  it.each(REVISIONS)(
    "at %s: every applicable scenario passes",
    async (revision) => {
      expect(applicableAt(revision), "scenarios.ts and this test disagree on what applies").toEqual(
        MUST_PASS[revision],
      );
      const { results } = await runServerScenarios(`${proxy.url}/mcp`, revision);
      const judgement = judge(revision, results);
      const report = formatJudgement(judgement);
      console.log(report);
      expect(judgement.failures, report).toEqual([]);
      expect(judgement.passed, report).toEqual(MUST_PASS[revision]);
    },
    60_000,
  );

  it("needs the token: without it, tools-list is refused (unauthorized), so the passes above are the signed-in user's", async () => {
    const { code, output } = await runCli(["server", "--url", stack.mcpUrl, "--scenario", "tools-list"]);
    expect(code, output).toBe(1);
    expect(output).toMatch(/unauthorized.*needs a bearer token/);
  }, 60_000);
});

describe("MCP conformance suite against our authorization server", () => {
  it("passes the metadata endpoint and the authorization code grant (PKCE, a real sign-in)", async () => {
    const { results, run } = await runAuthorizationScenarios({
      issuer: new URL(stack.mcpUrl).origin,
      resource: stack.mcpUrl,
      sandboxUser: stack.sandboxUser,
    });
    const statuses = Object.fromEntries(
      [...results].map(([scenario, checks]) => [scenario, checks.map((c) => `${c.id}: ${c.status}`)]),
    );
    expect(statuses, run.output).toEqual({
      "authorization-server-metadata-endpoint": [
        "authorization-server-metadata: SUCCESS",
        "authorization-server-metadata-cimd: SUCCESS",
      ],
      "authorization-code-grant": ["authorization-code-grant: SUCCESS"],
    });
    expect(run.code, run.output).toBe(0);
  }, 60_000);
});
