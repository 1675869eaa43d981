/**
 * Record endpoints: list (GET and POST listRecords), get, create, update/replace, upsert, delete, comments and
 * attachment upload.
 *
 * Error choices (what real Airtable answers, as far as public material shows; see also errors.ts):
 * - Malformed base id (not `app` + 14 chars) or malformed record id in a path: 404 `{"error":"NOT_FOUND"}`, before
 *   authentication, like any unrouted path (an update naming a primary value instead of a record id answered 404:
 *   https://github.com/Airtable/airtable.js/issues/130). A malformed id in a write's body or in `records[]`: 422
 *   INVALID_RECORDS with the batch's message (a guess: no public record; the server checks ids before sending).
 * - Unknown base, base the user cannot see, base the token was not given (not added on the OAuth consent page or to
 *   the personal access token), unknown table (by id or name), missing token scope: 403
 *   INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND. Personal access tokens and OAuth tokens get this single answer for all
 *   of them (Airtable does not reveal whether a base exists); the older 404 TABLE_NOT_FOUND / NOT_FOUND answers
 *   belong to the retired API keys (grouparoo's 2022 recordings show `404 TABLE_NOT_FOUND` for an API key). Measured
 *   with a personal access token in 2026 (the task log errors.ts deleteTargetNotFound cites): an unknown table of a
 *   base the token reaches, an unknown base and a base the token was not given all answered 403
 *   INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND.
 * - A base the user sees with too low a permission level (read-only writing, commenter editing): 403
 *   INVALID_PERMISSIONS.
 * - Unknown but well-formed record id: get, comments, attachment upload 404 MODEL_ID_NOT_FOUND "Record not found"
 *   (recorded from Airtable for a get); an update (PATCH/PUT, batch or one record, an upsert item with an id) 422
 *   ROW_DOES_NOT_EXIST "Record ID rec… does not exist in this table"; a delete (batch or one record) 404 NOT_FOUND
 *   `Could not find a record with ID "rec…".`, naming the first missing id (errors.ts says where each was seen; the
 *   one-record routes' answers are guesses). A record of another table of the base counts as missing for a write
 *   (a get finds it anywhere). In a batch it fails the whole batch.
 * - Body not JSON: 400 INVALID_REQUEST_BODY (Airtable's docs: 400 when the body cannot be parsed). Unknown keys or
 *   wrong types: 422 INVALID_REQUEST_UNKNOWN. Bad `records` arrays (none, > 10, missing id/fields): 422
 *   INVALID_RECORDS with Airtable's "You must provide an array of up to 10 record objects…" messages.
 * - Base permission level "none" (listed, nothing opens): 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, as for a
 *   base the user cannot see. Field/table restrictions: 403 INVALID_PERMISSIONS for that request (permissions.ts).
 * - A link to a record id the linked table does not have: 422 ROW_DOES_NOT_EXIST (the type Airtable answers; the
 *   message is the sandbox's). A select option created by typecast by a non-creator: 422
 *   INVALID_MULTIPLE_CHOICE_OPTIONS, as without typecast.
 * - An attachment item Airtable refuses: 422 INVALID_ATTACHMENT_OBJECT "Invalid attachment for field X: …" (only the
 *   string item's reason is Airtable's wording). `{id}`/`{email}` objects in a multiple collaborator cell (the field
 *   model documents ids only): taken, by the single collaborator's rules (fields/collaborators.ts).
 * - cellFormat=string without timeZone or userLocale: 422 INVALID_REQUEST_UNKNOWN (the docs make both required; the
 *   exact answer is not documented). An unknown zone or locale: the same.
 * - List offsets can be asked again (a retried page answers the same records) until they expire: Airtable documents
 *   only that "Iteration may timeout due to client inactivity or server restarts", not a single use. Expired: 422
 *   LIST_RECORDS_ITERATOR_NOT_AVAILABLE; the lifetime (from the last page asked) is SandboxOptions.listIteratorTtlMs.
 * - POST listRecords takes `timeZone` and `userLocale` in the query string only; in the body they are unknown keys
 *   (422 INVALID_REQUEST_UNKNOWN). Airtable's API team: "We currently still require two parameters to remain as query
 *   params, timeZone and userLocale" (https://github.com/sleiman/airtable-php/issues/59, Airtable staff, on the
 *   listRecords POST route); Airtable.js (shouldListRecordsParamBePassedAsParameter) and pyairtable
 *   (OPTIONS_NOT_SUPPORTED_VIA_POST) keep them in the query for the same reason.
 */
