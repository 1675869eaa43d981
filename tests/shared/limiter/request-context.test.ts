/**
 * A request that waits in its base's local queue (a Bottleneck job) runs in its own caller's async context: what is
 * written while it is booked and sent (the Airtable client's log lines, a 429 warning, a failed withdrawal) carries
 * its own request id and user (log-context.ts), not those of the request whose turn ended before it.
 */
import { expect, it } from "vitest";
import { BottleneckAirtableLimiter } from "../../../src/shared/limiter/airtable-limiter.ts";
import { currentLogContext, withLogContext } from "../../../src/shared/log-context.ts";

it("runs each queued request of a base in its own caller's log context", async () => {
  const limiter = BottleneckAirtableLimiter.local();
  const seen: Record<string, unknown> = {};
  const send = (requestId: string) =>
    withLogContext({ requestId, userId: `usr_${requestId}` }, () =>
      limiter.schedule({ userId: "usr1", baseId: "appContext" }, async () => {
        const { requestId: ranAs, userId } = currentLogContext();
        seen[requestId] = { ranAs, userId };
        await new Promise((resolve) => setTimeout(resolve, 10));
      }),
    );
  try {
    // The first goes at once; the others wait in the base's queue (a fresh process paces its first window).
    await Promise.all(["a", "b", "c", "d"].map(send));
  } finally {
    await limiter.close();
  }
  expect(seen).toEqual({
    a: { ranAs: "a", userId: "usr_a" },
    b: { ranAs: "b", userId: "usr_b" },
    c: { ranAs: "c", userId: "usr_c" },
    d: { ranAs: "d", userId: "usr_d" },
  });
});
