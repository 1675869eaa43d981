import { randomUUID } from "node:crypto";
import type { CallToolResult } from "@modelcontextprotocol/server";
import {
  AirtableError,
  AirtableNetworkError,
  AirtableNotFoundError,
  AirtablePermissionError,
  AirtableProtocolError,
  AirtableRateLimitError,
  AirtableServerError,
  AirtableValidationError,
} from "../airtable/errors.ts";
import type { AirtableTable } from "../airtable/schemas.ts";
import { scopeCatalog } from "../auth/scopes.ts";
import { accessRefusal, levelNeededFor, lookUpBaseAccess, roleOf } from "../base-permissions.ts";
import type { Logger } from "../logger.ts";
import {
  credentialWords,
  missingScopeFix,
  REFUSED_PERSONAL_ACCESS_TOKEN,
  type CredentialKind,
} from "../credential-kind.ts";
import { describeMisconfigurationForAgent, misconfigurationOf } from "../misconfiguration.ts";
import { isRedisUnavailable, logRedisRefusal, TEMPORARILY_UNAVAILABLE } from "../redis-unavailable.ts";
import { SubmitOutcomeUnknownError } from "../operations/operation-runner.ts";
import { UnreadableOperationLogError } from "../operations/unreadable-log.ts";
import { SchemaLookupError } from "../schema-cache.ts";
import { closestNames } from "../closest-name.ts";
import { airtableAccessLost } from "../tokens/access-lost.ts";
import { AirtableTokenUnavailableError } from "../tokens/airtable-token-provider.ts";
import type { AnyToolDefinition, ToolContext } from "./define-tool.ts";
import { bareWords, type BareWord } from "./formula-mistakes.ts";
import { ReadCallCancelledError, ReadCallDeadlineError } from "./read-call.ts";
import { ToolInputError } from "./tool-input-error.ts";

/** What to do about an Airtable validation error, by Airtable's error type. */
const validationHints: Record<string, string> = {
  UNKNOWN_FIELD_NAME: "Check the field names with describe_table.",
  INVALID_FILTER_BY_FORMULA:
    'Fix the formula: field names go in {braces}, text in "double quotes", e.g. AND({Status} = "Done", {Score} > 3).',
  // "Iteration may timeout due to client inactivity or server restarts" (list records); no single use is documented.
  LIST_RECORDS_ITERATOR_NOT_AVAILABLE:
    "The cursor has expired: Airtable ends a listing that is not continued for a while. Call again without cursor to start over.",
  INVALID_OFFSET_VALUE: "The cursor is not valid anymore. Call again without cursor to start over.",
  VIEW_NAME_NOT_FOUND: "Check the view names with describe_table.",
  VIEW_ID_NOT_FOUND: "Check the view ids with describe_table.",
  INVALID_REQUEST_UNKNOWN: "Check the arguments against the tool's input schema.",
};

/** Scopes in words, for permission messages: "records:read (Airtable data.records:read)". */
function scopeWords(tool: AnyToolDefinition): string {
  return tool.scopes.map((s) => `${s} (Airtable ${scopeCatalog[s].airtable.join(", ")})`).join(", ");
}