import { invalidRequest, notFound, recordNotFound, typed, unknownField } from "./errors.ts";
import {
  createRecords,
  createRecordsError,
  deleteRecords,
  deleteRecordsError,
  listRecords,
  MAX_RECORDS_PER_WRITE,
  renderRecord,
  updateRecords,
  updateRecordsError,
  upsertRecords,
  type ListQuery,
  stringFormatOf,
  type RenderedRecord,
  type UpdateInput,
  type WriteResult,
  type WriteScope,
} from "./record-ops.ts";
import { checkFieldWrites } from "./permissions.ts";
import { isId, newId } from "./ids.ts";
import {
  json,
  jsonBody,
  onlyKeys,
  openBase,
  openBaseWithLevel,
  principalOf,
  requireScope,
  type Reply,
  type RequestCtx,
  type RouteMatch,
} from "./context.ts";
import {
  findField,
  findRecord,
  findTable,
  touchCell,
  type Base,
  type PermissionLevel,
  type StoredRecord,
  type Table,
} from "./store.ts";
import type { Attachment } from "./field-values.ts";
import { fillInAttachments, storeFile, uploadedFiles } from "./fields/attachments.ts";
import { CellReader } from "./fields/reader.ts";

const READ = "data.records:read";
const WRITE = "data.records:write";

// ---------------------------------------------------------------------------------------------------------------
// Parameter parsing

function intParam(value: string): number {
  if (!/^\d+$/.test(value)) throw invalidRequest();
  return Number(value);
}

function boolParam(value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw invalidRequest();
}

function checkCellFormat(value: unknown): string {
  if (value !== "json" && value !== "string") throw invalidRequest();
  return value;
}

const SORT_KEY = /^sort\[(\d+)\]\[(field|direction)\]$/;

/**
 * Array parameters of a GET list written without `[]` (`fields=Name`): Airtable refuses one alone with 422
 * INVALID_REQUEST_UNKNOWN and takes them repeated — its staff: "if you want to pass an array, you'll need to append []
 * to the end of each key … If you only wanted one field, you'd still append the []. Our query parsing is somewhat
 * lenient, which is why supplying the parameter multiple times works"
 * (https://community.airtable.com/t/api-error-requesting-a-single-field/20018).
 */
const BARE_ARRAY_KEYS = ["fields", "recordMetadata"] as const;

export function listQueryFromSearch(query: URLSearchParams): ListQuery {
  for (const key of BARE_ARRAY_KEYS) {
    if (query.getAll(key).length === 1) throw invalidRequest();
  }
  const q: ListQuery = {};
  const sorts: { field?: string; direction?: string }[] = [];
  for (const [key, value] of query) {
    const sort = SORT_KEY.exec(key);
    if (sort !== null) {
      const index = Number(sort[1]);
      const entry = (sorts[index] ??= {});
      if (sort[2] === "field") entry.field = value;
      else entry.direction = value;
      continue;
    }
    switch (key) {
      case "pageSize":
        q.pageSize = intParam(value);
        break;
      case "maxRecords":
        q.maxRecords = intParam(value);
        break;
      case "offset":
        q.offset = value;
        break;
      case "view":
        q.view = value;
        break;
      case "filterByFormula":
        q.filterByFormula = value;
        break;
      case "fields[]":
      case "fields":
        (q.fields ??= []).push(value);
        break;
      case "returnFieldsByFieldId":
        q.returnFieldsByFieldId = boolParam(value);
        break;
      case "recordMetadata[]":
      case "recordMetadata":
        if (value !== "commentCount") throw invalidRequest();
        q.commentCount = true;
        break;
      case "cellFormat":
        q.cellFormat = checkCellFormat(value);
        break;
      case "timeZone":
        q.timeZone = value;
        break;
      case "userLocale":
        q.userLocale = value;
        break;
      default:
        throw invalidRequest();
    }
  }
  if (sorts.length > 0) {
    q.sort = sorts.map((s) => {
      if (s === undefined || s.field === undefined) throw invalidRequest();
      return s.direction === undefined ? { field: s.field } : { field: s.field, direction: s.direction };
    });
  }
  return q;
}

