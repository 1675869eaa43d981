import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";

describe("local limiter (stdio mode, no Redis)", () => {
  it("lets 5 requests to an idle base start at once, and the 6th and 7th only a window after the 1st and 2nd", async () => {
    // The burst property replaces the old even spacing (208 ms apart): Airtable counts 5 in any rolling second, so an
    // idle base owes no wait to the first five — once the process has lived one window (see the next test).
    const limiter = BottleneckAirtableLimiter.local();
    await new Promise((r) => setTimeout(r, 1_050));
    const starts: Record<string, number[]> = { appA: [], appB: [] };
    const run = (baseId: string) =>
      limiter.schedule({ userId: "usr1", baseId }, async () => {
        starts[baseId]!.push(performance.now());
      });
    await Promise.all([...Array.from({ length: 7 }, () => run("appA")), run("appB")]);
    await limiter.close();
    const a = starts.appA!;
    expect(a).toHaveLength(7);
    for (let i = 5; i < a.length; i++) expect(a[i]! - a[i - 5]!).toBeGreaterThanOrEqual(1000);
    // No spacing inside the burst (the old pacing put the 5th ≥ 832 ms after the 1st).
    expect(a[4]! - a[0]!).toBeLessThan(400);
    // appB's single request did not queue behind appA's seven.
    expect(starts.appB![0]! - a[0]!).toBeLessThan(200);
  });

  it("spaces a fresh process's first window evenly: the second before it started is unknown", async () => {
    // Another process on the same token (a restarted stdio server) may have used the last second; a memory book
    // cannot know, so a fresh limiter paces its first window as 5 per 1 s + margin, evenly.
    const limiter = BottleneckAirtableLimiter.local();
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 3 }, () =>
        limiter.schedule({ userId: "usr1", baseId: "appFresh" }, async () => {
          starts.push(performance.now());
        }),
      ),
    );
    await limiter.close();
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(2 * 200);
  });

  it("holds every request of a base while a reported 429 penalty runs", async () => {
    const limiter = BottleneckAirtableLimiter.local({ settings: { penaltyMs: 400 } });
    const scope = { userId: "usr1", baseId: "appP" };
    await limiter.reportRateLimited(scope);
    expect(await limiter.penaltyRemaining(scope)).toBeGreaterThan(300);
    const before = performance.now();
    await limiter.schedule(scope, async () => undefined);
    expect(performance.now() - before).toBeGreaterThanOrEqual(390);
    // Another base of the same user is not paused.
    const other = performance.now();
    await limiter.schedule({ userId: "usr1", baseId: "appQ" }, async () => undefined);
    expect(performance.now() - other).toBeLessThan(100);
    await limiter.close();
  });

  it("keeps a user at its limit across bases: the 4th request over 3 bases waits a window", async () => {
    const limiter = BottleneckAirtableLimiter.local({ settings: { userRps: 3 } });
    const starts: number[] = [];
    await Promise.all(
      ["appU1", "appU2", "appU3", "appU4"].map((baseId) =>
        limiter.schedule({ userId: "usrU", baseId }, async () => {
          starts.push(performance.now());
        }),
      ),
    );
    await limiter.close();
    starts.sort((x, y) => x - y);
    expect(starts[3]! - starts[0]!).toBeGreaterThanOrEqual(1000);
  });

  it("drops an idle base's queue and book after the idle timeout: nothing of it stays in the process", async () => {
    const limiter = BottleneckAirtableLimiter.local({ settings: { idleTimeoutMs: 200, penaltyMs: 100 } });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.schedule({ userId: `usr${i % 3}`, baseId: `appIdle${i}` }, async () => 1),
      ),
    );
    await limiter.reportRateLimited({ userId: "usr0", baseId: "appIdle0" });
    expect(limiter.localState()).toMatchObject({ bases: 20, penalties: 1 });
    expect(limiter.localState().books).toBeGreaterThan(0);
    // Bottleneck sweeps idle group members every timeout / 2; the books end a window (+ margin) after their last entry.
    await new Promise((r) => setTimeout(r, 1_400));
    expect(limiter.localState()).toEqual({ bases: 0, users: 0, penalties: 0, books: 0 });
    // And the limiter still works afterwards.
    expect(await limiter.schedule({ userId: "usr0", baseId: "appIdle0" }, async () => "again")).toBe("again");
    await limiter.close();
  });
});
