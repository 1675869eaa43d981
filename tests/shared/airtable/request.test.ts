import { describe, expect, it } from "vitest";
import {
  MAX_URL_LENGTH,
  backoffDelayMs,
  buildListRecordsRequest,
  classifyFetchError,
  decideRetry,
  encodeSegment,
  type AttemptObservation,
  type RetryDecision,
  type RetryState,
  retryAfterAt,
} from "../../../src/shared/airtable/request.ts";

const API = "https://api.airtable.com";
const TABLE_PATH = "/v0/appXXXXXXXXXXXXXX/Tasks";

describe("encodeSegment", () => {
  it("percent-encodes spaces, slashes, query/fragment characters and unicode", () => {
    expect(encodeSegment("My Table")).toBe("My%20Table");
    expect(encodeSegment("a/b")).toBe("a%2Fb");
    expect(encodeSegment("what?#100%")).toBe("what%3F%23100%25");
    expect(encodeSegment("Tâches ✓")).toBe("T%C3%A2ches%20%E2%9C%93");
    expect(decodeURIComponent(encodeSegment("Ünïcødé / 日本語 ?&=")!)).toBe("Ünïcødé / 日本語 ?&=");
  });
  it("refuses dot segments, which URL parsers would resolve away", () => {
    expect(encodeSegment(".")).toBeUndefined();
    expect(encodeSegment("..")).toBeUndefined();
    expect(encodeSegment("...")).toBe("...");
  });
});

