const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A ring of slots (bases, users) that are each reused only after `restMs`: a slot handed out has been idle at
 * least that long, so a limiter sees a known but idle base and has no pacing wait to impose. When the ring
 * comes round too fast, `take` waits (the caller starts its clock after `take`).
 */
export class IdlePool {
  readonly #lastUsed: number[];
  readonly #restMs: number;
  #next = 0;

  constructor(size: number, restMs: number) {
    this.#lastUsed = Array.from({ length: size }, () => Number.NEGATIVE_INFINITY);
    this.#restMs = restMs;
  }

  async take(): Promise<number> {
    const slot = this.#next;
    this.#next = (slot + 1) % this.#lastUsed.length;
    const wait = this.#lastUsed[slot]! + this.#restMs - performance.now();
    if (wait > 0) await sleep(wait);
    this.#lastUsed[slot] = performance.now();
    return slot;
  }
}
