/**
 * Typed errors for every way an Airtable request can end badly. The write pipeline branches on the class:
 *
 * - `AirtableOutcomeUnknownError`: a non-idempotent request (create records/table/field/comment, upload) may or
 *   may not have been applied. Never re-send it blindly: report the batch `in_doubt`.
 * - every other `AirtableError`: Airtable certainly did not apply the request (4xx, or a failure before sending),
 *   or the request is idempotent and safe to send again later (5xx / network after the retries gave up).
 */

/** What was asked, without secrets: no token, no query string, no request body. */
export interface RequestSummary {
  /** The client method, e.g. `createRecords`; names the endpoint in messages. */
  operation: string;
  method: string;
  /** URL path only (segments percent-encoded), never the query string. */
  path: string;
  baseId?: string;
  /** Number of records in the request, for record batches. */
  recordCount?: number;
}

export interface AirtableErrorInit {
  /** HTTP status; 0 when Airtable gave no answer (network, timeout) or the error was raised locally. */
  status: number;
  /** Airtable's error type (e.g. `UNKNOWN_FIELD_NAME`) or one of ours (`TIMEOUT`, `NETWORK_ERROR`, …). */
  type: string;
  /** Airtable's own message when it sent one. */
  message: string;
  request: RequestSummary;
  /** HTTP attempts made for this call (all of them: 429 waits and the 401 refresh included). */
  attempts?: number;
  /**
   * True when an earlier attempt of this (idempotent) call failed in a way that may have applied it, e.g. a
   * DELETE whose first answer was lost: a later 404 may then mean "already done".
   */
  priorAttemptMayHaveApplied?: boolean;
  /**
   * When Airtable's 503 answer said to try again (its `Retry-After` header, RFC 9110 §10.2.3), as epoch ms; absent
   * when the answer had none (Airtable's errors page documents none: "retry the request with backoffs").
   */
  retryAt?: number;
  cause?: unknown;
}

export class AirtableError extends Error {
  override name = "AirtableError";
  readonly status: number;
  readonly type: string;
  readonly method: string;
  readonly path: string;
  readonly operation: string;
  readonly baseId: string | undefined;
  readonly request: RequestSummary;
  readonly attempts: number;
  readonly priorAttemptMayHaveApplied: boolean;
  /** See AirtableErrorInit.retryAt. */
  readonly retryAt: number | undefined;

  constructor(init: AirtableErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.type = init.type;
    this.method = init.request.method;
    this.path = init.request.path;
    this.operation = init.request.operation;
    this.baseId = init.request.baseId;
    this.request = init.request;
    this.attempts = init.attempts ?? 0;
    this.priorAttemptMayHaveApplied = init.priorAttemptMayHaveApplied ?? false;
    this.retryAt = init.retryAt;
  }

  /**
   * One line for logs and tool answers: `createRecords POST /v0/app…/Tasks → 422 UNKNOWN_FIELD_NAME: …`, ending with
   * ` (Retry-After: <ISO time>)` when Airtable said when to try again.
   */
  describe(): string {
    const status = this.status === 0 ? "no answer" : String(this.status);
    const retry = this.retryAt === undefined ? "" : ` (Retry-After: ${new Date(this.retryAt).toISOString()})`;
    return `${this.operation} ${this.method} ${this.path} → ${status} ${this.type}: ${this.message}${retry}`;
  }
}

/** 401: the token was rejected, also after asking the token provider for a fresh one. */
export class AirtableAuthError extends AirtableError {
  override name = "AirtableAuthError";
}

/** 403: the token lacks a scope, or the base/table is not shared with the user (`INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND`). */
export class AirtablePermissionError extends AirtableError {
  override name = "AirtablePermissionError";
}

/** 404: unknown record, table, base or route. */
export class AirtableNotFoundError extends AirtableError {
  override name = "AirtableNotFoundError";
}

/**
 * 422 and every other 4xx (400, 413, …): the request is wrong (unknown field, bad value, too many records).
 * Also raised locally, with status 0, for requests the client refuses to send (e.g. more than 10 records).
 */
export class AirtableValidationError extends AirtableError {
  override name = "AirtableValidationError";
}

/** 429 still answered after `maxRateLimitWaits` waits. Nothing was applied. */
export class AirtableRateLimitError extends AirtableError {
  override name = "AirtableRateLimitError";
}

/**
 * 5xx on an idempotent request, after the retries gave up; or at once for a 503 whose `Retry-After` is further off
 * than the transport waits (`retry.maxRetryAfterMs`): `retryAt` then says when to try again.
 */
export class AirtableServerError extends AirtableError {
  override name = "AirtableServerError";
}

/**
 * Network failure or timeout after the retries gave up: on an idempotent request, or on any request when the
 * failure certainly happened before it was sent (connection refused, DNS).
 */
export class AirtableNetworkError extends AirtableError {
  override name = "AirtableNetworkError";
}

