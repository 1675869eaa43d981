/**
 * Airtable's error bodies. Airtable uses three shapes and clients must cope with all of them:
 * `{"error":{"type","message"}}` (most), `{"error":"NOT_FOUND"}` (unrouted paths, malformed ids) and
 * `{"errors":[{"error","message"}]}` (429). Route code throws `ApiError`; the server turns it into a response.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, message?: string) {
    super(message ?? JSON.stringify(body));
    this.status = status;
    this.body = body;
  }

  toReply(): { status: number; body: unknown } {
    return { status: this.status, body: this.body };
  }
}

export function typed(status: number, type: string, message: string): ApiError {
  return new ApiError(status, { error: { type, message } });
}

export const notFound = (): ApiError => new ApiError(404, { error: "NOT_FOUND" });

export const authRequired = (): ApiError => typed(401, "AUTHENTICATION_REQUIRED", "Authentication required");

/** Unknown base, base not shared with the user or the token, unknown table, or a missing scope. */
export const modelNotFound = (): ApiError =>
  typed(
    403,
    "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
    "Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.",
  );

/** The user can see the base but its permission level does not allow the operation (e.g. a read-only writer). */
export const notPermitted = (): ApiError =>
  typed(403, "INVALID_PERMISSIONS", "You are not permitted to perform this operation");

export const invalidRequest = (): ApiError =>
  typed(422, "INVALID_REQUEST_UNKNOWN", "Invalid request: parameter validation failed. Check your request data.");

export const badBody = (): ApiError => typed(400, "INVALID_REQUEST_BODY", "Could not parse request body");

/**
 * A read (get record, its comments, an attachment upload) of a record id the base does not have: 404
 * MODEL_ID_NOT_FOUND "Record not found" (recorded from Airtable by grouparoo's nock fixtures for a get record of a
 * deleted record, plugins/@grouparoo/airtable/__tests__/fixtures/no-meta-access/export-records.js). Writes answer
 * otherwise: {@link recordNotInTable} (update) and {@link deleteTargetNotFound} (delete).
 */
export const recordNotFound = (): ApiError => typed(404, "MODEL_ID_NOT_FOUND", "Record not found");

/**
 * An update (PATCH or PUT, of several records or of one, an upsert item with an id) naming a record id the table does
 * not have (deleted, never existed, or a record of another table): 422 ROW_DOES_NOT_EXIST `Record ID rec… does not
 * exist in this table`, the whole request refused. Airtable's answer to a batch update, seen in
 * https://github.com/domdomegg/airtable-mcp-server/issues/28 ("Record ID rec2VdcJzQlsKFHtP does not exist in this
 * table"); no public record shows the one-record route's answer, which is taken to be the same (a guess).
 */
export const recordNotInTable = (recordId: string): ApiError =>
  typed(422, "ROW_DOES_NOT_EXIST", `Record ID ${recordId} does not exist in this table`);

/**
 * A delete naming a record id the table does not have: 404 NOT_FOUND `Could not find a record with ID "rec…".`, the
 * first such id of the request only, nothing deleted. Measured against Airtable on 2026-07-29 by a project whose
 * concurrent clean-up jobs deleted the same records (a public GitHub task log, quoting `Airtable DELETE 404:
 * {"error":{"type":"NOT_FOUND","message":"Could not find a record with ID \"rec1FKMdVs2VnlM0M\"."}}` and "a batch
 * answer with two unknown ids still named only the first"); the same body is in an older sync tool's fixtures. The
 * one-record route is taken to answer the same (a guess). Whether Airtable deletes the request's other records is
 * not known: the sandbox deletes none, as for every refused batch.
 */
export const deleteTargetNotFound = (recordId: string): ApiError =>
  typed(404, "NOT_FOUND", `Could not find a record with ID ${JSON.stringify(recordId)}.`);

export const unknownField = (name: string): ApiError =>
  typed(422, "UNKNOWN_FIELD_NAME", `Unknown field name: ${JSON.stringify(name)}`);

