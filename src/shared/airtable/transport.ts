/**
 * The request loop behind every Airtable call: the client (client.ts) says what to send, this sends it. Each HTTP
 * attempt passes the shared limiter, answers are validated with zod, failures become typed errors (errors.ts),
 * and retries follow `decideRetry` (request.ts): idempotent requests are retried on 5xx/network failures, creates
 * never once they may have reached Airtable (AirtableOutcomeUnknownError instead). The pure parts of these rules
 * live in request.ts; this module holds the I/O: the loop, one attempt, parsing, and mapping failures to errors.
 */
import { setTimeout as wait } from "node:timers/promises";
import { type Dispatcher, getGlobalDispatcher, request } from "undici";
import type { z } from "zod";
import type { AirtableLimiter, RateLimitScope, SendTiming } from "../limiter/types.ts";
import type { Logger } from "../logger.ts";
import { timeoutSignal } from "../timeout-signal.ts";
import type { CallProgress } from "./call-progress.ts";
import {
  type AirtableError,
  AirtableNetworkError,
  AirtableOutcomeUnknownError,
  AirtableProtocolError,
  errorForStatus,
  parseAirtableErrorBody,
  type AirtableErrorInit,
  type OutcomeUnknownReason,
  type RequestSummary,
} from "./errors.ts";
import {
  backoffDelayMs,
  classifyFetchError,
  decideRetry,
  retryAfterAt,
  type AttemptObservation,
  type FailureKind,
  type RetryLimits,
} from "./request.ts";

/** How to reach Airtable and as whom; AirtableClientOptions is this. */
export interface AirtableTransportOptions {
  /** e.g. https://api.airtable.com (no trailing slash). */
  apiUrl: string;
  /** e.g. https://content.airtable.com (attachment uploads). */
  contentUrl: string;
  /** The Airtable user id (`usr…`), for the limiter scope. */
  userId: string;
  /**
   * Called before every attempt. After a 401, called once more with the rejected token so the provider can
   * refresh; a second 401 is final. Errors it throws propagate unchanged.
   */
  getAccessToken: (rejected?: string) => Promise<string>;
  limiter: AirtableLimiter;
  logger?: Logger;
  retry?: {
    /** Attempts ending in 5xx / network failure before giving up (idempotent requests). Default 5. */
    maxAttempts?: number;
    /** Default 250. */
    baseDelayMs?: number;
    /** Default 8000. */
    maxDelayMs?: number;
    /** 429s waited out before giving up with AirtableRateLimitError. Default 4. */
    maxRateLimitWaits?: number;
    /**
     * The longest `Retry-After` of a 503 that is waited out before the next attempt (ms). Default 30 000: as long as
     * a 429 penalty or one attempt's timeout, the longest waits a call has anyway. A later one fails the call at once
     * with AirtableServerError and its `retryAt`, rather than hold it (a read's deadline, a worker) for nothing.
     */
    maxRetryAfterMs?: number;
  };
  /** Per attempt (sending, waiting and reading the answer), default 30 000. */
  timeoutMs?: number;
  /**
   * For tests: replaces the backoff sleep and Math.random. The sleep is given the call's signal when it may be
   * stopped (`cancelScope: "all"`); one that ignores it still stops the call once it resolves.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /**
   * Called after every HTTP attempt that ended (retries and 429s included), e.g. to count requests for /metrics.
   * An attempt cut off in flight by `cancelSignal` (`cancelScope: "all"`) is reported with status "cancelled"
   * (it may have reached Airtable); one cut off before any byte was sent is not reported.
   */
  onAttempt?: (attempt: AirtableAttempt) => void;
  /**
   * Aborted when the requests are no longer wanted; rejects with `signal.reason`. What it may stop is
   * `cancelScope`'s.
   */
  cancelSignal?: AbortSignal;
  /**
   * - `unsent` (default; an operation being cancelled): a call none of whose attempts may have reached Airtable yet
   *   stops waiting in the limiter (nothing sent); a call that has sent anything runs to its end, retries included,
   *   so its outcome is known (a request is never cut off).
   * - `all` (a read tool call whose deadline passed or whose MCP request was cancelled): an idempotent request stops
   *   wherever it is — a wait in the limiter or a 429 pause ends (its booking withdrawn), a backoff wait ends, an
   *   attempt in flight is aborted, and no further attempt is sent. A request that is not idempotent keeps the
   *   `unsent` rules (a create is never cut off after it may have reached Airtable).
   */
  cancelScope?: "unsent" | "all";
  /** Filled in as the requests go (attempts, answers, where the call waits), for the caller of a stopped call. */
  progress?: CallProgress;
  /**
   * Called when a request to a base, not yet sent (or to be sent again after its own 429), starts waiting out
   * Airtable's 429 penalty on that base: the limiter's penalty in force (AirtableLimiter `onPenaltyWait`), whichever
   * request met the 429. The request then resumes by itself. Errors it throws are ignored. The operation processor
   * records the wait in the operation's log (AirtableClient.withRateLimitPauses).
   */
  onRateLimitPause?: (pause: RateLimitPause) => void;
}

