/**
 * The Airtable sandbox: the only "Airtable" the project's tests talk to, over real HTTP. One origin serves the
 * Web API (api.airtable.com), the OAuth server (airtable.com/oauth2/v1) and uploads (content.airtable.com).
 *
 * It is strict on purpose: rate limits (rate-limit.ts), batch atomicity and limits (record-ops.ts), value
 * validation (field-values.ts), error shapes (errors.ts, records-routes.ts, meta-routes.ts), OAuth (oauth.ts).
 * It models Airtable's field model (fields/: links with inverse fields, lookups, rollups, counts, formulas and the
 * other computed types, attachments by URL), base permission levels and per-user field/table restrictions
 * (permissions.ts), the bases each token reaches (an OAuth authorization's bases picked on the consent page, a
 * personal access token's Access list: store.ts Token.bases), and the list options (cellFormat=string, returnFieldsByFieldId, recordMetadata, expiring
 * offsets).
 * Every request is recorded (recorder.ts); faults can be injected (latency, 5xx, dropped connections).
 *
 * Request pipeline, in order: body read → URL length (Airtable refuses URLs over 16,000 characters) → route
 * (unrouted: 404) → bearer token (401) → rate limits at arrival (429) → injected latency → injected 5xx → drop
 * before apply → handler → saved to the state file (when one is kept, for anything but a read) → drop after apply →
 * answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { ApiError, authRequired, notFound, rateLimited, typed } from "./errors.ts";
import { matchMetaRoutes } from "./meta-routes.ts";
import { OAuthServer, type OAuthClient } from "./oauth.ts";
import { readSnapshot, restoreSnapshot, snapshotOf, SnapshotWriter } from "./persistence.ts";
import { createRecords, DEFAULT_ITERATOR_TTL_MS, Iterators } from "./record-ops.ts";
import { matchRecordRoutes, recordCountOf, serveAttachment } from "./records-routes.ts";
import { RateLimits, tokenRateKey } from "./rate-limit.ts";
import { maxInWindow, nowMs, type RecordedRequest } from "./recorder.ts";
import { CellReader } from "./fields/reader.ts";
import { fillInAttachments } from "./fields/attachments.ts";
import { STORED_READ_ONLY_TYPES } from "./fields/registry.ts";
import { buildSetupTables } from "./schema.ts";
import type { Env, Reply, RequestCtx, RouteMatch } from "./context.ts";
import { newId } from "./ids.ts";
import { setCell } from "./cell-object.ts";
import {
  ALL_SCOPES,
  baseInfo,
  findField,
  findTable,
  Store,
  type Base,
  type BaseInfo,
  type Field,
  type PermissionLevel,
  type Restriction,
  type TableDef,
  type User,
} from "./store.ts";

export type { RecordedRequest } from "./recorder.ts";
export type { BaseInfo, FieldDef, PermissionLevel, TableDef } from "./store.ts";
export type { OAuthClient } from "./oauth.ts";
export { ALL_SCOPES } from "./store.ts";

export interface SandboxOptions {
  /** Default 0 (random). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 5. */
  perBaseRps?: number;
  /**
   * Default 50: requests per second of one OAuth access token, or of one user's personal access tokens together
   * (Airtable's rate limits page: "50 requests per second for all traffic using personal access tokens from a given
   * user"; rate-limit.ts tokenRateKey).
   */
  perTokenRps?: number;
  /** Default 30,000: how long a base (or token) answers 429 after it exceeded its rate. */
  penaltyMs?: number;
  /** OAuth access token lifetime, default 3,600. */
  accessTokenTtlSec?: number;
  /** Default 60 days. */
  refreshTokenTtlSec?: number;
  oauthClients?: { clientId: string; clientSecret?: string; redirectUris: string[] }[];
  /** Added to every response (the initial `faults.latencyMs`). */
  latencyMs?: number;
  /** Bases per page of GET /v0/meta/bases; Airtable's is 1,000. Lower it to exercise paging. */
  basesPageSize?: number;
  /**
   * How long a list-records offset stays valid after the last page of its listing was asked, in ms (default 5
   * minutes). Until then any offset of the listing can be asked again; Airtable's iterators also end after a time
   * without use ("Iteration may timeout due to client inactivity or server restarts"), and then the next page
   * answers 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE. Lower it (or call `expireListIterators()`) to exercise that.
   */
  listIteratorTtlMs?: number;
  /** Wait before attachments written by URL are filled in with size, type and thumbnails (ms, default 50). */
  attachmentFillInMs?: number;
  /**
   * Whether attachments written by an outside URL are downloaded to fill them in (default true). When false they
   * fail as unreachable URLs do on Airtable: they disappear from the cell. Files the sandbox holds always resolve.
   */
  fetchAttachmentUrls?: boolean;
  /**
   * A user (id or email) signed in at the authorize page when the request names none (no `sandbox_user` query
   * parameter or cookie): the embedded demo's automatic sign-in as its demo user. Default: nobody (400 page).
   */
  signInAs?: string;
  /**
   * Keep the sandbox's data in this JSON file (persistence.ts): loaded at start when it exists (then `restored`
   * is true and nothing needs seeding), and saved (flushed to the disk) before the answer to every request that
   * may change data leaves, so that a write the sandbox answered survives a crash, as on Airtable; setup calls and
   * attachment fill-ins are saved right after, and close() saves once more. Without it nothing touches the disk.
   */
  stateFile?: string;
}

