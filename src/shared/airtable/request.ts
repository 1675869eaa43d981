/**
 * The pure parts of the client: URL building, the GET→POST switch of list records, the retry decision table,
 * backoff, and the classification of fetch failures. No I/O here; everything is unit-tested directly.
 */

/** Airtable rejects URLs of 16,000 characters or more; list records then has to use `POST …/listRecords`. */
export const MAX_URL_LENGTH = 16_000;

/**
 * Airtable's edge measures the whole URL, origin included. When the client talks to a shorter origin (the test
 * sandbox, a local proxy) it still measures as if the origin were Airtable's, so that no URL it sends as a GET
 * would be refused by Airtable.
 */
export const AIRTABLE_API_ORIGIN = "https://api.airtable.com";

/** Create/update/upsert/delete take at most this many records per request. */
export const MAX_RECORDS_PER_REQUEST = 10;

/**
 * One path segment (table name, record id, field name) percent-encoded. Names may hold spaces, slashes, `?`,
 * `#`, `%` and any unicode. Returns undefined for `.` and `..`, which no URL can carry as a segment (URL
 * parsers resolve them, even percent-encoded): such tables must be addressed by id.
 */
export function encodeSegment(segment: string): string | undefined {
  if (segment === "." || segment === "..") return undefined;
  return encodeURIComponent(segment);
}

export type SortDirection = "asc" | "desc";

export interface ListRecordsOptions {
  /** 1–100 records per page (Airtable's default and maximum is 100). */
  pageSize?: number;
  /** The cursor from the previous page. */
  offset?: string;
  /** Stop after this many records in total, across pages. */
  maxRecords?: number;
  /** Only these fields (names, or ids) in the answer. */
  fields?: string[];
  sort?: { field: string; direction?: SortDirection }[];
  /** View name or id: its filters and order apply. */
  view?: string;
  filterByFormula?: string;
  /** Key the cells by field id instead of field name. */
  returnFieldsByFieldId?: boolean;
  /**
   * "string": cells as user-facing text; then timeZone and userLocale are required (Airtable's list records:
   * "The timeZone and userLocale parameters are required when using string as the cellFormat"). Default "json".
   */
  cellFormat?: "json" | "string";
  /** An IANA time zone name ("Europe/Berlin") for cellFormat "string". Always sent in the query string. */
  timeZone?: string;
  /** A locale ("en-us") for cellFormat "string". Always sent in the query string. */
  userLocale?: string;
}

export type ListRecordsRequest =
  | { method: "GET"; url: string; path: string; query: URLSearchParams }
  | { method: "POST"; url: string; path: string; body: Record<string, unknown>; query: URLSearchParams };

/**
 * The list-records request for one page: a GET with the options in the query string, or, when that URL would
 * be `maxUrlLength` characters or longer (long formulas, many fields), `POST {table}/listRecords` with the same
 * options as a JSON body, as Airtable documents. The length counts the origin as at least as long as
 * `https://api.airtable.com`.
 */
export function buildListRecordsRequest(
  apiUrl: string,
  tablePath: string,
  options: ListRecordsOptions = {},
  maxUrlLength: number = MAX_URL_LENGTH,
): ListRecordsRequest {
  const query = new URLSearchParams();
  if (options.pageSize !== undefined) query.append("pageSize", String(options.pageSize));
  if (options.maxRecords !== undefined) query.append("maxRecords", String(options.maxRecords));
  if (options.offset !== undefined) query.append("offset", options.offset);
  if (options.view !== undefined) query.append("view", options.view);
  if (options.filterByFormula !== undefined) query.append("filterByFormula", options.filterByFormula);
  for (const field of options.fields ?? []) query.append("fields[]", field);
  (options.sort ?? []).forEach((sort, index) => {
    query.append(`sort[${index}][field]`, sort.field);
    if (sort.direction !== undefined) query.append(`sort[${index}][direction]`, sort.direction);
  });
  if (options.returnFieldsByFieldId) query.append("returnFieldsByFieldId", "true");
  if (options.cellFormat !== undefined) query.append("cellFormat", options.cellFormat);
  // timeZone and userLocale stay in the query string of POST listRecords as well: Airtable's API team, "We currently
  // still require two parameters to remain as query params, timeZone and userLocale"
  // (https://github.com/sleiman/airtable-php/issues/59); Airtable.js and pyairtable do the same.
  const formatQuery = new URLSearchParams();
  if (options.timeZone !== undefined) formatQuery.append("timeZone", options.timeZone);
  if (options.userLocale !== undefined) formatQuery.append("userLocale", options.userLocale);
  for (const [key, value] of formatQuery) query.append(key, value);

  const queryString = query.toString();
  const pathAndQuery = `${tablePath}${queryString === "" ? "" : `?${queryString}`}`;
  const measured = Math.max(apiUrl.length, AIRTABLE_API_ORIGIN.length) + pathAndQuery.length;
  if (measured < maxUrlLength) return { method: "GET", url: `${apiUrl}${pathAndQuery}`, path: tablePath, query };

  const body: Record<string, unknown> = {};
  if (options.pageSize !== undefined) body.pageSize = options.pageSize;
  if (options.maxRecords !== undefined) body.maxRecords = options.maxRecords;
  if (options.offset !== undefined) body.offset = options.offset;
  if (options.view !== undefined) body.view = options.view;
  if (options.filterByFormula !== undefined) body.filterByFormula = options.filterByFormula;
  if (options.fields !== undefined) body.fields = options.fields;
  if (options.sort !== undefined) {
    body.sort = options.sort.map((s) =>
      s.direction === undefined ? { field: s.field } : { field: s.field, direction: s.direction },
    );
  }
  if (options.returnFieldsByFieldId) body.returnFieldsByFieldId = true;
  if (options.cellFormat !== undefined) body.cellFormat = options.cellFormat;
  const path = `${tablePath}/listRecords`;
  const formatQueryString = formatQuery.toString();
  const url = `${apiUrl}${path}${formatQueryString === "" ? "" : `?${formatQueryString}`}`;
  return { method: "POST", url, path, body, query: formatQuery };
}

