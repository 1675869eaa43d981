import { AirtableValidationError } from "../airtable/errors.ts";
import type { AirtableTable, BaseSchema } from "../airtable/schemas.ts";
import { SchemaLookupError } from "../schema-cache.ts";
import type { ToolContext } from "./define-tool.ts";

/**
 * Runs `use` (which resolves table, field and view names, and may go on to the Airtable request built from them)
 * against the cached schema. An unknown name may only mean the cache is older than a change made in Airtable, so it
 * is tried once more against a fresh schema before the lookup error (listing the real names) reaches the agent.
 */
export async function withSchema<R>(
  ctx: Pick<ToolContext, "airtable" | "schemas" | "userId">,
  baseId: string,
  use: (schema: BaseSchema) => R | Promise<R>,
  /** Which failures may come from a stale schema (and earn one retry against a fresh one). */
  mayBeStale: (error: unknown) => boolean = (error) => error instanceof SchemaLookupError,
): Promise<R> {
  const cached = await ctx.schemas.get(ctx.airtable, baseId, ctx.userId);
  try {
    return await use(cached);
  } catch (error) {
    if (!mayBeStale(error)) throw error;
    const fresh = await ctx.schemas.get(ctx.airtable, baseId, ctx.userId, { fresh: true });
    return await use(fresh);
  }
}

/**
 * Whether Airtable refused a request built from the schema because a field id in it is not in the table (422
 * UNKNOWN_FIELD_NAME): reads send fields and sort fields by id, so a field deleted in Airtable since the schema was
 * cached answers so, naming an id the agent never gave. A `mayBeStale` for withSchema: against a fresh schema the
 * name the agent gave is unknown, and the agent is told so with the table's real field names.
 */
export function unknownFieldRefused(error: unknown): boolean {
  return error instanceof AirtableValidationError && error.type === "UNKNOWN_FIELD_NAME";
}

/**
 * The schema and table to read `records` with. Cells are keyed by field name (`by: "name"`, Airtable's default)
 * or id (`returnFieldsByFieldId`). When every key is a field of the cached `table`, that is the answer at no cost;
 * a key it lacks means a field was added or renamed in Airtable since the schema was cached, so the schema is read
 * fresh once and `table` is taken from it by id. `unknownKeys`: the keys that table still lacks (for `by: "id"`,
 * cells of another table: Airtable's get-record finds a record by id in any table of the base).
 */
export async function schemaForRecords(
  ctx: Pick<ToolContext, "airtable" | "schemas" | "userId">,
  baseId: string,
  cached: { schema: BaseSchema; table: AirtableTable },
  records: readonly { fields: Record<string, unknown> }[],
  by: "name" | "id",
): Promise<{ schema: BaseSchema; table: AirtableTable; unknownKeys: string[] }> {
  const unknown = (table: AirtableTable) => {
    const known = new Set(table.fields.map((f) => f[by]));
    return [...new Set(records.flatMap((r) => Object.keys(r.fields)))].filter((key) => !known.has(key));
  };
  if (unknown(cached.table).length === 0) return { ...cached, unknownKeys: [] };
  const schema = await ctx.schemas.get(ctx.airtable, baseId, ctx.userId, { fresh: true });
  const table = schema.tables.find((t) => t.id === cached.table.id) ?? cached.table;
  return { schema, table, unknownKeys: unknown(table) };
}
