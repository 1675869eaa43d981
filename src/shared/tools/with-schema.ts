import type { BaseSchema } from "../airtable/schemas.ts";
import { SchemaLookupError } from "../schema-cache.ts";
import type { ToolContext } from "./define-tool.ts";

/**
 * Runs `use` (which resolves table, field and view names) against the cached schema. An unknown name may only
 * mean the cache is older than a change made in Airtable, so it is tried once more against a fresh schema before
 * the lookup error (listing the real names) reaches the agent.
 */
export async function withSchema<R>(
  ctx: Pick<ToolContext, "airtable" | "schemas" | "userId">,
  baseId: string,
  use: (schema: BaseSchema) => R,
  /** Which failures may come from a stale schema (and earn one retry against a fresh one). */
  mayBeStale: (error: unknown) => boolean = (error) => error instanceof SchemaLookupError,
): Promise<R> {
  const cached = await ctx.schemas.get(ctx.airtable, baseId, ctx.userId);
  try {
    return use(cached);
  } catch (error) {
    if (!mayBeStale(error)) throw error;
    const fresh = await ctx.schemas.get(ctx.airtable, baseId, ctx.userId, { fresh: true });
    return use(fresh);
  }
}