export type OutcomeUnknownReason =
  /** The per-attempt timeout fired after the request may have been sent. */
  | "timeout"
  /** The connection broke after the request may have been sent (reset, closed, body cut off). */
  | "connection_lost"
  /** Airtable answered 5xx: it may have applied the request before failing. */
  | "server_error"
  /** Airtable answered 2xx (so it applied the request) but the answer could not be read or validated. */
  | "invalid_response";

/**
 * A non-idempotent request (create records, table, field, comment; upload attachment) that may have reached
 * Airtable and may have been applied. The client never re-sends those; the write pipeline reports the batch
 * `in_doubt` with its input records (`request` says which call it was).
 */
export class AirtableOutcomeUnknownError extends AirtableError {
  override name = "AirtableOutcomeUnknownError";
  readonly reason: OutcomeUnknownReason;
  constructor(init: AirtableErrorInit & { reason: OutcomeUnknownReason }) {
    super(init);
    this.reason = init.reason;
  }
}

/** Airtable answered something this client cannot read: not JSON, or not the documented shape. */
export class AirtableProtocolError extends AirtableError {
  override name = "AirtableProtocolError";
}

/** Airtable's error as found in a response body. */
export interface ParsedAirtableError {
  type: string;
  message: string;
}

const defaultTypeByStatus: Record<number, string> = {
  400: "INVALID_REQUEST",
  401: "AUTHENTICATION_REQUIRED",
  402: "PAYMENT_REQUIRED",
  403: "INVALID_PERMISSIONS",
  404: "NOT_FOUND",
  413: "REQUEST_TOO_LARGE",
  422: "INVALID_REQUEST_UNKNOWN",
  429: "RATE_LIMIT_REACHED",
  500: "SERVER_ERROR",
  502: "BAD_GATEWAY",
  503: "SERVICE_UNAVAILABLE",
  504: "GATEWAY_TIMEOUT",
};

function defaultType(status: number): string {
  return defaultTypeByStatus[status] ?? (status >= 500 ? "SERVER_ERROR" : `HTTP_${status}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/**
 * Reads Airtable's error out of a response body. Airtable uses three shapes:
 * `{"error":{"type","message"}}`, `{"error":"NOT_FOUND"}` (a bare string, sometimes with a top-level `message`)
 * and `{"errors":[{"error","message"}]}` (429). Anything else (HTML from a proxy, empty body) falls back to a
 * type derived from the status and a short excerpt of the body.
 */
export function parseAirtableErrorBody(status: number, bodyText: string): ParsedAirtableError {
  let json: unknown;
  try {
    json = bodyText.trim() === "" ? undefined : JSON.parse(bodyText);
  } catch {
    json = undefined;
  }
  if (isRecord(json)) {
    const { error, errors } = json;
    if (isRecord(error)) {
      const type = nonEmptyString(error.type) ?? nonEmptyString(error.error) ?? defaultType(status);
      return {
        type,
        message: nonEmptyString(error.message) ?? nonEmptyString(json.message) ?? fallbackMessage(status),
      };
    }
    if (typeof error === "string" && error !== "") {
      return { type: error, message: nonEmptyString(json.message) ?? fallbackMessage(status) };
    }
    if (Array.isArray(errors)) {
      const first: unknown = errors[0];
      if (isRecord(first)) {
        const type = nonEmptyString(first.error) ?? nonEmptyString(first.type) ?? defaultType(status);
        return { type, message: nonEmptyString(first.message) ?? fallbackMessage(status) };
      }
    }
    if (nonEmptyString(json.type) !== undefined || nonEmptyString(json.message) !== undefined) {
      return {
        type: nonEmptyString(json.type) ?? defaultType(status),
        message: nonEmptyString(json.message) ?? fallbackMessage(status),
      };
    }
  }
  return { type: defaultType(status), message: fallbackMessage(status, bodyText) };
}

function fallbackMessage(status: number, bodyText?: string): string {
  const excerpt = bodyText === undefined ? "" : bodyText.replace(/\s+/g, " ").trim().slice(0, 200);
  return excerpt === "" ? `Airtable answered HTTP ${status}` : `Airtable answered HTTP ${status}: ${excerpt}`;
}

/** The typed error for a final (no more retries) HTTP error answer. */
export function errorForStatus(
  status: number,
  parsed: ParsedAirtableError,
  request: RequestSummary,
  extra: { attempts?: number; priorAttemptMayHaveApplied?: boolean; retryAt?: number } = {},
): AirtableError {
  const init: AirtableErrorInit = { status, type: parsed.type, message: parsed.message, request, ...extra };
  if (status === 401) return new AirtableAuthError(init);
  if (status === 403) return new AirtablePermissionError(init);
  if (status === 404) return new AirtableNotFoundError(init);
  if (status === 429) return new AirtableRateLimitError(init);
  if (status >= 500) return new AirtableServerError(init);
  if (status >= 400) return new AirtableValidationError(init);
  return new AirtableProtocolError({ ...init, message: `Unexpected HTTP status ${status}: ${parsed.message}` });
}
