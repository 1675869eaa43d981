import type { z } from "zod";
import type { AirtableClient } from "../airtable/client.ts";
import type { CredentialKind } from "../credential-kind.ts";
import type { Scope } from "../auth/scopes.ts";
import type { Logger } from "../logger.ts";
import type { OperationPlan } from "../operations/plan.ts";
import type { OperationReader } from "../operations/operation-store.ts";
import type { OperationRunner } from "../operations/operation-runner.ts";
import type { BaseAccess } from "../base-permissions.ts";
import type { SchemaCache } from "../schema-cache.ts";
import type { operationResultShape } from "./operation-result.ts";

/** What a tool handler gets besides its input: the caller's Airtable client, caches, and the MCP request's hooks. */
export interface ToolContext {
  /** Acts as the signed-in user; every request passes the shared limiter. */
  airtable: AirtableClient;
  /** The Airtable user id (`usr…`) behind `airtable`. */
  userId: string;
  /**
   * The Airtable scopes the user's stored Airtable sign-in was granted (Airtable's token answer, `scope`). Absent
   * when unknown (a personal access token in stdio mode, a test, or a token answer that named none): then no call
   * is refused for a scope up front, and Airtable stays the judge.
   */
  airtableScopes?: readonly string[];
  /**
   * How `airtable`'s credential was granted (credential-kind.ts): a refusal for a missing scope or base names its fix
   * (sign in again, or edit the personal access token). Absent: "oauth".
   */
  credential?: CredentialKind;
  schemas: SchemaCache;
  logger: Logger;
  /** The write operations' logs, read as their owner (get_operation, list_operations). */
  operations: OperationReader;
  /**
   * Set where `operations` live only in this process's memory (stdio without REDIS_URL whose state directory is held
   * by another copy or cannot be used: src/stdio/state-dir.ts): when the process started (ms since the epoch).
   * Writes of an earlier process are unknown to it, so list_operations and get_operation say so
   * (operationsNotKeptNote) rather than let an empty answer read as "nothing was written".
   */
  operationsKeptSince?: number;
  /** With operationsKeptSince: why the operations are in memory, and what to do (ends the note). */
  operationsInMemoryBecause?: string;
  /** Stops the caller's operations (cancel_operation); absent where no runner is wired (that tool then errors). */
  operationRunner?: Pick<OperationRunner, "cancel">;
  /** MAX_RECORDS_PER_OPERATION: the most records one write tool call may carry. */
  maxRecordsPerOperation: number;
  /** Aborted when the MCP client cancels the request or goes away. */
  signal?: AbortSignal;
  /**
   * The request is a 2026-07-28 one (the server serving it was built for that era). That revision makes closing the
   * request's stream a cancellation (basic/transports/streamable-http, "Cancellation"); the 2025 revisions say a
   * disconnect SHOULD NOT be taken as one.
   */
  modernEra?: boolean;
  /**
   * A write call's base as list bases last showed it to the user (`access` undefined: nothing remembered), read once
   * before the write's checks (known-level.ts) so the checks need not read it again. Absent elsewhere.
   */
  knownBaseAccess?: { baseId: string; access: BaseAccess | undefined };
  /** Present when the request carried a progressToken: sends notifications/progress. */
  sendProgress?(progress: number, total?: number, message?: string): Promise<void>;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

interface ToolBase<I extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** Every scope a token needs to call this tool (checked before the call reaches the SDK). */
  scopes: Scope[];
  /**
   * The tool answers from this server's own records and sends no request to Airtable (get_operation,
   * cancel_operation…), so its scopes' Airtable scopes are not required of the user's Airtable sign-in.
   */
  noAirtableRequest?: true;
  inputSchema: I;
  /**
   * Rewords the refusal of arguments that fail `inputSchema` (the MCP SDK validates them and joins the issues'
   * messages with ", "): given the arguments as sent and zod's issues, the issues to answer with. For mistakes zod
   * words poorly, e.g. a record of create_records given without its "fields" wrapper (unwrappedRecordIssues),
   * fieldsToMergeOn given as one name (fieldsToMergeOnIssues), maxRecords 0 (listingIssues).
   * Only rewords: a call that fails validation still fails.
   */
  rewordIssues?(args: unknown, issues: readonly InputIssue[]): readonly InputIssue[];
  annotations: ToolAnnotations;
}

/**
 * Runs the rewordIssues `rewords` one after the other, each given the issues the one before answered: a tool whose
 * arguments have several mistakes worth rewording (its records' shape and its fieldsToMergeOn; a listing's numbers, sort and fields) has each reworded.
 */
export function rewordInTurn(
  ...rewords: readonly ((args: unknown, issues: readonly InputIssue[]) => readonly InputIssue[])[]
) {
  return (args: unknown, issues: readonly InputIssue[]): readonly InputIssue[] =>
    rewords.reduce((current, reword) => reword(args, current), issues);
}

/**
 * One validation issue as zod's Standard Schema answers it: the message and where in the arguments (keys, indexes).
 * zod's issues also carry `code` (e.g. "invalid_type", "too_small", "unrecognized_keys"), for invalid_type the kind
 * `expected` ("array", "record", "object", "string", …) and, for unrecognized_keys, the `keys`; an issue a
 * rewordIssues makes leaves them out.
 */
export interface InputIssue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
  code?: string;
  expected?: string;
  keys?: readonly string[];
}

/** An issue's path as plain keys and indexes (zod may give a step as `{ key }`). */
export function issuePathKeys(issue: InputIssue): PropertyKey[] {
  return (issue.path ?? []).map((step) => (typeof step === "object" ? step.key : step));
}

/** Runs in the request. Output must match `outputSchema`; it is sent as structuredContent and as JSON text. */
export interface ReadToolDefinition<
  I extends z.ZodRawShape = z.ZodRawShape,
  O extends z.ZodRawShape = z.ZodRawShape,
> extends ToolBase<I> {
  kind: "read";
  outputSchema: O;
  handler(input: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>>;
}

/**
 * Becomes a queued operation (docs/architecture.md invariant 2). `plan` checks the input against the base's schema
 * (a wrong field name is refused here, before anything is queued) and says what to write; the runtime queues
 * it, waits a bounded time and answers with the operation's result (see operation-result.ts). `plan` may only read
 * (from Airtable and Redis) and must queue or change nothing: it runs under READ_CALL_DEADLINE_MS and is stopped,
 * its outcome dropped, when that passes or the request ends (read-call.ts).
 */
export interface WriteToolDefinition<I extends z.ZodRawShape = z.ZodRawShape> extends ToolBase<I> {
  kind: "write";
  outputSchema: typeof operationResultShape;
  plan(input: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<OperationPlan>;
}

/** One MCP tool. `kind` decides how a call runs: `read` tools run in the request, `write` tools are queued. */
export type ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> =
  ReadToolDefinition<I, O> | WriteToolDefinition<I>;

/** Any tool of the catalog, whatever its shapes (handler parameters are bivariant, so every tool fits). */
export type AnyToolDefinition = ReadToolDefinition | WriteToolDefinition;

/** Identity with inference: the handler's input and output types come from the schemas. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  def: ReadToolDefinition<I, O>,
): ReadToolDefinition<I, O> {
  return def;
}

/** Identity with inference for write tools. */
export function defineWriteTool<I extends z.ZodRawShape>(def: WriteToolDefinition<I>): WriteToolDefinition<I> {
  return def;
}

/** Annotations of every read tool: nothing changes, asking again is harmless, Airtable is outside our control. */
export const readOnlyAnnotations: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};