/** The message an agent can act on; never a stack trace. Unknown errors get a reference id, logged with details. */
export function describeToolError(
  error: unknown,
  tool: AnyToolDefinition,
  logger?: Logger,
  credential?: CredentialKind,
): string {
  if (error instanceof ToolInputError || error instanceof SchemaLookupError) return error.message;
  // A read stopped at its deadline (what Airtable did, what to do) or by its request's end.
  if (error instanceof ReadCallDeadlineError || error instanceof ReadCallCancelledError) return error.message;
  const lost = airtableAccessLost(error);
  if (lost?.kind === "sign_in_ended") {
    return "Your Airtable sign-in has ended (Airtable no longer accepts it). Sign in again: your MCP client is asked to on its next request.";
  }
  if (lost?.kind === "token_refused") {
    // stdio's token has no sign-in to repeat: it is replaced on Airtable's page and in the client's configuration.
    if (credential === "personal access token") return `${REFUSED_PERSONAL_ACCESS_TOKEN} Then retry.`;
    return "Airtable rejected the sign-in (it may have been revoked or expired). Sign in to Airtable again, then retry.";
  }
  if (error instanceof AirtablePermissionError || (error instanceof AirtableNotFoundError && !isRecordLookup(error))) {
    const who = credentialWords(credential);
    return (
      `The base or table does not exist, or ${who.long} has no access to it (Airtable: ${error.type}). ` +
      `Check baseId with list_bases and tableId with list_tables. If the base is listed, ${who.short} may lack ` +
      `the access ${tool.name} needs: ${scopeWords(tool)}; ${missingScopeFix(credential, "it")}, or ask the base's ` +
      "owner to share it."
    );
  }
  if (error instanceof AirtableNotFoundError) {
    return `Airtable found no such record (${error.type}: ${error.message}). Check recordId with list_records or search_records.`;
  }
  if (error instanceof AirtableValidationError) {
    const hint = validationHints[error.type] ?? "Check the arguments and try again.";
    return `Airtable refused the request: ${error.message} (${error.type}). ${hint}`;
  }
  if (error instanceof AirtableTokenUnavailableError) {
    return "Your Airtable sign-in could not be refreshed right now (Airtable did not answer). Nothing was changed; try again in a minute.";
  }
  if (error instanceof AirtableRateLimitError) {
    return "Airtable is rate limiting this base or account (5 requests per second per base). Nothing was changed; try again in about 30 seconds.";
  }
  if (error instanceof AirtableServerError && error.retryAt !== undefined) {
    // Airtable's 503 said when it expects to be back (Retry-After), further off than a call waits: say it, so the
    // agent neither retries into the same 503 nor gives up.
    const seconds = Math.max(1, Math.ceil((error.retryAt - Date.now()) / 1000));
    return (
      `Airtable is unavailable right now (HTTP ${error.status} ${error.type}) and asked to be retried in ${seconds} s, ` +
      `at ${new Date(error.retryAt).toISOString()} (its Retry-After header). Nothing was sent again. Try again ` +
      `after that time, not before.`
    );
  }
  if (error instanceof AirtableServerError || error instanceof AirtableNetworkError) {
    return `Airtable is not answering properly right now (${error.type}). Try again in a minute.`;
  }
  if (error instanceof AirtableProtocolError || error instanceof AirtableError) {
    return `Airtable sent an answer this server could not use (${error.type}). Try again; if it persists, report it.`;
  }
  if (error instanceof SubmitOutcomeUnknownError) {
    // Before the Redis check: its cause is a Redis error, and "nothing was changed" may be false here.
    const id = error.operationId;
    return (
      `The connection to Redis broke while this write was being queued, so it may or may not run (operation ${id}). ` +
      `Do not call ${tool.name} again yet: it could write the same records twice. In a minute, call get_operation ` +
      `with operationId "${id}": it says what the write did, or that nothing was written (then call again).`
    );
  }
  if (error instanceof UnreadableOperationLogError) {
    // An operation's log this version cannot read (a newer version's event after a downgrade, a damaged entry): the
    // agent is told which operation and what to do; the operator gets what failed to parse.
    const { operationId, reason } = error.operation;
    logger?.warn({ tool: tool.name, operationId, reason }, "an operation's log cannot be read by this version");
    return error.message;
  }
  if (isRedisUnavailable(error)) {
    logRedisRefusal(logger, error);
    return TEMPORARILY_UNAVAILABLE;
  }
  const misconfigured = misconfigurationOf(error);
  if (misconfigured !== undefined) {
    logger?.error(
      { err: error, tool: tool.name, setting: misconfigured.setting },
      `tool call failed: this server is misconfigured (${misconfigured.setting})`,
    );
    return describeMisconfigurationForAgent(misconfigured);
  }
  const reference = randomUUID();
  logger?.error({ err: error, tool: tool.name, reference }, "tool failed unexpectedly");
  return `Internal error while running ${tool.name} (reference ${reference}). Try again; if it persists, report the reference.`;
}

