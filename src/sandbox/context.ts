/** What a route handler gets and returns, and the shared checks (scopes, base access) every API route makes. */
import type { IncomingHttpHeaders } from "node:http";
import { badBody, invalidRequest, modelNotFound, notPermitted } from "./errors.ts";
import type { Iterators } from "./record-ops.ts";
import type { RecordedRequest } from "./recorder.ts";
import { atLeast, type Base, type PermissionLevel, type Store, type Token, type User } from "./store.ts";

export interface Principal {
  token: Token;
  user: User;
}

export interface Reply {
  status: number;
  /** JSON body, or a Buffer sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sandbox-wide state the handlers need beyond the store. */
export interface Env {
  store: Store;
  iterators: Iterators;
  /** The sandbox's origin, for attachment URLs. */
  url(): string;
  basesPageSize: number;
  /** Filling in attachments written by URL: the wait before it (ms) and whether outside URLs are downloaded. */
  attachmentFillIn: { delayMs: number; fetchUrls: boolean };
  /** Data changed after its request was answered (attachments filled in): saved when the sandbox keeps a file. */
  changed(): void;
}

export interface RequestCtx {
  env: Env;
  method: string;
  /** Decoded path segments. */
  segments: string[];
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  entry: RecordedRequest;
  /** Set for API routes once the bearer token was accepted. */
  principal?: Principal;
}

export function principalOf(ctx: RequestCtx): Principal {
  if (ctx.principal === undefined) throw new Error("route needs a principal");
  return ctx.principal;
}

/** The JSON body. Airtable wants `Content-Type: application/json`; anything else cannot be parsed. */
export function jsonBody(ctx: RequestCtx): Record<string, unknown> {
  const type = ctx.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw badBody();
  let parsed: unknown;
  try {
    parsed = JSON.parse(ctx.rawBody.toString("utf8"));
  } catch {
    throw badBody();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw invalidRequest();
  return parsed as Record<string, unknown>;
}

/** Refuses keys Airtable does not know (it validates request bodies strictly). */
export function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalidRequest();
}

export function requireScope(ctx: RequestCtx, scope: string): void {
  if (!principalOf(ctx).token.scopes.includes(scope)) throw modelNotFound();
}

/** The base, if the user can see it, and the permission level the operation needs. */
export function openBase(ctx: RequestCtx, baseId: string, needed: PermissionLevel): Base {
  return openBaseWithLevel(ctx, baseId, needed).base;
}

/** openBase, also telling the user's level (writes need it: only creators may add select options). */
export function openBaseWithLevel(
  ctx: RequestCtx,
  baseId: string,
  needed: PermissionLevel,
): { base: Base; level: PermissionLevel } {
  const { base, level } = ctx.env.store.baseFor(baseId, principalOf(ctx).token);
  if (!atLeast(level, needed)) throw notPermitted();
  return { base, level };
}

export function json(body: unknown, status = 200): Reply {
  return { status, body };
}

/** A matched route: what the pipeline needs before running it (rate limits, faults, recording) and the handler. */
export interface RouteMatch {
  /** "api" routes need a bearer token and count against rate limits; "oauth" and "content" do not. */
  kind: "api" | "oauth" | "content";
  baseId?: string;
  /** POST/PATCH/PUT/DELETE on record endpoints: the target of the drop faults. */
  recordWrite?: boolean;
  /**
   * A POST that only reads (listRecords). Other requests than GETs may change data, and a sandbox that keeps a file
   * saves it before answering them.
   */
  readOnly?: boolean;
  run(ctx: RequestCtx): Reply | Promise<Reply>;
}
