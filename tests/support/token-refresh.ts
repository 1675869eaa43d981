import { expect } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { sampleValue, type ServerHarness } from "./admin-test-harness.ts";

/** The sandbox's token endpoint (Airtable's OAuth token URL path), which a refresh of a user's access token hits. */
export const TOKEN_PATH = "/oauth2/v1/token";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watching a user's Airtable token refresh in tests whose tool calls must first refresh it (the sandbox's
 * `tokenLatencyMs` makes it slow): the token endpoint's requests since a sandbox time (`nowMs`), a wait until one
 * has started, an expired stored token to force the next call's refresh, and the calls /metrics counted.
 */
export interface RefreshWatch {
  /** The sandbox's token endpoint requests at or after `since` (a sandbox `nowMs()` time). */
  tokenRequestsSince(since: number): Sandbox["requests"];
  /** Waits (≤ 5 s) until the token endpoint got exactly one request since `since`: a refresh is on its way. */
  refreshStartedSince(since: number): Promise<void>;
  /** The user's stored Airtable access token as if it expired now: the next tool call refreshes it first. */
  expireStoredAccessToken(): Promise<void>;
  /** How many calls of `tool` the harness's server counted with `outcome` (tool_call_duration_seconds_count). */
  calls(tool: string, outcome: string): Promise<number>;
}

/** A RefreshWatch over `sandbox` for `userId`'s sign-in as stored by `server()` (read when used: set in beforeAll). */
export function refreshWatch(sandbox: () => Sandbox, server: () => ServerHarness, userId: () => string): RefreshWatch {
  const tokenRequestsSince = (since: number) =>
    sandbox().requests.filter((r) => r.path === TOKEN_PATH && r.time >= since);
  return {
    tokenRequestsSince,
    async refreshStartedSince(since) {
      for (let i = 0; i < 250 && tokenRequestsSince(since).length === 0; i++) await sleep(20);
      expect(tokenRequestsSince(since)).toHaveLength(1);
    },
    async expireStoredAccessToken() {
      const account = await server().store.getAirtableAccount(userId());
      if (account === undefined) throw new Error("no Airtable sign-in stored for the test user");
      await server().store.putAirtableAccount({
        ...account,
        tokens: { ...account.tokens, accessTokenExpiresAt: Date.now() },
      });
    },
    async calls(tool, outcome) {
      const exposition = await server().metrics.registry.metrics();
      return sampleValue(exposition, "tool_call_duration_seconds_count", { tool, outcome }) ?? 0;
    },
  };
}
