/**
 * The Airtable scopes a tool call needs of the user's Airtable sign-in, checked before anything is sent.
 *
 * A tool's own scopes (records:write…) are what the MCP client's grant allows, checked by the /mcp router. Airtable
 * checks its own scopes on the user's Airtable token, which this server keeps one of per user, shared by every MCP
 * client of that user: a later sign-in from another client asking for other scopes replaces it (callback.ts), so a
 * grant may allow a tool whose Airtable scope the stored token lacks. Airtable then answers 403
 * INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND ("Accessing a protected resource with API credentials that don't have
 * access to that resource", https://airtable.com/developers/web/api/errors; the scopes each endpoint needs:
 * https://airtable.com/developers/web/api/scopes), the answer it also gives a missing base or table. The token's
 * scopes are known from Airtable's token answer (`scope`, https://airtable.com/developers/web/api/oauth-reference),
 * so such a call is refused here, naming the scope, instead of being sent to be refused.
 */
import { scopeCatalog } from "../auth/scopes.ts";
import type { AnyToolDefinition } from "./define-tool.ts";
import { ToolInputError } from "./tool-input-error.ts";

/** The Airtable scopes `tool`'s requests need: its scopes' (scopeCatalog); none for a tool that sends no request. */
export function airtableScopesOf(tool: AnyToolDefinition): string[] {
  if (tool.noAirtableRequest === true) return [];
  return [...new Set(tool.scopes.flatMap((scope) => scopeCatalog[scope].airtable))];
}

/**
 * Throws ToolInputError when `granted` (the stored Airtable sign-in's scopes; undefined or empty: unknown, nothing
 * is refused) lacks an Airtable scope `tool` needs. The message names the scope, says that nothing was sent, and the
 * fix: sign in again from this client, and, when Airtable's page does not offer the scope, the operator enables it
 * on the server's Airtable OAuth integration.
 */
export function refuseMissingAirtableScopes(tool: AnyToolDefinition, granted: readonly string[] | undefined): void {
  if (granted === undefined || granted.length === 0) return;
  const have = new Set(granted);
  const missing = airtableScopesOf(tool).filter((scope) => !have.has(scope));
  if (missing.length === 0) return;
  const named = missing.join(" and ");
  const scopes = missing.length === 1 ? `the Airtable scope ${named}` : `the Airtable scopes ${named}`;
  throw new ToolInputError(
    `${tool.name} needs ${scopes}, which your Airtable sign-in on this server was not granted (it has ` +
      `${granted.join(", ")}), so Airtable would refuse the call: nothing was sent. This server keeps one Airtable ` +
      "sign-in per user for all your MCP clients, and a later sign-in from another client that asked for other " +
      "scopes replaces it. Sign in again from this client (your MCP client's reconnect or re-authorize for this " +
      `server) and approve the access on Airtable's page. If Airtable's page does not offer ${named}, or the sign-in ` +
      `fails with invalid_scope, the server's operator must enable ${named} for this server's Airtable OAuth ` +
      "integration (https://airtable.com/create/oauth).",
  );
}