/** A request waiting out Airtable's 429 penalty on its base (AirtableTransportOptions.onRateLimitPause). */
export interface RateLimitPause {
  /** The base whose requests Airtable refuses for the penalty (30 s after a 429, "Rate limits"). */
  baseId: string;
  /** When the penalty ends and the request books again (epoch ms, this process's clock). */
  until: number;
}

/** One HTTP exchange with Airtable, as `onAttempt` reports it. */
export interface AirtableAttempt {
  /** The client method, e.g. `listRecords`, `createRecords`. */
  operation: string;
  /**
   * The HTTP status, "network" when no status arrived (connection failed, timed out), or "cancelled" when the call
   * was stopped (a read's deadline, its client leaving) while the attempt was in flight.
   */
  status: number | "network" | "cancelled";
  durationMs: number;
}

export type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

/** The dispatch option naming the `SendTiming` to tell when the request is written (see writeReportingDispatcher). */
const onWrite = Symbol("airtable-oauth-mcp.onWrite");

/**
 * Tells a request's `SendTiming` the moment undici writes it to a socket: undici calls a handler's `onRequestStart`
 * synchronously right before it writes the request line and headers (client-h1.js `writeH1`), once the connection
 * is up, so the time covers the HTTP client's queue and a new connection's set-up. A request aborted by then is not
 * reported (nothing of it is written). undici's interceptor API (a dispatcher's `compose`) wraps the request's
 * handler; the `SendTiming` travels in the dispatch options, which `request()` passes through unchanged.
 */
class WriteReportingHandler implements Dispatcher.DispatchHandler {
  readonly #inner: Dispatcher.DispatchHandler;
  readonly #send: SendTiming;

  constructor(inner: Dispatcher.DispatchHandler, send: SendTiming) {
    this.#inner = inner;
    this.#send = send;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: object): void {
    // The request's own handler first: a request whose signal fired while it waited for its connection (its
    // timeout) is aborted there, and undici then writes nothing; only a request that goes on is reported.
    this.#inner.onRequestStart?.(controller, context);
    if (!controller.aborted) this.#send.written();
  }

  onRequestUpgrade(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onRequestUpgrade"]>>): void {
    this.#inner.onRequestUpgrade?.(...args);
  }

  onResponseStart(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseStart"]>>): void {
    this.#inner.onResponseStart?.(...args);
  }

  onResponseData(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseData"]>>): void {
    this.#inner.onResponseData?.(...args);
  }

  onResponseEnd(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseEnd"]>>): void {
    this.#inner.onResponseEnd?.(...args);
  }

  onResponseError(...args: Parameters<NonNullable<Dispatcher.DispatchHandler["onResponseError"]>>): void {
    this.#inner.onResponseError?.(...args);
  }
}

/** The global dispatcher composed with the write reporter, rebuilt only if the global dispatcher is replaced. */
let reporting: { base: Dispatcher; composed: Dispatcher } | undefined;

function writeReportingDispatcher(): Dispatcher {
  const base = getGlobalDispatcher();
  if (reporting?.base !== base) {
    const composed = base.compose((dispatch) => (opts, handler) => {
      const send = (opts as { [onWrite]?: SendTiming })[onWrite];
      return dispatch(opts, send === undefined ? handler : new WriteReportingHandler(handler, send));
    });
    reporting = { base, composed };
  }
  return reporting.composed;
}

/** One Airtable request as an endpoint describes it (client.ts); the transport sends it. */
export interface RequestSpec<T> {
  /** The client method, e.g. `listRecords` (in logs, errors and metrics). */
  operation: string;
  method: HttpMethod;
  origin: "api" | "content";
  /** Path with encoded segments, no query. */
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  baseId?: string;
  recordCount?: number;
  /** Safe to send again after a failure that may have applied it. */
  idempotent: boolean;
  /** The answer's shape; an answer that does not match is an AirtableProtocolError. */
  schema: z.ZodType<T>;
}