export interface SandboxFaults {
  /** Delay before answering each request (after the rate-limit check, which is at arrival). */
  latencyMs: number;
  /**
   * Extra delay of the OAuth token endpoint (`POST /oauth2/v1/token`: code exchanges and refreshes), on top of
   * `latencyMs`, before the grant is processed: a slow or hanging token endpoint. A caller that gives up meanwhile
   * does not stop it (a refresh still rotates the tokens, as a server that got the request would).
   */
  tokenLatencyMs: number;
  /** 0..1: fraction of API requests answered 500/502/503 (random) without applying anything. */
  serverErrorRate: number;
  /** The next N record writes (POST/PATCH/PUT/DELETE on record endpoints) are applied, then the socket is destroyed. */
  dropAfterApply: number;
  /** The next N record writes: socket destroyed, nothing applied. */
  dropBeforeApply: number;
  /** The next N record writes are answered 503 without applying anything. */
  failBeforeApply: number;
  /**
   * The next N API requests (reads too) are answered 503 without applying anything, with `retryAfter` as their
   * `Retry-After` header when set (seconds or an HTTP-date, sent as given: RFC 9110 §10.2.3). Airtable's errors page
   * documents no Retry-After; an edge or proxy in front of it may send one.
   */
  unavailable: number;
  retryAfter: string | undefined;
  /** 0..1: fraction of record writes applied, then their socket destroyed (a lost answer, chosen at random). */
  dropAfterApplyRate: number;
}

