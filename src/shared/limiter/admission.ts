import type { RateLimitScope } from "./types.ts";

/**
 * The last check before a request leaves for Airtable. Bottleneck paces requests; the admission gate is
 * the hard guarantee behind it: it refuses a request while a 429 penalty is in force for its base or user,
 * and refuses one that would be the (limit+1)-th inside the sliding window, whatever timers, event-loop
 * stalls or clock skew did to the pacing.
 */
export type Admission =
  { admitted: true; ticket: AdmissionTicket } | { admitted: false; reason: "penalty" | "window"; waitMs: number };

/** Identifies one admitted request in the windows, so its recorded time can be corrected later. */
export interface AdmissionTicket {
  member: string;
  /** Admission time in the gate's own clock (ms). */
  at: number;
}

export interface AdmissionGate {
  admit(scope: RateLimitScope): Promise<Admission>;
  /**
   * The request was admitted at `ticket.at` but probably reached Airtable `delayMs` later (a cold connection,
   * an event-loop stall): move its place in the windows so later admissions count from its real arrival.
   */
  reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, delayMs: number): Promise<void>;
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
