import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import type { Admission, AdmissionGate, AdmissionTicket, WindowLimits } from "./admission.ts";
import type { RateLimitScope } from "./types.ts";

/**
 * One atomic script per request. Time comes from Redis (TIME), not from the calling process, so clock
 * skew between instances cannot widen the window. Returns {0,now} admitted, {1,ms} penalty, {2,ms} window.
 * KEYS: base window, base penalty, user window, user penalty. ARGV: base limit, user limit, window ms,
 * member, has base (1/0).
 */
const admitScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hasBase = ARGV[5] == '1'
local window = tonumber(ARGV[3])
local penalty = redis.call('PTTL', KEYS[4])
if hasBase then penalty = math.max(penalty, redis.call('PTTL', KEYS[2])) end
if penalty > 0 then return {1, penalty} end
local wait = 0
local function fullFor(key, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return tonumber(oldest[2]) + window - now + 1
  end
  return 0
end
if hasBase then wait = math.max(wait, fullFor(KEYS[1], tonumber(ARGV[1]))) end
wait = math.max(wait, fullFor(KEYS[3], tonumber(ARGV[2])))
if wait > 0 then return {2, wait} end
if hasBase then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
end
redis.call('ZADD', KEYS[3], now, ARGV[4])
redis.call('PEXPIRE', KEYS[3], window * 2)
return {0, now}
`;

/** Moves an admitted request's time in both windows (XX: only if it is still there). */
const reviseScript = `
for i = 1, #KEYS do redis.call('ZADD', KEYS[i], 'XX', ARGV[1], ARGV[2]) end
return 1
`;

/** Sets the penalty to max(current, ms): several 429s for one base never shorten or stack the pause. */
const penalizeScript = `
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

export class RedisAdmissionGate implements AdmissionGate {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: WindowLimits;

  constructor(redis: Redis, keyPrefix: string, limits: WindowLimits) {
    this.#redis = redis;
    this.#prefix = `${keyPrefix}:limiter`;
    this.#limits = limits;
  }

  async admit(scope: RateLimitScope): Promise<Admission> {
    const member = `${Date.now()}:${randomBytes(6).toString("hex")}`;
    const reply = (await this.#redis.eval(
      admitScript,
      4,
      this.#key("window:base", scope.baseId ?? "-"),
      this.#key("penalty:base", scope.baseId ?? "-"),
      this.#key("window:user", scope.userId),
      this.#key("penalty:user", scope.userId),
      this.#limits.baseLimit,
      this.#limits.userLimit,
      this.#limits.windowMs,
      member,
      scope.baseId ? "1" : "0",
    )) as [number, number];
    const [code, waitMs] = reply;
    if (code === 0) return { admitted: true, ticket: { member, at: waitMs } };
    return { admitted: false, reason: code === 1 ? "penalty" : "window", waitMs };
  }

  async reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, delayMs: number): Promise<void> {
    const keys = [this.#key("window:user", scope.userId)];
    if (scope.baseId) keys.push(this.#key("window:base", scope.baseId));
    await this.#redis.eval(reviseScript, keys.length, ...keys, Math.ceil(ticket.at + delayMs), ticket.member);
  }

  async penalize(scope: RateLimitScope, ms: number): Promise<void> {
    const key = scope.baseId ? this.#key("penalty:base", scope.baseId) : this.#key("penalty:user", scope.userId);
    await this.#redis.eval(penalizeScript, 1, key, Math.ceil(ms));
  }

  async penaltyRemaining(scope: RateLimitScope): Promise<number> {
    const keys = [this.#key("penalty:user", scope.userId)];
    if (scope.baseId) keys.push(this.#key("penalty:base", scope.baseId));
    const ttls = await Promise.all(keys.map((k) => this.#redis.pttl(k)));
    return Math.max(0, ...ttls);
  }

  #key(kind: string, id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }
}
