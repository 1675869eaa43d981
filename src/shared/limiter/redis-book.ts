import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { AdmissionBook, AdmissionTicket, BookLimits, Booking } from "./book.ts";
import type { RateLimitScope } from "./types.ts";

/**
 * The books in Redis: one string key per base and per user, `{"p": penaltyUntil, "t": [at…], "e": [end…]}` (cjson,
 * integer ms of Redis's clock). One script does every operation, so a request costs one round trip (EVALSHA) and at
 * most 6 commands counting those inside the script: TIME, GET user, GET base, SET user, SET base. Time is Redis's
 * `TIME`, so clock skew between processes cannot widen a window. Each SET carries `PXAT` = the last moment the book
 * matters (its latest entry end or its penalty end): an idle book vanishes about a second after its last request,
 * and nothing runs while idle. `PXAT` needs Redis ≥ 6.2.
 *
 * The admission rule is `earliestFit` in book.ts, stated again in Lua (see that module for why it holds the limit).
 *
 * KEYS[1] user book, KEYS[2] base book (absent for base-less calls). ARGV[1] the operation:
 *  - "book"     ARGV: userLimit, baseLimit, windowMs, marginMs[, at, end] → {0, waitMs, at, end} booked |
 *               {1, penaltyMs}. With `at, end` it confirms that earlier booking: kept (no write) while it still fits
 *               the books as they are now (late arrivals revised meanwhile), else moved to the earliest time that does.
 *  - "revise"   ARGV: at, end, extraMs → 1 (extends that entry's end in each book; no-op if it is gone)
 *  - "withdraw" ARGV: at, end → 1 (takes that entry out of each book: a booked request that will not be sent)
 *  - "penalize" ARGV: ms → 1 (on KEYS[1] only: the caller passes the base's book, or the user's)
 *  - "penalty"  → the penalty left in ms over the given books (0 when none)
 */
const script = `
local op = ARGV[1]

local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return {p = 0, t = {}, e = {}} end
  local book = cjson.decode(raw)
  book.p = book.p or 0
  book.t = book.t or {}
  book.e = book.e or {}
  return book
end

-- Writes the book back, expiring when nothing in it matters any more (its last end, or its penalty end).
local function save(key, book, now)
  local t, e = {}, {}
  local last = book.p
  for i = 1, #book.t do
    if now == nil or book.e[i] > now then
      t[#t + 1] = book.t[i]
      e[#e + 1] = book.e[i]
      if book.e[i] > last then last = book.e[i] end
    end
  end
  if now ~= nil and last <= now then
    redis.call('DEL', key)
    return
  end
  local body = {t = t, e = e}
  if book.p > 0 and (now == nil or book.p > now) then body.p = book.p end
  redis.call('SET', key, cjson.encode(body), 'PXAT', last)
end

local function clock()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function activeAt(book, x)
  local n = 0
  for i = 1, #book.t do
    if book.t[i] <= x and book.e[i] > x then n = n + 1 end
  end
  return n
end

local function fits(book, at, finish, limit)
  if activeAt(book, at) >= limit then return false end
  for i = 1, #book.t do
    local start = book.t[i]
    if start > at and start < finish and activeAt(book, start) >= limit then return false end
  end
  return true
end

local function penaltyOf(books, now)
  local left = 0
  for _, book in ipairs(books) do
    if book.p - now > left then left = book.p - now end
  end
  return left
end

if op == 'book' then
  local now = clock()
  local user = load(KEYS[1])
  local books, limits = {user}, {tonumber(ARGV[2])}
  if KEYS[2] then
    books[2] = load(KEYS[2])
    limits[2] = tonumber(ARGV[3])
  end
  local penalty = penaltyOf(books, now)
  if penalty > 0 then return {1, penalty} end
  local occupy = tonumber(ARGV[4]) + tonumber(ARGV[5])
  -- Confirming an earlier booking (ARGV[6], ARGV[7]): take it out, and keep it as it is if it still fits.
  if ARGV[6] then
    local at, finish = tonumber(ARGV[6]), tonumber(ARGV[7])
    local found, still = true, true
    for j, book in ipairs(books) do
      local index
      for i = 1, #book.t do
        if book.t[i] == at and book.e[i] == finish then index = i break end
      end
      if index then
        table.remove(book.t, index)
        table.remove(book.e, index)
        if still and not fits(book, at, finish, limits[j]) then still = false end
      else
        found = false
      end
    end
    if found and still then return {0, math.max(0, at - now), at, finish} end
  end
  local candidates = {now}
  for _, book in ipairs(books) do
    for i = 1, #book.e do
      if book.e[i] > now then candidates[#candidates + 1] = book.e[i] end
    end
  end
  table.sort(candidates)
  local at = candidates[#candidates]
  for _, candidate in ipairs(candidates) do
    local ok = true
    for j, book in ipairs(books) do
      if not fits(book, candidate, candidate + occupy, limits[j]) then ok = false break end
    end
    if ok then at = candidate break end
  end
  local finish = at + occupy
  for j, book in ipairs(books) do
    book.t[#book.t + 1] = at
    book.e[#book.e + 1] = finish
    save(KEYS[j], book, now)
  end
  return {0, at - now, at, finish}
elseif op == 'revise' then
  local at, finish, extra = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
  for j = 1, #KEYS do
    local book = load(KEYS[j])
    for i = 1, #book.t do
      if book.t[i] == at and book.e[i] == finish then
        book.e[i] = finish + extra
        save(KEYS[j], book, nil)
        break
      end
    end
  end
  return 1
elseif op == 'withdraw' then
  local at, finish, now = tonumber(ARGV[2]), tonumber(ARGV[3]), clock()
  for j = 1, #KEYS do
    local book = load(KEYS[j])
    for i = 1, #book.t do
      if book.t[i] == at and book.e[i] == finish then
        table.remove(book.t, i)
        table.remove(book.e, i)
        save(KEYS[j], book, now)
        break
      end
    end
  end
  return 1
elseif op == 'penalize' then
  local now = clock()
  local book = load(KEYS[1])
  local untilMs = now + tonumber(ARGV[2])
  if untilMs > book.p then
    book.p = untilMs
    save(KEYS[1], book, now)
  end
  return 1
elseif op == 'penalty' then
  local now = clock()
  local books = {}
  for j = 1, #KEYS do books[j] = load(KEYS[j]) end
  return penaltyOf(books, now)
end
return redis.error_reply('unknown limiter book operation')
`;