/** The body of POST listRecords: list records' parameters as JSON, except timeZone and userLocale (query only; see the
 * header). Unknown keys and wrong types: 422 INVALID_REQUEST_UNKNOWN. */
function listQueryFromBody(body: Record<string, unknown>): ListQuery {
  onlyKeys(body, [
    "pageSize",
    "maxRecords",
    "offset",
    "view",
    "filterByFormula",
    "fields",
    "sort",
    "returnFieldsByFieldId",
    "recordMetadata",
    "cellFormat",
  ]);
  const q: ListQuery = {};
  const int = (v: unknown): number => {
    if (typeof v !== "number" || !Number.isInteger(v)) throw invalidRequest();
    return v;
  };
  const str = (v: unknown): string => {
    if (typeof v !== "string") throw invalidRequest();
    return v;
  };
  if (body.pageSize !== undefined) q.pageSize = int(body.pageSize);
  if (body.maxRecords !== undefined) q.maxRecords = int(body.maxRecords);
  if (body.offset !== undefined) q.offset = str(body.offset);
  if (body.view !== undefined) q.view = str(body.view);
  if (body.filterByFormula !== undefined) q.filterByFormula = str(body.filterByFormula);
  if (body.fields !== undefined) {
    if (!Array.isArray(body.fields)) throw invalidRequest();
    q.fields = body.fields.map(str);
  }
  if (body.sort !== undefined) {
    if (!Array.isArray(body.sort)) throw invalidRequest();
    q.sort = body.sort.map((s: unknown) => {
      if (typeof s !== "object" || s === null || Array.isArray(s)) throw invalidRequest();
      const entry = s as Record<string, unknown>;
      onlyKeys(entry, ["field", "direction"]);
      const field = str(entry.field);
      return entry.direction === undefined ? { field } : { field, direction: str(entry.direction) };
    });
  }
  if (body.returnFieldsByFieldId !== undefined) {
    if (typeof body.returnFieldsByFieldId !== "boolean") throw invalidRequest();
    q.returnFieldsByFieldId = body.returnFieldsByFieldId;
  }
  if (body.recordMetadata !== undefined) {
    if (!Array.isArray(body.recordMetadata) || body.recordMetadata.some((m) => m !== "commentCount")) {
      throw invalidRequest();
    }
    q.commentCount = body.recordMetadata.length > 0;
  }
  if (body.cellFormat !== undefined) q.cellFormat = checkCellFormat(body.cellFormat);
  return q;
}

