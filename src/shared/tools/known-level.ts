/**
 * Refuses, before a write is checked, planned or queued, a write the user's permission level on the base does not
 * allow, when that level is known without asking Airtable: from the user's last list bases answer (their own
 * list_bases call, or the one a worker made when Airtable refused a write with 403), remembered for
 * BASE_LIST_TTL_MS (schema-cache.ts). Airtable would refuse it anyway (403 INVALID_PERMISSIONS on the first write,
 * base-permissions.ts, levels from https://airtable.com/developers/web/api/list-bases and each endpoint's "User
 * role"); refusing here answers at once, as a tool error the agent can act on, and spends none of the base's 5 req/s
 * — not even the schema and linked-record reads the write's checks would make. A base the list does not show is
 * left to Airtable (a list older than a share would wrongly refuse it), as is every base when no list is
 * remembered: nothing is asked of Airtable here.
 */
import { accessRefusal, levelNeededFor, type BaseAccess } from "../base-permissions.ts";
import { formatCount } from "../format-count.ts";
import { airtableScopesOf } from "./airtable-scopes.ts";
import type { ToolContext, WriteToolDefinition } from "./define-tool.ts";
import { ToolInputError } from "./tool-input-error.ts";

/**
 * Answers what list bases last showed of `baseId` for the caller (one HMGET; undefined when nothing is remembered),
 * after refusing with ToolInputError a write `tool` whose Airtable scopes (airtable-scopes.ts) need a level above
 * it. The answer is what the write's checks need too (an editor's value may not create a select option,
 * check-values.ts), so they take it from here rather than reading it again (`ToolContext.knownBaseAccess`).
 */
export async function refuseBelowKnownLevel(
  tool: WriteToolDefinition,
  baseId: string,
  ctx: Pick<ToolContext, "schemas" | "userId">,
): Promise<BaseAccess | undefined> {
  const access = await ctx.schemas.baseAccess(ctx.userId, baseId);
  if (access?.level === undefined) return access;
  const refusal = accessRefusal(access, levelNeededFor(airtableScopesOf(tool)), tool.name);
  if (refusal === undefined) return access;
  const seconds = Math.max(1, Math.round((Date.now() - access.seenAt) / 1000));
  throw new ToolInputError(
    `${refusal} Nothing was queued (list_bases answered this ${formatCount(seconds)} s ago; Airtable would refuse the ` +
      "write with 403 INVALID_PERMISSIONS).",
  );
}