/**
 * Why Airtable answered 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND — which it gives alike for a base that does not
 * exist, one not shared with this sign-in (not picked on Airtable's consent page), one listed with permission level
 * `none`, a missing table and a missing scope (https://airtable.com/developers/web/api/errors: 403 "Accessing a
 * protected resource with API credentials that don't have access to that resource") — found by asking list bases
 * (one request per 1,000 bases listed, only after such a refusal; remembered for the write tools' check). Answers the sentence for the
 * agent, or undefined for any other error, or when list bases cannot be read (describeToolError's general answer
 * then stands). `nothingQueued`: a write tool refused before its operation was handed to the runner (its checks'
 * reads were refused), which the answer then says, as the write tools' other refusals do ("Nothing was queued"):
 * an agent must not take the refusal of a write for a write that may have happened.
 */
export async function explainNoAccess(
  error: unknown,
  tool: AnyToolDefinition,
  ctx: Pick<ToolContext, "airtable" | "schemas" | "userId" | "logger" | "credential">,
  opts: { nothingQueued?: boolean } = {},
): Promise<string | undefined> {
  if (!(error instanceof AirtablePermissionError) || error.type !== "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND") {
    return undefined;
  }
  const baseId = error.baseId;
  if (baseId === undefined) return undefined;
  let found: Awaited<ReturnType<typeof lookUpBaseAccess>>;
  try {
    found = await lookUpBaseAccess(ctx.airtable, baseId);
  } catch (lookupError) {
    ctx.logger.debug({ err: lookupError }, "list bases failed while explaining a 403");
    return undefined;
  }
  await ctx.schemas.rememberBases(ctx.userId, found.bases);
  const { access } = found;
  const refusal = accessRefusal(
    access,
    levelNeededFor(tool.scopes.flatMap((scope) => scopeCatalog[scope].airtable)),
    tool.name,
    ctx.credential,
  );
  const nothing = opts.nothingQueued === true ? " Nothing was queued: nothing was written." : "";
  if (refusal !== undefined) return `Airtable refused access (${error.type}). ${refusal}${nothing}`;
  const role = roleOf(access.level ?? "");
  const [listed, lacks] =
    ctx.credential === "personal access token"
      ? [`the personal access token (AIRTABLE_TOKEN), your role on it ${role}`, "the token"]
      : [`this sign-in (your role: ${role})`, "this sign-in"];
  return (
    `Airtable refused access (${error.type}). Base ${baseId} is listed for ${listed}, so a table of this call does ` +
    `not exist in it (list_tables shows them), or ${lacks} lacks the access ${tool.name} needs: ${scopeWords(tool)}; ` +
    `${missingScopeFix(ctx.credential, "it")}.${nothing}`
  );
}

/** At most this many field names are listed by unknownFormulaFields (as SchemaLookupError lists them). */
const MAX_LISTED_FIELDS = 200;

/**
 * The refusal of a filterByFormula naming fields `table` does not have, worded like the other unknown-name refusals
 * (the table's field names listed) instead of Airtable's bare "Unknown field names: stage": Airtable answers 422
 * INVALID_FILTER_BY_FORMULA with that message (https://airtable.com/developers/web/api/list-records,
 * filterByFormula; the sandbox emulates it, src/sandbox/formula.ts). A name differing from a field's only in case
 * or surrounding spaces gets "did you mean {Stage}?" and the rule that formulas take names exactly (tableId and the
 * field keys of the other arguments are matched ignoring case, a formula is Airtable's to read); a field id gets the
 * field's name (formulas name fields by name: ids are not field references in them); a name a keystroke or two from
 * a field's ({Nmae}), or whole words of one ({Due} for "Due date"), gets that field (closest-name.ts, as unknown names
 * elsewhere). A name the formula writes as a bare word compared with = or != to a field (`{Stage} = Lead`: Airtable
 * reads a bare word as a field name) is text whose quotes were left out: the answer leads with that and shows the
 * comparison quoted (`{Stage} = "Lead"`), with no field guessed for it; another bare word gets the reminder that
 * text goes in double quotes beside any field suggestion (bareWords in formula-mistakes.ts). Answers undefined for
 * any other error, so describeToolError's general formula hint stands.
 * @param error what the list request failed with
 * @param table the listed table, as a fresh schema has it (the suggestions must name fields that exist now)
 * @param formula the filterByFormula sent, to find the bare words in; without it, no quoting advice
 */