// ---------------------------------------------------------------------------------------------------------------
// Retry decisions

/** What one HTTP attempt ended with, as far as retrying is concerned. */
export type AttemptObservation =
  | { kind: "response"; status: number }
  /**
   * No (complete) answer. `sent: "no"` only when the failure certainly happened before any byte of the request
   * left (connection refused, DNS failure, connect timeout); `"maybe"` for everything else (timeout, reset).
   */
  | { kind: "network"; sent: "no" | "maybe"; timeout: boolean };

export interface RetryLimits {
  /** Attempts that may end in 5xx / network failure before giving up (429 waits and the 401 retry do not count). */
  maxAttempts: number;
  /** 429 answers waited out (each after `limiter.reportRateLimited`) before giving up. */
  maxRateLimitWaits: number;
}

export interface RetryState {
  /** 5xx / network failures before this attempt. */
  failedAttempts: number;
  /** 429s waited out before this attempt. */
  rateLimitWaits: number;
  /** Whether the 401 refresh was already used. */
  authRefreshed: boolean;
}

export type FailureKind =
  | "auth"
  | "permission"
  | "not_found"
  | "validation"
  | "rate_limit"
  | "server"
  | "network"
  | "outcome_unknown"
  | "protocol";

export type RetryDecision =
  | { action: "success" }
  /** Ask the token provider for a new token (passing the rejected one) and send again, once. */
  | { action: "refresh_token" }
  /** Report the 429 to the limiter, schedule again (the limiter waits out the shared penalty). */
  | { action: "rate_limit_wait" }
  /** Sleep a jittered exponential backoff, then schedule again. */
  | { action: "backoff" }
  | { action: "fail"; failure: FailureKind };

/**
 * The decision table. `idempotent` requests (GET, POST listRecords, PATCH/PUT updates, upserts, DELETE) may be
 * sent again after any failure; the others (creates, comments, uploads) only when Airtable certainly did not
 * apply them: a 401 or 429 answer, or a failure before the request was sent.
 */
export function decideRetry(
  observation: AttemptObservation,
  idempotent: boolean,
  state: RetryState,
  limits: RetryLimits,
): RetryDecision {
  const canRetryFailure = state.failedAttempts + 1 < limits.maxAttempts;
  if (observation.kind === "network") {
    if (observation.sent === "maybe" && !idempotent) return { action: "fail", failure: "outcome_unknown" };
    return canRetryFailure ? { action: "backoff" } : { action: "fail", failure: "network" };
  }
  const { status } = observation;
  if (status >= 200 && status < 300) return { action: "success" };
  if (status === 401) return state.authRefreshed ? { action: "fail", failure: "auth" } : { action: "refresh_token" };
  if (status === 429) {
    return state.rateLimitWaits < limits.maxRateLimitWaits
      ? { action: "rate_limit_wait" }
      : { action: "fail", failure: "rate_limit" };
  }
  if (status >= 500) {
    // A 5xx may come after Airtable applied the request: never re-send a create.
    if (!idempotent) return { action: "fail", failure: "outcome_unknown" };
    return canRetryFailure ? { action: "backoff" } : { action: "fail", failure: "server" };
  }
  if (status === 403) return { action: "fail", failure: "permission" };
  if (status === 404) return { action: "fail", failure: "not_found" };
  if (status >= 400) return { action: "fail", failure: "validation" };
  return { action: "fail", failure: "protocol" };
}

