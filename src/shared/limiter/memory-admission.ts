import type { Admission, AdmissionGate, AdmissionTicket, WindowLimits } from "./admission.ts";
import type { RateLimitScope } from "./types.ts";

/** The admission gate for a single process (stdio mode without Redis): same rules, kept in memory. */
export class MemoryAdmissionGate implements AdmissionGate {
  readonly #limits: WindowLimits;
  readonly #windows = new Map<string, { at: number; member: string }[]>();
  #sequence = 0;
  readonly #penaltyUntil = new Map<string, number>();

  constructor(limits: WindowLimits) {
    this.#limits = limits;
  }

  async admit(scope: RateLimitScope): Promise<Admission> {
    const now = performance.now();
    const penalty = Math.max(
      this.#penaltyLeft(`user:${scope.userId}`, now),
      scope.baseId ? this.#penaltyLeft(`base:${scope.baseId}`, now) : 0,
    );
    if (penalty > 0) return { admitted: false, reason: "penalty", waitMs: Math.ceil(penalty) };
    const windows: [string, number][] = [[`user:${scope.userId}`, this.#limits.userLimit]];
    if (scope.baseId) windows.push([`base:${scope.baseId}`, this.#limits.baseLimit]);
    let wait = 0;
    for (const [key, limit] of windows) {
      const times = this.#recent(key, now);
      if (times.length >= limit) wait = Math.max(wait, times[0]!.at + this.#limits.windowMs - now + 1);
    }
    if (wait > 0) return { admitted: false, reason: "window", waitMs: Math.ceil(wait) };
    const member = String(++this.#sequence);
    for (const [key] of windows) this.#recent(key, now).push({ at: now, member });
    return { admitted: true, ticket: { member, at: now } };
  }

  async reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, delayMs: number): Promise<void> {
    const keys = [`user:${scope.userId}`, ...(scope.baseId ? [`base:${scope.baseId}`] : [])];
    for (const key of keys) {
      const times = this.#windows.get(key);
      const entry = times?.find((t) => t.member === ticket.member);
      if (!times || !entry) continue;
      entry.at = ticket.at + delayMs;
      times.sort((a, b) => a.at - b.at);
    }
  }

  async penalize(scope: RateLimitScope, ms: number): Promise<void> {
    const key = scope.baseId ? `base:${scope.baseId}` : `user:${scope.userId}`;
    const until = performance.now() + ms;
    if ((this.#penaltyUntil.get(key) ?? 0) < until) this.#penaltyUntil.set(key, until);
  }

  async penaltyRemaining(scope: RateLimitScope): Promise<number> {
    const now = performance.now();
    return Math.max(
      this.#penaltyLeft(`user:${scope.userId}`, now),
      scope.baseId ? this.#penaltyLeft(`base:${scope.baseId}`, now) : 0,
    );
  }

  #penaltyLeft(key: string, now: number): number {
    const until = this.#penaltyUntil.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#penaltyUntil.delete(key);
      return 0;
    }
    return until - now;
  }

  #recent(key: string, now: number): { at: number; member: string }[] {
    let times = this.#windows.get(key);
    if (!times) {
      times = [];
      this.#windows.set(key, times);
    }
    while (times.length > 0 && times[0]!.at <= now - this.#limits.windowMs) times.shift();
    return times;
  }
}