export function unknownFormulaFields(error: unknown, table: AirtableTable, formula?: string): string | undefined {
  if (!(error instanceof AirtableValidationError) || error.type !== "INVALID_FILTER_BY_FORMULA") return undefined;
  const listed = /Unknown field names?: (.+)$/s.exec(error.message)?.[1]?.trim();
  if (listed === undefined || listed === "") return undefined;
  // Airtable joins the names with ", "; a field whose own name has one is matched whole.
  const folded = (name: string) => name.trim().toLowerCase();
  const whole = table.fields.some((f) => folded(f.name) === folded(listed));
  const names = whole ? [listed] : listed.split(", ");
  // Bare words no field is named (in any case): text left unquoted, or a misspelt field written without braces.
  const bare =
    formula === undefined
      ? new Map<string, BareWord>()
      : bareWords(
          formula,
          names.filter((name) => !table.fields.some((f) => folded(f.name) === folded(name))),
        );
  const compared = names.filter((name) => bare.get(name)?.quoted !== undefined);
  const suggestions: string[] = [];
  let caseOnly = false;
  for (const name of names) {
    const byName = table.fields.filter((f) => folded(f.name) === folded(name));
    const byId = table.fields.find((f) => f.id === name.trim());
    if (compared.includes(name)) {
      continue;
    } else if (byName.length === 1) {
      suggestions.push(`{${byName[0]!.name}}`);
      caseOnly = true;
    } else if (byId !== undefined) {
      suggestions.push(`{${byId.name}} (formulas name fields by name, not by id)`);
    } else {
      // A typo ({Nmae}): the names it is one or two keystrokes from, by the rule every unknown name is told with.
      const near = closestNames(
        name,
        table.fields.map((f) => f.name),
        3,
        { words: true },
      );
      if (near.length === 0) continue;
      suggestions.push(near.map((n) => `{${n}}`).join(" or "));
    }
    if (names.length > 1) suggestions[suggestions.length - 1] += ` for {${name}}`;
  }
  const refs = names.map((n) => `{${n}}`).join(", ");
  const shown = table.fields.slice(0, MAX_LISTED_FIELDS).map((f) => JSON.stringify(f.name));
  if (table.fields.length > MAX_LISTED_FIELDS) shown.push(`and ${table.fields.length - MAX_LISTED_FIELDS} more`);
  let message = `Airtable refused filterByFormula (${error.type}): `;
  if (compared.length > 0) {
    const words = compared.map((name) => `${bare.get(name)!.word} (character ${bare.get(name)!.pos + 1})`);
    message +=
      `${words.join(", ")} ${compared.length === 1 ? "is" : "are"} not in quotes, so Airtable reads ` +
      `${compared.length === 1 ? "it as a field name" : "them as field names"}, and `;
  }
  message += `table ${JSON.stringify(table.name)} has no ${names.length === 1 ? "field" : "fields"} ${refs}`;
  if (suggestions.length > 0) message += ` — did you mean ${suggestions.join(", ")}?`;
  else message += ".";
  if (compared.length > 0) {
    message += ` Text values go in double quotes: ${compared.map((name) => bare.get(name)!.quoted).join(", ")}.`;
  }
  const unquoted = names.filter((name) => bare.has(name) && !compared.includes(name));
  if (unquoted.length > 0) {
    const texts = unquoted.map((name) => JSON.stringify(bare.get(name)!.word)).join(", ");
    message += ` If ${unquoted.map((name) => bare.get(name)!.word).join(", ")} ${unquoted.length === 1 ? "is" : "are"} text, put ${unquoted.length === 1 ? "it" : "them"} in double quotes: ${texts}.`;
  }
  if (compared.length < names.length) {
    message += caseOnly
      ? " Field names in formulas must match exactly, case included."
      : " Put a field's name in {braces} exactly as Airtable shows it.";
  }
  return `${message} The fields are: ${shown.join(", ")}.`;
}

/** Airtable 404s on a record path mean the record is gone; on tables and bases, they mean no access. */
function isRecordLookup(error: AirtableError): boolean {
  return error.type === "MODEL_ID_NOT_FOUND" || /Record not found/i.test(error.message);
}

/** Every tool failure, as the tool result the agent sees. */
export function toolErrorResult(
  error: unknown,
  tool: AnyToolDefinition,
  logger?: Logger,
  credential?: CredentialKind,
): CallToolResult {
  return { isError: true, content: [{ type: "text", text: describeToolError(error, tool, logger, credential) }] };
}
