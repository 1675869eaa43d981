/**
 * The limiter's stall guard: a process that resumes long after Redis admitted its request (a GC pause, a starved
 * event loop between the booking's answer and the send) would send into a second its entry no longer covers. Such a
 * request books a fresh entry at the present moment instead (airtable-limiter.ts, `#bookThenStart`). Here the stall
 * is real: the test's Redis client blocks the whole thread for 200 ms right after Redis answered one booking, as a
 * long GC pause would, and the requests' start times must keep ≤ 5 in every sliding second. (A request that reports
 * its socket write is also moved at the write; this one does not, so the guard is what is tested.)
 */
import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { maxInWindow } from "../../../src/sandbox/recorder.ts";
import { createTestRedis, useTestRedis } from "../../helpers/redis.ts";

const STALL_MS = 200;

const { prefix } = useTestRedis("limiter-stalled-booking");

/** Blocks this thread (timers, I/O, everything) for `ms`, as a long GC pause does. */
function blockThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * `redis` whose answer to the next "book" call for `baseId` reaches the caller only after a STALL_MS block of the
 * thread: Redis has admitted the request (and timed its entry) before the stall.
 */
function stallNextBooking(client: Redis, baseId: string): { stalled: () => boolean } {
  const evalsha = client.evalsha.bind(client) as (...args: (string | number)[]) => Promise<unknown>;
  let armed = true;
  let stalled = false;
  (client as unknown as { evalsha: typeof evalsha }).evalsha = async (...args) => {
    const reply = await evalsha(...args);
    const isBooking = args.includes("book") && args.some((a) => String(a).endsWith(`:base:${baseId}`));
    if (armed && isBooking) {
      armed = false;
      blockThread(STALL_MS);
      stalled = true;
    }
    return reply;
  };
  return { stalled: () => stalled };
}

describe("a request that resumes long after its booking", () => {
  it("books again at the present moment: ≤ 5 starts in every second", async () => {
    const stalling = createTestRedis();
    try {
      const limiter = BottleneckAirtableLimiter.clustered({ redis: stalling, keyPrefix: prefix });
      // A process's first request goes alone (warm-up); keep it away from the base under test.
      await limiter.schedule({ userId: "usrStall", baseId: "appWarm" }, async (send) => send.written());
      const probe = stallNextBooking(stalling, "appStall");
      const scope = { userId: "usrStall", baseId: "appStall" };
      const starts: number[] = [];
      const request = async () => {
        starts.push(performance.now());
      };
      // The stalled request neither reports its write nor answers for 2 s, so neither the move at the write nor the
      // one after the answer can correct its entry in time: only the guard can. Five more go once it has started;
      // the fifth of them is the one its stale entry would let out a second after its admission, 200 ms too early.
      let started: () => void = () => {};
      const stalledStarted = new Promise<void>((resolve) => (started = resolve));
      const stalled = limiter.schedule(scope, async () => {
        await request();
        started();
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      });
      await stalledStarted;
      expect(probe.stalled()).toBe(true);
      await Promise.all(Array.from({ length: 5 }, () => limiter.schedule(scope, request)));
      await stalled;
      await limiter.close();

      expect(starts).toHaveLength(6);
      expect(maxInWindow(starts, 1_000)).toBeLessThanOrEqual(5);
    } finally {
      stalling.disconnect();
    }
  });
});
