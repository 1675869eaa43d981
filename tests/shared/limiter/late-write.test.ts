/**
 * A request whose bytes reach its socket well after its admission (a new connection, a stalled event loop) reports
 * the write (`SendTiming.written`), and its place in the shared window moves at that moment: the request that would
 * be the sixth in a second counted from the late write waits, without waiting for the late request's answer.
 * Before, the place moved only after the answer, so a late request whose answer was slow let the sixth go too early
 * (seen as 429s from the in-process sandbox with 50 requests written at once: 1 to 3 runs in 12). After the answer,
 * a slow round trip moves the place again, from where the first move left it.
 */
import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import type { SendTiming } from "../../../src/shared/limiter/types.ts";
import { maxInWindow } from "../../../src/sandbox/recorder.ts";
import { useTestRedis } from "../../helpers/redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WRITE_STALL_MS = 250;
const SLOW_ANSWER_MS = 2_500;

const { redis, prefix } = useTestRedis("limiter-late-write");

/**
 * Ten requests to one base: the first five at once, one of them writing `stallMs` after its admission and answering
 * `answerMs` after its write; then five more, the last of which is the one the late request's entry holds back.
 * Times are `performance.now()` (ms).
 */
async function tenRequests(
  limiter: BottleneckAirtableLimiter,
  stallMs: number,
  answerMs: number,
): Promise<{ writes: number[]; lastOfNext: number; lateAnsweredAt: number }> {
  // A process's first request goes alone (warm-up); keep it away from the base under test.
  await limiter.schedule({ userId: "usrLate", baseId: "appWarm" }, async (send) => send.written());
  // The memory book paces its first window evenly (memory-book.ts, startup pacing): start after it.
  await sleep(1_100);
  const scope = { userId: "usrLate", baseId: `appLate${stallMs}` };
  const writes: number[] = [];
  const prompt = async (send: SendTiming) => {
    writes.push(performance.now());
    send.written();
  };
  let lateAnsweredAt = 0;
  const first = [
    limiter.schedule(scope, async (send: SendTiming) => {
      await sleep(stallMs);
      await prompt(send);
      await sleep(answerMs);
      lateAnsweredAt = performance.now();
    }),
    ...Array.from({ length: 4 }, () => limiter.schedule(scope, prompt)),
  ];
  const next = Array.from({ length: 5 }, () => limiter.schedule(scope, prompt));
  await Promise.all(next);
  const lastOfNext = Math.max(...writes);
  await Promise.all(first);
  return { writes, lastOfNext, lateAnsweredAt };
}

describe.each([
  ["clustered (Redis)", () => BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix })],
  ["local (memory)", () => BottleneckAirtableLimiter.local()],
])("%s limiter, a request written late", (_name, create) => {
  it("moves its place in the window at the write: ≤ 5 writes in every second, without waiting for its answer", async () => {
    const limiter = create();
    try {
      const { writes, lastOfNext, lateAnsweredAt } = await tenRequests(limiter, WRITE_STALL_MS, SLOW_ANSWER_MS);
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

  it("moves it again after a slow answer: the entry then covers an arrival as late as the answer", async () => {
    const limiter = create();
    try {
      // Written 200 ms late (first move), answered 300 ms after the write: it may have reached Airtable any time
      // up to its answer, so the request it holds back leaves a second after the answer (second move, made from
      // the entry as the first move left it).
      const { writes, lastOfNext, lateAnsweredAt } = await tenRequests(limiter, 200, 300);
      expect(writes).toHaveLength(10);
      expect(lastOfNext - lateAnsweredAt).toBeGreaterThanOrEqual(990);
    } finally {
      await limiter.close();
    }
  });
});