const scriptSha = createHash("sha1").update(script).digest("hex");

/** The shared admission book: Redis keys `<prefix>:limiter:book:base:<baseId>` and `…:book:user:<userId>`. */
export class RedisAdmissionBook implements AdmissionBook {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #limits: BookLimits;

  constructor(redis: Redis, keyPrefix: string, limits: BookLimits) {
    this.#redis = redis;
    this.#prefix = `${keyPrefix}:limiter:book`;
    this.#limits = limits;
  }

  async book(scope: RateLimitScope, marginMs: number, earlier?: AdmissionTicket): Promise<Booking> {
    const reply = (await this.#run(
      this.#keys(scope),
      "book",
      this.#limits.userLimit,
      this.#limits.baseLimit,
      this.#limits.windowMs,
      Math.ceil(marginMs),
      ...(earlier ? [earlier.at, earlier.end] : []),
    )) as number[];
    if (reply[0] === 1) return { kind: "penalty", waitMs: reply[1]! };
    return { kind: "booked", waitMs: reply[1]!, ticket: { at: reply[2]!, end: reply[3]! } };
  }

  async reviseArrival(scope: RateLimitScope, ticket: AdmissionTicket, extraMs: number): Promise<void> {
    await this.#run(this.#keys(scope), "revise", ticket.at, ticket.end, Math.ceil(extraMs));
  }

  async withdraw(scope: RateLimitScope, ticket: AdmissionTicket): Promise<void> {
    await this.#run(this.#keys(scope), "withdraw", ticket.at, ticket.end);
  }

  async penalize(scope: RateLimitScope, ms: number): Promise<void> {
    const key = scope.baseId ? this.#key("base", scope.baseId) : this.#key("user", scope.userId);
    await this.#run([key], "penalize", Math.ceil(ms));
  }

  async penaltyRemaining(scope: RateLimitScope): Promise<number> {
    return (await this.#run(this.#keys(scope), "penalty")) as number;
  }

  localBookCount(): number {
    return 0;
  }

  /** EVALSHA; the script body goes over the wire only when Redis does not know it yet (first use, after a restart). */
  async #run(keys: string[], ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.#redis.evalsha(scriptSha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await this.#redis.eval(script, keys.length, ...keys, ...args);
    }
  }

  #keys(scope: RateLimitScope): string[] {
    const keys = [this.#key("user", scope.userId)];
    if (scope.baseId) keys.push(this.#key("base", scope.baseId));
    return keys;
  }

  #key(kind: "base" | "user", id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }
}