function optionalBool(body: Record<string, unknown>, key: string): boolean {
  const value = body[key];
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw invalidRequest();
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers

function tableOf(
  ctx: RequestCtx,
  baseId: string,
  tableKey: string,
  scope: string,
  needed: "read" | "comment" | "edit",
): { base: Base; table: Table; level: PermissionLevel } {
  requireScope(ctx, scope);
  const { base, level } = openBaseWithLevel(ctx, baseId, needed);
  return { base, table: findTable(base, tableKey), level };
}

function readerOf(ctx: RequestCtx, base: Base): CellReader {
  return new CellReader(base, ctx.env.store.users);
}

function list(ctx: RequestCtx, baseId: string, tableKey: string, fromBody: boolean): Reply {
  const { base, table } = tableOf(ctx, baseId, tableKey, READ, "read");
  const q = fromBody ? listQueryFromBody(jsonBody(ctx)) : listQueryFromSearch(ctx.query);
  if (fromBody) {
    // The two parameters POST listRecords takes only in its query string (the header says why).
    for (const [key, value] of ctx.query) {
      if (key === "timeZone") q.timeZone = value;
      else if (key === "userLocale") q.userLocale = value;
      else throw invalidRequest();
    }
  }
  return json(listRecords(readerOf(ctx, base), table, q, ctx.env.iterators));
}

function getOne(ctx: RequestCtx, baseId: string, tableKey: string, recordId: string): Reply {
  const { base } = tableOf(ctx, baseId, tableKey, READ, "read");
  let byFieldId = false;
  const format: { cellFormat?: string; timeZone?: string; userLocale?: string } = {};
  for (const [key, value] of ctx.query) {
    if (key === "returnFieldsByFieldId") byFieldId = boolParam(value);
    else if (key === "cellFormat") format.cellFormat = checkCellFormat(value);
    else if (key === "timeZone") format.timeZone = value;
    else if (key === "userLocale") format.userLocale = value;
    else throw invalidRequest();
  }
  const stringFormat = stringFormatOf(format);
  // Airtable finds a record by id anywhere in the base, whatever table the path names.
  const found = findRecord(base, recordId);
  if (found === undefined) throw recordNotFound();
  return json(
    renderRecord(
      readerOf(ctx, base),
      found.table,
      found.record,
      stringFormat === undefined ? { byFieldId } : { byFieldId, stringFormat },
    ),
  );
}

function writeScope(
  ctx: RequestCtx,
  found: { base: Base; table: Table; level: PermissionLevel },
  typecast: boolean,
): WriteScope {
  return {
    reader: readerOf(ctx, found.base),
    base: found.base,
    table: found.table,
    level: found.level,
    userId: principalOf(ctx).user.id,
    typecast,
  };
}

/** Answers a write with the records as they are now (a fresh reader: computed cells see the new values), then
 * starts filling in the attachments written by URL. */
function answerWrite(ctx: RequestCtx, scope: WriteScope, result: WriteResult, byFieldId: boolean): RenderedRecord[] {
  const reader = readerOf(ctx, scope.base);
  const records = result.records.map((r) => renderRecord(reader, scope.table, r, { byFieldId }));
  // The fill-in comes after the answer: it is saved when it is done.
  void fillInAttachments(scope.base, result.attachments, { origin: ctx.env.url(), ...ctx.env.attachmentFillIn }).then(
    () => ctx.env.changed(),
  );
  return records;
}

function create(ctx: RequestCtx, baseId: string, tableKey: string): Reply {
  const found = tableOf(ctx, baseId, tableKey, WRITE, "edit");
  const body = jsonBody(ctx);
  onlyKeys(body, ["records", "fields", "typecast", "returnFieldsByFieldId"]);
  const typecast = optionalBool(body, "typecast");
  const byFieldId = optionalBool(body, "returnFieldsByFieldId");
  if (body.records !== undefined) {
    if (body.fields !== undefined) throw invalidRequest();
    const records = body.records;
    if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS_PER_WRITE) {
      throw createRecordsError();
    }
    for (const r of records) {
      if (!isObject(r) || Object.keys(r).some((k) => k !== "fields") || !isObject(r.fields)) throw createRecordsError();
    }
    const scope = writeScope(ctx, found, typecast);
    return json({ records: answerWrite(ctx, scope, createRecords(scope, records), byFieldId) });
  }
  if (body.fields === undefined) throw createRecordsError();
  if (!isObject(body.fields)) throw invalidRequest();
  const scope = writeScope(ctx, found, typecast);
  const [created] = answerWrite(ctx, scope, createRecords(scope, [{ fields: body.fields }]), byFieldId);
  return json(created);
}

function update(ctx: RequestCtx, baseId: string, tableKey: string, replace: boolean): Reply {
  const found = tableOf(ctx, baseId, tableKey, WRITE, "edit");
  const body = jsonBody(ctx);
  onlyKeys(body, ["records", "typecast", "returnFieldsByFieldId", "performUpsert"]);
  const typecast = optionalBool(body, "typecast");
  const byFieldId = optionalBool(body, "returnFieldsByFieldId");
  const records = body.records;
  if (!Array.isArray(records) || records.length < 1 || records.length > MAX_RECORDS_PER_WRITE) {
    throw updateRecordsError();
  }
  if (body.performUpsert !== undefined) {
    const upsert = body.performUpsert;
    if (!isObject(upsert)) throw invalidRequest();
    onlyKeys(upsert, ["fieldsToMergeOn"]);
    const inputs = records.map((r: unknown) => {
      if (!isObject(r) || Object.keys(r).some((k) => k !== "fields" && k !== "id") || !isObject(r.fields)) {
        throw updateRecordsError();
      }
      if (r.id !== undefined && (typeof r.id !== "string" || !isId(r.id, "rec"))) throw updateRecordsError();
      return r.id === undefined ? { fields: r.fields } : { id: r.id as string, fields: r.fields };
    });
    const scope = writeScope(ctx, found, typecast);
    const result = upsertRecords(scope, inputs, upsert.fieldsToMergeOn, replace);
    return json({
      records: answerWrite(ctx, scope, result, byFieldId),
      createdRecords: result.createdRecords,
      updatedRecords: result.updatedRecords,
    });
  }
  const inputs: UpdateInput[] = records.map((r: unknown) => {
    if (!isObject(r) || Object.keys(r).some((k) => k !== "fields" && k !== "id")) throw updateRecordsError();
    if (typeof r.id !== "string" || !isId(r.id, "rec") || !isObject(r.fields)) throw updateRecordsError();
    return { id: r.id, fields: r.fields };
  });
  const scope = writeScope(ctx, found, typecast);
  return json({ records: answerWrite(ctx, scope, updateRecords(scope, inputs, replace), byFieldId) });
}

