/**
 * KeyValueStore on Redis (distributed mode): every server and worker process shares it. Needs Redis ≥ 7.0
 * (`SET … NX GET` in one command), which the project requires anyway.
 *
 * Given the process's RedisClientSideCache, `get` of a key under one of its tracked prefixes (the revocation list)
 * is answered by the cache, and every write of such a key forgets the local copy first (read-your-writes before
 * Redis's invalidation arrives). Other keys are untouched.
 */
import type { Redis } from "ioredis";
import type { RedisClientSideCache } from "./client-side-cache.ts";
import type { KeyValueStore } from "./key-value-store.ts";

/** Deletes the key only if it still holds ARGV[1] (a lock another process may have taken after ours expired). */
const DELETE_IF_EQUALS_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** INCR, and start the window on the first hit; returns [count, ms left]. */
const INCREMENT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

/** DECR only a live counter: a DECR after the window ended would create a -1 that never expires. */
/** A counter's count and ms left, without counting; {0, 0} when no window is open. */
const COUNTER_LUA = `
local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
`;

const DECREMENT_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return 0
`;

export class RedisKeyValueStore implements KeyValueStore {
  readonly #redis: Redis;
  readonly #cache: RedisClientSideCache | undefined;

  /** `redis`: a shared connection the caller owns (and closes); `cache`: the process's, over that connection. */
  constructor(redis: Redis, opts: { cache?: RedisClientSideCache } = {}) {
    this.#redis = redis;
    this.#cache = opts.cache;
  }

  async get(key: string): Promise<string | undefined> {
    if (this.#cache?.tracks(key) === true) return this.#cache.get(key);
    return (await this.#redis.get(key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#cache?.invalidate(key);
    if (ttlMs === undefined) await this.#redis.set(key, value);
    else await this.#redis.set(key, value, "PX", ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs?: number): Promise<string> {
    this.#cache?.invalidate(key);
    const ttl = ttlMs === undefined ? [] : ["PX", String(ttlMs)];
    const previous = (await this.#redis.call("SET", key, value, "NX", "GET", ...ttl)) as string | null;
    return previous ?? value;
  }

  async take(key: string): Promise<string | undefined> {
    this.#cache?.invalidate(key);
    return (await this.#redis.getdel(key)) ?? undefined;
  }

  async delete(key: string): Promise<void> {
    this.#cache?.invalidate(key);
    await this.#redis.del(key);
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    this.#cache?.invalidate(key);
    return (await this.#redis.eval(DELETE_IF_EQUALS_LUA, 1, key, value)) === 1;
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    this.#cache?.invalidate(key);
    const [count, ttl] = (await this.#redis.eval(INCREMENT_LUA, 1, key, String(windowMs))) as [number, number];
    return { count, resetInMs: ttl };
  }

  async counter(key: string): Promise<{ count: number; resetInMs: number } | undefined> {
    const [count, ttl] = (await this.#redis.eval(COUNTER_LUA, 1, key)) as [number, number];
    return count === 0 ? undefined : { count, resetInMs: Math.max(ttl, 0) };
  }

  async decrement(key: string): Promise<void> {
    this.#cache?.invalidate(key);
    await this.#redis.eval(DECREMENT_LUA, 1, key);
  }
}
