import type { z } from "zod";
import type { AirtableLimiter, RateLimitScope } from "../limiter/types.ts";
import type { Logger } from "../logger.ts";
import {
  type AirtableError,
  AirtableNetworkError,
  AirtableOutcomeUnknownError,
  AirtableProtocolError,
  AirtableValidationError,
  errorForStatus,
  parseAirtableErrorBody,
  type AirtableErrorInit,
  type OutcomeUnknownReason,
  type RequestSummary,
} from "./errors.ts";
import {
  MAX_RECORDS_PER_REQUEST,
  backoffDelayMs,
  buildListRecordsRequest,
  classifyFetchError,
  decideRetry,
  encodeSegment,
  type AttemptObservation,
  type FailureKind,
  type ListRecordsOptions,
  type RetryLimits,
} from "./request.ts";
import {
  attachmentListSchema,
  baseSchemaResponseSchema,
  commentSchema,
  deleteResponseSchema,
  fieldSchema,
  listBasesResponseSchema,
  listCommentsResponseSchema,
  listRecordsResponseSchema,
  recordSchema,
  recordsResponseSchema,
  tableSchema,
  uploadAttachmentResponseSchema,
  upsertResponseSchema,
  whoamiSchema,
  type AirtableBase,
  type AirtableComment,
  type AirtableField,
  type AirtableRecord,
  type AirtableTable,
  type BaseSchema,
  type CommentsPage,
  type DeletedRecord,
  type ListBasesPage,
  type ListRecordsPage,
  type UploadAttachmentResult,
  type UpsertResult,
  type WhoAmI,
} from "./schemas.ts";

export interface AirtableClientOptions {
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
  };
  /** Per attempt (sending, waiting and reading the answer), default 30 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** For tests: replaces the backoff sleep and Math.random. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called after every HTTP attempt (retries and 429s included), e.g. to count requests for /metrics. */
  onAttempt?: (attempt: AirtableAttempt) => void;
}

/** One HTTP exchange with Airtable, as `onAttempt` reports it. */
export interface AirtableAttempt {
  /** The client method, e.g. `listRecords`, `createRecords`. */
  operation: string;
  /** The HTTP status, or "network" when no status arrived (connection failed, timed out). */
  status: number | "network";
  durationMs: number;
}

/** A field definition, as `createTable` and `createField` take it. */
export interface FieldSpec {
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown>;
}

export type Fields = Record<string, unknown>;

export interface WriteOptions {
  /** Let Airtable convert strings to select options, linked records, numbers… */
  typecast?: boolean;
  returnFieldsByFieldId?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  /** PUT instead of PATCH: cells not given are cleared. */
  replace?: boolean;
}

export interface UpsertOptions extends UpdateOptions {
  /** 1–3 field names or ids whose values identify the record to update; no match creates a record. */
  fieldsToMergeOn: string[];
}

export interface UploadAttachmentInput {
  contentType: string;
  filename: string;
  /** The file, base64-encoded (Airtable takes up to 5 MB this way). */
  file: string;
}

type HttpMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

interface RequestSpec<T> {
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
  schema: z.ZodType<T>;
}

type AttemptResult = { startedAt: number; durationMs: number } & (
  | { kind: "response"; status: number; text: string }
  | {
      kind: "network";
      sent: "no" | "maybe";
      timeout: boolean;
      code: string | undefined;
      error: unknown;
      status?: number;
    }
);

const DEFAULTS = { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 8000, maxRateLimitWaits: 4, timeoutMs: 30_000 };

/**
 * The only way this project talks to Airtable. Every HTTP attempt passes `limiter.schedule`, answers are
 * validated with zod, failures become typed errors (see errors.ts), and retries follow `decideRetry`
 * (request.ts): idempotent requests are retried on 5xx/network failures, creates never once they may have
 * reached Airtable (AirtableOutcomeUnknownError instead).
 */
export class AirtableClient {
  readonly #apiUrl: string;
  readonly #contentUrl: string;
  readonly #userId: string;
  readonly #getAccessToken: (rejected?: string) => Promise<string>;
  readonly #limiter: AirtableLimiter;
  readonly #logger: Logger | undefined;
  readonly #limits: RetryLimits;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #onAttempt: ((attempt: AirtableAttempt) => void) | undefined;

