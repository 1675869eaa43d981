import type { AirtableLimiter, RateLimitScope } from "../../src/shared/limiter/index.ts";

/** No pacing at all: the baseline a real limiter's cost is measured against. */
export class PassThroughLimiter implements AirtableLimiter {
  schedule<T>(_scope: RateLimitScope, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async reportRateLimited(): Promise<void> {}

  async close(): Promise<void> {}
}
