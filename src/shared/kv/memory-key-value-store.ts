/**
 * KeyValueStore in this process's memory: for state one process may lose on restart (the embedded mode's
 * Airtable refresh lock) and for tests. Expired entries are dropped when read and swept every 1,000 writes.
 */
import type { KeyValueStore } from "./key-value-store.ts";

interface Entry {
  value: string;
  /** Epoch ms; undefined = no expiry. */
  expiresAt: number | undefined;
}

const SWEEP_EVERY_WRITES = 1_000;

export class MemoryKeyValueStore implements KeyValueStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #writes = 0;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key)?.value;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#write(key, value, ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string> {
    const existing = this.#live(key);
    if (existing !== undefined) return existing.value;
    this.#write(key, value, ttlMs);
    return value;
  }

  async take(key: string): Promise<string | undefined> {
    const entry = this.#live(key);
    this.#entries.delete(key);
    return entry?.value;
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    if (this.#live(key)?.value !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const now = this.#now();
    const entry = this.#live(key);
    if (entry === undefined || entry.expiresAt === undefined) {
      const count = entry === undefined ? 1 : Number(entry.value) + 1;
      this.#write(key, String(count), windowMs);
      return { count, resetInMs: windowMs };
    }
    const count = Number(entry.value) + 1;
    entry.value = String(count);
    return { count, resetInMs: entry.expiresAt - now };
  }

  async counter(key: string): Promise<{ count: number; resetInMs: number } | undefined> {
    const entry = this.#live(key);
    if (entry === undefined || Number(entry.value) === 0) return undefined;
    return { count: Number(entry.value), resetInMs: Math.max((entry.expiresAt ?? this.#now()) - this.#now(), 0) };
  }

  async decrement(key: string): Promise<void> {
    const entry = this.#live(key);
    if (entry !== undefined) entry.value = String(Number(entry.value) - 1);
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #write(key: string, value: string, ttlMs: number | undefined): void {
    this.#entries.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.#now() + ttlMs });
    if (++this.#writes % SWEEP_EVERY_WRITES === 0) {
      const now = this.#now();
      for (const [k, e] of this.#entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.#entries.delete(k);
    }
  }
}
