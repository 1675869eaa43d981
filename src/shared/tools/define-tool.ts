import type { z } from "zod";
import type { AirtableClient } from "../airtable/client.ts";
import type { Scope } from "../auth/scopes.ts";
import type { Logger } from "../logger.ts";
import type { SchemaCache } from "../schema-cache.ts";

/** What a tool handler gets besides its input: the caller's Airtable client, caches, and the MCP request's hooks. */
export interface ToolContext {
  /** Acts as the signed-in user; every request passes the shared limiter. */
  airtable: AirtableClient;
  /** The Airtable user id (`usr…`) behind `airtable`. */
  userId: string;
  schemas: SchemaCache;
  logger: Logger;
  /** Aborted when the MCP client cancels the request or goes away. */
  signal?: AbortSignal;
  /** Present when the request carried a progressToken: sends notifications/progress. */
  sendProgress?(progress: number, total?: number, message?: string): Promise<void>;
}

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/**
 * One MCP tool. `kind` decides how a call runs: `read` tools run in the request, `write` tools become queued
 * operations (see register-tools.ts). Output must match `outputSchema`; it is sent as structuredContent and as
 * JSON text.
 */
export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  kind: "read" | "write";
  /** Every scope a token needs to call this tool (checked before the call reaches the SDK). */
  scopes: Scope[];
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  handler(input: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>>;
}

/** Any tool of the catalog, whatever its shapes (handler parameters are bivariant, so every tool fits). */
export type AnyToolDefinition = ToolDefinition<z.ZodRawShape, z.ZodRawShape>;

/** Identity with inference: the handler's input and output types come from the schemas. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(
  def: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return def;
}

/** Annotations of every read tool: nothing changes, asking again is harmless, Airtable is outside our control. */
export const readOnlyAnnotations: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};
