/**
 * `schedule` with an AbortSignal (an operation being cancelled): a request that has not started is never sent and
 * gives its place in the shared window back; one that has started runs to its answer. Real Redis for the shared
 * book (the entries a request holds are read back from Redis), the in-memory book for the single-process limiter.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { useTestRedis } from "../../helpers/redis.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("schedule with an AbortSignal", () => {
  const { redis, prefix } = useTestRedis("limiter-abort");

  /** Entries the base's book holds in Redis (admitted or booked requests still occupying the window). */
  async function bookedOn(baseId: string): Promise<number> {
    const raw = await redis.get(`${prefix}:limiter:book:base:${baseId}`);
    return raw === null ? 0 : ((JSON.parse(raw) as { t?: number[] }).t?.length ?? 0);
  }

  it("a booked wait and a wait in the local queue, aborted, never send and free their places in the shared book", async () => {
    const limiter = BottleneckAirtableLimiter.clustered({ redis, keyPrefix: prefix });
    const scope = { userId: "usrAbort", baseId: "appAbort" };
    const sent: string[] = [];
    const request = (name: string) => async () => {
      sent.push(name);
      return name;
    };
    // Five fill the base's second; the sixth is booked about a second ahead and waits; the seventh waits its turn
    // in this process's queue, not booked yet.
    const first = await Promise.all([1, 2, 3, 4, 5].map((i) => limiter.schedule(scope, request(`r${i}`))));
    expect(first).toHaveLength(5);
    const cancel = new AbortController();
    const sixth = limiter.schedule(scope, request("r6"), { signal: cancel.signal });
    const seventh = limiter.schedule(scope, request("r7"), { signal: cancel.signal });
    await sleep(150);
    expect(await bookedOn("appAbort")).toBe(6);
    const outcomes = Promise.allSettled([sixth, seventh]);
    cancel.abort(new Error("operation cancelled"));
    const [six, seven] = await outcomes;
    expect(six).toMatchObject({ status: "rejected", reason: { message: "operation cancelled" } });
    expect(seven).toMatchObject({ status: "rejected", reason: { message: "operation cancelled" } });
    await sleep(50);
    // The sixth's entry left the book: the window holds the five that were sent, and the next request takes the
    // place the cancelled one had.
    expect(await bookedOn("appAbort")).toBe(5);
    expect(await limiter.schedule(scope, request("r8"))).toBe("r8");
    await sleep(1_200);
    expect(sent).toEqual(["r1", "r2", "r3", "r4", "r5", "r8"]);
    await limiter.close();
  });

  it("leaves no listener on a signal that never aborts (an operation's signal serves every one of its requests)", async () => {
    const limiter = BottleneckAirtableLimiter.local({ settings: { baseRps: 50 } });
    const signal = new AbortController().signal;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.schedule({ userId: "usrL", baseId: "appL" }, async () => i, { signal }),
      ),
    );
    expect(answers).toHaveLength(20);
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    await limiter.close();
  });

  it("an already aborted signal rejects at once; a started request ignores a later abort", async () => {
    const limiter = BottleneckAirtableLimiter.local();
    const scope = { userId: "usrLocal", baseId: "appLocal" };
    let calls = 0;
    const cancelled = new AbortController();
    cancelled.abort(new Error("cancelled before"));
    await expect(limiter.schedule(scope, async () => (calls += 1), { signal: cancelled.signal })).rejects.toThrow(
      "cancelled before",
    );
    expect(calls).toBe(0);

    const late = new AbortController();
    const answer = limiter.schedule(
      scope,
      async () => {
        calls += 1;
        late.abort(new Error("too late"));
        await sleep(50);
        return "answered";
      },
      { signal: late.signal },
    );
    expect(await answer).toBe("answered");
    expect(calls).toBe(1);
    await limiter.close();
  });
});
