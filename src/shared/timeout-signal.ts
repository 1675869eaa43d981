/**
 * A timeout for one HTTP exchange that is cleared when the exchange ends: `signal` aborts with a `TimeoutError`
 * DOMException after `ms` milliseconds, exactly as `AbortSignal.timeout(ms)` does (same name and message, so
 * `classifyFetchError` and every `error.name === "TimeoutError"` check read it alike); `clear()` (idempotent) stops
 * the timer once the answer has been read, or the exchange failed. With `follow`, `signal` also aborts when `follow`
 * does (with `follow`'s reason, at once if it already has), and `clear()` stops following it.
 *
 * Why not `AbortSignal.timeout`: its timer cannot be cleared, so it stays pending until it fires (30 s for an
 * Airtable request) whatever became of the exchange: ~3,700 pending timers per instance at 125 read calls/s (the
 * many-users benchmark), and since Node 24 each keeps the async context it was made in (AsyncContextFrame: every
 * AsyncLocalStorage store of that moment) reachable. Before the MCP router emptied its per-request store
 * (mcp-router.ts, `requestRuntime`), that held ~2,100 finished requests per instance in the old generation
 * (issue 15: RSS and GC). tests/shared/airtable/transport-retention.test.ts counts the timers left behind.
 */
export function timeoutSignal(ms: number, follow?: AbortSignal): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    ms,
  );
  // A pending exchange keeps the process alive through its socket, not through this timer (as AbortSignal.timeout).
  timer.unref();
  if (follow === undefined) return { signal: controller.signal, clear: () => clearTimeout(timer) };
  // Rather than AbortSignal.any([signal, follow]): Node tracks an `any` signal's sources through WeakRefs, and a
  // listener added to it (undici adds one) follows each source too: ~8 µs per exchange against ~1 µs here, measured
  // in isolation, paid on every Airtable request of a read call (which has a deadline).
  const onAbort = () => controller.abort(follow.reason);
  if (follow.aborted) onAbort();
  else follow.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      follow.removeEventListener("abort", onAbort);
    },
  };
}
