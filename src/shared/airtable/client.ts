/**
 * Airtable's Web API as methods: one per endpoint this project uses, each saying what to send (method, path,
 * query, body, whether it is idempotent) and what the answer looks like (schemas.ts). Sending — the limiter,
 * retries, token refresh, error mapping — is the transport's (transport.ts). Endpoints follow Airtable's Web API
 * reference (https://airtable.com/developers/web/api/introduction).
 */
import type { CallProgress } from "./call-progress.ts";
import { AirtableValidationError } from "./errors.ts";
import { MAX_RECORDS_PER_REQUEST, buildListRecordsRequest, encodeSegment, type ListRecordsOptions } from "./request.ts";
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
import { AirtableTransport, type AirtableTransportOptions, type RateLimitPause } from "./transport.ts";

export type { AirtableAttempt } from "./transport.ts";

/** How to reach Airtable and as whom (the transport's settings: endpoints, token, limiter, retries). */
export type AirtableClientOptions = AirtableTransportOptions;

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

/**
 * The only way this project talks to Airtable: every request goes through one AirtableTransport (shared limiter,
 * validated answers, typed errors, retries that never re-send a create that may have been applied). Build it
 * with the process's client factory (client-factory.ts), not directly, outside tests.
 */
export class AirtableClient {
  readonly #transport: AirtableTransport;
  readonly #opts: AirtableClientOptions;

  constructor(opts: AirtableClientOptions) {
    this.#opts = opts;
    this.#transport = new AirtableTransport(opts);
  }

  /**
   * The same client, whose requests stop when `signal` aborts: by default those not yet sent are dropped (an
   * operation being cancelled; the operation processor makes one per operation run); with `scope: "all"`, an
   * idempotent request also stops mid-way — its attempt in flight aborted, no further attempt sent (a read tool
   * call's deadline; src/shared/tools/read-call.ts). `progress` is filled in as requests go. See
   * AirtableTransportOptions.cancelSignal and cancelScope.
   */
  withCancelSignal(
    signal: AbortSignal,
    opts: { scope?: "unsent" | "all"; progress?: CallProgress } = {},
  ): AirtableClient {
    return new AirtableClient({
      ...this.#opts,
      cancelSignal: signal,
      cancelScope: opts.scope ?? "unsent",
      ...(opts.progress !== undefined && { progress: opts.progress }),
    });
  }

  /**
   * The same client, telling `listener` each time one of its requests to a base starts waiting out Airtable's 429
   * penalty on that base (AirtableTransportOptions.onRateLimitPause): the operation processor records it in the
   * operation's log, so that get_operation says the write is paused and resumes by itself.
   */
  withRateLimitPauses(listener: (pause: RateLimitPause) => void): AirtableClient {
    return new AirtableClient({ ...this.#opts, onRateLimitPause: listener });
  }

  /** The signal that stops this client's requests (withCancelSignal), if any. */
  get cancelSignal(): AbortSignal | undefined {
    return this.#opts.cancelSignal;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Users and bases

  /** `GET /v0/meta/whoami`: the user id (and email, scopes) behind the token. */
  async whoami(): Promise<WhoAmI> {
    return this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    const built = buildListRecordsRequest(this.#transport.apiUrl, this.#tablePath(baseId, table), opts);
    return this.#transport.send({
      operation: "listRecords",
      method: built.method,
      origin: "api",
      path: built.path,
      ...(built.method === "GET" ? { query: built.query } : { body: built.body, query: built.query }),
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

  /**
   * `GET /v0/{baseId}/{table}/{recordId}`. Airtable's get-record page documents cellFormat (with list records'
   * sentence that "string" requires timeZone and userLocale) and returnFieldsByFieldId; timeZone and userLocale are
   * sent in the query string as for list records.
   */
  async getRecord(
    baseId: string,
    table: string,
    recordId: string,
    opts: Pick<ListRecordsOptions, "returnFieldsByFieldId" | "cellFormat" | "timeZone" | "userLocale"> = {},
  ): Promise<AirtableRecord> {
    const query = new URLSearchParams();
    if (opts.returnFieldsByFieldId) query.set("returnFieldsByFieldId", "true");
    if (opts.cellFormat !== undefined) query.set("cellFormat", opts.cellFormat);
    if (opts.timeZone !== undefined) query.set("timeZone", opts.timeZone);
    if (opts.userLocale !== undefined) query.set("userLocale", opts.userLocale);
    return this.#transport.send({
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
    const answer = await this.#transport.send({
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
    const answer = await this.#transport.send({
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
    return this.#transport.send({
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
    const answer = await this.#transport.send({
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
    return this.#transport.send({
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
    return this.#transport.send({
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
    const answer = await this.#transport.send({
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
    const cell = Object.hasOwn(answer.fields, fieldIdOrName)
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
  // Paths and checks made before sending

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
}