describe("buildListRecordsRequest", () => {
  it("builds a GET with Airtable's bracketed parameters", () => {
    const req = buildListRecordsRequest(API, TABLE_PATH, {
      pageSize: 50,
      maxRecords: 120,
      offset: "itr123/rec456",
      view: "Grid view",
      filterByFormula: "{Status} = 'Done'",
      fields: ["Name", "Status"],
      sort: [{ field: "Name" }, { field: "Due", direction: "desc" }],
      returnFieldsByFieldId: true,
    });
    expect(req.method).toBe("GET");
    if (req.method !== "GET") throw new Error("expected GET");
    const url = new URL(req.url);
    expect(url.pathname).toBe(TABLE_PATH);
    expect(url.searchParams.get("pageSize")).toBe("50");
    expect(url.searchParams.get("maxRecords")).toBe("120");
    expect(url.searchParams.get("offset")).toBe("itr123/rec456");
    expect(url.searchParams.get("view")).toBe("Grid view");
    expect(url.searchParams.get("filterByFormula")).toBe("{Status} = 'Done'");
    expect(url.searchParams.getAll("fields[]")).toEqual(["Name", "Status"]);
    expect(url.searchParams.get("sort[0][field]")).toBe("Name");
    expect(url.searchParams.has("sort[0][direction]")).toBe(false);
    expect(url.searchParams.get("sort[1][field]")).toBe("Due");
    expect(url.searchParams.get("sort[1][direction]")).toBe("desc");
    expect(url.searchParams.get("returnFieldsByFieldId")).toBe("true");
    // Brackets are percent-encoded on the wire, as in Airtable's own examples.
    expect(req.url).toContain("fields%5B%5D=Name");
    expect(req.query.toString()).toBe(req.url.split("?")[1]);
  });

  it("has no query string when there are no options", () => {
    const req = buildListRecordsRequest(API, TABLE_PATH);
    expect(req).toMatchObject({ method: "GET", url: `${API}${TABLE_PATH}`, path: TABLE_PATH });
  });

  it("switches to POST …/listRecords with a JSON body once the URL would reach 16,000 characters", () => {
    const formula = `OR(${Array.from({ length: 800 }, (_, i) => `{Name} = 'value number ${i}'`).join(", ")})`;
    const options = {
      pageSize: 100,
      filterByFormula: formula,
      fields: ["Name"],
      sort: [{ field: "Name", direction: "asc" as const }],
      view: "All",
      offset: "itrABC",
      maxRecords: 500,
      returnFieldsByFieldId: true,
    };
    const req = buildListRecordsRequest(API, TABLE_PATH, options);
    expect(req.method).toBe("POST");
    if (req.method !== "POST") throw new Error("expected POST");
    expect(req.url).toBe(`${API}${TABLE_PATH}/listRecords`);
    expect(req.path).toBe(`${TABLE_PATH}/listRecords`);
    expect(req.body).toEqual(options);
  });

  it("cellFormat goes in the body of POST …/listRecords; timeZone and userLocale stay in its query string", () => {
    // Airtable's API team: "We currently still require two parameters to remain as query params, timeZone and
    // userLocale" (https://github.com/sleiman/airtable-php/issues/59).
    const format = { cellFormat: "string" as const, timeZone: "Europe/Berlin", userLocale: "en-gb" };
    const get = buildListRecordsRequest(API, TABLE_PATH, { view: "All", ...format });
    expect(get.method).toBe("GET");
    expect(get.url).toBe(`${API}${TABLE_PATH}?view=All&cellFormat=string&timeZone=Europe%2FBerlin&userLocale=en-gb`);
    const long = buildListRecordsRequest(API, TABLE_PATH, { filterByFormula: "x".repeat(MAX_URL_LENGTH), ...format });
    if (long.method !== "POST") throw new Error("expected POST");
    expect(long.body).toEqual({ filterByFormula: "x".repeat(MAX_URL_LENGTH), cellFormat: "string" });
    expect(long.query.toString()).toBe("timeZone=Europe%2FBerlin&userLocale=en-gb");
    expect(long.url).toBe(`${API}${TABLE_PATH}/listRecords?timeZone=Europe%2FBerlin&userLocale=en-gb`);
  });

  it("switches exactly at the limit: < 16,000 stays GET, ≥ 16,000 is POST", () => {
    const base = `${API}${TABLE_PATH}?filterByFormula=`;
    const fitting = "x".repeat(MAX_URL_LENGTH - 1 - base.length);
    expect(buildListRecordsRequest(API, TABLE_PATH, { filterByFormula: fitting }).url).toHaveLength(MAX_URL_LENGTH - 1);
    expect(buildListRecordsRequest(API, TABLE_PATH, { filterByFormula: fitting }).method).toBe("GET");
    expect(buildListRecordsRequest(API, TABLE_PATH, { filterByFormula: `${fitting}x` }).method).toBe("POST");
  });

  it("measures a shorter origin (sandbox, proxy) as if it were Airtable's", () => {
    const short = "http://127.0.0.1:5"; // shorter than https://api.airtable.com
    const pad = (origin: string) => "x".repeat(MAX_URL_LENGTH - 1 - `${origin}${TABLE_PATH}?filterByFormula=`.length);
    // Fits with Airtable's origin: GET either way.
    expect(buildListRecordsRequest(short, TABLE_PATH, { filterByFormula: pad(API) }).method).toBe("GET");
    // Would fit with the short origin only: POST, since Airtable would count 16,000+.
    expect(buildListRecordsRequest(short, TABLE_PATH, { filterByFormula: pad(short) }).method).toBe("POST");
    // A longer origin counts in full.
    const long = "https://airtable-proxy.internal.example.com";
    expect(buildListRecordsRequest(long, TABLE_PATH, { filterByFormula: pad(API) }).method).toBe("POST");
    expect(buildListRecordsRequest(long, TABLE_PATH, { filterByFormula: pad(long) }).method).toBe("GET");
  });

  it("counts the encoded length (a formula with many special characters grows threefold)", () => {
    const formula = "{a}=' '".repeat(1000); // 7,000 raw characters, about 17,000 encoded
    expect(formula.length).toBeLessThan(MAX_URL_LENGTH);
    expect(buildListRecordsRequest(API, TABLE_PATH, { filterByFormula: formula }).method).toBe("POST");
  });

  it("omits sort directions that were not given in the POST body", () => {
    const req = buildListRecordsRequest(API, TABLE_PATH, { sort: [{ field: "A" }] }, 10);
    expect(req.method === "POST" && req.body).toEqual({ sort: [{ field: "A" }] });
  });
});

