/**
 * timeoutSignal (src/shared/timeout-signal.ts): the exchange's signal aborts with a TimeoutError after `ms`, or with
 * the followed signal's reason when that aborts first (a read call's deadline stopping its Airtable request), and
 * `clear()` leaves neither the timer nor the listener on the followed signal behind.
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { timeoutSignal } from "../../src/shared/timeout-signal.ts";

describe("timeoutSignal", () => {
  it("aborts with a TimeoutError after ms", async () => {
    const { signal } = timeoutSignal(20);
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    expect((signal.reason as DOMException).name).toBe("TimeoutError");
  });

  it("aborts with the followed signal's reason when it aborts first, and at once when it already had", () => {
    const stop = new AbortController();
    const running = timeoutSignal(60_000, stop.signal);
    expect(running.signal.aborted).toBe(false);
    const reason = new Error("the read call's deadline passed");
    stop.abort(reason);
    expect(running.signal.aborted).toBe(true);
    expect(running.signal.reason).toBe(reason);
    running.clear();

    const late = timeoutSignal(60_000, stop.signal);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
    late.clear();
  });

  it("clear() stops following: the followed signal keeps no listener and its abort no longer reaches the exchange", () => {
    const stop = new AbortController();
    const exchanges = Array.from({ length: 5 }, () => timeoutSignal(60_000, stop.signal));
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(5);
    for (const exchange of exchanges) exchange.clear();
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    stop.abort(new Error("later"));
    for (const exchange of exchanges) expect(exchange.signal.aborted).toBe(false);
  });
});