export interface Sandbox {
  /** "http://127.0.0.1:PORT": the API, OAuth (airtable.com) and content host all live on this origin. */
  url: string;
  /** Whether the data came from `stateFile` (an earlier run's), rather than starting empty. */
  restored: boolean;
  close(): Promise<void>;
  // --- setup (direct, no HTTP, no rate limits) ---
  addUser(user: { id?: string; email: string; name?: string }): { id: string; email: string; name: string };
  /** The user with this id or email (as addUser made them), or undefined: a restored state file's users. */
  findUser(idOrEmail: string): { id: string; email: string; name: string } | undefined;
  /**
   * Default: all scopes, and every base the user can see; `bases` limits it to those (a personal access token's
   * "Access" list: other bases are not listed and answer 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND).
   */
  createPersonalAccessToken(userId: string, scopes?: string[], bases?: string[]): string;
  createBase(ownerUserId: string, def: { id?: string; name: string; tables: TableDef[] }): BaseInfo;
  /** Shares the base with a user at a permission level (default "edit"); "none" lists it without opening it. */
  grantAccess(baseId: string, userId: string, permissionLevel?: PermissionLevel): void;
  /**
   * Limits who can edit a field (Airtable's field editing permissions): the user's writes that set or clear it
   * answer 403 INVALID_PERMISSIONS; the rest of the base stays writable.
   */
  restrictField(baseId: string, tableIdOrName: string, fieldIdOrName: string, userId: string): void;
  /**
   * Limits record operations on a table for a user (Airtable's table permissions): creating and/or deleting
   * records, or ("update") editing any of its fields; refused requests answer 403 INVALID_PERMISSIONS.
   * Default: all three.
   */
  restrictTable(
    baseId: string,
    tableIdOrName: string,
    userId: string,
    operations?: ("create" | "update" | "delete")[],
  ): void;
  /** Lifts every field and table restriction of the base. */
  clearRestrictions(baseId: string): void;
  /**
   * Deletes a field with its cells, as a user does in Airtable's interface (the Web API cannot delete fields). Only
   * fields nothing else uses: the primary field, a link, and a field another field or a view refers to are refused
   * (what Airtable does to those is not modelled).
   */
  deleteField(baseId: string, tableIdOrName: string, fieldIdOrName: string): void;
  registerOAuthClient(client: OAuthClient): void;
  /**
   * What the user does on Airtable's integrations page: the bases the OAuth integration `clientId` reaches for them
   * (`"all"`: every base they can see). Takes effect at once for the tokens already issued (a base removed answers 403
   * INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND from the next request on) and for those their refresh tokens will give.
   * At sign-in the bases come from the `sandbox_bases` parameter or cookie of the authorize request (oauth.ts).
   */
  setIntegrationBases(userId: string, clientId: string, bases: string[] | "all"): void;
  /**
   * The user revoking the OAuth integration `clientId` on Airtable's integrations page: its refresh tokens for them
   * are refused with `invalid_grant` from now on and its access tokens answer 401 AUTHENTICATION_REQUIRED (OAuthServer
   * `revoke`). A new sign-in works as before.
   */
  revokeIntegration(userId: string, clientId: string): { refreshTokens: number; accessTokens: number };
  /** Cells keyed by field name. */
  listRecordsDirect(
    baseId: string,
    tableIdOrName: string,
  ): { id: string; createdTime: string; fields: Record<string, unknown> }[];
  // --- observability ---
  readonly requests: RecordedRequest[];
  clearRequests(): void;
  /** Max over all sliding windows (default 1,000 ms) of the requests (accepted or not) arriving in it. */
  maxRequestsInWindow(opts: { baseId?: string; token?: string; windowMs?: number }): number;
  count429(opts?: { baseId?: string }): number;
  /** Successful refresh_token grants. */
  refreshCount(): number;
  /** Successful authorization_code grants. */
  tokenExchangeCount(): number;
  /** Every access token, personal access token and refresh token the sandbox ever issued (secrets to never log). */
  issuedSecrets(): string[];
  // --- control ---
  /** Starts the 429 penalty now (default penaltyMs); a personal access token's penalty holds all its user's PATs. */
  penalize(target: { baseId?: string; token?: string }, ms?: number): void;
  /** Expires the current OAuth access tokens (of one user, or all): they answer 401 from now on. */
  expireAccessTokens(userId?: string): void;
  /**
   * The user deleting a personal access token on https://airtable.com/create/tokens: it answers 401
   * AUTHENTICATION_REQUIRED from the next request on. Throws for a token that is not a personal access token.
   */
  deletePersonalAccessToken(token: string): void;
  /** Expires every list-records offset handed out so far (their next page: LIST_RECORDS_ITERATOR_NOT_AVAILABLE). */
  expireListIterators(): void;
  /** Merges into the current faults. */
  setFaults(faults: Partial<SandboxFaults>): void;
  faults: SandboxFaults;
}