function updateOne(ctx: RequestCtx, baseId: string, tableKey: string, recordId: string, replace: boolean): Reply {
  const found = tableOf(ctx, baseId, tableKey, WRITE, "edit");
  const body = jsonBody(ctx);
  onlyKeys(body, ["fields", "typecast", "returnFieldsByFieldId"]);
  if (!isObject(body.fields)) throw invalidRequest();
  const typecast = optionalBool(body, "typecast");
  const byFieldId = optionalBool(body, "returnFieldsByFieldId");
  const scope = writeScope(ctx, found, typecast);
  const [record] = answerWrite(
    ctx,
    scope,
    updateRecords(scope, [{ id: recordId, fields: body.fields }], replace),
    byFieldId,
  );
  return json(record);
}

export function deleteIds(query: URLSearchParams): string[] {
  const ids: string[] = [];
  for (const [key, value] of query) {
    if (key === "records[]") ids.push(value);
    // `records=rec…` without brackets: 422 INVALID_RECORDS at Airtable (pyairtable#94), not a list of one.
    else if (key === "records") throw deleteRecordsError();
    else throw invalidRequest();
  }
  return ids;
}

function remove(ctx: RequestCtx, baseId: string, tableKey: string): Reply {
  const { base, table } = tableOf(ctx, baseId, tableKey, WRITE, "edit");
  const ids = deleteIds(ctx.query);
  if (ids.length < 1 || ids.length > MAX_RECORDS_PER_WRITE || ids.some((id) => !isId(id, "rec"))) {
    throw deleteRecordsError();
  }
  deleteRecords({ base, table, userId: principalOf(ctx).user.id }, ids);
  return json({ records: ids.map((id) => ({ id, deleted: true })) });
}

