import { describe, expect, it } from "vitest";
import { SendJitter } from "../../../src/shared/limiter/send-jitter.ts";

describe("SendJitter", () => {
  it("holds the margin at the cap until enough requests were measured", () => {
    const jitter = new SendJitter({ capMs: 40 });
    jitter.observe(0, 10); // cold: sets the round-trip baseline only
    for (let i = 0; i < SendJitter.warmupSamples - 1; i++) jitter.observe(1, 10);
    expect(jitter.marginMs()).toBe(40);
  });

  it("is the 90th percentile of recent latenesses plus the headroom, within its bounds", () => {
    const jitter = new SendJitter({ capMs: 40 });
    jitter.observe(0, 10);
    // Latenesses 0..19 ms in a shuffled order (write delay only; every round trip equals the baseline).
    const latenesses = Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
    for (const ms of latenesses) jitter.observe(ms, 10);
    // Sorted 0..19: the 90th percentile is the 18th value (index floor(0.9 · 20) = 18), i.e. 18 ms.
    expect(jitter.marginMs()).toBe(18 + SendJitter.headroomMs);

    const calm = new SendJitter({ capMs: 40 });
    calm.observe(0, 10);
    for (let i = 0; i < 20; i++) calm.observe(0, 10);
    expect(calm.marginMs()).toBe(SendJitter.headroomMs);

    const late = new SendJitter({ capMs: 40 });
    late.observe(0, 10);
    for (let i = 0; i < 20; i++) late.observe(500, 10);
    expect(late.marginMs()).toBe(40);
  });

  it("forgets samples older than the last SendJitter.size", () => {
    const jitter = new SendJitter({ capMs: 40 });
    jitter.observe(0, 10);
    for (let i = 0; i < SendJitter.size; i++) jitter.observe(30, 10);
    expect(jitter.marginMs()).toBe(35);
    // Every 30 ms sample pushed out by 0 ms ones, one at a time: the p90 falls to 0 once fewer than 10 % are left.
    for (let i = 0; i < SendJitter.size - 10; i++) jitter.observe(0, 10);
    expect(jitter.marginMs()).toBe(35);
    jitter.observe(0, 10);
    expect(jitter.marginMs()).toBe(SendJitter.headroomMs);
  });

  it("counts a round trip slower than the fastest recent one as lateness", () => {
    const jitter = new SendJitter({ capMs: 40 });
    jitter.observe(0, 10);
    expect(jitter.observe(2, 25)).toBe(2 + 15);
  });
});