/** Airtable's edge counts the whole URL; the sandbox's origin is shorter than https://api.airtable.com, so it
 * measures as if it were Airtable's, to never accept a URL Airtable would refuse. */
const AIRTABLE_ORIGIN = "https://api.airtable.com";
const MAX_URL_LENGTH = 16_000;
/** Request bodies beyond this are refused outright (uploads are ≤ 5 MB decoded, ~6.7 MB in base64). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(req: IncomingMessage): Promise<Buffer | "too_large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooLarge ? "too_large" : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .filter((s) => s !== "")
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const store = new Store();
  const requests: RecordedRequest[] = [];
  const penaltyMs = opts.penaltyMs ?? 30_000;
  const limits = new RateLimits(opts.perBaseRps ?? 5, opts.perTokenRps ?? 50, penaltyMs);
  const oauth = new OAuthServer(store, opts.accessTokenTtlSec ?? 3600, opts.refreshTokenTtlSec ?? 60 * 24 * 3600);
  for (const client of opts.oauthClients ?? []) oauth.register(client);
  oauth.signInAs = opts.signInAs;
  const stateFile = opts.stateFile;
  // Created once the origin is known (attachment URLs in the file carry it).
  let writer: SnapshotWriter | undefined;
  const couldNotSave = (error: unknown): void =>
    console.error(`sandbox: could not save its data to ${stateFile}`, error);
  /** A change outside a request's answer (setup calls, fill-ins): saved in the background, coalesced. */
  const changed = (): void => void writer?.save().catch(couldNotSave);
  const faults: SandboxFaults = {
    latencyMs: opts.latencyMs ?? 0,
    tokenLatencyMs: 0,
    serverErrorRate: 0,
    dropAfterApply: 0,
    failBeforeApply: 0,
    unavailable: 0,
    retryAfter: undefined,
    dropAfterApplyRate: 0,
    dropBeforeApply: 0,
  };
  let origin = "";
  const env: Env = {
    store,
    iterators: new Iterators(opts.listIteratorTtlMs ?? DEFAULT_ITERATOR_TTL_MS),
    url: () => origin,
    basesPageSize: opts.basesPageSize ?? 1000,
    attachmentFillIn: { delayMs: opts.attachmentFillInMs ?? 50, fetchUrls: opts.fetchAttachmentUrls ?? true },
    changed,
  };
  const baseOf = (baseId: string): Base => {
    const base = store.bases.get(baseId);
    if (base === undefined) throw new Error(`unknown base ${baseId}`);
    return base;
  };

  function route(method: string, segs: string[]): RouteMatch | undefined {
    if (segs[0] === "v0") {
      if (segs[1] === "meta") return matchMetaRoutes(method, segs.slice(2));
      return matchRecordRoutes(method, segs.slice(1));
    }
    if (segs[0] === "oauth2") return oauth.match(method, segs);
    if (segs[0] === "attachments" && segs.length === 3 && method === "GET") {
      const attId = segs[1] as string;
      return { kind: "content", run: () => serveAttachment(store.bases.values(), attId) };
    }
    return undefined;
  }

  function send(res: ServerResponse, entry: RecordedRequest, reply: Reply): void {
    entry.status = reply.status;
    const headers: Record<string, string> = { ...reply.headers };
    let payload: Buffer | undefined;
    if (Buffer.isBuffer(reply.body)) payload = reply.body;
    else if (reply.body !== undefined) {
      payload = Buffer.from(JSON.stringify(reply.body));
      headers["content-type"] ??= "application/json; charset=utf-8";
    }
    if (payload !== undefined) headers["content-length"] = String(payload.length);
    res.on("finish", () => (entry.endTime = nowMs()));
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  function drop(req: IncomingMessage, entry: RecordedRequest): void {
    entry.status = 0;
    entry.endTime = nowMs();
    req.socket.destroy();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = nowMs();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const url = new URL(rawUrl, "http://sandbox.invalid");
    const entry: RecordedRequest = { time, method, path: url.pathname, status: 0 };
    requests.push(entry);
    const reply = async (r: Reply): Promise<void> => {
      if (faults.latencyMs > 0) await sleep(faults.latencyMs);
      send(res, entry, r);
    };

    const body = await readBody(req);
    if (body === "too_large") return reply(typed(413, "REQUEST_TOO_LARGE", "Request body is too large").toReply());
    const segs = splitPath(url.pathname);
    const match = segs === undefined ? undefined : route(method, segs);
    if (match?.baseId !== undefined) entry.baseId = match.baseId;
    // Refused at Airtable's edge, before authentication and rate limiting.
    // "Airtable only accepts requests with a URL shorter than 16,000 characters" (list records page).
    if (AIRTABLE_ORIGIN.length + rawUrl.length >= MAX_URL_LENGTH) {
      return reply(
        typed(
          414,
          "URL_TOO_LONG",
          `The request URL is ${MAX_URL_LENGTH} characters or longer; use POST listRecords`,
        ).toReply(),
      );
    }
    if (segs === undefined || match === undefined) return reply(notFound().toReply());

    const ctx: RequestCtx = {
      env,
      method,
      segments: segs,
      query: url.searchParams,
      headers: req.headers,
      rawBody: body,
      entry,
    };
    if (match.kind === "api") {
      const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
      const token = auth === null ? undefined : store.tokens.get(auth[1] as string);
      const user = token === undefined ? undefined : store.users.get(token.userId);
      if (
        token === undefined ||
        user === undefined ||
        (token.expiresAt !== undefined && token.expiresAt <= Date.now())
      ) {
        return reply(authRequired().toReply());
      }
      entry.token = token.value;
      entry.userId = user.id;
      ctx.principal = { token, user };
      if (match.recordWrite === true) {
        const count = recordCountOf(method, segs.slice(1), url.searchParams, body);
        if (count !== undefined) entry.recordCount = count;
      }
      if (limits.check(time, tokenRateKey(token), match.baseId).limited) {
        entry.rateLimited = true;
        return reply(rateLimited().toReply());
      }
    }

    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (match.kind === "oauth" && segs[2] === "token" && faults.tokenLatencyMs > 0) await sleep(faults.tokenLatencyMs);
    if (match.kind === "api" && faults.serverErrorRate > 0 && Math.random() < faults.serverErrorRate) {
      const status = [500, 502, 503][Math.floor(Math.random() * 3)] as number;
      return send(res, entry, serverError(status));
    }
    if (match.kind === "api" && faults.unavailable > 0) {
      faults.unavailable--;
      const reply = serverError(503);
      if (faults.retryAfter !== undefined) reply.headers = { ...reply.headers, "retry-after": faults.retryAfter };
      return send(res, entry, reply);
    }
    if (match.recordWrite === true && faults.failBeforeApply > 0) {
      faults.failBeforeApply--;
      return send(res, entry, serverError(503));
    }
    const dropAfter =
      match.recordWrite === true &&
      (faults.dropAfterApply > 0 || (faults.dropAfterApplyRate > 0 && Math.random() < faults.dropAfterApplyRate));
    if (match.recordWrite === true && faults.dropBeforeApply > 0) {
      faults.dropBeforeApply--;
      return drop(req, entry);
    }
    if (dropAfter && faults.dropAfterApply > 0) faults.dropAfterApply--;
    let result: Reply;
    try {
      result = await match.run(ctx);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result = error.toReply();
    }
    // What was applied is on disk before its answer leaves (or is dropped): a crash after the answer loses nothing
    // the client was told was written. A file that cannot be written fails the request instead of answering it.
    if (writer !== undefined && method !== "GET" && match.readOnly !== true) {
      try {
        await writer.save();
      } catch (error) {
        couldNotSave(error);
        result = {
          status: 500,
          body: {
            error: {
              type: "SERVER_ERROR",
              message:
                `The sandbox could not save its data file ${stateFile} (${error instanceof Error ? error.message : String(error)}): ` +
                "this change may be lost at its next start. Check the disk space and the permissions of its directory.",
            },
          },
        };
      }
    }
    if (dropAfter) return drop(req, entry);
    send(res, entry, result);
  }

  // Node's default 16 KiB header limit would cut long URLs before the sandbox can answer them Airtable's way.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error("sandbox: unexpected error", error);
      // It may have applied part of a change before failing.
      changed();
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        res.end(JSON.stringify({ error: { type: "SERVER_ERROR", message: "Sandbox error" } }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address}:${address.port}`;
  const snapshot = stateFile === undefined ? undefined : readSnapshot(stateFile);
  if (snapshot !== undefined) oauth.restoreRefreshGrants(restoreSnapshot(store, snapshot, origin));
  if (stateFile !== undefined)
    writer = new SnapshotWriter(stateFile, () => snapshotOf(store, oauth.refreshGrants(), origin));

  const sandbox: Sandbox = {
    url: origin,
    restored: snapshot !== undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close((error) => {
          // Closed before (ERR_SERVER_NOT_RUNNING): its data was saved then, and a newer sandbox may own the file.
          if (error !== undefined || writer === undefined) return resolve();
          void writer.save().catch(couldNotSave).then(resolve);
        });
      }),
    addUser(user) {
      const created: User = {
        id: user.id ?? newId("usr"),
        email: user.email,
        name: user.name ?? (user.email.split("@")[0] as string),
      };
      if (store.users.has(created.id) || store.userByIdOrEmail(created.email) !== undefined) {
        throw new Error(`user ${created.id} / ${created.email} already exists`);
      }
      store.users.set(created.id, created);
      changed();
      return { ...created };
    },
    findUser(idOrEmail) {
      const user = store.userByIdOrEmail(idOrEmail);
      return user === undefined ? undefined : { id: user.id, email: user.email, name: user.name };
    },
    createPersonalAccessToken(userId, scopes = [...ALL_SCOPES], bases) {
      if (!store.users.has(userId)) throw new Error(`unknown user ${userId}`);
      const value = `${newId("rec").replace(/^rec/, "pat")}.${randomBytes(32).toString("hex")}`;
      store.tokens.set(value, {
        value,
        userId,
        scopes: [...scopes],
        kind: "pat",
        ...(bases !== undefined && { bases: [...bases] }),
      });
      changed();
      return value;
    },
    createBase(ownerUserId, def) {
      if (!store.users.has(ownerUserId)) throw new Error(`unknown user ${ownerUserId}`);
      const base: Base = {
        id: def.id ?? newId("app"),
        name: def.name,
        tables: [],
        access: new Map(),
        restrictions: [],
      };
      base.access.set(ownerUserId, "create");
      base.tables = buildSetupTables(def.tables.map(({ records: _records, ...rest }) => rest));
      // Seeds go in table order, as the owner would write them; links may name records of earlier tables.
      const attachments = def.tables.flatMap((tableDef, i) => {
        const records = tableDef.records ?? [];
        if (records.length === 0) return [];
        const table = base.tables[i] as Base["tables"][number];
        const scope = {
          reader: new CellReader(base, store.users),
          base,
          table,
          userId: ownerUserId,
          level: "create" as const,
          typecast: tableDef.typecast === true,
        };
        // AI text and sync sources are read-only through the API (Airtable AI and Airtable's sync write them): a
        // seed's cells of theirs are set after the create.
        const split = records.map((fields) => splitStoredReadOnly(table, fields));
        const result = createRecords(
          scope,
          split.map(({ fields }) => ({ fields })),
        );
        result.records.forEach((record, at) => {
          for (const [fieldId, cell] of (split[at] as (typeof split)[number]).readOnly) record.cells.set(fieldId, cell);
        });
        return result.attachments;
      });
      store.bases.set(base.id, base);
      void fillInAttachments(base, attachments, { origin, ...env.attachmentFillIn }).then(changed);
      changed();
      return baseInfo(base);
    },
    grantAccess(baseId, userId, permissionLevel = "edit") {
      const base = store.bases.get(baseId);
      if (base === undefined || !store.users.has(userId)) throw new Error(`unknown base ${baseId} or user ${userId}`);
      base.access.set(userId, permissionLevel);
      changed();
    },
    restrictField(baseId, tableIdOrName, fieldIdOrName, userId) {
      const base = baseOf(baseId);
      const table = findTable(base, tableIdOrName);
      const field = findField(table, fieldIdOrName);
      if (field === undefined) throw new Error(`unknown field ${fieldIdOrName}`);
      base.restrictions.push({ userId, tableId: table.id, fieldId: field.id, operations: ["update"] });
    },
    restrictTable(baseId, tableIdOrName, userId, operations = ["create", "update", "delete"]) {
      const base = baseOf(baseId);
      const table = findTable(base, tableIdOrName);
      const restriction: Restriction = { userId, tableId: table.id, operations: [...operations] };
      base.restrictions.push(restriction);
    },
    clearRestrictions(baseId) {
      baseOf(baseId).restrictions = [];
    },
    deleteField(baseId, tableIdOrName, fieldIdOrName) {
      const base = baseOf(baseId);
      const table = findTable(base, tableIdOrName);
      const field = findField(table, fieldIdOrName);
      if (field === undefined) throw new Error(`unknown field ${fieldIdOrName}`);
      const others = base.tables.flatMap((t) => t.fields).filter((f) => f !== field);
      const used =
        others.some((f) => JSON.stringify([f.options, f.compute]).includes(field.id)) ||
        table.views.some((v) => v.sort?.some((s) => s.fieldId === field.id) || v.filter?.includes(field.name));
      if (field.id === table.primaryFieldId || field.type === "multipleRecordLinks" || used) {
        throw new Error(`the sandbox does not model deleting ${field.name}: it is primary, a link, or in use`);
      }
      table.fields = table.fields.filter((f) => f !== field);
      for (const view of table.views) {
        if (view.hiddenFieldIds !== undefined)
          view.hiddenFieldIds = view.hiddenFieldIds.filter((id) => id !== field.id);
      }
      for (const record of table.records) {
        record.cells.delete(field.id);
        record.modified.delete(field.id);
        record.modifiedBy.delete(field.id);
      }
      base.restrictions = base.restrictions.filter((r) => r.fieldId !== field.id);
      changed();
    },
    registerOAuthClient: (client) => oauth.register(client),
    setIntegrationBases(userId, clientId, bases) {
      oauth.setBases(userId, clientId, bases === "all" ? undefined : bases);
      changed();
    },
    revokeIntegration(userId, clientId) {
      const ended = oauth.revoke(userId, clientId);
      changed();
      return ended;
    },
    listRecordsDirect(baseId, tableIdOrName) {
      const base = baseOf(baseId);
      const table = findTable(base, tableIdOrName);
      const reader = new CellReader(base, store.users);
      return table.records.map((r) => {
        const fields: Record<string, unknown> = {};
        for (const f of table.fields) {
          const v = reader.read(table, f, r);
          if (v !== undefined) setCell(fields, f.name, structuredClone(v));
        }
        return { id: r.id, createdTime: r.createdTime, fields };
      });
    },
    requests,
    clearRequests: () => void requests.splice(0, requests.length),
    maxRequestsInWindow({ baseId, token, windowMs = 1000 }) {
      const times = requests
        .filter((r) => (baseId === undefined || r.baseId === baseId) && (token === undefined || r.token === token))
        .map((r) => r.time);
      return maxInWindow(times, windowMs);
    },
    count429: ({ baseId } = {}) =>
      requests.filter((r) => r.status === 429 && (baseId === undefined || r.baseId === baseId)).length,
    refreshCount: () => oauth.refreshCount,
    tokenExchangeCount: () => oauth.exchangeCount,
    issuedSecrets: () => [...store.tokens.keys(), ...oauth.issuedRefreshTokens()],
    penalize(target, ms) {
      const token = target.token === undefined ? undefined : store.tokens.get(target.token);
      if (target.token !== undefined && token === undefined) throw new Error("penalize: unknown token");
      const key = {
        ...(target.baseId !== undefined && { baseId: target.baseId }),
        ...(token !== undefined && { token: tokenRateKey(token) }),
      };
      limits.penalize(key, nowMs(), ms ?? penaltyMs);
    },
    expireAccessTokens(userId) {
      for (const token of store.tokens.values()) {
        if (token.kind === "oauth" && (userId === undefined || token.userId === userId))
          token.expiresAt = Date.now() - 1;
      }
    },
    deletePersonalAccessToken(value) {
      const token = store.tokens.get(value);
      if (token?.kind !== "pat") throw new Error("deletePersonalAccessToken: not a personal access token");
      token.expiresAt = Date.now() - 1;
    },
    expireListIterators: () => env.iterators.expireAll(),
    setFaults: (partial) => void Object.assign(faults, partial),
    faults,
  };
  return sandbox;
}

/**
 * Takes a seed record's read-only stored cells out of it (STORED_READ_ONLY_TYPES). AI text: a string is generated
 * text, an object gives the cell as the field model shows it (`{state: "empty" | "loading" | "generated", value,
 * isStale}` or `{state: "error", errorType, …}`). Sync source: the name of one of the field's sources (its choices),
 * read back as that string (field model, Sync source: "Cell format V1 (read only) string: The sync source name").
 */
function splitStoredReadOnly(
  table: Base["tables"][number],
  fields: Record<string, unknown>,
): { fields: Record<string, unknown>; readOnly: [string, unknown][] } {
  const rest: Record<string, unknown> = {};
  const readOnly: [string, unknown][] = [];
  for (const [key, value] of Object.entries(fields)) {
    const field = findField(table, key);
    if (field === undefined || !STORED_READ_ONLY_TYPES.has(field.type)) {
      rest[key] = value;
      continue;
    }
    if (value === null || value === undefined) continue;
    readOnly.push([field.id, field.type === "aiText" ? aiTextCell(field.name, value) : syncSourceCell(field, value)]);
  }
  return { fields: rest, readOnly };
}

function syncSourceCell(field: Field, value: unknown): string {
  const choices = (field.options?.choices as { name: string }[] | undefined) ?? [];
  if (typeof value !== "string" || !choices.some((c) => c.name === value)) {
    throw new Error(
      `seed sync source for ${field.name}: one of its choices (${choices.map((c) => c.name).join(", ")})`,
    );
  }
  return value;
}

const AI_TEXT_STATES = ["empty", "loading", "generated", "error"];

function aiTextCell(fieldName: string, value: unknown): Record<string, unknown> {
  if (typeof value === "string") return { state: "generated", isStale: false, value };
  const cell = value as Record<string, unknown>;
  const state = cell.state;
  if (typeof cell !== "object" || typeof state !== "string" || !AI_TEXT_STATES.includes(state)) {
    throw new Error(`seed AI text for ${fieldName}: a string or {state: ${AI_TEXT_STATES.join(" | ")}, …}`);
  }
  const out: Record<string, unknown> = { state };
  if (state === "error") out.errorType = typeof cell.errorType === "string" ? cell.errorType : "generationFailed";
  out.isStale = cell.isStale === true;
  out.value = typeof cell.value === "string" ? cell.value : null;
  return out;
}

function serverError(status: number): Reply {
  if (status === 500) return { status, body: { error: { type: "SERVER_ERROR", message: "Server error" } } };
  // A proxy's answer: not JSON, as Airtable's edge sends for 502/503.
  const html = `<html><head><title>${status}</title></head><body><h1>${status}</h1></body></html>`;
  return { status, body: Buffer.from(html), headers: { "content-type": "text/html" } };
}