/**
 * Full-jitter exponential backoff: uniform in [0, min(maxDelayMs, baseDelayMs · 2^retryIndex)), where
 * `retryIndex` is 0 before the first retry.
 */
export function backoffDelayMs(
  retryIndex: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** retryIndex);
  return Math.floor(random() * cap);
}

// ---------------------------------------------------------------------------------------------------------------
// Retry-After

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = String.raw`(\d{2}):(\d{2}):(\d{2})`;
/** RFC 9110 §5.6.7's three HTTP-date forms: IMF-fixdate, and the obsolete RFC 850 and asctime ones. */
const IMF_FIXDATE = new RegExp(String.raw`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ${MONTH} (\d{4}) ${TIME} GMT$`);
const RFC_850_DATE = new RegExp(
  String.raw`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-${MONTH}-(\d{2}) ${TIME} GMT$`,
);
const ASCTIME_DATE = new RegExp(String.raw`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \d|\d{2}) ${TIME} (\d{4})$`);

/**
 * When a `Retry-After` header value says to try again (RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`),
 * as epoch ms: `delay-seconds` (digits only) counts from `nowMs`, the answer's arrival; an `HTTP-date` is any of
 * §5.6.7's three forms, which a recipient MUST accept, all in GMT (an RFC 850 two-digit year more than 50 years ahead
 * is the past century's, as §5.6.7 says). Undefined for an absent, empty or malformed value, an impossible date, or
 * seconds past the last time a Date holds: the caller then keeps its own backoff. A date already past answers `nowMs`.
 */
export function retryAfterAt(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const at = nowMs + Number(text) * 1000;
    // Seconds so many the time is past any Date (8.64e15 ms after 1970: ECMA-262 §21.4.1.1) name no time to wait
    // for or to tell the agent (toISOString throws "Invalid time value"): malformed, as a negative delay.
    return Number.isNaN(new Date(at).getTime()) ? undefined : at;
  }
  let parts: { day: string; month: string; year: number; time: string[] } | undefined;
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) parts = { day: m[1]!, month: m[2]!, year: Number(m[3]), time: m.slice(4, 7) };
  if (parts === undefined && (m = RFC_850_DATE.exec(text)) !== null) {
    const thisYear = new Date(nowMs).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(m[3]);
    if (year > thisYear + 50) year -= 100;
    parts = { day: m[1]!, month: m[2]!, year, time: m.slice(4, 7) };
  }
  if (parts === undefined && (m = ASCTIME_DATE.exec(text)) !== null) {
    parts = { day: m[2]!.trim(), month: m[1]!, year: Number(m[6]), time: m.slice(3, 6) };
  }
  if (parts === undefined) return undefined;
  const [hour, minute, second] = parts.time.map(Number) as [number, number, number];
  const day = Number(parts.day);
  const month = MONTHS.indexOf(parts.month);
  const at = Date.UTC(parts.year, month, day, hour, minute, second);
  // Date.UTC rolls "31 Feb" or "25:00:00" over into another date: such a header is malformed, not a time.
  const back = new Date(at);
  const same = [back.getUTCDate(), back.getUTCHours(), back.getUTCMinutes(), back.getUTCSeconds()];
  if (same.join() !== [day, hour, minute, second].join()) return undefined;
  return Math.max(nowMs, at);
}

// ---------------------------------------------------------------------------------------------------------------
// Fetch failures

/** Error codes that mean the request never left this machine: nothing can have reached Airtable. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "EAI_FAIL",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function errorCodes(error: unknown, depth = 0): string[] {
  if (depth > 8 || typeof error !== "object" || error === null) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === "string") codes.push(code);
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  if (cause !== undefined) codes.push(...errorCodes(cause, depth + 1));
  return codes;
}

function isTimeout(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== "object" || error === null) return false;
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  return name === "TimeoutError" || isTimeout(cause, depth + 1);
}

/**
 * Classifies an exception thrown by an HTTP exchange (or by reading the body): undici's `request` throws the
 * system error itself (`code` ECONNREFUSED, …, or `UND_ERR_*`), `fetch` a `TypeError("fetch failed")` whose
 * `cause` carries it (an `AggregateError` of them when several addresses were tried); both reject with the
 * signal's `TimeoutError` when the exchange's timeout fires (timeout-signal.ts, which aborts as `AbortSignal.timeout`
 * does). The code is looked for on the error and its causes.
 */
export function classifyFetchError(error: unknown): {
  sent: "no" | "maybe";
  timeout: boolean;
  code: string | undefined;
} {
  if (isTimeout(error)) return { sent: "maybe", timeout: true, code: "TIMEOUT" };
  const codes = errorCodes(error);
  const sent = codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c)) ? "no" : "maybe";
  return { sent, timeout: false, code: codes.find((c) => c !== "") };
}
