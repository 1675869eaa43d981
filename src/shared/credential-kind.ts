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
