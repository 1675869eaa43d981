import type { RateLimitScope } from "./types.ts";

/**
 * The last check before a request leaves for Airtable. Bottleneck paces requests; the admission gate is
 * the hard guarantee behind it: it refuses a request while a 429 penalty is in force for its base or user,
 * and refuses one that would be the (limit+1)-th inside the sliding window, whatever timers, event-loop
 * stalls or clock skew did to the pacing.
 */
export type Admission = { admitted: true } | { admitted: false; reason: "penalty" | "window"; waitMs: number };

export interface AdmissionGate {
  admit(scope: RateLimitScope): Promise<Admission>;
  /** Pauses the scope (its base, or its user for base-less calls) for `ms`; never shortens a running penalty. */
  penalize(scope: RateLimitScope, ms: number): Promise<void>;
  /** The penalty left for the scope, in ms (0 when none). */
  penaltyRemaining(scope: RateLimitScope): Promise<number>;
}

export interface WindowLimits {
  windowMs: number;
  baseLimit: number;
  userLimit: number;
}
