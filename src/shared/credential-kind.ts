/**
 * How the Airtable credential behind a tool call or an operation was granted, which decides the fix a refusal names
 * when it lacks a scope or a base:
 *  - "oauth": a sign-in through this server's Airtable OAuth integration (HTTP mode, `npm start`): the person signs
 *    in again from their MCP client and approves the access on Airtable's page.
 *  - "personal access token": stdio mode's AIRTABLE_TOKEN. There is no sign-in to repeat; the token's scopes and bases
 *    are edited on Airtable's page for it, https://airtable.com/create/tokens ("Personal access tokens", Airtable
 *    support: "Creating personal access tokens"), and the change applies to the token as it is.
 * Absent where a context carries it: "oauth".
 */
export type CredentialKind = "oauth" | "personal access token";

/** Where a personal access token's scopes and bases are edited. */
export const PERSONAL_ACCESS_TOKEN_PAGE = "https://airtable.com/create/tokens";

/**
 * The fix for a credential that lacks `scopes` (words naming them, e.g. "records:write (Airtable
 * data.records:write)"), as the end of a sentence: "…; <fix>."-ready, without the final period.
 */
export function missingScopeFix(kind: CredentialKind | undefined, scopes: string): string {
  return kind === "personal access token"
    ? `add ${scopes} to the token at ${PERSONAL_ACCESS_TOKEN_PAGE} (a token's scopes are edited there and apply at ` +
        "once)"
    : `sign in again and grant ${scopes}`;
}

/**
 * The credential as a sentence names it: `long` where it is first named ("your Airtable sign-in", "the personal
 * access token (AIRTABLE_TOKEN)"), `short` after that ("the sign-in", "the token"). stdio mode has no sign-in: a
 * refusal that says "sign-in" there points the person at something that does not exist.
 */
export function credentialWords(kind: CredentialKind | undefined): { long: string; short: string } {
  return kind === "personal access token"
    ? { long: "the personal access token (AIRTABLE_TOKEN)", short: "the token" }
    : { long: "your Airtable sign-in", short: "the sign-in" };
}

/**
 * What a personal access token answered 401 while this process runs means (deleted on Airtable's page, expired, or
 * regenerated: Airtable's 401 AUTHENTICATION_REQUIRED, https://airtable.com/developers/web/api/errors), and the fix,
 * one sentence. stdio reads AIRTABLE_TOKEN once, at start: a new token takes a restart, which the MCP client does.
 */
export const REFUSED_PERSONAL_ACCESS_TOKEN =
  "Airtable no longer accepts the personal access token (AIRTABLE_TOKEN): it answered 401, so the token was " +
  `deleted, has expired or was regenerated. Make a new one at ${PERSONAL_ACCESS_TOKEN_PAGE} (the scopes and bases ` +
  "this server needs), set AIRTABLE_TOKEN to it in your MCP client's configuration for this server, and restart " +
  "the server from the client.";
