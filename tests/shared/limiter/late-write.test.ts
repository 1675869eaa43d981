/**
 * A request whose bytes reach its socket well after its admission (a new connection, a stalled event loop) reports
 * the write (`SendTiming.written`), and its place in the shared window moves at that moment: the request that would
 * be the sixth in a second counted from the late write waits, without waiting for the late request's answer. Before, the place moved only after the answer, so a late request whose answer was slow let the sixth go
 * too early (seen as 429s from the in-process sandbox with 50 requests written at once: 3 runs in 12).
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import type { SendTiming } from "../../../src/shared/limiter/types.ts";
import { maxInWindow } from "../../../src/sandbox/recorder.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WRITE_STALL_MS = 250;
const SLOW_ANSWER_MS = 2_500;

let redis: Redis;
const prefix = uniquePrefix("limiter-late-write");

beforeAll(() => {
  redis = createTestRedis();
});
afterAll(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe.each([
  ["clustered (Redis)", () => BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix })],
  ["local (memory)", () => BottleneckAirtableLimiter.local()],
])("%s limiter, a request written late", (_name, create) => {
  it("moves its place in the window at the write: ≤ 5 writes in every second, without waiting for its answer", async () => {
    const limiter = create();
    try {
      // A process's first request goes alone (warm-up); keep it away from the base under test.
      await limiter.schedule({ userId: "usrLate", baseId: "appWarm" }, async (send) => send.written());
      // The memory book paces its first window evenly (memory-book.ts, startup pacing): start after it.
      await sleep(1_100);
      const scope = { userId: "usrLate", baseId: "appLate" };
      const writes: number[] = [];
      const prompt = async (send: SendTiming) => {
        writes.push(performance.now());
        send.written();
      };
      let lateAnsweredAt = 0;
      // The first second: one request stalls 250 ms between its admission and its write, then answers 2.5 s later.
      const first = [
        limiter.schedule(scope, async (send: SendTiming) => {
          await sleep(WRITE_STALL_MS);
          await prompt(send);
          await sleep(SLOW_ANSWER_MS);
          lateAnsweredAt = performance.now();
        }),
        ...Array.from({ length: 4 }, () => limiter.schedule(scope, prompt)),
      ];
      // The next five: the last of them is the one the late write pushes back.
      const next = Array.from({ length: 5 }, () => limiter.schedule(scope, prompt));
      await Promise.all(next);
      const lastOfNext = Math.max(...writes);
      await Promise.all(first);

      expect(writes).toHaveLength(10);
      // Airtable counts arrivals in any rolling second: the late write counts where it happened, not where it was
      // booked.
      expect(maxInWindow(writes, 1_000)).toBeLessThanOrEqual(5);
      // Moved at the write, not after the answer (which came 2.5 s after it).
      expect(lastOfNext).toBeLessThan(lateAnsweredAt - 1_000);
    } finally {
      await limiter.close();
    }
  });
});