function removeOne(ctx: RequestCtx, baseId: string, tableKey: string, recordId: string): Reply {
  const { base, table } = tableOf(ctx, baseId, tableKey, WRITE, "edit");
  if ([...ctx.query.keys()].length > 0) throw invalidRequest();
  deleteRecords({ base, table, userId: principalOf(ctx).user.id }, [recordId]);
  return json({ id: recordId, deleted: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Comments

/**
 * A mention in a comment's text: `@[…]` around a user id or an email. "Users can be mentioned by including the userId
 * or email surrounded by @[] in the text field of the request body … Responses from listing, creating, or updating
 * comments will indicate user mentions by including the userId surrounded by the same @[] in the text field of the
 * response body. The response will also include a mentioned objectMap that maps mentioned user and user group ids
 * to detailed information", `{"userId": {"type": "user", "id", "name", "email"}}`
 * (https://airtable.com/developers/web/api/model/user-mentioned). What Airtable does with an id or email that is no
 * user is not documented: the sandbox leaves such text as it is, not a mention (a guess). User groups are not modelled.
 */
const MENTION = /@\[([^\]\s]+)\]/g;

/** The text as stored: each mentioned email replaced by that user's id (MENTION). */
function mentionsById(ctx: RequestCtx, text: string): string {
  return text.replace(MENTION, (token, key: string) => {
    const user = ctx.env.store.userByIdOrEmail(key);
    return user === undefined ? token : `@[${user.id}]`;
  });
}

/** The `mentioned` object map of a comment's stored text, or undefined when it mentions no user (MENTION). */
function mentionedIn(ctx: RequestCtx, text: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [, key] of text.matchAll(MENTION)) {
    const user = ctx.env.store.users.get(key as string);
    if (user !== undefined) out[user.id] = { type: "user", id: user.id, name: user.name, email: user.email };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function renderComment(ctx: RequestCtx, c: StoredRecord["comments"][number]): Record<string, unknown> {
  const author = ctx.env.store.users.get(c.authorId);
  const mentioned = mentionedIn(ctx, c.text);
  return {
    id: c.id,
    author: { id: c.authorId, email: author?.email, name: author?.name },
    text: c.text,
    createdTime: c.createdTime,
    lastUpdatedTime: c.lastUpdatedTime,
    ...(c.parentCommentId !== undefined && { parentCommentId: c.parentCommentId }),
    ...(mentioned !== undefined && { mentioned }),
  };
}

function recordOf(table: Table, recordId: string): StoredRecord {
  const record = table.byId.get(recordId);
  if (record === undefined) throw recordNotFound();
  return record;
}

function listComments(ctx: RequestCtx, baseId: string, tableKey: string, recordId: string): Reply {
  const { table } = tableOf(ctx, baseId, tableKey, "data.recordComments:read", "read");
  const record = recordOf(table, recordId);
  let pageSize = 100;
  let offset: string | undefined;
  for (const [key, value] of ctx.query) {
    if (key === "pageSize") pageSize = intParam(value);
    else if (key === "offset") offset = value;
    else throw invalidRequest();
  }
  if (pageSize < 1 || pageSize > 100) throw invalidRequest();
  const newestFirst = [...record.comments].reverse();
  let start = 0;
  if (offset !== undefined) {
    start = newestFirst.findIndex((c) => c.id === offset);
    if (!isId(offset, "com") || start < 0) {
      throw typed(422, "INVALID_OFFSET_VALUE", `The value of offset ${offset} is invalid`);
    }
  }
  const page = newestFirst.slice(start, start + pageSize);
  const next = newestFirst[start + pageSize];
  // Airtable sends `offset: null` on the last page of comments.
  return json({ comments: page.map((c) => renderComment(ctx, c)), offset: next === undefined ? null : next.id });
}

function createComment(ctx: RequestCtx, baseId: string, tableKey: string, recordId: string): Reply {
  const { table } = tableOf(ctx, baseId, tableKey, "data.recordComments:write", "comment");
  const record = recordOf(table, recordId);
  const body = jsonBody(ctx);
  onlyKeys(body, ["text", "parentCommentId"]);
  if (typeof body.text !== "string" || body.text.trim() === "") throw invalidRequest();
  if (body.parentCommentId !== undefined) {
    if (typeof body.parentCommentId !== "string" || !record.comments.some((c) => c.id === body.parentCommentId)) {
      throw typed(404, "MODEL_ID_NOT_FOUND", "Comment not found");
    }
  }
  const comment = {
    id: newId("com"),
    authorId: principalOf(ctx).user.id,
    text: mentionsById(ctx, body.text),
    createdTime: new Date().toISOString(),
    lastUpdatedTime: null,
    ...(typeof body.parentCommentId === "string" && { parentCommentId: body.parentCommentId }),
  };
  record.comments.push(comment);
  return json(renderComment(ctx, comment));
}

// ---------------------------------------------------------------------------------------------------------------
// Attachment upload (content.airtable.com in production; the same origin here)

/** Airtable's documented limit for uploadAttachment: 5 MB of decoded file. */
export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

function upload(ctx: RequestCtx, baseId: string, recordId: string, fieldKey: string): Reply {
  requireScope(ctx, WRITE);
  const base = openBase(ctx, baseId, "edit");
  const found = findRecord(base, recordId);
  if (found === undefined) throw recordNotFound();
  const field = findField(found.table, fieldKey);
  if (field === undefined) throw unknownField(fieldKey);
  checkFieldWrites(base, found.table, principalOf(ctx).user.id, [field.id]);
  if (field.type !== "multipleAttachments") {
    throw typed(422, "INVALID_FIELD_TYPE", `Field ${JSON.stringify(field.name)} is not an attachment field`);
  }
  const body = jsonBody(ctx);
  onlyKeys(body, ["contentType", "file", "filename"]);
  const { contentType, file, filename } = body;
  if (typeof contentType !== "string" || typeof file !== "string" || typeof filename !== "string" || filename === "") {
    throw invalidRequest();
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(file) || file.length % 4 !== 0) throw invalidRequest();
  const bytes = Buffer.from(file, "base64");
  if (bytes.length > MAX_UPLOAD_BYTES) {
    throw typed(413, "REQUEST_TOO_LARGE", "Request body is too large: uploadAttachment takes files up to 5 MB");
  }
  const attachment: Attachment = { id: newId("att"), url: "", filename };
  storeFile(base, ctx.env.url(), attachment, bytes, contentType);
  const current = (found.record.cells.get(field.id) as Attachment[] | undefined) ?? [];
  found.record.cells.set(field.id, [...current, attachment]);
  touchCell(found.record, field.id, new Date().toISOString(), principalOf(ctx).user.id);
  return json({
    id: found.record.id,
    createdTime: found.record.createdTime,
    fields: { [field.id]: structuredClone(found.record.cells.get(field.id)) },
  });
}

/** GET /attachments/{attId}/{filename}: the uploaded bytes (any base; ids are unguessable, like signed URLs). */
export function serveAttachment(bases: Iterable<Base>, attId: string): Reply {
  for (const base of bases) {
    const file = uploadedFiles.get(base)?.get(attId);
    if (file !== undefined) return { status: 200, body: file.bytes, headers: { "content-type": file.contentType } };
  }
  throw notFound();
}

// ---------------------------------------------------------------------------------------------------------------
// Routing

/** Routes under /v0/{baseId}/…; `segs` excludes the leading "v0". */
export function matchRecordRoutes(method: string, segs: string[]): RouteMatch | undefined {
  const [baseId, second, third, fourth] = segs;
  if (baseId === undefined || !isId(baseId, "app") || second === undefined) return undefined;
  const api = (run: RouteMatch["run"], recordWrite = false): RouteMatch => ({ kind: "api", baseId, recordWrite, run });
  if (segs.length === 2) {
    const table = second;
    if (method === "GET") return api((ctx) => list(ctx, baseId, table, false));
    if (method === "POST") return api((ctx) => create(ctx, baseId, table), true);
    if (method === "PATCH") return api((ctx) => update(ctx, baseId, table, false), true);
    if (method === "PUT") return api((ctx) => update(ctx, baseId, table, true), true);
    if (method === "DELETE") return api((ctx) => remove(ctx, baseId, table), true);
    return undefined;
  }
  if (segs.length === 3 && third !== undefined) {
    const table = second;
    if (third === "listRecords" && method === "POST") {
      return { ...api((ctx) => list(ctx, baseId, table, true)), readOnly: true };
    }
    if (!isId(third, "rec")) return undefined;
    const recordId = third;
    if (method === "GET") return api((ctx) => getOne(ctx, baseId, table, recordId));
    if (method === "PATCH") return api((ctx) => updateOne(ctx, baseId, table, recordId, false), true);
    if (method === "PUT") return api((ctx) => updateOne(ctx, baseId, table, recordId, true), true);
    if (method === "DELETE") return api((ctx) => removeOne(ctx, baseId, table, recordId), true);
    return undefined;
  }
  if (segs.length === 4 && third !== undefined && fourth !== undefined) {
    if (fourth === "comments" && isId(third, "rec")) {
      const table = second;
      if (method === "GET") return api((ctx) => listComments(ctx, baseId, table, third));
      if (method === "POST") return api((ctx) => createComment(ctx, baseId, table, third));
      return undefined;
    }
    if (fourth === "uploadAttachment" && method === "POST" && isId(second, "rec")) {
      return api((ctx) => upload(ctx, baseId, second, third));
    }
  }
  return undefined;
}

/** How many records a record write names, for the request log. */
export function recordCountOf(method: string, segs: string[], query: URLSearchParams, raw: Buffer): number | undefined {
  if (segs.length === 3) return 1;
  if (method === "DELETE") return [...query.keys()].filter((k) => k === "records[]" || k === "records").length;
  try {
    const body = JSON.parse(raw.toString("utf8")) as { records?: unknown; fields?: unknown };
    if (Array.isArray(body.records)) return body.records.length;
    return body.fields === undefined ? undefined : 1;
  } catch {
    return undefined;
  }
}
