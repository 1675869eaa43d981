import { afterEach, describe, expect, it } from "vitest";
import { fixture, sleep, type Fixture } from "./test-helpers.ts";

let f: Fixture | undefined;
afterEach(() => f?.sandbox.close());

describe("rate limits", () => {
  it("answers 429 to the 6th request to a base within a second and keeps the base penalised", async () => {
    f = await fixture({ penaltyMs: 400 });
    const path = `/v0/${f.base.id}/Tasks`;
    const first = await Promise.all(Array.from({ length: 5 }, () => f!.call("GET", path)));
    expect(first.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const sixth = await f.call("GET", path);
    expect(sixth.status).toBe(429);
    expect(sixth.body).toEqual({
      errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" }],
    });
    await sleep(250); // still penalised although the window has room again... (5 + 1 in the last second)
    expect((await f.call("GET", path)).status).toBe(429);
    await sleep(1100); // penalty over and the window empty
    expect((await f.call("GET", path)).status).toBe(200);
    expect(f.sandbox.count429({ baseId: f.base.id })).toBe(2);
    expect(f.sandbox.requests.filter((r) => r.rateLimited)).toHaveLength(2);
    expect(f.sandbox.maxRequestsInWindow({ baseId: f.base.id })).toBe(7);
  });

  it("never answers 429 to a client that keeps ≤ 5 requests per sliding second", async () => {
    f = await fixture({ penaltyMs: 1000 });
    const path = `/v0/${f.base.id}/Tasks`;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await f.call("GET", path)).status);
      await sleep(205);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(f.sandbox.maxRequestsInWindow({ baseId: f.base.id, windowMs: 1000 })).toBeLessThanOrEqual(5);
  });

  it("limits a token to 50 requests per second across bases, with its own penalty", async () => {
    f = await fixture({ penaltyMs: 300, perTokenRps: 8 });
    const second = f.sandbox.createBase(f.user.id, {
      name: "Other",
      tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    const paths = [`/v0/${f.base.id}/Tasks`, `/v0/${second.id}/T`];
    const res = await Promise.all(Array.from({ length: 9 }, (_, i) => f!.call("GET", paths[i % 2] as string)));
    expect(res.filter((r) => r.status === 429)).toHaveLength(1);
    // The token is penalised everywhere, but another user's token is not.
    expect((await f.call("GET", `/v0/meta/whoami`)).status).toBe(429);
    const other = f.sandbox.addUser({ email: "b@example.com" });
    expect(
      (await f.call("GET", `/v0/meta/whoami`, undefined, f.sandbox.createPersonalAccessToken(other.id))).status,
    ).toBe(200);
    expect(f.sandbox.maxRequestsInWindow({ token: f.token })).toBe(10);
  });

  it("counts all of a user's personal access tokens together, as Airtable's rate limits page says", async () => {
    // "a limit of 50 requests per second for all traffic using personal access tokens from a given user"
    // (https://airtable.com/developers/web/api/rate-limits): a second PAT does not double the user's rate.
    f = await fixture({ penaltyMs: 300, perTokenRps: 8 });
    const second = f.sandbox.createBase(f.user.id, {
      name: "Other",
      tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }] }],
    });
    const otherPat = f.sandbox.createPersonalAccessToken(f.user.id);
    const paths = [`/v0/${f.base.id}/Tasks`, `/v0/${second.id}/T`];
    const res = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        f!.call("GET", paths[i % 2] as string, undefined, i < 5 ? f!.token : otherPat),
      ),
    );
    expect(res.filter((r) => r.status === 429)).toHaveLength(1);
    // The penalty holds the user's every PAT, a new one too.
    expect((await f.call("GET", "/v0/meta/whoami", undefined, otherPat)).status).toBe(429);
    const third = f.sandbox.createPersonalAccessToken(f.user.id);
    expect((await f.call("GET", "/v0/meta/whoami", undefined, third)).status).toBe(429);
    await sleep(1100);
    expect((await f.call("GET", "/v0/meta/whoami", undefined, third)).status).toBe(200);
    f.sandbox.penalize({ token: third }, 200);
    expect((await f.call("GET", "/v0/meta/whoami")).status).toBe(429);
  });

  it("can be penalised from outside and counts requests per sliding window", async () => {
    f = await fixture({ penaltyMs: 200 });
    const path = `/v0/${f.base.id}/Tasks`;
    f.sandbox.penalize({ baseId: f.base.id }, 150);
    expect((await f.call("GET", path)).status).toBe(429);
    await sleep(200);
    expect((await f.call("GET", path)).status).toBe(200);
    f.sandbox.clearRequests();
    expect(f.sandbox.maxRequestsInWindow({ baseId: f.base.id })).toBe(0);
  });
});