type AttemptResult = { startedAt: number; durationMs: number } &
  /** `retryAfter`: the answer's Retry-After header, as sent. */
  (
    | { kind: "response"; status: number; text: string; retryAfter: string | undefined }
    | {
        kind: "network";
        sent: "no" | "maybe";
        timeout: boolean;
        code: string | undefined;
        error: unknown;
        status?: number;
      }
  );

const DEFAULTS = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxRateLimitWaits: 4,
  timeoutMs: 30_000,
  maxRetryAfterMs: 30_000,
};

/**
 * Sends Airtable requests for one user (`userId` is the limiter scope, `getAccessToken` the user's token). One per
 * client; holds no state between requests besides its settings.
 */
export class AirtableTransport {
  readonly #apiUrl: string;
  readonly #contentUrl: string;
  readonly #userId: string;
  readonly #getAccessToken: (rejected?: string) => Promise<string>;
  readonly #limiter: AirtableLimiter;
  readonly #logger: Logger | undefined;
  readonly #limits: RetryLimits;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #onAttempt: ((attempt: AirtableAttempt) => void) | undefined;
  readonly #cancelSignal: AbortSignal | undefined;
  /** `cancelSignal` when it may stop an idempotent request anywhere (`cancelScope: "all"`). */
  readonly #stopSignal: AbortSignal | undefined;
  readonly #progress: CallProgress | undefined;
  readonly #onRateLimitPause: ((pause: RateLimitPause) => void) | undefined;
  /** The `baseId` the logger binds itself (#lineBaseId); null when it binds none; undefined until first needed. */
  #boundBaseId: string | null | undefined;

