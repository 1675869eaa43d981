/**
 * A hosted platform behind one egress IP (issue 9, item 4), against the real router, real Redis and the default
 * limits: 1,000 client registrations in an hour and refreshes of 5,000 distinct grants in a minute are all
 * served. The 5,000 grants are made with the server's own Grants (as 5,000 sign-ins would leave them) so the
 * test spends its time on the refreshes. In the "timing" group: it needs the minute to itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAuthContext } from "../../../src/server/auth/context.ts";
import { registerClient, startHarness, tokenRequest, type Harness } from "../../support/auth-test-harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ rateLimits: {} }); // the defaults
});
afterAll(async () => {
  await h.close();
});

/** Runs `count` tasks, `width` at a time; returns their results in order. */
async function inPool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

describe("one egress IP, many users", () => {
  it("1,000 client registrations in an hour are all served", { timeout: 300_000 }, async () => {
    const started = Date.now();
    const answers = await inPool(1_000, 16, (i) =>
      registerClient(h, {
        client_name: `Connector of user ${i}`,
        redirect_uris: ["https://claude.ai/api/mcp/auth_callback"],
        token_endpoint_auth_method: i % 2 === 0 ? "none" : "client_secret_post",
      }),
    );
    expect(Date.now() - started).toBeLessThan(3600_000);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(new Set(answers.map((a) => a.clientId)).size).toBe(1_000);
  });

  it("refreshes of 5,000 distinct grants within one minute are all served", { timeout: 300_000 }, async () => {
    const platform = await registerClient(h, {
      client_name: "Hosted platform",
      redirect_uris: ["https://chatgpt.com/connector_platform_oauth_redirect"],
      token_endpoint_auth_method: "client_secret_post",
    });
    const grants = buildAuthContext(h.deps).grants;
    const issued = await inPool(5_000, 32, (i) =>
      grants.create({
        grantId: `gr_egress${i}`,
        userId: `usr_egress${i}`,
        clientId: platform.clientId,
        scopes: ["records:read"],
        resource: `${h.url}/mcp`,
      }),
    );

    const started = Date.now();
    const answers = await inPool(5_000, 32, (i) =>
      tokenRequest(h, {
        grant_type: "refresh_token",
        client_id: platform.clientId,
        client_secret: platform.secret,
        refresh_token: issued[i]?.refresh_token as string,
      }),
    );
    const elapsed = Date.now() - started;
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.map((a) => `${a.status} ${JSON.stringify(a.body)}`).slice(0, 3)).toEqual([]);
    // All of them inside one window of the per-IP token limit (it opens with the first request).
    expect(elapsed, `5,000 refreshes took ${elapsed} ms: too slow to show a minute's worth`).toBeLessThan(60_000);
  });
});