describe("decideRetry", () => {
  const limits = { maxAttempts: 3, maxRateLimitWaits: 2 };
  const fresh: RetryState = { failedAttempts: 0, rateLimitWaits: 0, authRefreshed: false };
  const res = (status: number): AttemptObservation => ({ kind: "response", status });
  const notSent: AttemptObservation = { kind: "network", sent: "no", timeout: false };
  const maybeSent: AttemptObservation = { kind: "network", sent: "maybe", timeout: false };
  const timeout: AttemptObservation = { kind: "network", sent: "maybe", timeout: true };
  const fail = (failure: string): RetryDecision => ({ action: "fail", failure }) as RetryDecision;

  // [observation, idempotent, state, expected]
  const table: [string, AttemptObservation, boolean, RetryState, RetryDecision][] = [
    ["200 safe", res(200), true, fresh, { action: "success" }],
    ["200 create", res(200), false, fresh, { action: "success" }],
    ["401 first time, create", res(401), false, fresh, { action: "refresh_token" }],
    ["401 first time, safe", res(401), true, fresh, { action: "refresh_token" }],
    ["401 after refresh", res(401), true, { ...fresh, authRefreshed: true }, fail("auth")],
    ["429 create", res(429), false, fresh, { action: "rate_limit_wait" }],
    ["429 safe, one wait left", res(429), true, { ...fresh, rateLimitWaits: 1 }, { action: "rate_limit_wait" }],
    ["429 waits used up", res(429), true, { ...fresh, rateLimitWaits: 2 }, fail("rate_limit")],
    ["429 does not use failure budget", res(429), true, { ...fresh, failedAttempts: 2 }, { action: "rate_limit_wait" }],
    ["500 safe", res(500), true, fresh, { action: "backoff" }],
    ["503 safe, last retry", res(503), true, { ...fresh, failedAttempts: 1 }, { action: "backoff" }],
    ["502 safe, attempts used up", res(502), true, { ...fresh, failedAttempts: 2 }, fail("server")],
    ["500 create", res(500), false, fresh, fail("outcome_unknown")],
    ["503 create", res(503), false, fresh, fail("outcome_unknown")],
    ["refused, create", notSent, false, fresh, { action: "backoff" }],
    ["refused, create, attempts used up", notSent, false, { ...fresh, failedAttempts: 2 }, fail("network")],
    ["reset, safe", maybeSent, true, fresh, { action: "backoff" }],
    ["timeout, safe, attempts used up", timeout, true, { ...fresh, failedAttempts: 2 }, fail("network")],
    ["reset, create", maybeSent, false, fresh, fail("outcome_unknown")],
    ["timeout, create", timeout, false, fresh, fail("outcome_unknown")],
    ["400", res(400), true, fresh, fail("validation")],
    ["403", res(403), false, fresh, fail("permission")],
    ["404", res(404), true, fresh, fail("not_found")],
    ["413", res(413), false, fresh, fail("validation")],
    ["422 create", res(422), false, fresh, fail("validation")],
    ["422 safe", res(422), true, fresh, fail("validation")],
    ["302", res(302), true, fresh, fail("protocol")],
  ];
  it.each(table)("%s", (_name, observation, idempotent, state, expected) => {
    expect(decideRetry(observation, idempotent, state, limits)).toEqual(expected);
  });

  it("with maxAttempts 1 never backs off", () => {
    expect(decideRetry(res(500), true, fresh, { maxAttempts: 1, maxRateLimitWaits: 0 })).toEqual(fail("server"));
    expect(decideRetry(res(429), true, fresh, { maxAttempts: 1, maxRateLimitWaits: 0 })).toEqual(fail("rate_limit"));
  });
});

