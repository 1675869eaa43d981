import type { RateLimitScope } from "./types.ts";

/**
 * The admission book: the one shared record of when requests to a base (and for a user) may reach Airtable.
 *
 * Airtable allows 5 requests per base and 50 per user in any rolling second (https://airtable.com/developers/web/api/rate-limits)
 * and answers a 429 plus a 30 s pause otherwise. Each base and each user has a small book: the admission times of
 * its recent and booked requests, each with the end of the second it occupies, plus a penalty-until time. A request
 * asks for the earliest time `t ≥ now` at which it fits both its base's and its user's book, is entered there, and
 * waits until `t` (0 ms on an idle base: bursts of up to 5 go out at once; pacing only once a window is full).
 *
 * An entry occupies `[t, t + 1000 + margin)`, where `margin` is the jitter margin of the process that booked it: a
 * request admitted at `t` reaches Airtable somewhere in `[t, t + margin]`, so the next request that would be the
 * sixth in a second must not be admitted before the end of that interval plus 1000 ms. A book fits a new entry when,
 * at every moment the new entry occupies, fewer than `limit` other entries are active — then any `limit + 1`
 * entries contain one whose occupied interval ended before the last of them started, so their arrivals at Airtable
 * are ≥ 1000 ms apart.
 *
 * Two implementations keep the same rules: `RedisAdmissionBook` (one Lua script per request, shared by every process)
 * and `MemoryAdmissionBook` (one process, stdio and embedded mode). `earliestFit` below is the TypeScript statement of
 * the rule; the Lua script in redis-book.ts states it again for Redis (tests run both against the same scenarios).
 */
export interface BookEntry {
  /** Admission time (the book's clock, ms). */
  at: number;
  /** End of the second this request occupies: at + 1000 + the booking process's jitter margin (ms). */
  end: number;
}

export interface Book {
  entries: BookEntry[];
  /** A 429 pause is in force until this time (the book's clock, ms); 0 when none. */
  penaltyUntil: number;
}

/** One admitted request: its entry in the books, so a late arrival can move its end (`reviseArrival`). */
export interface AdmissionTicket {
  at: number;
  end: number;
}

export type Booking =
  | {
      kind: "booked";
      /** How long to wait, from when the answer arrived, before sending (0: send now). */
      waitMs: number;
      ticket: AdmissionTicket;
    }
  | { kind: "penalty"; waitMs: number };

export interface BookLimits {
  /** Requests per rolling second per base (Airtable: 5). */
  baseLimit: number;
  /** Requests per rolling second per user across bases (Airtable: 50). */
  userLimit: number;
  /** Airtable's window, 1000 ms. */
  windowMs: number;
}

/** Where the books live: Redis for every process of a deployment, or this process's memory. */
export interface AdmissionBook {
  /**
   * Enters the request at the earliest time its base's and its user's books allow, given this process's jitter
   * margin (ms), or answers the penalty left (ms) when a 429 pause is in force for the base or the user.
   *
   * With `earlier`, confirms that booking just before the request leaves: a booking made ahead of time was computed
   * before the late arrivals revised meanwhile, so it is kept (without a write) only if it still fits the books as
   * they are now, else moved to the earliest time that does (answered like a new booking).
   */
  book(scope: RateLimitScope, marginMs: number, earlier?: AdmissionTicket): Promise<Booking>;
  /**
   * The booked request will not be sent (its caller's signal aborted while it waited): take its entry out of the
   * base's and the user's books, so its place in the window goes to the next request (no-op when gone).
   */
  withdraw(scope: RateLimitScope, ticket: AdmissionTicket): Promise<void>;
  /** The request reached Airtable later than its entry assumed: extend its end by `extraMs` (no-op when gone). */
  reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, extraMs: number): Promise<void>;
  /** Pauses the scope (its base, or its user for base-less calls) for `ms`; never shortens a running penalty. */
  penalize(scope: RateLimitScope, ms: number): Promise<void>;
  /** The penalty left for the scope (its base or its user), in ms; 0 when none. */
  penaltyRemaining(scope: RateLimitScope): Promise<number>;
  /** Books this process still holds (memory) — 0 for Redis, whose keys expire by themselves. */
  localBookCount(): number;
}

/** Entries of `book` active at `time`: admitted at or before it, occupying past it. */
function activeAt(entries: BookEntry[], time: number): number {
  let n = 0;
  for (const e of entries) if (e.at <= time && e.end > time) n += 1;
  return n;
}

/** Whether a new entry occupying `[at, end)` keeps every moment of it below `limit` other active entries. */
export function fits(entries: BookEntry[], at: number, end: number, limit: number): boolean {
  if (activeAt(entries, at) >= limit) return false;
  for (const e of entries) {
    if (e.at > at && e.at < end && activeAt(entries, e.at) >= limit) return false;
  }
  return true;
}

/**
 * The earliest admission time `≥ now` at which a request occupying `occupyMs` fits every `(entries, limit)` pair.
 * Candidates are `now` and the ends of existing entries (the only moments an active count drops); the latest end
 * always fits, so this terminates.
 */
export function earliestFit(books: { entries: BookEntry[]; limit: number }[], now: number, occupyMs: number): number {
  const candidates = [now];
  for (const { entries } of books) for (const e of entries) if (e.end > now) candidates.push(e.end);
  candidates.sort((a, b) => a - b);
  for (const at of candidates) {
    if (books.every(({ entries, limit }) => fits(entries, at, at + occupyMs, limit))) return at;
  }
  return candidates.at(-1)!;
}
