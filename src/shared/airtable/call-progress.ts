/**
 * What one tool call's Airtable requests have met so far, filled in by the transport as they go (a few counter
 * updates per attempt, no allocation): a call stopped before its end — its deadline passed — says from it what
 * Airtable did (src/shared/tools/read-call.ts).
 */
export interface CallProgress {
  /** HTTP attempts started (handed to the HTTP client), retries included. */
  attempts: number;
  /** Requests that got their answer (a call may read the schema, then several pages). */
  answered: number;
  /** Attempts answered with a 5xx status; `lastServerStatus` is the latest such status. */
  serverErrors: number;
  lastServerStatus: number | undefined;
  /** Attempts answered 429 Too Many Requests (each pauses the base for every process, AIRTABLE_RATE_LIMIT_PENALTY_MS). */
  rateLimited: number;
  /** Attempts that got no answer within the transport's per-attempt timeout. */
  timedOut: number;
  /** Attempts whose connection failed (refused, reset, DNS…) before an answer. */
  connectionFailed: number;
  /**
   * Where the call is now: `token` getting the user's Airtable access token (a refresh asks Airtable), `queued`
   * waiting in the rate limiter for its turn (or a 429 pause), `in_flight` an attempt waiting for Airtable's answer,
   * `backoff` waiting before the next attempt, `idle` between requests (the tool's own work).
   */
  phase: "idle" | "token" | "queued" | "in_flight" | "backoff";
}

/** A fresh record, for one call. */
export function newCallProgress(): CallProgress {
  return {
    attempts: 0,
    answered: 0,
    serverErrors: 0,
    lastServerStatus: undefined,
    rateLimited: 0,
    timedOut: 0,
    connectionFailed: 0,
    phase: "idle",
  };
}