describe("backoffDelayMs", () => {
  it("is full jitter: within [0, min(max, base·2^n)) for random in [0, 1)", () => {
    for (let n = 0; n < 10; n++) {
      const cap = Math.min(8000, 250 * 2 ** n);
      expect(backoffDelayMs(n, 250, 8000, () => 0)).toBe(0);
      expect(backoffDelayMs(n, 250, 8000, () => 0.999999)).toBe(cap - 1);
      expect(backoffDelayMs(n, 250, 8000, () => 0.5)).toBe(Math.floor(cap / 2));
    }
  });
  it("stays in bounds with Math.random and is capped by maxDelay", () => {
    for (let i = 0; i < 2000; i++) {
      const n = i % 12;
      const delay = backoffDelayMs(n, 250, 8000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(Math.min(8000, 250 * 2 ** n));
    }
  });
  it("spreads its values (not a fixed delay)", () => {
    const values = new Set(Array.from({ length: 200 }, () => backoffDelayMs(4, 250, 8000)));
    expect(values.size).toBeGreaterThan(50);
  });
});

describe("retryAfterAt (RFC 9110 §10.2.3 Retry-After: delay-seconds or any of §5.6.7's HTTP-date forms)", () => {
  const now = Date.UTC(2026, 11, 4, 15, 30, 0);
  it("reads seconds from now and the three date forms, all GMT", () => {
    expect(retryAfterAt("120", now)).toBe(now + 120_000);
    expect(retryAfterAt(" 0 ", now)).toBe(now);
    const at = Date.UTC(2026, 11, 4, 15, 32, 5);
    expect(retryAfterAt("Fri, 04 Dec 2026 15:32:05 GMT", now)).toBe(at);
    expect(retryAfterAt("Friday, 04-Dec-26 15:32:05 GMT", now)).toBe(at);
    expect(retryAfterAt("Fri Dec  4 15:32:05 2026", now)).toBe(at);
    // A past date means now; an RFC 850 year more than 50 years ahead is the past century's (so: past, now).
    expect(retryAfterAt("Fri, 04 Dec 2026 15:00:00 GMT", now)).toBe(now);
    expect(retryAfterAt("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(now);
  });
  it("answers undefined for an absent or malformed value, which leaves the backoff as it is", () => {
    for (const value of [undefined, "", "soon", "-5", "1.5", "2026-12-04T15:32:05Z", "Fri, 31 Feb 2026 15:32:05 GMT"]) {
      expect(retryAfterAt(value, now), String(value)).toBeUndefined();
    }
    expect(retryAfterAt("Fri, 04 Dec 2026 25:32:05 GMT", now)).toBeUndefined();
    // Seconds so many that the time is past any Date (8.64e15 ms after 1970): no time to wait for or name.
    expect(retryAfterAt("10000000000000", now)).toBeUndefined();
    expect(retryAfterAt("9".repeat(400), now)).toBeUndefined();
  });
});

describe("classifyFetchError", () => {
  const fetchFailed = (cause: unknown) => Object.assign(new TypeError("fetch failed"), { cause });
  const sysError = (code: string) => Object.assign(new Error(code), { code });

  it("connection refused and DNS failures were certainly not sent", () => {
    expect(classifyFetchError(fetchFailed(sysError("ECONNREFUSED")))).toMatchObject({ sent: "no", timeout: false });
    expect(classifyFetchError(fetchFailed(sysError("ENOTFOUND")))).toMatchObject({ sent: "no" });
    expect(classifyFetchError(fetchFailed(sysError("EAI_AGAIN")))).toMatchObject({ sent: "no" });
    expect(classifyFetchError(fetchFailed(sysError("UND_ERR_CONNECT_TIMEOUT")))).toMatchObject({ sent: "no" });
  });
  it("an AggregateError of refusals (happy eyeballs) was not sent", () => {
    const agg = Object.assign(new AggregateError([sysError("ECONNREFUSED"), sysError("ECONNREFUSED")]), {
      code: "ECONNREFUSED",
    });
    expect(classifyFetchError(fetchFailed(agg))).toMatchObject({ sent: "no", code: "ECONNREFUSED" });
  });
  it("resets, closed sockets, unknown errors and timeouts may have been sent", () => {
    expect(classifyFetchError(fetchFailed(sysError("ECONNRESET")))).toMatchObject({ sent: "maybe", timeout: false });
    expect(classifyFetchError(fetchFailed(sysError("UND_ERR_SOCKET")))).toMatchObject({ sent: "maybe" });
    expect(classifyFetchError(new Error("something odd"))).toMatchObject({ sent: "maybe", code: undefined });
    expect(classifyFetchError(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toEqual({
      sent: "maybe",
      timeout: true,
      code: "TIMEOUT",
    });
  });
  it("a mix of a refusal and a reset may have been sent", () => {
    const agg = new AggregateError([sysError("ECONNREFUSED"), sysError("ECONNRESET")]);
    expect(classifyFetchError(fetchFailed(agg))).toMatchObject({ sent: "maybe" });
  });
});