  constructor(opts: AirtableClientOptions) {
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
    this.#timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = opts.random ?? Math.random;
    this.#onAttempt = opts.onAttempt;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Users and bases

  /** `GET /v0/meta/whoami`: the user id (and email, scopes) behind the token. */
  async whoami(): Promise<WhoAmI> {
    return this.#request({
      operation: "whoami",
      method: "GET",
      origin: "api",
      path: "/v0/meta/whoami",
      idempotent: true,
      schema: whoamiSchema,
    });
  }

  /** One page of `GET /v0/meta/bases`. */
  async listBases(opts: { offset?: string } = {}): Promise<ListBasesPage> {
    const query = new URLSearchParams();
    if (opts.offset !== undefined) query.set("offset", opts.offset);
    return this.#request({
      operation: "listBases",
      method: "GET",
      origin: "api",
      path: "/v0/meta/bases",
      query,
      idempotent: true,
      schema: listBasesResponseSchema,
    });
  }

  /** Every base the token can see, following `offset`. */
  async listAllBases(): Promise<AirtableBase[]> {
    const bases: AirtableBase[] = [];
    const seen = new Set<string>();
    let offset: string | undefined;
    do {
      const page = await this.listBases(offset === undefined ? {} : { offset });
      bases.push(...page.bases);
      offset = page.offset;
      if (offset !== undefined) {
        if (seen.has(offset)) break; // a cursor that does not move would loop forever
        seen.add(offset);
      }
    } while (offset !== undefined);
    return bases;
  }

  /** `GET /v0/meta/bases/{baseId}/tables`: tables with their fields and views. */
  async getBaseSchema(baseId: string): Promise<BaseSchema> {
    return this.#request({
      operation: "getBaseSchema",
      method: "GET",
      origin: "api",
      path: `/v0/meta/bases/${this.#segment(baseId, "baseId")}/tables`,
      baseId,
      idempotent: true,
      schema: baseSchemaResponseSchema,
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Schema changes

  /** `POST /v0/meta/bases/{baseId}/tables`. Not idempotent. */
  async createTable(
    baseId: string,
    table: { name: string; description?: string; fields: FieldSpec[] },
  ): Promise<AirtableTable> {
    return this.#request({
      operation: "createTable",
      method: "POST",
      origin: "api",
      path: `/v0/meta/bases/${this.#segment(baseId, "baseId")}/tables`,
      body: table,
      baseId,
      idempotent: false,
      schema: tableSchema,
    });
  }

  /** `PATCH /v0/meta/bases/{baseId}/tables/{tableIdOrName}`. */
  async updateTable(
    baseId: string,
    tableIdOrName: string,
    patch: { name?: string; description?: string },
  ): Promise<AirtableTable> {
    return this.#request({
      operation: "updateTable",
      method: "PATCH",
      origin: "api",
      path: `/v0/meta/bases/${this.#segment(baseId, "baseId")}/tables/${this.#segment(tableIdOrName, "table")}`,
      body: patch,
      baseId,
      idempotent: true,
      schema: tableSchema,
    });
  }

  /** `POST /v0/meta/bases/{baseId}/tables/{tableId}/fields`. Not idempotent. */
  async createField(baseId: string, tableId: string, field: FieldSpec): Promise<AirtableField> {
    return this.#request({
      operation: "createField",
      method: "POST",
      origin: "api",
      path: `/v0/meta/bases/${this.#segment(baseId, "baseId")}/tables/${this.#segment(tableId, "tableId")}/fields`,
      body: field,
      baseId,
      idempotent: false,
      schema: fieldSchema,
    });
  }

  /** `PATCH /v0/meta/bases/{baseId}/tables/{tableId}/fields/{fieldId}`. */
  async updateField(
    baseId: string,
    tableId: string,
    fieldId: string,
    patch: { name?: string; description?: string },
  ): Promise<AirtableField> {
    return this.#request({
      operation: "updateField",
      method: "PATCH",
      origin: "api",
      path: `/v0/meta/bases/${this.#segment(baseId, "baseId")}/tables/${this.#segment(tableId, "tableId")}/fields/${this.#segment(fieldId, "fieldId")}`,
      body: patch,
      baseId,
      idempotent: true,
      schema: fieldSchema,
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Records

  /**
   * One page of records. A GET with the options in the query string, or `POST …/listRecords` with a JSON body
   * when the URL would reach Airtable's 16,000-character limit (long formulas, many fields).
   */
  async listRecords(baseId: string, table: string, opts: ListRecordsOptions = {}): Promise<ListRecordsPage> {
    const built = buildListRecordsRequest(this.#apiUrl, this.#tablePath(baseId, table), opts);
    return this.#request({
      operation: "listRecords",
      method: built.method,
      origin: "api",
      path: built.path,
      ...(built.method === "GET" ? { query: built.query } : { body: built.body }),
      baseId,
      idempotent: true, // POST listRecords only reads
      schema: listRecordsResponseSchema,
    });
  }

  /** Every page of `listRecords`, one at a time (stops at `maxRecords` if given: Airtable counts it). */
  async *iterateRecords(
    baseId: string,
    table: string,
    opts: Omit<ListRecordsOptions, "offset"> = {},
  ): AsyncGenerator<AirtableRecord[], void, undefined> {
    let offset: string | undefined;
    const seen = new Set<string>();
    do {
      const page = await this.listRecords(baseId, table, offset === undefined ? opts : { ...opts, offset });
      yield page.records;
      offset = page.offset;
      if (offset !== undefined) {
        if (seen.has(offset)) return;
        seen.add(offset);
      }
    } while (offset !== undefined);
  }

  /** `GET /v0/{baseId}/{table}/{recordId}`. */
  async getRecord(
    baseId: string,
    table: string,
    recordId: string,
    opts: { returnFieldsByFieldId?: boolean } = {},
  ): Promise<AirtableRecord> {
    const query = new URLSearchParams();
    if (opts.returnFieldsByFieldId) query.set("returnFieldsByFieldId", "true");
    return this.#request({
      operation: "getRecord",
      method: "GET",
      origin: "api",
      path: `${this.#tablePath(baseId, table)}/${this.#segment(recordId, "recordId")}`,
      query,
      baseId,
      idempotent: true,
      schema: recordSchema,
    });
  }

  /** `POST /v0/{baseId}/{table}` with 1–10 records. Not idempotent: never re-sent once it may have arrived. */
  async createRecords(
    baseId: string,
    table: string,
    records: { fields: Fields }[],
    opts: WriteOptions = {},
  ): Promise<AirtableRecord[]> {
    const path = this.#tablePath(baseId, table);
    this.#checkBatch("createRecords", "POST", path, baseId, records.length);
    const body: Record<string, unknown> = { records: records.map((r) => ({ fields: r.fields })) };
    if (opts.typecast !== undefined) body.typecast = opts.typecast;
    if (opts.returnFieldsByFieldId) body.returnFieldsByFieldId = true;
    const answer = await this.#request({
      operation: "createRecords",
      method: "POST",
      origin: "api",
      path,
      body,
      baseId,
      recordCount: records.length,
      idempotent: false,
      schema: recordsResponseSchema,
    });
    return answer.records;
  }

  /** `PATCH` (or `PUT` with `replace`) `/v0/{baseId}/{table}` with 1–10 records. Idempotent. */
  async updateRecords(
    baseId: string,
    table: string,
    records: { id: string; fields: Fields }[],
    opts: UpdateOptions = {},
  ): Promise<AirtableRecord[]> {
    const path = this.#tablePath(baseId, table);
    const method = opts.replace ? "PUT" : "PATCH";
    this.#checkBatch("updateRecords", method, path, baseId, records.length);
    const body: Record<string, unknown> = { records: records.map((r) => ({ id: r.id, fields: r.fields })) };
    if (opts.typecast !== undefined) body.typecast = opts.typecast;
    if (opts.returnFieldsByFieldId) body.returnFieldsByFieldId = true;
    const answer = await this.#request({
      operation: "updateRecords",
      method,
      origin: "api",
      path,
      body,
      baseId,
      recordCount: records.length,
      idempotent: true,
      schema: recordsResponseSchema,
    });
    return answer.records;
  }

  /**
   * `PATCH`/`PUT /v0/{baseId}/{table}` with `performUpsert.fieldsToMergeOn`: records matching on those fields
   * are updated, the others created. Treated as idempotent: sending it twice updates what the first created.
   */
  async upsertRecords(
    baseId: string,
    table: string,
    records: { id?: string; fields: Fields }[],
    opts: UpsertOptions,
  ): Promise<UpsertResult> {
    const path = this.#tablePath(baseId, table);
    const method = opts.replace ? "PUT" : "PATCH";
    this.#checkBatch("upsertRecords", method, path, baseId, records.length);
    if (opts.fieldsToMergeOn.length === 0) {
      throw this.#localError(
        "upsertRecords",
        method,
        path,
        baseId,
        "INVALID_MERGE_FIELDS",
        "fieldsToMergeOn must name at least one field",
      );
    }
    const body: Record<string, unknown> = {
      performUpsert: { fieldsToMergeOn: opts.fieldsToMergeOn },
      records: records.map((r) => (r.id === undefined ? { fields: r.fields } : { id: r.id, fields: r.fields })),
    };
    if (opts.typecast !== undefined) body.typecast = opts.typecast;
    if (opts.returnFieldsByFieldId) body.returnFieldsByFieldId = true;
    return this.#request({
      operation: "upsertRecords",
      method,
      origin: "api",
      path,
      body,
      baseId,
      recordCount: records.length,
      idempotent: true,
      schema: upsertResponseSchema,
    });
  }

  /** `DELETE /v0/{baseId}/{table}?records[]=…` with 1–10 ids. Idempotent (see `priorAttemptMayHaveApplied`). */
  async deleteRecords(baseId: string, table: string, ids: string[]): Promise<DeletedRecord[]> {
    const path = this.#tablePath(baseId, table);
    this.#checkBatch("deleteRecords", "DELETE", path, baseId, ids.length);
    const query = new URLSearchParams();
    for (const id of ids) query.append("records[]", id);
    const answer = await this.#request({
      operation: "deleteRecords",
      method: "DELETE",
      origin: "api",
      path,
      query,
      baseId,
      recordCount: ids.length,
      idempotent: true,
      schema: deleteResponseSchema,
    });
    return answer.records;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Comments and attachments

  /** One page of `GET /v0/{baseId}/{table}/{recordId}/comments` (newest first). */
  async listComments(
    baseId: string,
    table: string,
    recordId: string,
    opts: { offset?: string; pageSize?: number } = {},
  ): Promise<CommentsPage> {
    const query = new URLSearchParams();
    if (opts.pageSize !== undefined) query.set("pageSize", String(opts.pageSize));
    if (opts.offset !== undefined) query.set("offset", opts.offset);
    return this.#request({
      operation: "listComments",
      method: "GET",
      origin: "api",
      path: `${this.#tablePath(baseId, table)}/${this.#segment(recordId, "recordId")}/comments`,
      query,
      baseId,
      idempotent: true,
      schema: listCommentsResponseSchema,
    });
  }

  /** `POST /v0/{baseId}/{table}/{recordId}/comments`. Not idempotent. */
  async createComment(
    baseId: string,
    table: string,
    recordId: string,
    text: string,
    opts: { parentCommentId?: string } = {},
  ): Promise<AirtableComment> {
    return this.#request({
      operation: "createComment",
      method: "POST",
      origin: "api",
      path: `${this.#tablePath(baseId, table)}/${this.#segment(recordId, "recordId")}/comments`,
      body: opts.parentCommentId === undefined ? { text } : { text, parentCommentId: opts.parentCommentId },
      baseId,
      idempotent: false,
      schema: commentSchema,
    });
  }

  /**
   * `POST {contentUrl}/v0/{baseId}/{recordId}/{field}/uploadAttachment` (≤ 5 MB, base64). Not idempotent: a
   * second send would attach the file twice.
   */
  async uploadAttachment(
    baseId: string,
    recordId: string,
    fieldIdOrName: string,
    input: UploadAttachmentInput,
  ): Promise<UploadAttachmentResult> {
    const path = `/v0/${this.#segment(baseId, "baseId")}/${this.#segment(recordId, "recordId")}/${this.#segment(fieldIdOrName, "field")}/uploadAttachment`;
    const answer = await this.#request({
      operation: "uploadAttachment",
      method: "POST",
      origin: "content",
      path,
      body: { contentType: input.contentType, file: input.file, filename: input.filename },
      baseId,
      idempotent: false,
      schema: uploadAttachmentResponseSchema,
    });
    // The cells are keyed by field id; when the caller named the field, the answer's only cell is the one.
    const keys = Object.keys(answer.fields);
    const cell =
      fieldIdOrName in answer.fields
        ? answer.fields[fieldIdOrName]
        : keys.length === 1
          ? answer.fields[keys[0] ?? ""]
          : undefined;
    const parsed = cell === undefined ? undefined : attachmentListSchema.safeParse(cell);
    return {
      id: answer.id,
      createdTime: answer.createdTime,
      fields: answer.fields,
      attachments: parsed?.success ? parsed.data : undefined,
    };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Plumbing

  #segment(value: string, what: string): string {
    const encoded = encodeSegment(value);
    if (encoded === undefined || value === "") {
      throw new AirtableValidationError({
        status: 0,
        type: "INVALID_PATH_SEGMENT",
        message: `${what} ${JSON.stringify(value)} cannot be used in a URL; address it by id`,
        request: { operation: "buildUrl", method: "", path: "" },
      });
    }
    return encoded;
  }

  #tablePath(baseId: string, table: string): string {
    return `/v0/${this.#segment(baseId, "baseId")}/${this.#segment(table, "table")}`;
  }

  #localError(operation: string, method: string, path: string, baseId: string, type: string, message: string) {
    return new AirtableValidationError({ status: 0, type, message, request: { operation, method, path, baseId } });
  }

  #checkBatch(operation: string, method: string, path: string, baseId: string, count: number): void {
    if (count < 1 || count > MAX_RECORDS_PER_REQUEST) {
      throw this.#localError(
        operation,
        method,
        path,
        baseId,
        count < 1 ? "NO_RECORDS" : "TOO_MANY_RECORDS",
        `${operation} takes 1 to ${MAX_RECORDS_PER_REQUEST} records per request, got ${count}; split the batch`,
      );
    }
  }

  async #request<T>(spec: RequestSpec<T>): Promise<T> {
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

    for (;;) {
      const token = refreshedToken ?? (await this.#getAccessToken());
      refreshedToken = undefined;
      attempts += 1;
      const queuedAt = performance.now();
      const result = await this.#limiter.schedule(scope, () => this.#attempt(spec.method, url, token, body));

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
      this.#logger?.debug(
        {
          operation: spec.operation,
          method: spec.method,
          path: spec.path,
          baseId: spec.baseId,
          status: result.kind === "response" ? result.status : undefined,
          network: result.kind === "network" ? (result.code ?? "error") : undefined,
          durationMs: result.durationMs,
          waitedMs: Math.round(result.startedAt - queuedAt),
          attempt: attempts,
          next: decision.action === "fail" ? `fail:${decision.failure}` : decision.action,
        },
        "airtable request",
      );
      const extra = { attempts, priorAttemptMayHaveApplied };

      switch (decision.action) {
        case "success":
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
        case "backoff":
          if (observation.kind === "response" || observation.sent === "maybe") priorAttemptMayHaveApplied = true;
          await this.#sleep(backoffDelayMs(state.failedAttempts, this.#baseDelayMs, this.#maxDelayMs, this.#random));
          state.failedAttempts += 1;
          continue;
        case "fail":
          if (decision.failure === "rate_limit") await this.#limiter.reportRateLimited(scope);
          throw this.#failure(decision.failure, result, summary, extra);
      }
    }
  }

  /** One HTTP exchange, answer body read in full; never throws for HTTP or network trouble. */
  async #attempt(method: HttpMethod, url: string, token: string, body: string | undefined): Promise<AttemptResult> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let status: number | undefined;
    const startedAt = performance.now();
    const timing = () => ({ startedAt, durationMs: Math.round(performance.now() - startedAt) });
    try {
      const response = await this.#fetch(url, {
        method,
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      const text = await response.text();
      return { kind: "response", status, text, ...timing() };
    } catch (error) {
      const classified = classifyFetchError(error);
      // Headers arrived, so the request certainly reached Airtable even if the body was cut off.
      const sent = status === undefined ? classified.sent : "maybe";
      return status === undefined
        ? { kind: "network", ...classified, sent, error, ...timing() }
        : { kind: "network", ...classified, sent, error, status, ...timing() };
    }
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
        baseId: summary.baseId,
        reason,
        recordCount: summary.recordCount,
      },
      "airtable request outcome unknown",
    );
    return error;
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

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
