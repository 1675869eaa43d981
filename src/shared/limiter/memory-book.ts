import {
  earliestFit,
  fits,
  type AdmissionBook,
  type AdmissionTicket,
  type Book,
  type BookLimits,
  type Booking,
} from "./book.ts";
import type { RateLimitScope } from "./types.ts";

/**
 * The admission book of a single process (stdio and embedded mode without Redis): the same rules as the Redis
 * script (book.ts), kept in a Map. A book is dropped once nothing in it matters (its last entry's end and its
 * penalty have passed), swept at most once a second on use: no timers, nothing left behind an idle base.
 */
export class MemoryAdmissionBook implements AdmissionBook {
  readonly #limits: BookLimits;
  readonly #books = new Map<string, Book>();
  readonly #now: () => number;
  #lastSweep = 0;
  readonly #startedAt: number;

  constructor(limits: BookLimits, now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
    this.#startedAt = now();
  }

  async book(scope: RateLimitScope, marginMs: number, earlier?: AdmissionTicket): Promise<Booking> {
    const now = this.#now();
    this.#sweep(now);
    const user = this.#load(`user:${scope.userId}`, now);
    const base = scope.baseId ? this.#load(`base:${scope.baseId}`, now) : undefined;
    const penalty = Math.max(user.penaltyUntil, base?.penaltyUntil ?? 0) - now;
    if (penalty > 0) return { kind: "penalty", waitMs: Math.ceil(penalty) };
    const occupy = this.#limits.windowMs + Math.ceil(marginMs);
    const books = [{ entries: user.entries, limit: this.#limits.userLimit }];
    if (base) books.push({ entries: base.entries, limit: this.#limits.baseLimit });
    if (earlier) {
      // Confirming: take the earlier entry out; keep it as it is if it still fits.
      let found = true;
      for (const book of books) {
        const index = book.entries.findIndex((e) => e.at === earlier.at && e.end === earlier.end);
        if (index < 0) found = false;
        else book.entries.splice(index, 1);
      }
      if (found && books.every((b) => fits(b.entries, earlier.at, earlier.end, b.limit))) {
        for (const book of books) book.entries.push({ ...earlier });
        return { kind: "booked", waitMs: Math.max(0, earlier.at - now), ticket: earlier };
      }
    }
    const at = earliestFit(books, Math.max(now, this.#startupPacing(books, occupy)), occupy);
    const ticket = { at, end: at + occupy };
    user.entries.push({ ...ticket });
    base?.entries.push({ ...ticket });
    return { kind: "booked", waitMs: at - now, ticket };
  }

  async withdraw(scope: RateLimitScope, ticket: AdmissionTicket): Promise<void> {
    for (const key of this.#keys(scope)) {
      const book = this.#books.get(key);
      const index = book?.entries.findIndex((e) => e.at === ticket.at && e.end === ticket.end) ?? -1;
      if (index >= 0) book?.entries.splice(index, 1);
    }
  }

  async reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, extraMs: number): Promise<void> {
    for (const key of this.#keys(scope)) {
      const entry = this.#books.get(key)?.entries.find((e) => e.at === ticket.at && e.end === ticket.end);
      if (entry) entry.end += extraMs;
    }
  }

  async penalize(scope: RateLimitScope, ms: number): Promise<void> {
    const now = this.#now();
    const book = this.#load(scope.baseId ? `base:${scope.baseId}` : `user:${scope.userId}`, now);
    book.penaltyUntil = Math.max(book.penaltyUntil, now + ms);
  }

  async penaltyRemaining(scope: RateLimitScope): Promise<number> {
    const now = this.#now();
    const until = Math.max(0, ...this.#keys(scope).map((k) => this.#books.get(k)?.penaltyUntil ?? 0));
    return Math.max(0, until - now);
  }

  localBookCount(): number {
    this.#sweep(this.#now(), true);
    return this.#books.size;
  }

  /**
   * A fresh process has no record of the last second: the previous process on this token (a restarted stdio
   * server, the embedded server restarted) may have sent requests just before it started, which a shared Redis book
   * would still hold. So during its first window the memory book spaces each book's requests evenly (the n-th not
   * before start + n × window / limit), as the old even pacing did; bursts start after that. Measured: a stdio write
   * right after another process's reads on the same base hit a 429 (and the 30 s pause) without it.
   */
  #startupPacing(books: { entries: { at: number }[]; limit: number }[], occupyMs: number): number {
    let earliest = 0;
    for (const { entries, limit } of books) {
      const since = entries.filter((e) => e.at >= this.#startedAt).length;
      const at = this.#startedAt + (since * occupyMs) / limit;
      if (at < this.#startedAt + occupyMs) earliest = Math.max(earliest, at);
    }
    return earliest;
  }

  #keys(scope: RateLimitScope): string[] {
    return [`user:${scope.userId}`, ...(scope.baseId ? [`base:${scope.baseId}`] : [])];
  }

  /** The book under `key`, created if absent, without the entries that no longer occupy any time. */
  #load(key: string, now: number): Book {
    let book = this.#books.get(key);
    if (!book) {
      book = { entries: [], penaltyUntil: 0 };
      this.#books.set(key, book);
    }
    book.entries = book.entries.filter((e) => e.end > now);
    return book;
  }

  #sweep(now: number, force = false): void {
    if (!force && now - this.#lastSweep < 1000) return;
    this.#lastSweep = now;
    for (const [key, book] of this.#books) {
      if (book.penaltyUntil <= now && book.entries.every((e) => e.end <= now)) this.#books.delete(key);
    }
  }
}
