import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { pacingFor } from "../../../src/shared/limiter/spacing.ts";

describe("pacingFor", () => {
  it("spaces requests so that the window plus the jitter margin holds the limit", () => {
    expect(pacingFor(5, 40)).toEqual({ windowMs: 1040, limit: 5, minTimeMs: 208 });
    expect(pacingFor(50, 40).minTimeMs).toBe(21);
    expect(() => pacingFor(0, 40)).toThrow(RangeError);
  });
});

describe("local limiter (stdio mode, no Redis)", () => {
  it("never lets 6 requests to one base start inside one window, but leaves another base alone", async () => {
    const limiter = BottleneckAirtableLimiter.local();
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
    // appB's single request did not queue behind appA's seven.
    expect(starts.appB![0]! - a[0]!).toBeLessThan(200);
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
});