export const badValue = (fieldName: string): ApiError =>
  typed(422, "INVALID_VALUE_FOR_COLUMN", `Field ${JSON.stringify(fieldName)} cannot accept the provided value`);

/**
 * An attachment cell item Airtable cannot take: 422 INVALID_ATTACHMENT_OBJECT `Invalid attachment for field Invoice
 * PDF: parameters must be objects, not strings` (Airtable's answer to a string item, reported verbatim in
 * https://github.com/gtalarico/pyairtable/issues/74; the field name is not quoted). `reason` follows the colon;
 * only the string case's wording is Airtable's, the others are the sandbox's in the same form.
 */
export const badAttachment = (fieldName: string, reason: string): ApiError =>
  typed(422, "INVALID_ATTACHMENT_OBJECT", `Invalid attachment for field ${fieldName}: ${reason}`);

export const computedField = (fieldName: string): ApiError =>
  typed(
    422,
    "INVALID_VALUE_FOR_COLUMN",
    `Field ${JSON.stringify(fieldName)} cannot accept a value because the field is computed`,
  );

/** Airtable quotes the option name as JSON inside quotes: `…option ""Blocked""` (seen in real error bodies). */
export const badChoice = (option: string): ApiError =>
  typed(
    422,
    "INVALID_MULTIPLE_CHOICE_OPTIONS",
    `Insufficient permissions to create new select option "${JSON.stringify(option)}"`,
  );

export const rateLimited = (): ApiError =>
  new ApiError(429, {
    errors: [{ error: "RATE_LIMIT_REACHED", message: "Rate limit exceeded. Please try again later" }],
  });

/**
 * A table configured to limit who may delete its records (or, a sandbox-only setting, edit any of its fields): 403
 * INVALID_PERMISSIONS, per request. Airtable documents no message for these; this one was reported verbatim from its
 * API (https://github.com/GV14982/async-airtable/issues/55, an older answer to a typecast link, which Airtable now
 * answers with {@link createRestricted}).
 */
export const restricted = (): ApiError =>
  typed(
    403,
    "INVALID_PERMISSIONS",
    "You are not permitted to perform this operation because the field or table has been configured to limit who can perform this operation",
  );

/**
 * A table configured to limit who may create its records: 403 INVALID_PERMISSIONS `You are not permitted to create
 * records in table TABLE_NAME (TABLE_ID)` — the name unquoted. "This is returned both when creating records directly,
 * and when creating linked records while updating cell values" (https://airtable.com/developers/web/api/errors,
 * "Example error responses", 403): a typecast link naming a record that does not exist names the linked table, not
 * the table written to.
 */
export const createRestricted = (table: { id: string; name: string }): ApiError =>
  typed(403, "INVALID_PERMISSIONS", `You are not permitted to create records in table ${table.name} (${table.id})`);

/**
 * A field configured to limit who may edit it: 403 INVALID_PERMISSIONS `You are not permitted to write cell values in
 * field FIELD_NAME (FIELD_ID)`, the name unquoted (https://airtable.com/developers/web/api/errors, "Example error
 * responses", 403; the same words are quoted from Airtable's API in public projects, e.g. "…in field Estimated Length
 * (fldiTTGwIN858p5Rr)"). An older answer named it otherwise (`…because the field "Access Date 1" (fld…) has been
 * configured to limit who can perform this operation`, gtalarico/pyairtable#228): clients must read both.
 */
export const restrictedField = (field: { id: string; name: string }): ApiError =>
  typed(403, "INVALID_PERMISSIONS", `You are not permitted to write cell values in field ${field.name} (${field.id})`);

/** A link cell that is not an array of record ids (Airtable's message, e.g. gtalarico/pyairtable#68). */
export const notRecordIds = (): ApiError =>
  typed(422, "INVALID_VALUE_FOR_COLUMN", "Value is not an array of record IDs.");

/** A link to a record id that is not in the linked table (type as Airtable answers it; message the sandbox's). */
export const rowDoesNotExist = (recordId: string): ApiError =>
  typed(422, "ROW_DOES_NOT_EXIST", `Record ID ${recordId} does not exist`);
