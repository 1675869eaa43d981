import type { AirtableLimiter, RateLimitScope, SendTiming } from "../../src/shared/limiter/index.ts";

/** Nothing to learn from a socket write when nothing is paced. */
const unobserved: SendTiming = { written() {} };

/** No pacing at all: the baseline a real limiter's cost is measured against. */
export class PassThroughLimiter implements AirtableLimiter {
  schedule<T>(_scope: RateLimitScope, fn: (send: SendTiming) => Promise<T>): Promise<T> {
    return fn(unobserved);
  }

  async reportRateLimited(): Promise<void> {}

  async close(): Promise<void> {}
}