  constructor(opts: AirtableTransportOptions) {
    this.#apiUrl = opts.apiUrl.replace(/\/+$/, "");
    this.#contentUrl = opts.contentUrl.replace(/\/+$/, "");
    this.#userId = opts.userId;
    this.#getAccessToken = opts.getAccessToken;
    this.#limiter = opts.limiter;
    this.#logger = opts.logger;
    this.#limits = {
      maxAttempts: Math.max(1, opts.retry?.maxAttempts ?? DEFAULTS.maxAttempts),
      maxRateLimitWaits: Math.max(0, opts.retry?.maxRateLimitWaits ?? DEFAULTS.maxRateLimitWaits),
    };
    this.#baseDelayMs = opts.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs;
    this.#maxDelayMs = opts.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs;
    this.#maxRetryAfterMs = opts.retry?.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#sleep = opts.sleep ?? ((ms, signal) => wait(ms, undefined, signal === undefined ? {} : { signal }));
    this.#random = opts.random ?? Math.random;
    this.#onAttempt = opts.onAttempt;
    this.#cancelSignal = opts.cancelSignal;
    this.#stopSignal = opts.cancelScope === "all" ? opts.cancelSignal : undefined;
    this.#progress = opts.progress;
    this.#onRateLimitPause = opts.onRateLimitPause;
  }

  /** The API origin requests go to (no trailing slash): list records measures its URLs against it. */
  get apiUrl(): string {
    return this.#apiUrl;
  }

  /**
   * Sends `spec` until it succeeds or fails for good: every attempt through `limiter.schedule`, a 401 once more
   * with a refreshed token, a 429 waited out (the shared penalty) up to `retry.maxRateLimitWaits` times, 5xx and
   * network failures retried with backoff only when `spec.idempotent` or certainly not applied (`decideRetry`); a
   * 503's `Retry-After` waited out before the next attempt when it is at most `retry.maxRetryAfterMs` away, and
   * otherwise the call fails at once (AirtableServerError with `retryAt`).
   * Answers the parsed body; throws an AirtableError subclass (errors.ts), or whatever `getAccessToken` or the
   * limiter throws, unchanged; `cancelSignal.reason` when the signal stopped it (see `cancelScope`).
   */
  async send<T>(spec: RequestSpec<T>): Promise<T> {
    const scope: RateLimitScope =
      spec.baseId === undefined ? { userId: this.#userId } : { userId: this.#userId, baseId: spec.baseId };
    const summary: RequestSummary = { operation: spec.operation, method: spec.method, path: spec.path };
    if (spec.baseId !== undefined) summary.baseId = spec.baseId;
    if (spec.recordCount !== undefined) summary.recordCount = spec.recordCount;
    const queryString = spec.query?.toString() ?? "";
    const url = `${spec.origin === "api" ? this.#apiUrl : this.#contentUrl}${spec.path}${queryString === "" ? "" : `?${queryString}`}`;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);

    const state = { failedAttempts: 0, rateLimitWaits: 0, authRefreshed: false };
    let attempts = 0;
    let priorAttemptMayHaveApplied = false;
    let refreshedToken: string | undefined;
    // Stops this request anywhere (a read call's deadline): only a request that may be sent again (see cancelScope).
    const stop = spec.idempotent ? this.#stopSignal : undefined;
    const progress = this.#progress;
    const baseId = spec.baseId;
    const pauses = this.#onRateLimitPause;
    const onPenaltyWait =
      pauses === undefined || baseId === undefined
        ? undefined
        : (waitMs: number) => {
            try {
              pauses({ baseId, until: Date.now() + waitMs });
            } catch (error) {
              this.#logger?.warn({ err: error }, "a rate-limit pause listener failed");
            }
          };

    for (;;) {
      stop?.throwIfAborted();
      if (progress !== undefined) progress.phase = "token";
      const token = refreshedToken ?? (await this.#getAccessToken());
      refreshedToken = undefined;
      stop?.throwIfAborted();
      attempts += 1;
      const queuedAt = performance.now();
      // Cancellable only while nothing of this call may have been applied (see cancelSignal), or anywhere (stop).
      const signal = stop ?? (priorAttemptMayHaveApplied ? undefined : this.#cancelSignal);
      if (progress !== undefined) progress.phase = "queued";
      const result = await this.#limiter.schedule(
        scope,
        (send) => {
          if (progress !== undefined) {
            progress.attempts += 1;
            progress.phase = "in_flight";
          }
          return this.#attempt(spec.method, url, token, body, send, stop);
        },
        {
          ...(signal === undefined ? {} : { signal }),
          ...(onPenaltyWait === undefined ? {} : { onPenaltyWait }),
        },
      );
      // Cut off (or answered just as the call was stopped): its outcome is nobody's any more. One that may have
      // reached Airtable still counted in the base's second there, so /metrics counts it ("cancelled").
      if (stop?.aborted === true) {
        if (result.kind === "response" || result.sent !== "no") {
          this.#onAttempt?.({
            operation: spec.operation,
            status: result.kind === "response" ? result.status : "cancelled",
            durationMs: result.durationMs,
          });
        }
        throw stop.reason;
      }
      if (progress !== undefined) noteAttempt(progress, result);

      const observation: AttemptObservation =
        result.kind === "response"
          ? { kind: "response", status: result.status }
          : { kind: "network", sent: result.sent, timeout: result.timeout };
      const decision = decideRetry(observation, spec.idempotent, state, this.#limits);
      this.#onAttempt?.({
        operation: spec.operation,
        status: result.kind === "response" ? result.status : (result.status ?? "network"),
        durationMs: result.durationMs,
      });
      // The line's fields are built only when it is written: at the default level (info) a read call would
      // otherwise pay for an object and a look at the logger's bindings per Airtable request.
      if (this.#logger?.isLevelEnabled("debug")) {
        this.#logger.debug(
          {
            operation: spec.operation,
            method: spec.method,
            path: spec.path,
            baseId: this.#lineBaseId(spec.baseId),
            status: result.kind === "response" ? result.status : undefined,
            network: result.kind === "network" ? (result.code ?? "error") : undefined,
            durationMs: result.durationMs,
            waitedMs: Math.round(result.startedAt - queuedAt),
            attempt: attempts,
            next: decision.action === "fail" ? `fail:${decision.failure}` : decision.action,
          },
          "airtable request",
        );
      }
      // A 503 may say when Airtable expects to be back (Retry-After: "how long the service is expected to be
      // unavailable", RFC 9110 §10.2.3); Airtable's errors page documents none, but its edge or a proxy may send it.
      const retryAt =
        result.kind === "response" && result.status === 503 ? retryAfterAt(result.retryAfter, Date.now()) : undefined;
      const extra = { attempts, priorAttemptMayHaveApplied, ...(retryAt === undefined ? {} : { retryAt }) };

      switch (decision.action) {
        case "success":
          if (progress !== undefined) progress.answered += 1;
          return this.#parse(spec, summary, (result as { text: string }).text, extra);
        case "refresh_token": {
          state.authRefreshed = true;
          const fresh = await this.#getAccessToken(token);
          if (fresh === token) throw this.#httpError(result, summary, extra);
          refreshedToken = fresh;
          continue;
        }
        case "rate_limit_wait":
          state.rateLimitWaits += 1;
          await this.#limiter.reportRateLimited(scope);
          continue;
        case "backoff": {
          const backoff = backoffDelayMs(state.failedAttempts, this.#baseDelayMs, this.#maxDelayMs, this.#random);
          const asked = retryAt === undefined ? 0 : retryAt - Date.now();
          // Sooner would only meet the same 503; much later is for the caller to decide (its error says when).
          if (asked > this.#maxRetryAfterMs) throw this.#failure("server", result, summary, extra);
          if (observation.kind === "response" || observation.sent === "maybe") priorAttemptMayHaveApplied = true;
          if (progress !== undefined) progress.phase = "backoff";
          await this.#backoff(Math.max(backoff, asked), stop);
          state.failedAttempts += 1;
          continue;
        }
        case "fail":
          if (decision.failure === "rate_limit") await this.#limiter.reportRateLimited(scope);
          throw this.#failure(decision.failure, result, summary, extra);
      }
    }
  }

  /**
   * One HTTP exchange, answer body read in full; never throws for HTTP or network trouble. Sent with undici's
   * `request` (undici is the HTTP client Node's own `fetch` is built on) rather than `fetch`: the same exchange
   * for under half the CPU, without the WHATWG Request/Response/stream objects (issue 15's CPU goal). Like `fetch`
   * with `redirect: "manual"`, a 3xx is answered as it is, never followed; failures are undici's errors (a system
   * error code, `UND_ERR_*`, or the timeout signal's `TimeoutError`), which `classifyFetchError` reads.
   */
  async #attempt(
    method: HttpMethod,
    url: string,
    token: string,
    body: string | undefined,
    send: SendTiming,
    stop: AbortSignal | undefined,
  ): Promise<AttemptResult> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let status: number | undefined;
    const startedAt = performance.now();
    const timing = () => ({ startedAt, durationMs: Math.round(performance.now() - startedAt) });
    // Cleared once the answer is read (timeout-signal.ts: AbortSignal.timeout would hold the request for 30 s). A
    // call that may be stopped (a read's deadline) also aborts its attempt in flight.
    const timeout = timeoutSignal(this.#timeoutMs, stop);
    try {
      const response = await request(url, {
        method,
        headers,
        body,
        signal: timeout.signal,
        dispatcher: writeReportingDispatcher(),
        [onWrite]: send,
      } as Parameters<typeof request>[1]);
      status = response.statusCode;
      const header = response.headers["retry-after"];
      const retryAfter = Array.isArray(header) ? header[0] : header;
      const text = await response.body.text();
      return { kind: "response", status, text, retryAfter, ...timing() };
    } catch (error) {
      const classified = classifyFetchError(error);
      // Headers arrived, so the request certainly reached Airtable even if the body was cut off.
      const sent = status === undefined ? classified.sent : "maybe";
      return status === undefined
        ? { kind: "network", ...classified, sent, error, ...timing() }
        : { kind: "network", ...classified, sent, error, status, ...timing() };
    } finally {
      timeout.clear();
    }
  }

  /** The backoff wait between attempts; with `stop`, it ends when the call is stopped, rejecting with its reason. */
  async #backoff(ms: number, stop: AbortSignal | undefined): Promise<void> {
    if (stop === undefined) return this.#sleep(ms);
    try {
      await this.#sleep(ms, stop);
    } catch (error) {
      if (stop.aborted) throw stop.reason;
      throw error;
    }
    stop.throwIfAborted();
  }

  #parse<T>(spec: RequestSpec<T>, summary: RequestSummary, text: string, extra: Partial<AirtableErrorInit>): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw this.#protocolError(spec, summary, `${spec.operation}: Airtable's answer is not JSON`, extra);
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.length === 0 ? "(root)" : i.path.join(".")}: ${i.message}`)
        .join("; ");
      throw this.#protocolError(
        spec,
        summary,
        `${spec.operation}: unexpected answer from Airtable (${issues})`,
        extra,
        parsed.error,
      );
    }
    return parsed.data;
  }

  /** A 2xx we cannot read: for a create, Airtable applied it but we do not know the result → outcome unknown. */
  #protocolError<T>(
    spec: RequestSpec<T>,
    summary: RequestSummary,
    message: string,
    extra: Partial<AirtableErrorInit>,
    cause?: unknown,
  ): AirtableError {
    const protocol = new AirtableProtocolError({
      status: 200,
      type: "INVALID_RESPONSE",
      message,
      request: summary,
      ...extra,
      cause,
    });
    if (spec.idempotent) return protocol;
    return this.#outcomeUnknown("invalid_response", 200, "INVALID_RESPONSE", message, summary, extra, protocol);
  }

  #outcomeUnknown(
    reason: OutcomeUnknownReason,
    status: number,
    type: string,
    detail: string,
    summary: RequestSummary,
    extra: Partial<AirtableErrorInit>,
    cause: unknown,
  ): AirtableOutcomeUnknownError {
    const error = new AirtableOutcomeUnknownError({
      status,
      type,
      reason,
      message: `${summary.operation} may or may not have been applied by Airtable (${detail}); it was not re-sent`,
      request: summary,
      ...extra,
      cause,
    });
    this.#logger?.warn(
      {
        operation: summary.operation,
        method: summary.method,
        path: summary.path,
        baseId: this.#lineBaseId(summary.baseId),
        reason,
        recordCount: summary.recordCount,
      },
      "airtable request outcome unknown",
    );
    return error;
  }

  /**
   * The `baseId` a log line of a request to `baseId` names: undefined (left out) when the logger binds that same
   * baseId itself, as a worker's and an embedded run's do for their operation's base, or the line would carry the
   * key twice (JSON with a duplicated name, which log tools read one way or another: RFC 8259 §4, names SHOULD be
   * unique). The logger's bindings are read once, when a line is first written.
   */
  #lineBaseId(baseId: string | undefined): string | undefined {
    if (baseId === undefined || this.#logger === undefined) return baseId;
    if (this.#boundBaseId === undefined) {
      const bound: unknown = this.#logger.bindings().baseId;
      this.#boundBaseId = typeof bound === "string" ? bound : null;
    }
    return this.#boundBaseId === baseId ? undefined : baseId;
  }

  #httpError(result: AttemptResult, summary: RequestSummary, extra: Partial<AirtableErrorInit>): AirtableError {
    if (result.kind !== "response") throw new Error("unreachable: no HTTP answer");
    return errorForStatus(result.status, parseAirtableErrorBody(result.status, result.text), summary, extra);
  }

  #failure(
    failure: FailureKind,
    result: AttemptResult,
    summary: RequestSummary,
    extra: Partial<AirtableErrorInit>,
  ): AirtableError {
    if (result.kind === "network") {
      const type = result.timeout ? "TIMEOUT" : "NETWORK_ERROR";
      const detail = result.timeout
        ? `no answer within ${this.#timeoutMs} ms`
        : `connection failed: ${result.code ?? describeError(result.error)}`;
      if (failure === "outcome_unknown") {
        return this.#outcomeUnknown(
          result.timeout ? "timeout" : "connection_lost",
          result.status ?? 0,
          type,
          detail,
          summary,
          extra,
          result.error,
        );
      }
      return new AirtableNetworkError({
        status: 0,
        type,
        message: `${summary.operation}: ${detail}`,
        request: summary,
        ...extra,
        cause: result.error,
      });
    }
    const parsed = parseAirtableErrorBody(result.status, result.text);
    if (failure === "outcome_unknown") {
      return this.#outcomeUnknown(
        "server_error",
        result.status,
        parsed.type,
        `HTTP ${result.status}: ${parsed.message}`,
        summary,
        extra,
        undefined,
      );
    }
    return errorForStatus(result.status, parsed, summary, extra);
  }
}

/** Counts one attempt's outcome into the call's progress (what a stopped call reports). */
function noteAttempt(progress: CallProgress, result: AttemptResult): void {
  progress.phase = "idle";
  if (result.kind === "network") {
    if (result.timeout) progress.timedOut += 1;
    else progress.connectionFailed += 1;
  } else if (result.status === 429) {
    progress.rateLimited += 1;
  } else if (result.status >= 500) {
    progress.serverErrors += 1;
    progress.lastServerStatus = result.status;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
